"""`gridledger node`: a node with its API, ordering solo or as a peer of a nats network."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from gridledger.cli.common import (
    DirOption,
    PassphraseFileOption,
    console,
    fail,
    load_key,
    open_node,
    passphrase_source,
)
from gridledger.node.checkpoints import CHECKPOINT_PAGES
from gridledger.node.errors import NodeError, StorageError
from gridledger.node.keystore import KeyFileError, read_key
from gridledger.node.network_processes import peer_pid_file, remove_pid_file, write_pid_file

if TYPE_CHECKING:  # imported where used: the node loads the contracts and numpy, nats its client
    from gridledger.node.core import Node
    from gridledger.node.ordered_service import OrderedService


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
    insecure_ordering: bool = typer.Option(
        False, "--insecure-ordering", help="nats: accept a cluster without TLS or credentials"
    ),
    tls_cert: Path | None = typer.Option(None, help="Serve the API over HTTPS: certificate"),
    tls_key: Path | None = typer.Option(None, help="...and its private key"),
    login: str | None = typer.Option(
        None,
        "--login",
        help="Print a one-time link that signs the dashboard in as this member (key in DIR/keys)",
    ),
    public_reads: bool = typer.Option(
        False,
        "--public-reads",
        help="DEMONSTRATIONS ONLY: serve every read to anyone, unsigned, as to an auditor",
    ),
    passphrase_file: Path | None = PassphraseFileOption,
    accept_rollback: bool = typer.Option(
        False,
        "--accept-rollback",
        help="Serve a chain that lost acknowledged blocks (recorded in chain.rollbacks)",
    ),
    checkpoint_pages: int = typer.Option(
        CHECKPOINT_PAGES,
        help="Write-ahead log pages (4 KiB) gathered before SQLite copies them into the chain "
        "file; fewer: more, shorter checkpoints",
    ),
    refusals_per_address: float = typer.Option(
        10.0,
        help="Refused submissions answered per second per client address, then 429 (0: no limit)",
    ),
    refusal_burst_per_address: int = typer.Option(
        100, help="...and how many in a burst before the rate applies"
    ),
    refusals_per_sender: float = typer.Option(
        1.0, help="Refused submissions answered per second per sender key, then 429 (0: no limit)"
    ),
    refusal_burst_per_sender: int = typer.Option(
        20, help="...and how many in a burst before the rate applies"
    ),
) -> None:
    """Run a node with its HTTP/WebSocket API; it orders solo, or as a peer of a nats network.

    While it runs, other commands reach this chain with --url http://HOST:PORT.
    """
    from gridledger.api.limits import RefusalLimits
    from gridledger.api.server import ListenError, serve_node
    from gridledger.node.core import CutterConfig

    if ordering not in ("solo", "nats"):
        raise fail(f"--ordering must be solo or nats, got {ordering!r}")
    if ordering == "nats" and (network is None or peer is None):
        raise fail("--ordering nats needs --network NETWORK.json and --peer NAME")
    if results is not None and not results.is_dir():
        raise fail(f"--results {results}: not a directory")
    _check_limits(port, block_transactions, block_timeout_ms, checkpoint_pages)
    try:
        refusal_limits = RefusalLimits(
            address_per_second=refusals_per_address,
            address_burst=refusal_burst_per_address,
            sender_per_second=refusals_per_sender,
            sender_burst=refusal_burst_per_sender,
        )
    except ValueError as error:
        raise fail(f"refusal limits: {error}", code=2) from error
    login_keys = None if login is None else load_key(directory, login)
    cutter = CutterConfig(max_transactions=block_transactions, timeout_ms=block_timeout_ms)
    running = open_node(
        directory,
        hold_lock=True,
        cutter=cutter,
        accept_rollback=accept_rollback,
        checkpoint_pages=checkpoint_pages,
    )
    pid_file = None
    try:
        service = None
        if network is not None and peer is not None and ordering == "nats":
            service = nats_service(running, network, peer, insecure_ordering, passphrase_file)
            pid_file = peer_pid_file(network.resolve().parent, peer)
            write_pid_file(pid_file)  # `network down` finds a peer restarted by hand
        out = console()
        bound: list[str] = []

        def banner(bound_host: str, bound_port: int) -> None:
            scheme = "http" if tls_cert is None else "https"
            url = f"{scheme}://{bound_host}:{bound_port}"
            bound.append(url)
            out.print(
                f"node for chain [bold]{running.chain_id}[/bold] at height {running.head.height}"
                f", {ordering} ordering, API on {url} (docs at /docs)"
            )
            out.print(f"dashboard: {url}/dashboard/")
            if public_reads:
                out.print(
                    "[bold red]WARNING: --public-reads: every read is served to anyone, "
                    "unsigned (balances, readings, orders, statements). For demonstrations "
                    "only.[/bold red]"
                )
            else:
                out.print(
                    "reads need a member's signature or session: `gridledger dashboard login "
                    f"-k NAME --url {url}` prints a one-time link for the dashboard"
                )

        def announce_login(code: str) -> None:
            out.print(
                f"dashboard, signed in as {login} (a one-time link, valid 5 minutes): "
                f"{bound[-1]}/dashboard/#login={code}",
                soft_wrap=True,
            )

        try:
            serve_node(
                running,
                host=host,
                port=port,
                service=service,
                results_dir=results,
                tls_cert=tls_cert,
                tls_key=tls_key,
                on_listening=banner,
                public_reads=public_reads,
                login_keys=login_keys,
                announce_login=announce_login,
                refusal_limits=refusal_limits,
            )
        except ListenError as error:
            raise fail(f"--port {port}: {error}", code=2) from error
        except ValueError as error:
            raise fail(str(error)) from error
    finally:
        if pid_file is not None:
            remove_pid_file(pid_file)
        running.close()


def _check_limits(
    port: int, block_transactions: int, block_timeout_ms: int, checkpoint_pages: int
) -> None:
    """Refuse, before anything starts, a port or a block limit out of range (exit code 2)."""
    if not 0 <= port <= 65535:
        raise fail(f"--port must be 0..65535, got {port}", code=2)
    if block_transactions < 1:
        raise fail(f"--block-transactions must be at least 1, got {block_transactions}", code=2)
    if block_timeout_ms < 1:
        raise fail(f"--block-timeout-ms must be at least 1, got {block_timeout_ms}", code=2)
    if checkpoint_pages < 1:
        raise fail(f"--checkpoint-pages must be at least 1, got {checkpoint_pages}", code=2)


def nats_service(
    node: Node,
    network: Path,
    peer: str,
    insecure: bool = False,
    passphrase_file: Path | None = None,
) -> OrderedService:
    """The ordering service of peer `peer` of the network described by `network` (network.json).

    The peer's key signs its attestations; if encrypted, its passphrase comes from
    `passphrase_file` (or ``$GRIDLEDGER_PASSPHRASE_FILE``, or a prompt on a terminal).
    """
    from gridledger.node.network_config import NetworkConfigError, load_network, peer_ordering_log
    from gridledger.node.ordered_service import OrderedService

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("nats").setLevel(logging.WARNING)
    try:
        config = load_network(network)
        entry = config.peer(peer)
        keys = read_key(network.parent / entry.key_file, passphrase_source(passphrase_file))
    except (NetworkConfigError, KeyFileError) as error:
        raise fail(str(error)) from error
    if config.chain_id != node.chain_id:
        raise fail(f"{network} is for chain {config.chain_id!r}; this chain is {node.chain_id!r}")
    if keys.public_key.hex() != entry.public_key:
        raise fail(f"{entry.key_file}: its key is not peer {peer}'s key in {network}")
    try:
        ordering_log = peer_ordering_log(config, network.parent, peer, insecure)
    except NodeError as error:
        raise fail(str(error)) from error
    try:
        return OrderedService(node, ordering_log, config.rules, keys, config.peer_infos(), peer)
    except StorageError as error:
        raise fail(str(error)) from error
