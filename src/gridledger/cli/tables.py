"""How the commands print what they read: tables, member names for addresses, numbers and
moments (shared by the market, day-ahead and other read commands)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from gridledger.cli.common import console

if TYPE_CHECKING:  # the clients load httpx or the node
    from gridledger.client.embedded import EmbeddedClient
    from gridledger.client.http import HttpClient


def names_of(client: HttpClient | EmbeddedClient) -> dict[str, str]:
    """Member names by address, to show names instead of addresses."""
    return {m.address: m.name for m in client.members().members}


def who(address: str, names: dict[str, str]) -> str:
    return names.get(address, address)


def moment(seconds: int) -> str:
    try:
        text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, ValueError, OSError):
        return f"{seconds} s"
    return f"{text} ({seconds} s)"


def number(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> Console:
    """Print `rows` as a table under `columns`; returns the console for what follows it."""
    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(*row)
    out = console()
    out.print(table)
    return out


def print_table_and_line(
    title: str, columns: Sequence[str], rows: Iterable[Sequence[str]], line: str
) -> None:
    """`print_table`, then `line` under it unless it is empty (a period's trading windows)."""
    out = print_table(title, columns, rows)
    if line:
        out.print(line, highlight=False)
