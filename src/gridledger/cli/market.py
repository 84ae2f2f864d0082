"""`gridledger market ...`: place and cancel orders, clear and settle periods, send meter
readings, and show books, orders, trades, posted prices and settlement statements.

Every command follows the rule of `gridledger.cli.common`: against the node(s) of
``--url`` (or ``$GRIDLEDGER_URL``), else offline on the chain file of ``--dir``.
``--json`` prints JSON (the API's shapes) instead of a table. Writes are signed with a
key file of ``--dir``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from gridledger.cli import market_reads
from gridledger.cli.common import (
    DirOption,
    JsonOption,
    KeyOption,
    UrlOption,
    address_of,
    call,
    connect,
    console,
    fail,
    finish,
    load_key,
)
from gridledger.cli.market_reads import names_of, number, period_or_open, print_summary
from gridledger.client import EmbeddedClient, HttpClient
from gridledger.client.replies import TransactionReply

market_app = typer.Typer(
    help=(
        "The energy market: orders, books, trades, meter readings and settlement. "
        "Against a node with --url (or $GRIDLEDGER_URL), else offline on the chain in --dir."
    ),
    no_args_is_help=True,
)

Client = HttpClient | EmbeddedClient
PeriodOption = typer.Option(None, help="Delivery period (default: next open)")
ExpiryOption = typer.Option(0, help="Expiry, seconds since the epoch (0: end of the period)")


def _place(
    side: str,
    key: str,
    energy_wh: int,
    price: int,
    period: int | None,
    expiry: int,
    directory: Path,
    url: str | None,
    as_json: bool,
) -> None:
    keys = load_key(directory, key)
    with connect(url, directory, write=True, key=key) as client:
        target = period_or_open(client, period)
        args: dict[str, Any] = {
            "side": side,
            "energy_wh": energy_wh,
            "price_micro_per_kwh": price,
            "period": target,
        }
        if expiry:
            args["expiry_s"] = expiry
        view = call(client, keys, "market", "place_order", args)
        events = view.events if isinstance(view, TransactionReply) else []
        placed = [
            e.attributes for e in events if e.contract == "market" and e.name == "order_placed"
        ]
        order = client.market_order(placed[0]["order_id"]) if placed else None
    if as_json or order is None or not isinstance(view, TransactionReply):
        finish(view, as_json, {"order": order})
        return
    table = Table("order", "side", "period", "energy Wh", "filled Wh", "limit µ/kWh", "status")
    table.add_row(
        order.order_id,
        order.side,
        str(order.period),
        number(order.energy_wh),
        number(order.filled_wh),
        number(order.price_micro_per_kwh),
        order.status,
    )
    out = console()
    out.print(table)
    out.print(
        f"escrowed {number(placed[0].get('escrow_micro', 0))} µ; "
        f"{placed[0].get('trades', 0)} trade(s) on arrival; "
        f"block {view.height}, transaction {view.id}",
        highlight=False,
    )


@market_app.command("buy")
def buy(
    key: str = KeyOption,
    energy_wh: int = typer.Option(..., "--energy-wh", help="Energy to buy, Wh"),
    price: int = typer.Option(..., "--price", help="Limit: the most you pay, micro-units per kWh"),
    period: int | None = PeriodOption,
    expiry: int = ExpiryOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Place a buy order (escrows its maximum cost)."""
    _place("buy", key, energy_wh, price, period, expiry, directory, url, as_json)


@market_app.command("sell")
def sell(
    key: str = KeyOption,
    energy_wh: int = typer.Option(..., "--energy-wh", help="Energy to sell, Wh"),
    price: int = typer.Option(
        ..., "--price", help="Limit: the least you accept, micro-units per kWh"
    ),
    period: int | None = PeriodOption,
    expiry: int = ExpiryOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Place a sell order."""
    _place("sell", key, energy_wh, price, period, expiry, directory, url, as_json)


@market_app.command("cancel")
def cancel(
    order_id: str,
    key: str = KeyOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Cancel one of your open orders (before gate closure); its escrow is released."""
    keys = load_key(directory, key)
    with connect(url, directory, write=True, key=key) as client:
        client.market_order(order_id)  # a clear "no order" before signing anything
        view = call(client, keys, "market", "cancel_order", {"order_id": order_id})
        order = client.market_order(order_id)
    finish(view, as_json, {"order": order})


def _close_period(
    contract: str,
    method: str,
    period: int,
    key: str,
    directory: Path,
    url: str | None,
    as_json: bool,
    report: Callable[[Client, int], None],
) -> None:
    """Call `contract.method(period)`; once committed and accepted, `report` what it did."""
    keys = load_key(directory, key)
    with connect(url, directory, write=True, key=key) as client:
        target = period_or_open(client, period)
        view = call(client, keys, contract, method, {"period": target})
        if not as_json and isinstance(view, TransactionReply) and view.code == 0:
            report(client, target)
    finish(view, as_json)


def _report_clearing(client: Client, target: int) -> None:
    trades = client.market_trades(target)
    console().print(
        f"period {target} cleared: {trades.count} trade(s), {number(trades.traded_wh)} Wh",
        highlight=False,
    )


def _report_settlement(client: Client, target: int) -> None:
    print_summary(client.settlement(target), names_of(client))


@market_app.command("clear")
def clear(
    period: int,
    key: str = KeyOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Clear a period's book (once, at or after its gate closure)."""
    _close_period("market", "clear", period, key, directory, url, as_json, _report_clearing)


@market_app.command("settle")
def settle(
    period: int,
    key: str = KeyOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Settle a period (once, after its meter window closes)."""
    _close_period("settlement", "settle", period, key, directory, url, as_json, _report_settlement)


@market_app.command("reading")
def reading(
    meter_key: str = typer.Option(..., "--meter-key", help="The meter's key (name or .key file)"),
    member: str = typer.Option(..., "--member", help="The member metered: key name or address"),
    period: int | None = typer.Option(
        None, help="Delivery period (default: the one that ended last)"
    ),
    exported_wh: int = typer.Option(..., "--exported-wh", help="Energy delivered to the grid, Wh"),
    imported_wh: int = typer.Option(..., "--imported-wh", help="Energy drawn from the grid, Wh"),
    key: str | None = typer.Option(
        None, "--key", "-k", help="Relay through this member's key (default: the meter sends)"
    ),
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Send a meter reading signed by the meter key, within the period's meter window."""
    from gridledger.contracts.metering import reading_message

    meter = load_key(directory, meter_key)
    sender = meter if key is None else load_key(directory, key)
    address = address_of(member, directory)
    with connect(url, directory, write=True, key=meter_key if key is None else key) as client:
        if period is None:  # the period that ended last, by the node's clock
            now = client.market_current()
            period = now.clock_ms // 1000 // now.period_seconds - 1
        if period < 0:
            raise fail(f"period {period} is negative")
        message = reading_message(client.chain_id(), address, period, exported_wh, imported_wh)
        args = {
            "member": address,
            "period": period,
            "exported_wh": exported_wh,
            "imported_wh": imported_wh,
            "meter_key": meter.public_key.hex(),
            "signature": meter.sign(message).hex(),
        }
        view = call(client, sender, "metering", "record_reading", args)
    finish(view, as_json)


# -- reads (gridledger.cli.market_reads) -----------------------------------------------------

market_app.command("current")(market_reads.current)
market_app.command("book")(market_reads.book)
market_app.command("orders")(market_reads.orders)
market_app.command("trades")(market_reads.trades)
market_app.command("price")(market_reads.price)
market_app.command("statement")(market_reads.statement)
