"""`gridledger market current|book|orders|trades|offers|agreements|price|statement`: the
market's reads, and how market views are printed."""

from __future__ import annotations

from itertools import zip_longest
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
import typer

from gridledger.cli.common import (
    DirOption,
    JsonOption,
    ReadKeyOption,
    UrlOption,
    address_of,
    connect,
    console,
    fail,
    print_json,
)
from gridledger.cli.tables import moment, names_of, number, print_table, print_table_and_line, who
from gridledger.client.correction_replies import CorrectionReply
from gridledger.client.market_replies import (
    BookReply,
    MarketCurrentReply,
    OrderReply,
    PriceReply,
    SettlementReply,
    TradeReply,
)

if TYPE_CHECKING:  # the clients load httpx or the node
    from gridledger.client.embedded import EmbeddedClient
    from gridledger.client.http import HttpClient

PeriodArgument = typer.Argument(
    None, help="Delivery period (default: the next period open for orders)", show_default=False
)
ORDER_COLUMNS = (
    "order", "owner", "side", "energy Wh", "filled Wh", "limit µ/kWh", "status", "escrow µ",
)  # fmt: skip
TRADE_COLUMNS = (
    "trade", "kind", "buyer", "seller", "energy Wh", "price µ/kWh", "value µ", "how",
)  # fmt: skip
OFFER_COLUMNS = (
    "offer", "seller", "energy Wh", "left Wh", "ask µ/kWh", "cost µ/kWh", "status",
)  # fmt: skip
AGREEMENT_COLUMNS = (
    "agreement", "offer", "buyer", "seller", "energy Wh", "price µ/kWh", "signed",
)  # fmt: skip
STATEMENT_COLUMNS = (
    ("bought Wh", "bought_wh"),
    ("sold Wh", "sold_wh"),
    ("delivered Wh", "delivered_wh"),
    ("consumed Wh", "consumed_wh"),
    ("paid µ", "paid_micro"),
    ("received µ", "received_micro"),
    ("penalised µ", "penalised_micro"),
    ("net µ", "net_micro"),
)


PeriodTimes = MarketCurrentReply | BookReply | PriceReply | SettlementReply
"""A reply that says where a period is in its life (window, now_s, phase)."""


# -- printing ----------------------------------------------------------------------------------


def period_or_open(client: HttpClient | EmbeddedClient, period: int | None) -> int:
    """`period`, or the next period open for orders."""
    if period is None:
        return client.market_current().open_period
    if period < 0:
        raise fail(f"period {period} is negative")
    return period


def window_lines(view: PeriodTimes) -> str:
    times = view.window
    return (
        f"phase [bold]{view.phase}[/bold] (block time {moment(view.now_s)})\n"
        f"gate closure {moment(times.gate_closure_s)}, start {moment(times.start_s)}, "
        f"end {moment(times.end_s)}, meter window ends {moment(times.meter_window_end_s)}"
    )


def order_row(order: OrderReply, names: dict[str, str]) -> tuple[str, ...]:
    """An order as a row under `ORDER_COLUMNS`."""
    return (
        order.order_id,
        who(order.owner, names),
        order.side,
        number(order.energy_wh),
        number(order.filled_wh),
        number(order.price_micro_per_kwh),
        order.status,
        number(order.escrow_micro),
    )


def trade_row(trade: TradeReply, names: dict[str, str]) -> tuple[str, ...]:
    """A trade as a row under `TRADE_COLUMNS`; "how" is mechanism/price rule (reason)."""
    how = f"{trade.mechanism}/{trade.price_rule}"
    if trade.reason:
        how += f" ({trade.reason.replace('_', ' ')})"
    return (
        trade.trade_id,
        trade.kind,
        who(trade.buyer, names),
        who(trade.seller, names),
        number(trade.energy_wh),
        number(trade.price_micro_per_kwh),
        number(trade.value_micro),
        how,
    )


def print_summary(view: SettlementReply, names: dict[str, str]) -> None:
    """A period's settlement summary, or that it is not settled yet."""
    out = console()
    summary = view.summary
    if summary is None:
        out.print(f"period {view.period} is not settled")
        out.print(window_lines(view))
        return
    out.print(
        f"period {view.period} settled in block {summary.height} by "
        f"{who(summary.settled_by, names)}: {summary.trades} trade(s), "
        f"{number(summary.traded_wh)} Wh traded, {number(summary.exported_wh)} Wh "
        f"exported, {number(summary.imported_wh)} Wh imported; grid supplied "
        f"{number(summary.grid_supplied_wh)} Wh and took {number(summary.grid_taken_wh)} "
        f"Wh; penalties {number(summary.penalties_micro)} µ",
        highlight=False,
    )


# -- the commands ------------------------------------------------------------------------------


