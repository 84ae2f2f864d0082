"""`gridledger init` and `gridledger keys ...`: a community directory and its key files."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from gridledger.cli.common import (
    DirOption,
    PassphraseFileOption,
    chain_path,
    console,
    fail,
    passphrase_source,
    print_json,
)
from gridledger.crypto import generate_keypair
from gridledger.crypto.sealing import COSTS, DEFAULT_COST
from gridledger.ledger import GenesisError
from gridledger.ledger.genesis import MAX_LIFETIME_DAYS
from gridledger.node.keystore import (
    KeyFileError,
    KeyInfo,
    decrypt_key_file,
    encrypt_key_file,
    key_info,
    key_path,
    write_key,
)

keys_app = typer.Typer(help="Create and inspect key files.", no_args_is_help=True)


def init(
    directory: Path = DirOption,
    chain_id: str = typer.Option("gridledger-demo", help="Chain id written into genesis"),
    lifetime_days: int = typer.Option(
        0,
        min=0,
        max=MAX_LIFETIME_DAYS,
        help="Currency units expire this many days after their issue day (0: never)",
    ),
    certificates: bool = typer.Option(
        False, "--certificates", help="Certify delivered energy at settlement (origin)"
    ),
) -> None:
    """Write a demo community: genesis.json, a key per member and meter, and an empty chain."""
    from gridledger.node.community import init_community
    from gridledger.node.core import Node

    try:
        directory.mkdir(parents=True, exist_ok=True)
        genesis = init_community(
            directory, chain_id, time.time_ns() // 1_000_000, lifetime_days, certificates
        )
        Node.open_path(chain_path(directory), genesis).close()
    except (KeyFileError, GenesisError) as error:
        raise fail(str(error)) from error
    except OSError as error:
        reason = error.strerror or str(error)
        raise fail(f"--dir {directory}: cannot write a community there ({reason})", 2) from error
    out = console()
    out.print(f"community [bold]{chain_id}[/bold] written to {directory}/")
    table = Table("member", "role", "address", "balance (units)")
    for member in genesis.members:
        keys = key_info(directory / "keys" / f"{member.name}.key")
        table.add_row(member.name, member.role, keys.address, f"{member.balance_micro / 1e6:,.2f}")
    out.print(table)
    out.print(f"start it with: gridledger node --dir {directory}")


CostOption = typer.Option(
    DEFAULT_COST,
    "--cost",
    help="Argon2id cost, libsodium's names: interactive (2 passes, 64 MiB), "
    "moderate (3, 256 MiB), sensitive (4, 1 GiB)",
)


def _cost(cost: str) -> str:
    if cost not in COSTS:
        raise fail(f"--cost must be one of {', '.join(COSTS)}, got {cost!r}", 2)
    return cost


def _describe(info: KeyInfo) -> str:
    state = "encrypted" if info.encrypted else "plain"
    return f"{info.path}: {state}, address {info.address}, public key {info.public_key.hex()}"


@keys_app.command("new")
def keys_new(
    name: str,
    directory: Path = DirOption,
    encrypt: bool = typer.Option(False, "--encrypt", help="Encrypt it under a passphrase"),
    passphrase_file: Path | None = PassphraseFileOption,
    cost: str = CostOption,
) -> None:
    """Create a new key file DIR/keys/NAME.key (mode 0600; with --encrypt, never in plain)."""
    directory_of_keys = directory / "keys"
    try:
        passphrase = None
        if encrypt:
            target = directory_of_keys / f"{name}.key"
            passphrase = passphrase_source(passphrase_file).new(target)
        path = write_key(directory_of_keys, name, generate_keypair(), passphrase, _cost(cost))
        info = key_info(path)
    except KeyFileError as error:
        raise fail(str(error)) from error
    console().print(_describe(info), highlight=False)


@keys_app.command("encrypt")
def keys_encrypt(
    name: str,
    directory: Path = DirOption,
    passphrase_file: Path | None = PassphraseFileOption,
    cost: str = CostOption,
) -> None:
    """Encrypt a key file in place under a passphrase (Argon2id + XSalsa20-Poly1305).

    The passphrase comes from --passphrase-file (or $GRIDLEDGER_PASSPHRASE_FILE), else it
    is asked twice on the terminal. Commands then need it to sign with this key.
    """
    path = key_path(directory, name)
    try:
        if key_info(path).encrypted:
            raise KeyFileError(path, "is encrypted already")
        passphrase = passphrase_source(passphrase_file).new(path)
        info = encrypt_key_file(path, passphrase, _cost(cost))
    except KeyFileError as error:
        raise fail(str(error)) from error
    console().print(_describe(info), highlight=False)


@keys_app.command("decrypt")
def keys_decrypt(
    name: str,
    directory: Path = DirOption,
    passphrase_file: Path | None = PassphraseFileOption,
) -> None:
    """Write an encrypted key file back in plain form (mode 0600), given its passphrase."""
    path = key_path(directory, name)
    try:
        info = decrypt_key_file(path, passphrase_source(passphrase_file))
    except KeyFileError as error:
        raise fail(str(error)) from error
    console().print(_describe(info), highlight=False)


@keys_app.command("list")
def keys_list(directory: Path = DirOption) -> None:
    """List the key files of a community directory (no passphrase needed)."""
    table = Table("name", "address", "public key", "encrypted")
    for path in sorted((directory / "keys").glob("*.key")):
        try:
            info = key_info(path)
        except KeyFileError as error:
            table.add_row(path.stem, f"[red]{escape(error.reason)}[/red]", "", "")
            continue
        table.add_row(
            path.stem, info.address, info.public_key.hex(), "yes" if info.encrypted else "no"
        )
    console().print(table)


@keys_app.command("show")
def keys_show(name: str, directory: Path = DirOption) -> None:
    """Show one key's address and public key (never its seed; no passphrase needed)."""
    try:
        info = key_info(key_path(directory, name))
    except KeyFileError as error:
        raise fail(str(error)) from error
    print_json(
        {
            "name": name,
            "address": info.address,
            "public_key": info.public_key.hex(),
            "encrypted": info.encrypted,
        }
    )
