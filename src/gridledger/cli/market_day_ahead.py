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

Sealed orders (issue 15, where the community takes them): ``buy`` / ``sell`` ``--sealed
--max-energy-wh M`` commit to the price and the energy with range proofs instead of
sending them (a sealed buy escrows the cap price × M plus the non-reveal fee); the opening
stays in ``DIR/keys/<key>.openings.json`` (0600, `cli.sealed_openings`). After the gate,
within the reveal window, ``reveal [ORDER_ID]`` publishes it (every kept opening of the
key without ORDER_ID); an order not revealed is dropped at the clear and pays the fee.

``DAY`` of a period is ``period * period_seconds // 86400``; ``show`` names it for a period
with ``--period``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

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
    connect_signed,
    console,
    fail,
    finish,
    load_key,
    print_json,
    submit_call,
)
from gridledger.cli.orders import ENERGY_OPTIONS, LIMIT_OPTIONS, order_args
from gridledger.cli.sealed_openings import (
    OpeningsFileError,
    load_openings,
    openings_path,
    save_openings,
)
from gridledger.cli.tables import names_of, number, who
from gridledger.client.replies import TransactionReply
from gridledger.crypto.privacy import PrivacyError
from gridledger.market import seal_order
from gridledger.node.keystore import key_path

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


SealedOption = typer.Option(
    False, "--sealed", help="Commit to price and energy (revealed after the gate)"
)
MaxEnergyOption = typer.Option(
    None,
    "--max-energy-wh",
    help="With --sealed: the public upper bound of the hidden energy, Wh (a buy escrows "
    "cap × this)",
)


def _openings_file(directory: Path, key: str) -> Path:
    return openings_path(key_path(directory, key))


def _place_sealed(
    side: str,
    key: str,
    energy_wh: int,
    price: int,
    period: int,
    max_energy_wh: int | None,
    all_or_none: bool,
    directory: Path,
    url: str | None,
    as_json: bool,
) -> None:
    if max_energy_wh is None:
        raise fail("--sealed needs --max-energy-wh: the public upper bound of the hidden energy")
    if not 1 <= energy_wh <= max_energy_wh:
        raise fail(f"--energy-wh {energy_wh} must be in [1, --max-energy-wh {max_energy_wh}]")
    keys = load_key(directory, key)
    path = _openings_file(directory, key)
    try:
        kept = load_openings(path)
    except OpeningsFileError as error:
        raise fail(str(error)) from error
    with connect(url, directory, write=True, key=key) as client:
        bounds = client.parameters(period).parameters
        low, high = bounds.feed_in_price_micro_per_kwh, bounds.cap_price_micro_per_kwh
        if not low <= price <= high:
            raise fail(f"--price {price} must be in [feed-in {low}, cap {high}] for a sealed order")
        try:
            order, opening = seal_order(
                keys.address, side, period, price, energy_wh, max_energy_wh, low, high
            )
        except PrivacyError as error:
            raise fail(str(error)) from error
        view = call(
            client, keys, "market", "place_sealed_day_ahead_order", order.place_args(all_or_none)
        )
    if isinstance(view, TransactionReply) and view.code == 0:
        [placed] = [e.attributes for e in view.events if e.name == "day_ahead_sealed_order_placed"]
        order_id = str(placed["order_id"])
        try:
            save_openings(path, {**kept, order_id: opening})
        except OpeningsFileError as error:
            raise fail(f"order {order_id} placed, but its opening was not kept: {error}") from error
        if not as_json:
            console().print(
                f"sealed day-ahead order {order_id}: {side} up to {number(max_energy_wh)} Wh for "
                f"period {period}; escrowed {number(int(placed['escrow_micro']))} µ; opening "
                f"kept in {path} (reveal it after the gate: market day-ahead reveal {order_id})",
                highlight=False,
            )
    finish(view, as_json)


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
    sealed: bool = False,
    max_energy_wh: int | None = None,
) -> None:
    if period < 0:
        raise fail(f"period {period} is negative")
    if sealed:
        _place_sealed(
            side, key, energy_wh, price, period, max_energy_wh, all_or_none, directory, url, as_json
        )
        return
    if max_energy_wh is not None:
        raise fail("--max-energy-wh goes with --sealed")
    args = order_args(side, energy_wh, price, period, all_or_none=all_or_none)
    with connect_signed(url, directory, key) as (client, keys):
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


