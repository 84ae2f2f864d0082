"""`gridledger market day-ahead ...`: orders in the day-ahead auction, its clear, its result.

The day-ahead auction (seed 002 §5.3.3, `contracts.market_day_ahead`) takes orders for the
hourly products of a delivery day until the day's gate, the day before, and clears them
all at the gate with one uniform price per product. Commands:

- ``buy`` / ``sell`` ``--period P --energy-wh E --price L [--all-or-none]``: an order for
  product (period) P, placed until the gate of P's day (a buy escrows its maximum cost);
- ``cancel ORDER_ID``: withdraw one of your open orders, until the gate;
- ``clear DAY``: clear the auction of DAY (UTC days since 1970), at or after its gate;
- ``show DAY``: its gate, products, whether cleared, and the orders (a household sees its
  own; the trades are in ``gridledger market trades PERIOD``).

``DAY`` of a period is ``period * period_seconds // 86400``; ``show`` names it for a period
with ``--period``.
"""

from __future__ import annotations

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
    call,
    connect,
    console,
    fail,
    finish,
    load_key,
    print_json,
)
from gridledger.cli.market_reads import names_of, number, who
from gridledger.client.replies import TransactionReply

day_ahead_app = typer.Typer(
    help=(
        "The day-ahead auction: orders for the next day's hours until its gate, one clear "
        "at the gate (uniform price per hour), and its result."
    ),
    no_args_is_help=True,
)

PeriodRequired = typer.Option(..., "--period", help="The product: a delivery period of the day")
AllOrNoneOption = typer.Option(
    False, "--all-or-none", help="Fill the whole energy or nothing (within the one hour)"
)


def _place(
    side: str,
    key: str,
    energy_wh: int,
    price: int,
    period: int,
    all_or_none: bool,
    directory: Path,
    url: str | None,
    as_json: bool,
) -> None:
    if period < 0:
        raise fail(f"period {period} is negative")
    keys = load_key(directory, key)
    args: dict[str, Any] = {
        "side": side,
        "energy_wh": energy_wh,
        "price_micro_per_kwh": price,
        "period": period,
    }
    if all_or_none:
        args["all_or_none"] = True
    with connect(url, directory, write=True, key=key) as client:
        view = call(client, keys, "market", "place_day_ahead_order", args)
    if not as_json and isinstance(view, TransactionReply) and view.code == 0:
        [placed] = [e.attributes for e in view.events if e.name == "day_ahead_order_placed"]
        whole = " (all or none)" if all_or_none else ""
        console().print(
            f"day-ahead order {placed['order_id']}: {side} {number(energy_wh)} Wh{whole} at "
            f"{number(price)} µ/kWh for period {period}; escrowed "
            f"{number(int(placed['escrow_micro']))} µ",
            highlight=False,
        )
    finish(view, as_json)


@day_ahead_app.command("buy")
def buy(
    key: str = KeyOption,
    energy_wh: int = typer.Option(..., "--energy-wh", help="Energy to buy, Wh"),
    price: int = typer.Option(..., "--price", help="Limit: the most you pay, micro-units per kWh"),
    period: int = PeriodRequired,
    all_or_none: bool = AllOrNoneOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Bid for one hour of the next day, until the day's gate (escrows its maximum cost)."""
    _place("buy", key, energy_wh, price, period, all_or_none, directory, url, as_json)


@day_ahead_app.command("sell")
def sell(
    key: str = KeyOption,
    energy_wh: int = typer.Option(..., "--energy-wh", help="Energy to sell, Wh"),
    price: int = typer.Option(
        ..., "--price", help="Limit: the least you accept, micro-units per kWh"
    ),
    period: int = PeriodRequired,
    all_or_none: bool = AllOrNoneOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Offer energy for one hour of the next day, until the day's gate."""
    _place("sell", key, energy_wh, price, period, all_or_none, directory, url, as_json)


@day_ahead_app.command("cancel")
def cancel(
    order_id: str = typer.Argument(..., help="A day-ahead order id, da<day>-<n>"),
    key: str = KeyOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Withdraw one of your open day-ahead orders, until the gate; its escrow is released."""
    keys = load_key(directory, key)
    with connect(url, directory, write=True, key=key) as client:
        view = call(client, keys, "market", "cancel_day_ahead_order", {"order_id": order_id})
    finish(view, as_json)


@day_ahead_app.command("clear")
def clear(
    day: int = typer.Argument(..., help="The delivery day: UTC days since 1970"),
    key: str = KeyOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Clear the auction of DAY, once, at or after its gate (any active member)."""
    if day < 0:
        raise fail(f"day {day} is negative")
    keys = load_key(directory, key)
    with connect(url, directory, write=True, key=key) as client:
        view = call(client, keys, "market", "clear_day_ahead", {"day": day})
    if not as_json and isinstance(view, TransactionReply) and view.code == 0:
        prices = [e.attributes for e in view.events if e.name == "day_ahead_price"]
        [done] = [e.attributes for e in view.events if e.name == "day_ahead_cleared"]
        console().print(
            f"day {day} cleared: {done['trades']} trade(s), {number(int(done['traded_wh']))} Wh",
            highlight=False,
        )
        for product in prices:
            price = product["price_micro_per_kwh"]
            console().print(
                f"  period {product['period']}: "
                + ("no trade" if price is None else f"{number(int(price))} µ/kWh, ")
                + ("" if price is None else f"{number(int(product['volume_wh']))} Wh"),
                highlight=False,
            )
    finish(view, as_json)


@day_ahead_app.command("show")
def show(
    day: int | None = typer.Argument(None, help="The delivery day: UTC days since 1970"),
    period: int | None = typer.Option(None, "--period", help="The day of this period instead"),
    directory: Path = DirOption,
    url: str | None = UrlOption,
    key: str | None = ReadKeyOption,
    as_json: bool = JsonOption,
) -> None:
    """The auction of a day: its gate, products, whether cleared, and its orders."""
    if (day is None) == (period is None):
        raise fail("name the day, or a period of it with --period (one of the two)")
    if (day if day is not None else period or 0) < 0:
        raise fail("the day and the period are not negative")
    with connect(url, directory, key=key) as client:
        if day is None:
            assert period is not None
            seconds = client.parameters(period).parameters.period_seconds
            day = period * seconds // 86_400
        view = client.market_day_ahead(day)
        names = {} if as_json else names_of(client)
    if as_json:
        print_json(view)
        return
    out = console()
    if not view.offered:
        out.print(f"this community runs no day-ahead auction (day {day})", highlight=False)
        return
    state = f"cleared at height {view.cleared_height}" if view.cleared else "open"
    if not view.cleared and view.gate_s is not None and view.now_s >= view.gate_s:
        state = "gate passed, waiting for its clear"
    out.print(
        f"day {view.day}: products {view.products[0]}-{view.products[-1]}, gate at "
        f"{view.gate_s} s; {state}; {view.trade_count} trade(s), "
        f"{number(view.traded_wh)} Wh",
        highlight=False,
    )
    table = Table(
        "order", "owner", "side", "period", "energy Wh", "limit µ/kWh", "AON", "filled Wh", "status"
    )
    for o in view.orders:
        table.add_row(
            o.order_id,
            who(o.owner, names),
            o.side,
            str(o.period),
            number(o.energy_wh),
            number(o.price_micro_per_kwh),
            "yes" if o.all_or_none else "",
            number(o.filled_wh),
            o.status,
        )
    out.print(table)
