"""`gridledger submit`, `gridledger show ...` and `gridledger verify`: calls, and the chain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from gridledger.cli.common import (
    DirOption,
    JsonOption,
    KeyOption,
    ReadKeyOption,
    UrlOption,
    address_of,
    call,
    chain_path,
    connect,
    console,
    fail,
    finish,
    load_key,
    peer_urls,
    print_json,
    print_read,
)
from gridledger.ledger import LedgerError
from gridledger.node.errors import CorruptChain, NodeError

show_app = typer.Typer(
    help="Show a transaction, block, member, balance, the currency supply or the head.",
    no_args_is_help=True,
)
ArgOption = typer.Option([], "--arg", "-a", help="name=value (integers are detected)")
ArgsOption = typer.Option(None, "--args", help="All arguments as a JSON object")


def parse_args(pairs: list[str], args_json: str | None) -> dict[str, Any]:
    """The call's arguments: ``--args`` (a JSON object), then each ``--arg name=value``."""
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


def submit(
    contract: str,
    method: str,
    key: str = KeyOption,
    arg: list[str] = ArgOption,
    args_json: str | None = ArgsOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    wait: bool = typer.Option(True, help="Wait for the transaction to commit"),
) -> None:
    """Sign and submit a call, e.g. `gridledger submit tokens transfer -k alice`.

    Prints the receipt as JSON; exits 2 if the contract refused the call.
    """
    keys = load_key(directory, key)
    args = parse_args(arg, args_json)
    if not wait and not peer_urls(url):
        raise fail("--no-wait needs --url: offline, a call is committed before the command ends", 2)
    with connect(url, directory, write=True, key=key) as client:
        view = call(client, keys, contract, method, args, wait=wait)
    finish(view, as_json=True)


@show_app.command("head")
def show_head(
    directory: Path = DirOption, url: str | None = UrlOption, key: str | None = ReadKeyOption
) -> None:
    """The chain head."""
    print_read(url, directory, key, lambda client: client.head())


@show_app.command("block")
def show_block(
    height: int,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    key: str | None = ReadKeyOption,
) -> None:
    """A block with its decoded transactions and receipts."""
    print_read(url, directory, key, lambda client: client.block(height))


@show_app.command("tx")
def show_transaction(
    transaction_id: str,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    key: str | None = ReadKeyOption,
) -> None:
    """A transaction with its receipt, block header and Merkle proof."""
    try:
        bytes.fromhex(transaction_id)
    except ValueError as error:
        raise fail(f"{transaction_id!r} is not a hex transaction id") from error
    print_read(url, directory, key, lambda client: client.transaction(transaction_id))


@show_app.command("member")
def show_member(
    who: str,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    key: str | None = ReadKeyOption,
) -> None:
    """A member, by address or key name."""
    address = address_of(who, directory)
    print_read(url, directory, key, lambda client: client.member(address))


@show_app.command("members")
def show_members(
    directory: Path = DirOption, url: str | None = UrlOption, key: str | None = ReadKeyOption
) -> None:
    """Every member with role and status."""
    table = Table("name", "role", "status", "address")
    with connect(url, directory, key=key) as client:
        members = client.members()
    for member in members.members:
        table.add_row(member.name, member.role, member.status, member.address)
    console().print(table)


@show_app.command("balance")
def show_balance(
    who: str,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    key: str | None = ReadKeyOption,
) -> None:
    """An account's balance (micro-units) and nonce, by address or key name."""
    address = address_of(who, directory)
    print_read(url, directory, key, lambda client: client.account(address))


@show_app.command("supply")
def show_supply(
    directory: Path = DirOption,
    url: str | None = UrlOption,
    key: str | None = ReadKeyOption,
    as_json: bool = JsonOption,
) -> None:
    """The issuer's supply report: issued = live + expired + burned (micro-units)."""
    with connect(url, directory, key=key) as client:
        report = client.supply()
    if as_json:
        print_json(report)
        return
    table = Table("issued", "live", "expired", "burned", "lifetime", "reconciles")
    past_life = f" ({report.past_life_micro:,} past their life)" if report.past_life_micro else ""
    table.add_row(
        f"{report.issued_micro:,}",
        f"{report.live_micro:,}{past_life}",
        f"{report.expired_micro:,}",
        f"{report.burned_micro:,}",
        f"{report.lifetime_days} days" if report.lifetime_days else "no expiry",
        "yes" if report.reconciles else "NO",
    )
    console().print(table)


def verify(
    directory: Path = DirOption,
    database: Path | None = typer.Option(
        None, "--db", help="A chain.sqlite file (default DIR/chain.sqlite)"
    ),
    archive: Path | None = typer.Option(
        None, "--archive", help="The archive directory of a pruned chain (gridledger archive)"
    ),
    workers: int | None = typer.Option(
        None, "--workers", min=1, help="Processes that check signatures (default: cores, <= 4)"
    ),
) -> None:
    """Re-verify a stored chain from genesis: hashes, signatures, Merkle roots, replay.

    Reads the chain file itself (also while a node runs on it). Signatures are checked
    in parallel ahead of the replay. Exits 0 for a sound chain; otherwise 1, naming the
    first bad block.
    """
    from gridledger.node.archive import Archive
    from gridledger.node.storage import SQLiteStorage
    from gridledger.node.verify import verify_storage

    path = database or chain_path(directory)
    if not path.exists():
        raise fail(f"{path} not found")
    try:
        storage = SQLiteStorage(path)
        blocks = Archive(archive) if archive is not None else None
        report = verify_storage(storage, workers=workers, archive=blocks)
    except CorruptChain as error:
        message = f"chain is NOT sound: first bad block is {error.height}: {error.reason}"
        raise fail(message) from error
    except NodeError as error:
        raise fail(str(error)) from error
    except LedgerError as error:
        raise fail(f"chain is NOT sound: {error}") from error
    console().print(
        f"chain is sound: {report.height + 1} blocks, {report.transactions} transactions, "
        f"head {report.head_hash.hex()}, state {report.state_hash.hex()}"
    )