def current(
    directory: Path = DirOption,
    url: str | None = UrlOption,
    key: str | None = ReadKeyOption,
    as_json: bool = JsonOption,
) -> None:
    """The current delivery period and the next one open for orders."""
    with connect(url, directory, key=key) as client:
        view = client.market_current()
    if as_json:
        print_json(view)
        return
    out = console()
    out.print(f"current period [bold]{view.period}[/bold] (head block {view.height})")
    out.print(window_lines(view))
    opens = view.open_window
    out.print(
        f"next period open for orders: [bold]{view.open_period}[/bold], gate closes "
        f"{moment(opens.gate_closure_s)}"
    )


def book(
    period: int | None = PeriodArgument,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    key: str | None = ReadKeyOption,
    as_json: bool = JsonOption,
) -> None:
    """The order book of a period: open energy and orders per limit price, both sides."""
    with connect(url, directory, key=key) as client:
        view = client.market_book(period_or_open(client, period))
    if as_json:
        print_json(view)
        return
    flags = [name for name, on in (("cleared", view.cleared), ("settled", view.settled)) if on]
    title = (
        f"period {view.period} book ({view.mechanism}{', ' + ', '.join(flags) if flags else ''})"
    )
    out = print_table(
        title,
        ("bid orders", "bid Wh", "bid µ/kWh", "ask µ/kWh", "ask Wh", "ask orders"),
        (
            (
                number(bid.orders if bid else None),
                number(bid.residual_wh if bid else None),
                number(bid.price_micro_per_kwh if bid else None),
                number(ask.price_micro_per_kwh if ask else None),
                number(ask.residual_wh if ask else None),
                number(ask.orders if ask else None),
            )
            for bid, ask in zip_longest(view.bids, view.asks)
        ),
    )
    out.print(
        f"{view.open_orders} open of {view.orders} order(s), {view.trades} trade(s), "
        f"{view.offers} offer(s)",
        highlight=False,
    )
    out.print(window_lines(view))


def orders(
    period: int | None = PeriodArgument,
    owner: str | None = typer.Option(None, "--owner", help="Only this member's: name or address"),
    directory: Path = DirOption,
    url: str | None = UrlOption,
    key: str | None = ReadKeyOption,
    as_json: bool = JsonOption,
) -> None:
    """The orders of a period, open and closed, in the order they were placed."""
    address = None if owner is None else address_of(owner, directory)
    with connect(url, directory, key=key) as client:
        view = client.market_orders(period_or_open(client, period), address)
        names = {} if as_json else names_of(client)
    if as_json:
        print_json(view)
        return
    rows = (order_row(order, names) for order in view.orders)
    print_table(f"period {view.period} orders", ORDER_COLUMNS, rows)


TradesPeriodArgument = typer.Argument(
    None,
    help="Delivery period (default: the newest with trades, up to the next period open for "
    "orders; on a chain that stopped, such as a simulation's or the demo's, its own last ones)",
    show_default=False,
)


def trades_period(client: HttpClient | EmbeddedClient, period: int | None) -> int:
    """`period`, or the newest period with trades (else the next period open for orders)."""
    if period is not None:
        return period_or_open(client, period)
    view = client.market_current()
    return view.open_period if view.latest_trades_period is None else view.latest_trades_period


def trades(
    period: int | None = TradesPeriodArgument,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    key: str | None = ReadKeyOption,
    as_json: bool = JsonOption,
) -> None:
    """The trades of a period (book, bilateral and standing offers), in the order made."""
    with connect(url, directory, key=key) as client:
        view = client.market_trades(trades_period(client, period))
        names = {} if as_json else names_of(client)
    if as_json:
        print_json(view)
        return
    rows = (trade_row(trade, names) for trade in view.trades)
    out = print_table(f"period {view.period} trades", TRADE_COLUMNS, rows)
    out.print(
        f"{view.count} trade(s), {number(view.traded_wh)} Wh, {number(view.value_micro)} µ",
        highlight=False,
    )


def _windows_line(client: HttpClient | EmbeddedClient, period: int) -> str:
    windows = client.parameters(period).windows
    if windows is None:
        return ""
    return (
        f"negotiation from {moment(windows.negotiation_opens_s)}, commit from "
        f"{moment(windows.commit_opens_s)} ({windows.commit_seconds} s, to gate closure)"
    )


def offers(
    period: int | None = PeriodArgument,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    key: str | None = ReadKeyOption,
    as_json: bool = JsonOption,
) -> None:
    """The bilateral offers of a period (seed 001 GetOffers), with its trading windows."""
    with connect(url, directory, key=key) as client:
        target = period_or_open(client, period)
        view = client.market_offers(target)
        names = {} if as_json else names_of(client)
        line = "" if as_json else _windows_line(client, target)
    if as_json:
        print_json(view)
        return
    rows = (
        (
            item.offer_id,
            who(item.seller, names),
            number(item.energy_wh),
            number(item.remaining_wh),
            number(item.price_micro_per_kwh),
            number(item.production_cost_micro_per_kwh),
            item.status,
        )
        for item in view.offers
    )
    print_table_and_line(f"period {view.period} offers", OFFER_COLUMNS, rows, line)


