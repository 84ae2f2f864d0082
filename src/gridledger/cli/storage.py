"""The chain file itself: `gridledger chain size|migrate|snapshot|attest|restore`, `archive`."""

from __future__ import annotations

from pathlib import Path

import typer

from gridledger.cli.common import (
    DirOption,
    PassphraseFileOption,
    chain_path,
    console,
    fail,
    passphrase_source,
    print_json,
)
from gridledger.crypto.keys import KeyPair
from gridledger.node.errors import NodeError

chain_app = typer.Typer(
    help="The chain file: its size per table, its schema.", no_args_is_help=True
)

DbOption = typer.Option(None, "--db", help="A chain.sqlite file (default DIR/chain.sqlite)")


def _path(directory: Path, database: Path | None) -> Path:
    path = database or chain_path(directory)
    if not path.exists():
        raise fail(f"{path} not found")
    return path


@chain_app.command("size")
def size(
    directory: Path = DirOption,
    database: Path | None = DbOption,
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Bytes per table and index, and per transaction (read-only; safe while a node runs)."""
    from gridledger.node.storage_schema import storage_report

    try:
        report = storage_report(str(_path(directory, database)))
    except NodeError as error:
        raise fail(str(error)) from error
    if as_json:
        print_json(report)
        return
    out = console()
    out.print(
        f"{report['path']}: {report['file_bytes']:,} bytes, {report['transactions']:,} "
        f"transactions in {report['blocks']:,} blocks: "
        f"{report['bytes_per_transaction']} bytes per transaction"
    )
    tables = report["tables"]
    assert isinstance(tables, dict)
    for name, figures in tables.items():
        out.print(
            f"  {name:<32} {figures['bytes']:>14,} bytes  {figures['per_transaction']:>8} / tx"
        )


@chain_app.command("migrate")
def migrate(directory: Path = DirOption, database: Path | None = DbOption) -> None:
    """Convert a chain file of an older schema (uncompressed rows) to the current one.

    The original is kept beside it as ``chain.sqlite.v1``; stop the node first.
    """
    from gridledger.node.storage_migrate import migrate_chain

    try:
        done = migrate_chain(_path(directory, database))
    except NodeError as error:
        raise fail(str(error)) from error
    console().print(
        f"migrated {done.path}: {done.blocks:,} blocks, {done.transactions:,} transactions; "
        f"{done.bytes_before:,} -> {done.bytes_after:,} bytes; the original is {done.backup}"
    )


def archive(
    directory: Path = DirOption,
    database: Path | None = DbOption,
    to: Path | None = typer.Option(
        None, "--to", help="Archive directory (default DIR/archive, beside the chain file)"
    ),
    keep: int = typer.Option(1000, "--keep", min=1, help="Newest blocks kept in the chain file"),
    compact: bool = typer.Option(
        True,
        "--compact/--no-compact",
        help="Rewrite the chain file without the pruned blocks' pages, so it shrinks "
        "(needs free space about its size)",
    ),
) -> None:
    """Move old blocks to archive files and prune them from the chain file (stop the node first).

    `gridledger verify --archive DIR` still checks everything from genesis.
    """
    from gridledger.node.archive import archive_chain

    path = _path(directory, database)
    target = to or path.parent / "archive"
    try:
        report = archive_chain(path, target, keep, compact)
    except NodeError as error:
        raise fail(str(error)) from error
    if not report.files:
        console().print(f"nothing to archive: the chain file holds at most {keep} blocks")
        return
    console().print(
        f"archived blocks {report.first}-{report.last} ({report.transactions:,} transactions) "
        f"to {len(report.files)} file(s) in {target}; pruned them from {path} "
        f"({report.chain_bytes_before:,} -> {report.chain_bytes_after:,} bytes"
        f"{'' if compact else '; not compacted: SQLite reuses the free pages'})"
    )


@chain_app.command("snapshot")
def snapshot(
    out: Path = typer.Argument(..., help="The snapshot file to write"),
    directory: Path = DirOption,
    database: Path | None = DbOption,
    network: Path | None = typer.Option(None, "--network", help="network.json (to attest)"),
    peer: str | None = typer.Option(None, "--peer", help="Attest as this peer of --network"),
    passphrase_file: Path | None = PassphraseFileOption,
) -> None:
    """Write the state at the chain's head to a snapshot file (safe while a node runs).

    With --network and --peer, the snapshot carries this peer's attestation.
    """
    from gridledger.node.snapshot import snapshot_of_chain, with_attestation, write_snapshot

    try:
        taken = snapshot_of_chain(_path(directory, database))
        if peer is not None:
            taken = with_attestation(taken, _peer_keys(network, peer, passphrase_file))
        write_snapshot(taken, out)
    except NodeError as error:
        raise fail(str(error)) from error
    console().print(
        f"snapshot {out}: block {taken.header.height}, {taken.header.entries:,} state entries, "
        f"hash {taken.hash.hex()}, {len(taken.attestations)} attestation(s)"
    )


@chain_app.command("attest")
def attest(
    snapshot_file: Path = typer.Argument(..., help="The snapshot file to attest"),
    network: Path = typer.Option(..., "--network", help="network.json"),
    peer: str = typer.Option(..., "--peer", help="This peer's name in --network"),
    directory: Path = DirOption,
    database: Path | None = DbOption,
    passphrase_file: Path | None = PassphraseFileOption,
) -> None:
    """Add this peer's attestation to a snapshot, after checking it against this peer's chain."""
    from gridledger.node.snapshot import attest_snapshot

    try:
        count = attest_snapshot(
            snapshot_file,
            _path(directory, database),
            _peer_keys(network, peer, passphrase_file),
        )
    except NodeError as error:
        raise fail(str(error)) from error
    console().print(f"attested {snapshot_file}: it now carries {count} attestation(s)")


@chain_app.command("restore")
def restore(
    snapshot_file: Path = typer.Argument(..., help="A snapshot attested by the peers"),
    network: Path = typer.Option(..., "--network", help="network.json: the peers and keys"),
    directory: Path = DirOption,
    database: Path | None = DbOption,
) -> None:
    """Start an empty chain file from a snapshot attested by more than two thirds of the peers.

    The node then replays only the blocks after the snapshot.
    """
    from gridledger.node.network_config import load_network
    from gridledger.node.snapshot import read_snapshot, restore_snapshot

    path = database or chain_path(directory)
    try:
        peers = load_network(network).peer_infos()
        path.parent.mkdir(parents=True, exist_ok=True)
        head = restore_snapshot(read_snapshot(snapshot_file), peers, path, str(snapshot_file))
    except NodeError as error:
        raise fail(str(error)) from error
    console().print(f"{path} starts at block {head.height} from {snapshot_file}")


def _peer_keys(network: Path | None, peer: str, passphrase_file: Path | None) -> KeyPair:
    from gridledger.node.keystore import read_key
    from gridledger.node.network_config import load_network

    if network is None:
        raise fail("--peer needs --network (the network.json that lists the peer)")
    config = load_network(network)
    entry = config.peer(peer)
    keys = read_key(network.parent / entry.key_file, passphrase_source(passphrase_file))
    if keys.public_key.hex() != entry.public_key:
        raise fail(f"{entry.key_file}: its key is not peer {peer}'s key in {network}")
    return keys
