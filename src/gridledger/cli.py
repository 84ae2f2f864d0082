"""The `gridledger` command."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click
import typer
from rich.console import Console
from rich.table import Table

from gridledger.cli_market import market_app
from gridledger.cli_network import nats_service, network_app
from gridledger.cli_simulate import simulate_command
from gridledger.client import ClientError, HttpClient, LocalClient, Wallet
from gridledger.crypto import generate_keypair, is_address
from gridledger.keystore import KeyFileError, find_key, init_community, read_key, write_key
from gridledger.ledger import GenesisError, LedgerError, load_genesis
from gridledger.node import CorruptChain, CutterConfig, Node, NodeError, SQLiteStorage

app = typer.Typer(
    help="gridledger: a permissioned ledger and energy market for microgrids.",
    no_args_is_help=True,
    add_completion=False,
)
keys_app = typer.Typer(help="Create and inspect key files.", no_args_is_help=True)
show_app = typer.Typer(
    help="Show a transaction, block, member, balance or the head.", no_args_is_help=True
)
app.add_typer(keys_app, name="keys")
app.add_typer(show_app, name="show")
app.add_typer(market_app, name="market")
app.command("simulate")(simulate_command)
app.add_typer(network_app, name="network")
console = Console()
error_console = Console(stderr=True)

DEFAULT_DIR = Path("community")
DEFAULT_URL = "http://127.0.0.1:8545"
DirOption = typer.Option(
    DEFAULT_DIR, "--dir", "-d", help="Community directory (genesis, keys, chain)"
)


def fail(message: str, code: int = 1) -> typer.Exit:
    error_console.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


def chain_path(directory: Path) -> Path:
    return directory / "chain.sqlite"


def open_node(directory: Path, hold_lock: bool = False, **options: Any) -> Node:
    """Open the community's chain; refuse while a node runs on it.

    Only `gridledger node` holds the writer lock for its lifetime; other commands check it.
    """
    genesis_file = directory / "genesis.json"
    if not genesis_file.exists():
        raise fail(f"{genesis_file} not found; run `gridledger init --dir {directory}` first")
    try:
        genesis = load_genesis(genesis_file.read_bytes())
        opened = Node.open_path(chain_path(directory), genesis, hold_lock=hold_lock, **options)
    except (GenesisError, NodeError) as error:
        raise fail(str(error)) from error
    # close the chain (and release its writer lock) when the command ends, however it ends
    context = click.get_current_context(silent=True)
    if context is not None:
        context.call_on_close(opened.close)
    return opened


def print_json(value: Any) -> None:
    console.print_json(json.dumps(value))


@app.command()
def init(
    directory: Path = DirOption,
    chain_id: str = typer.Option("gridledger-demo", help="Chain id written into genesis"),
) -> None:
    """Write a demo community: genesis.json, a key per member and meter, and an empty chain."""
    try:
        genesis = init_community(directory, chain_id, time.time_ns() // 1_000_000)
    except (KeyFileError, GenesisError) as error:
        raise fail(str(error)) from error
    node = Node.open_path(chain_path(directory), genesis)
    node.close()
    console.print(f"community [bold]{chain_id}[/bold] written to {directory}/")
    table = Table("member", "role", "address", "balance (units)")
    for member in genesis.members:
        keys = read_key(directory / "keys" / f"{member.name}.key")
        table.add_row(member.name, member.role, keys.address, f"{member.balance_micro / 1e6:,.2f}")
    console.print(table)
    console.print(f"start it with: gridledger node --dir {directory}")


@app.command()
def node(
    directory: Path = DirOption,
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8545, help="API port"),
    block_transactions: int = typer.Option(2000, help="Cut a block at this many transactions"),
    block_timeout_ms: int = typer.Option(100, help="...or this long after the first pending one"),
    ordering: str = typer.Option("solo", help="solo (cut blocks here) or nats (a JetStream log)"),
    network: Path | None = typer.Option(
        None, help="nats: the network.json of `gridledger network up` (block limits come from it)"
    ),
    peer: str | None = typer.Option(None, help="nats: this peer's name in network.json"),
    results: Path | None = typer.Option(
        None, "--results", help="Serve the simulation runs under DIR on the dashboard (read-only)"
    ),
    accept_rollback: bool = typer.Option(
        False,
        "--accept-rollback",
        help="Serve a chain that lost acknowledged blocks (recorded in chain.rollbacks)",
    ),
) -> None:
    """Run a node with its HTTP/WebSocket API; it orders solo, or as a peer of a nats network."""
    from gridledger.api import serve_node

    if ordering not in ("solo", "nats"):
        raise fail(f"--ordering must be solo or nats, got {ordering!r}")
    if ordering == "nats" and (network is None or peer is None):
        raise fail("--ordering nats needs --network NETWORK.json and --peer NAME")
    if results is not None and not results.is_dir():
        raise fail(f"--results {results}: not a directory")
    cutter = CutterConfig(max_transactions=block_transactions, timeout_ms=block_timeout_ms)
    running = open_node(directory, hold_lock=True, cutter=cutter, accept_rollback=accept_rollback)
    service = None
    if network is not None and peer is not None and ordering == "nats":
        service = nats_service(running, network, peer)
    console.print(
        f"node for chain [bold]{running.chain_id}[/bold] at height {running.head.height}"
        f", {ordering} ordering, API on http://{host}:{port} (docs at /docs)"
    )
    console.print(f"dashboard: http://{host}:{port}/dashboard/")
    try:
        serve_node(running, host=host, port=port, service=service, results_dir=results)
    finally:
        running.close()


@keys_app.command("new")
def keys_new(name: str, directory: Path = DirOption) -> None:
    """Create a new key file DIR/keys/NAME.key."""
    try:
        path = write_key(directory / "keys", name, generate_keypair())
    except KeyFileError as error:
        raise fail(str(error)) from error
    keys = read_key(path)
    console.print(f"{path}: address {keys.address}, public key {keys.public_key.hex()}")


@keys_app.command("list")
def keys_list(directory: Path = DirOption) -> None:
    """List the key files of a community directory."""
    table = Table("name", "address", "public key")
    for path in sorted((directory / "keys").glob("*.key")):
        try:
            keys = read_key(path)
        except KeyFileError as error:
            table.add_row(path.stem, f"[red]{error.reason}[/red]", "")
            continue
        table.add_row(path.stem, keys.address, keys.public_key.hex())
    console.print(table)


@keys_app.command("show")
def keys_show(name: str, directory: Path = DirOption) -> None:
    """Show one key's address and public key (never its seed)."""
    try:
        keys = find_key(directory, name)
    except KeyFileError as error:
        raise fail(str(error)) from error
    print_json({"name": name, "address": keys.address, "public_key": keys.public_key.hex()})