def agreements(
    period: int | None = PeriodArgument,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    key: str | None = ReadKeyOption,
    as_json: bool = JsonOption,
) -> None:
    """The agreements signed for a period (its bilateral trades), with their signing times."""
    with connect(url, directory, key=key) as client:
        target = period_or_open(client, period)
        view = client.market_trades(target)
        names = {} if as_json else names_of(client)
        line = "" if as_json else _windows_line(client, target)
    signed = [trade for trade in view.trades if trade.kind == "bilateral"]
    if as_json:
        print_json({"period": target, "agreements": signed})
        return
    rows = (
        (
            trade.buy_order_id.removeprefix("agreement:"),
            trade.sell_order_id,
            who(trade.buyer, names),
            who(trade.seller, names),
            number(trade.energy_wh),
            number(trade.price_micro_per_kwh),
            moment(trade.matched_at_s),
        )
        for trade in signed
    )
    print_table_and_line(f"period {target} agreements", AGREEMENT_COLUMNS, rows, line)


def price(
    period: int = typer.Argument(..., help="Delivery period"),
    directory: Path = DirOption,
    url: str | None = UrlOption,
    key: str | None = ReadKeyOption,
    as_json: bool = JsonOption,
) -> None:
    """The price the operator posted for a period (pricing contract, seed 003)."""
    if period < 0:
        raise fail(f"period {period} is negative")
    with connect(url, directory, key=key) as client:
        view = client.market_price(period)
        names = {} if as_json else names_of(client)
    if as_json:
        print_json(view)
        return
    out = console()
    out.print(
        f"period {view.period}: [bold]{number(view.price_micro_per_kwh)} µ/kWh[/bold] "
        f"posted by {who(view.operator, names)} in block {view.height} "
        f"(revision {view.revision}; from a forecast supply of {number(view.supply_wh)} "
        f"Wh and demand of {number(view.demand_wh)} Wh)",
        highlight=False,
    )
    out.print(window_lines(view))


def statement(
    period: int,
    member: str | None = typer.Argument(None, help="Key name or address (default: everyone)"),
    directory: Path = DirOption,
    url: str | None = UrlOption,
    key: str | None = ReadKeyOption,
    as_json: bool = JsonOption,
) -> None:
    """Settlement statements of a period: bought, sold, delivered, paid, received, penalised."""
    if period < 0:
        raise fail(f"period {period} is negative")
    if member is not None:
        _one_statement(period, address_of(member, directory), directory, url, key, as_json)
        return
    with connect(url, directory, key=key) as client:
        summary = client.settlement(period)
        every = client.statements(period)
        names = {} if as_json else names_of(client)
    if as_json:
        print_json({**msgspec.structs.asdict(summary), "statements": every.statements})
        return
    if not every.settled:
        raise fail(
            f"period {period} is not settled (phase {summary.phase}; it can be settled from "
            f"{moment(summary.window.meter_window_end_s)})"
        )
    print_table(
        f"period {period} statements",
        ("member", "reading", *(title for title, _ in STATEMENT_COLUMNS)),
        (
            (
                who(row.member, names),
                row.reading,
                *(number(getattr(row, field)) for _, field in STATEMENT_COLUMNS),
            )
            for row in every.statements
        ),
    )
    print_corrections(every.corrections, names)
    print_summary(summary, names)


def _one_statement(
    period: int, address: str, directory: Path, url: str | None, key: str | None, as_json: bool
) -> None:
    with connect(url, directory, key=key) as client:
        one = client.statement(period, address)
        names = {} if as_json else names_of(client)
        account = client.account(address)
    if as_json:
        print_json({**msgspec.to_builtins(one), "lots": account.lots} if account.lots else one)
        return
    print_table(
        f"period {period}: {who(address, names)}",
        ("field", "value"),
        (
            (name, number(value) if isinstance(value, int) else str(value))
            for name, value in msgspec.structs.asdict(one).items()
            if name not in ("member", "period", "corrections")
        ),
    )
    if account.lots:
        print_table(
            f"{who(address, names)}'s balance by issue day (oldest is spent first)",
            ("issued", "expires", "micro-units", ""),
            (
                (
                    moment(lot.issued_at_s),
                    moment(lot.expires_at_s),
                    number(lot.amount_micro),
                    "expired: returns to the issuer at the next settlement" if lot.expired else "",
                )
                for lot in account.lots
            ),
        )
    print_corrections(one.corrections, names)


def print_corrections(corrections: list[CorrectionReply], names: dict[str, str]) -> None:
    """The corrections recorded beside the statements (seed 004 §2.3: nothing is rewritten)."""
    if not corrections:
        return
    print_table(
        "corrections, recorded beside the settled trades (the statements above stand as settled)",
        ("trade", "#", "buyer", "seller", "refund µ (seller→buyer)", "energy Wh", "reason"),
        (
            (
                c.trade_id,
                str(c.sequence),
                who(c.buyer, names),
                who(c.seller, names),
                number(c.refund_micro),
                f"{number(c.energy_wh)} (was {number(c.original_energy_wh)})",
                c.reason,
            )
            for c in corrections
        ),
    )
