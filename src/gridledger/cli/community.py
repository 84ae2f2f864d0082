"""`gridledger init` and `gridledger keys ...`: a community directory and its key files."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from gridledger.cli.common import DirOption, chain_path, console, fail, load_key, print_json
from gridledger.crypto import generate_keypair
from gridledger.ledger import GenesisError
from gridledger.node import Node
from gridledger.node.community import init_community
from gridledger.node.keystore import KeyFileError, read_key, write_key

keys_app = typer.Typer(help="Create and inspect key files.", no_args_is_help=True)


def init(
    directory: Path = DirOption,
    chain_id: str = typer.Option("gridledger-demo", help="Chain id written into genesis"),
) -> None:
    """Write a demo community: genesis.json, a key per member and meter, and an empty chain."""
    try:
        genesis = init_community(directory, chain_id, time.time_ns() // 1_000_000)
    except (KeyFileError, GenesisError) as error:
        raise fail(str(error)) from error
    Node.open_path(chain_path(directory), genesis).close()
    out = console()
    out.print(f"community [bold]{chain_id}[/bold] written to {directory}/")
    table = Table("member", "role", "address", "balance (units)")
    for member in genesis.members:
        keys = read_key(directory / "keys" / f"{member.name}.key")
        table.add_row(member.name, member.role, keys.address, f"{member.balance_micro / 1e6:,.2f}")
    out.print(table)
    out.print(f"start it with: gridledger node --dir {directory}")


@keys_app.command("new")
def keys_new(name: str, directory: Path = DirOption) -> None:
    """Create a new key file DIR/keys/NAME.key."""
    try:
        path = write_key(directory / "keys", name, generate_keypair())
    except KeyFileError as error:
        raise fail(str(error)) from error
    keys = read_key(path)
    console().print(f"{path}: address {keys.address}, public key {keys.public_key.hex()}")


@keys_app.command("list")
def keys_list(directory: Path = DirOption) -> None:
    """List the key files of a community directory."""
    table = Table("name", "address", "public key")
    for path in sorted((directory / "keys").glob("*.key")):
        try:
            keys = read_key(path)
        except KeyFileError as error:
            table.add_row(path.stem, f"[red]{escape(error.reason)}[/red]", "")
            continue
        table.add_row(path.stem, keys.address, keys.public_key.hex())
    console().print(table)


@keys_app.command("show")
def keys_show(name: str, directory: Path = DirOption) -> None:
    """Show one key's address and public key (never its seed)."""
    keys = load_key(directory, name)
    print_json({"name": name, "address": keys.address, "public_key": keys.public_key.hex()})
