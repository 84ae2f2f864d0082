"""`gridledger chain size` and `gridledger chain migrate`: the chain file itself."""

from __future__ import annotations

from pathlib import Path

import typer

from gridledger.cli.common import DirOption, chain_path, console, fail, print_json
from gridledger.node import NodeError

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
