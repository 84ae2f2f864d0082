"""`gridledger market ...`: place, amend, withdraw and cancel orders, seed 001's bilateral
offers and agreements, clear and settle periods, send meter readings, and show books,
orders, offers, trades, agreements, posted prices and settlement statements.

Every command follows the rule of `gridledger.cli.common`: against the node(s) of
``--url`` (or ``$GRIDLEDGER_URL``), else offline on the chain file of ``--dir``.
``--json`` prints JSON (the API's shapes) instead of a table. Writes are signed with a
key file of ``--dir``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from gridledger.cli import market_reads
from gridledger.cli.common import (
    DirOption,
    JsonOption,
    KeyOption,
    RingSizeOption,
    UrlOption,
    address_of,
    call,
    connect,
    connect_signed,
    console,
    fail,
    finish,
    load_key,
    print_json,
)
from gridledger.cli.market_day_ahead import day_ahead_app
from gridledger.cli.market_reads import period_or_open, print_summary
from gridledger.cli.orders import ENERGY_OPTIONS, LIMIT_OPTIONS, order_args
from gridledger.cli.tables import names_of, number
from gridledger.client.replies import TransactionReply

if TYPE_CHECKING:  # the clients load httpx or the node; `client.privacy` loads the contracts
    from gridledger.client.embedded import EmbeddedClient
    from gridledger.client.http import HttpClient

    Client = HttpClient | EmbeddedClient

market_app = typer.Typer(
    help=(
        "The energy market: orders, books, trades, meter readings and settlement. "
        "Against a node with --url (or $GRIDLEDGER_URL), else offline on the chain in --dir."
    ),
    no_args_is_help=True,
)

PeriodOption = typer.Option(None, help="Delivery period (default: next open)")
ExpiryOption = typer.Option(0, help="Expiry, seconds since the epoch (0: end of the period)")
AllOrNoneOption = typer.Option(
    False,
    "--all-or-none",
    help="All or nothing: only the day-ahead auction takes it (market day-ahead buy|sell); "
    "a period's own market refuses it",
)


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
    all_or_none: bool = False,
) -> None:
    with connect_signed(url, directory, key) as (client, keys):
        target = period_or_open(client, period)
        args = order_args(side, energy_wh, price, target, expiry, all_or_none)
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


def _order_command(side: str, summary: str) -> Callable[..., None]:
    """The command that places a `side` order (buy, sell); `summary` is its help."""

    def command(
        key: str = KeyOption,
        energy_wh: int = ENERGY_OPTIONS[side],
        price: int = LIMIT_OPTIONS[side],
        period: int | None = PeriodOption,
        expiry: int = ExpiryOption,
        all_or_none: bool = AllOrNoneOption,
        directory: Path = DirOption,
        url: str | None = UrlOption,
        as_json: bool = JsonOption,
    ) -> None:
        _place(side, key, energy_wh, price, period, expiry, directory, url, as_json, all_or_none)

    command.__doc__ = summary
    return command


buy = market_app.command("buy")(
    _order_command("buy", "Place a buy order (escrows its maximum cost).")
)
sell = market_app.command("sell")(_order_command("sell", "Place a sell order."))


@market_app.command("cancel")
def cancel(
    order_id: str,
    key: str = KeyOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Cancel one of your open orders (before gate closure); its escrow is released."""
    with connect_signed(url, directory, key) as (client, keys):
        client.market_order(order_id)  # a clear "no order" before signing anything
        view = call(client, keys, "market", "cancel_order", {"order_id": order_id})
        order = client.market_order(order_id)
    finish(view, as_json, {"order": order})