def parse_args(pairs: list[str], args_json: str | None) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if args_json:
        try:
            loaded = json.loads(args_json)
        except json.JSONDecodeError as error:
            raise fail(f"--args is not JSON: {error}") from error
        if not isinstance(loaded, dict):
            raise fail("--args must be a JSON object")
        args.update(loaded)
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise fail(f"--arg {pair!r} must look like name=value")
        try:
            args[name] = int(value)
        except ValueError:
            args[name] = value
    return args


def make_client(url: str | None, directory: Path) -> HttpClient | LocalClient:
    if url:
        return HttpClient([u.strip() for u in url.split(",") if u.strip()])
    return LocalClient(open_node(directory))


UrlOption = typer.Option(
    None,
    "--url",
    help="Node API URL(s), comma-separated; without it, the chain in --dir is opened directly",
)


@app.command()
def submit(
    contract: str,
    method: str,
    key: str = typer.Option(..., "--key", "-k", help="Key name in DIR/keys, or a .key file"),
    arg: list[str] = typer.Option([], "--arg", "-a", help="name=value (integers are detected)"),
    args_json: str | None = typer.Option(None, "--args", help="All arguments as a JSON object"),
    directory: Path = DirOption,
    url: str | None = typer.Option(DEFAULT_URL, "--url", help="Node API URL(s), comma-separated"),
    wait: bool = typer.Option(True, help="Wait for the transaction to commit"),
) -> None:
    """Sign and submit a call, e.g. `gridledger submit tokens transfer -k alice`."""
    try:
        keys = find_key(directory, key)
    except KeyFileError as error:
        raise fail(str(error)) from error
    client = make_client(url, directory)
    wallet = Wallet(keys, client)
    try:
        result = wallet.call(contract, method, parse_args(arg, args_json), wait=wait)
    except ClientError as error:
        raise fail(str(error)) from error
    print_json(result)
    if result.get("status") == "committed" and result.get("code") != 0:
        raise typer.Exit(2)


@show_app.command("head")
def show_head(directory: Path = DirOption, url: str | None = UrlOption) -> None:
    """The chain head."""
    try:
        print_json(make_client(url, directory).head())
    except ClientError as error:
        raise fail(str(error)) from error


@show_app.command("block")
def show_block(height: int, directory: Path = DirOption, url: str | None = UrlOption) -> None:
    """A block with its decoded transactions and receipts."""
    try:
        print_json(make_client(url, directory).block(height))
    except ClientError as error:
        raise fail(str(error)) from error