def _order_command(side: str, summary: str) -> Callable[..., None]:
    """The command that places a `side` day-ahead order (buy, sell); `summary` is its help."""

    def command(
        key: str = KeyOption,
        energy_wh: int = ENERGY_OPTIONS[side],
        price: int = LIMIT_OPTIONS[side],
        period: int = PeriodRequired,
        all_or_none: bool = AllOrNoneOption,
        sealed: bool = SealedOption,
        max_energy_wh: int | None = MaxEnergyOption,
        directory: Path = DirOption,
        url: str | None = UrlOption,
        as_json: bool = JsonOption,
    ) -> None:
        _place(
            side,
            key,
            energy_wh,
            price,
            period,
            all_or_none,
            directory,
            url,
            as_json,
            sealed,
            max_energy_wh,
        )

    command.__doc__ = summary
    return command


buy = day_ahead_app.command("buy")(
    _order_command(
        "buy", "Bid for one hour of the next day, until the day's gate (escrows its maximum cost)."
    )
)
sell = day_ahead_app.command("sell")(
    _order_command("sell", "Offer energy for one hour of the next day, until the day's gate.")
)


@day_ahead_app.command("cancel")
def cancel(
    order_id: str = typer.Argument(..., help="A day-ahead order id, da<day>-<n>"),
    key: str = KeyOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Withdraw one of your open day-ahead orders, until the gate; its escrow is released."""
    args = {"order_id": order_id}
    submit_call(url, directory, key, ("market", "cancel_day_ahead_order", args), as_json)


@day_ahead_app.command("reveal")
def reveal(
    order_id: str | None = typer.Argument(
        None, help="A sealed order id, da<day>-<n>; without it every kept opening of the key"
    ),
    key: str = KeyOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Publish the opening of your sealed order(s), after the gate, within the reveal window."""
    keys = load_key(directory, key)
    path = _openings_file(directory, key)
    try:
        kept = load_openings(path)
    except OpeningsFileError as error:
        raise fail(str(error)) from error
    if order_id is not None and order_id not in kept:
        raise fail(f"no opening of order {order_id} in {path}")
    chosen = [order_id] if order_id is not None else sorted(kept)
    if not chosen:
        raise fail(f"no sealed-order openings kept in {path}")
    with connect(url, directory, write=True, key=key) as client:
        for chosen_id in chosen:
            args = kept[chosen_id].reveal_args(chosen_id)
            view = call(client, keys, "market", "reveal_day_ahead_order", args)
            if isinstance(view, TransactionReply) and view.code == 0:
                del kept[chosen_id]
                try:
                    save_openings(path, kept)
                except OpeningsFileError as error:
                    raise fail(f"{chosen_id} revealed, but {error}") from error
                if not as_json:
                    console().print(f"revealed {chosen_id}", highlight=False)
            finish(view, as_json)  # exits 2 at the first refusal


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
    with connect_signed(url, directory, key) as (client, keys):
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
        if view.reveal_closes_s is not None and view.now_s < view.reveal_closes_s:
            state = f"gate passed, sealed orders revealed until {view.reveal_closes_s} s"
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
        hidden = o.sealed is not None and not o.sealed.revealed
        table.add_row(
            o.order_id,
            who(o.owner, names),
            o.side,
            str(o.period),
            f"≤ {number(o.energy_wh)}" if hidden else number(o.energy_wh),
            "sealed" if hidden else number(o.price_micro_per_kwh),
            "yes" if o.all_or_none else "",
            number(o.filled_wh),
            o.status,
        )
    out.print(table)