@market_app.command("amend")
def amend(
    order_id: str,
    key: str = KeyOption,
    energy_wh: int = typer.Option(..., "--energy-wh", help="The new total energy, Wh"),
    price: int = typer.Option(..., "--price", help="The new limit, micro-units per kWh"),
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Amend one of your open orders: it is placed anew and loses its time priority."""
    args = {"order_id": order_id, "energy_wh": energy_wh, "price_micro_per_kwh": price}
    with connect_signed(url, directory, key) as (client, keys):
        client.market_order(order_id)  # a clear "no order" before signing anything
        view = call(client, keys, "market", "amend_order", args)
        events = view.events if isinstance(view, TransactionReply) else []
        amended = [e.attributes for e in events if e.name == "order_amended"]
        new = client.market_order(amended[0]["new_order_id"]) if amended else None
    if not as_json and new is not None:
        console().print(
            f"order {order_id} amended: now order {new.order_id}, {number(new.energy_wh)} Wh "
            f"at {number(new.price_micro_per_kwh)} µ/kWh, {new.status} (placed anew, behind "
            f"orders already at its price)",
            highlight=False,
        )
    finish(view, as_json, {"order": new})


@market_app.command("withdraw")
def withdraw(
    order_or_offer_id: str = typer.Argument(..., help="An order id (P-N) or an offer id (P-oN)"),
    anonymous: bool = typer.Option(
        False, "--anonymous", help="Your anonymous offer: ring-signed, still unnamed"
    ),
    key: str = KeyOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Withdraw one of your open orders (as cancel) or what is left of one of your offers.

    When the community sets an amend window (seed 003), an order can be withdrawn only
    that long after it was placed.
    """
    is_offer = "-o" in order_or_offer_id
    with connect_signed(url, directory, key) as (client, keys):
        if is_offer and anonymous:
            from gridledger.client.privacy import anonymous_withdrawal, submit_ring_call

            withdrawal = anonymous_withdrawal(
                client, keys, order_or_offer_id, offer_period(order_or_offer_id)
            )
            finish(submit_ring_call(client, withdrawal), as_json)
            return
        if is_offer:
            args = {"offer_id": order_or_offer_id}
            view = call(client, keys, "market", "withdraw_offer", args)
            finish(view, as_json)
            return
        client.market_order(order_or_offer_id)
        view = call(client, keys, "market", "cancel_order", {"order_id": order_or_offer_id})
        order = client.market_order(order_or_offer_id)
    finish(view, as_json, {"order": order})


@market_app.command("offer")
def offer(
    key: str = KeyOption,
    energy_wh: int = typer.Option(..., "--energy-wh", help="Energy offered, Wh"),
    price: int = typer.Option(..., "--price", help="Asking price, micro-units per kWh"),
    cost: int = typer.Option(
        0, "--cost", help="Your production cost, micro-units per kWh: no agreement below it"
    ),
    period: int | None = PeriodOption,
    anonymous: bool = typer.Option(
        False, "--anonymous", help="Ring-signed: the seller is named only to its buyer"
    ),
    ring_size: int = RingSizeOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Publish a bilateral offer (seed 001 MakeOffer), in the period's negotiation window;
    ``--anonymous`` ring-signs it (one anonymous offer per member per period)."""
    with connect_signed(url, directory, key) as (client, keys):
        target = period_or_open(client, period)
        args = {
            "energy_wh": energy_wh,
            "price_micro_per_kwh": price,
            "period": target,
            "production_cost_micro_per_kwh": cost,
        }
        if anonymous:
            from gridledger.client.privacy import anonymous_offer, submit_ring_call

            view = submit_ring_call(client, anonymous_offer(client, keys, args, ring_size))
        else:
            view = call(client, keys, "market", "publish_offer", args)
    if not as_json and isinstance(view, TransactionReply) and view.code == 0:
        [published] = [e.attributes for e in view.events if e.name == "offer_published"]
        console().print(f"offer {published['offer_id']} published for period {target}")
    finish(view, as_json)


@market_app.command("accept")
def accept(
    offer_id: str,
    key: str = KeyOption,
    energy_wh: int = typer.Option(..., "--energy-wh", help="Energy agreed, Wh"),
    price: int = typer.Option(..., "--price", help="Price agreed, micro-units per kWh"),
    agreement_id: str = typer.Option(..., "--agreement-id", help="Unique per offer, 1-64 chars"),
    seller_key: str | None = typer.Option(
        None, "--seller-key", help="Sign the seller's consent with this key of --dir"
    ),
    seller_signature: str | None = typer.Option(
        None, "--seller-signature", help="The seller's consent, hex (from --sign-for)"
    ),
    sign_for: str | None = typer.Option(
        None, "--sign-for", help="As the seller (-k): print your consent for this buyer and stop"
    ),
    seller: str | None = typer.Option(
        None, "--seller", help="An anonymous offer's seller (key name or address), revealed"
    ),
    seller_proof: str | None = typer.Option(
        None, "--seller-proof", help="An anonymous offer: the seller's proof, hex (--sign-for)"
    ),
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Sign an agreement on an offer (seed 001 AllowTransaction), in the commit window.

    The buyer (-k) sends it with the seller's signature: ``--seller-key`` signs it here,
    or the seller runs ``accept ... -k SELLER --sign-for BUYER`` and passes the printed
    hex as ``--seller-signature``. The buyer's cost is escrowed. On an anonymous offer the
    seller names itself to the buyer: ``--seller`` with the seller's proof (``--seller-key``
    makes it here; ``--sign-for`` prints it as ``seller_proof``).
    """
    from gridledger.client.privacy import seller_proof as privacy_seller_proof
    from gridledger.contracts.market_bilateral import agreement_message

    with connect_signed(url, directory, key) as (client, keys):
        chain_id = client.chain_id()
        if sign_for is not None:
            buyer = address_of(sign_for, directory)
            message = agreement_message(chain_id, offer_id, agreement_id, buyer, energy_wh, price)
            signature = keys.sign(message).hex()
            proof = privacy_seller_proof(keys, message, offer_period(offer_id))
            if as_json:
                print_json({"seller_signature": signature, "buyer": buyer, "seller_proof": proof})
            else:
                console().print(signature, highlight=False, soft_wrap=True)
                console().print(f"seller proof (anonymous offers): {proof}", soft_wrap=True)
            return
        buyer = keys.address
        message = agreement_message(chain_id, offer_id, agreement_id, buyer, energy_wh, price)
        if seller_key is not None:
            seller_keys = load_key(directory, seller_key)
            seller_signature = seller_keys.sign(message).hex()
            if seller is not None and seller_proof is None:
                seller_proof = privacy_seller_proof(seller_keys, message, offer_period(offer_id))
        if seller_signature is None:
            raise fail("give the seller's consent: --seller-key NAME or --seller-signature HEX")
        args = {
            "offer_id": offer_id,
            "agreement_id": agreement_id,
            "energy_wh": energy_wh,
            "price_micro_per_kwh": price,
            "seller_signature": seller_signature,
        }
        if seller is not None:
            if seller_proof is None:
                raise fail("an anonymous offer needs the seller's proof: --seller-proof HEX")
            args["seller"] = address_of(seller, directory)
            args["seller_proof"] = seller_proof
        view = call(client, keys, "market", "agree", args)
    if not as_json and isinstance(view, TransactionReply) and view.code == 0:
        console().print(
            f"agreement {agreement_id} on offer {offer_id}: {number(energy_wh)} Wh at "
            f"{number(price)} µ/kWh",
            highlight=False,
        )
    finish(view, as_json)


def offer_period(offer_id: str) -> int:
    """The delivery period of an offer id (``P-oN``)."""
    head, _, _ = offer_id.partition("-")
    if not head.isdigit():
        raise fail(f"offer id {offer_id!r}: expected PERIOD-oN")
    return int(head)


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
    with connect_signed(url, directory, key) as (client, keys):
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
market_app.command("offers")(market_reads.offers)
market_app.command("agreements")(market_reads.agreements)
market_app.command("price")(market_reads.price)
market_app.command("statement")(market_reads.statement)
market_app.add_typer(day_ahead_app, name="day-ahead")