@show_app.command("tx")
def show_transaction(
    transaction_id: str, directory: Path = DirOption, url: str | None = UrlOption
) -> None:
    """A transaction with its receipt, block header and Merkle proof."""
    try:
        bytes.fromhex(transaction_id)
    except ValueError as error:
        raise fail(f"{transaction_id!r} is not a hex transaction id") from error
    try:
        print_json(make_client(url, directory).transaction(transaction_id))
    except ClientError as error:
        raise fail(str(error)) from error


def _address_or_name(text: str, directory: Path) -> str:
    if is_address(text):
        return text
    try:
        return find_key(directory, text).address
    except KeyFileError as error:
        raise fail(f"{text!r} is neither an address nor a key name ({error.reason})") from error


@show_app.command("member")
def show_member(who: str, directory: Path = DirOption, url: str | None = UrlOption) -> None:
    """A member, by address or key name."""
    try:
        print_json(make_client(url, directory).member(_address_or_name(who, directory)))
    except ClientError as error:
        raise fail(str(error)) from error


@show_app.command("members")
def show_members(directory: Path = DirOption, url: str | None = UrlOption) -> None:
    """Every member with role and status."""
    table = Table("name", "role", "status", "address")
    try:
        members = make_client(url, directory).members()
    except ClientError as error:
        raise fail(str(error)) from error
    for member in members:
        table.add_row(member["name"], member["role"], member["status"], member["address"])
    console.print(table)


@show_app.command("balance")
def show_balance(who: str, directory: Path = DirOption, url: str | None = UrlOption) -> None:
    """An account's balance (micro-units) and nonce, by address or key name."""
    try:
        print_json(make_client(url, directory).account(_address_or_name(who, directory)))
    except ClientError as error:
        raise fail(str(error)) from error


@app.command()
def verify(
    directory: Path = DirOption,
    database: Path | None = typer.Option(
        None, "--db", help="A chain.sqlite file (default DIR/chain.sqlite)"
    ),
) -> None:
    """Re-verify a stored chain from genesis: hashes, signatures, Merkle roots, replay.

    Exits 0 for a sound chain; otherwise 1, naming the first bad block.
    """
    from gridledger.node.verify import verify_storage

    path = database or chain_path(directory)
    if not path.exists():
        raise fail(f"{path} not found")
    try:
        storage = SQLiteStorage(path)
        report = verify_storage(storage)
    except CorruptChain as error:
        message = f"chain is NOT sound: first bad block is {error.height}: {error.reason}"
        raise fail(message) from error
    except NodeError as error:
        raise fail(str(error)) from error
    except LedgerError as error:
        raise fail(f"chain is NOT sound: {error}") from error
    console.print(
        f"chain is sound: {report.height + 1} blocks, {report.transactions} transactions, "
        f"head {report.head_hash.hex()}, state {report.state_hash.hex()}"
    )


@app.command()
def demo(
    directory: Path = typer.Option(
        Path("demo-community"), "--dir", "-d", help="Where the demo community is written (replaced)"
    ),
    port: int = typer.Option(0, help="API port (0 picks a free one)"),
    serve: bool = typer.Option(False, help="Keep the node running after the demo"),
) -> None:
    """Start an embedded node, enrol a small community, trade currency and summarise."""
    from gridledger.demo import run_demo

    sys.exit(run_demo(directory, port, serve, console))


@app.command()
def bench(
    url: str | None = typer.Option(
        None, help="Load a running node at this URL (default: start one as a separate process)"
    ),
    rate: int = typer.Option(3000, help="Send rate, transactions per second"),
    duration: float = typer.Option(60.0, help="Seconds of sending"),
    accounts: int = typer.Option(200, help="Sending accounts"),
    workload: str = typer.Option(
        "transfer",
        help="transfer (token transfers) or orders (market place_order, continuous matching)",
    ),
    directory: Path | None = typer.Option(
        None,
        "--dir",
        "-d",
        help="With --url: the community directory whose key files (active, funded members) send",
    ),
    drain_timeout: float | None = typer.Option(
        None, help="Seconds to wait for commits after sending (default: the duration, 10..60)"
    ),
) -> None:
    """Load generator: signed transfers at a fixed send rate; reports like Hyperledger Caliper.

    The last line of output is one JSON object with the figures.
    """
    from gridledger.bench import run_bench

    sys.exit(
        run_bench(
            url=url,
            rate=rate,
            duration_s=duration,
            accounts=accounts,
            workload=workload,
            console=console,
            directory=directory,
            drain_timeout_s=drain_timeout,
        )
    )


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
