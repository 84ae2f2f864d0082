"""The market's and settlement's reads: parameters, order books, orders, trades, offers,
posted prices, settlement summaries and members' statements per delivery period, as reply
Structs (`gridledger.client.market_replies`).

Bad input raises `InvalidQuery` (naming the field); a record that does not exist raises
`NotFound` (or `NotSettled`). Times are seconds since the epoch. ``now_s`` is the head
block's timestamp: contracts see block time only, so a period's phase is what the next
transaction would see at the earliest.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from gridledger.client.correction_replies import CorrectionReply
from gridledger.client.market_replies import (
    BookReply,
    DayAheadOrderReply,
    DayAheadReply,
    DepthLevelReply,
    MarketCurrentReply,
    MarketParametersReply,
    MemberStatementReply,
    OfferReply,
    OffersReply,
    OrderReply,
    OrdersReply,
    ParametersReply,
    PriceReply,
    ScheduledParametersReply,
    SealedOrderReply,
    SettlementReply,
    SettlementSummaryReply,
    StatementReply,
    StatementsReply,
    TradeReply,
    TradesReply,
    TradingWindowsReply,
    WindowReply,
)
from gridledger.contracts.corrections import corrections_for_period
from gridledger.contracts.day_ahead_parameters import DAY_SECONDS, day_ahead_gate_s
from gridledger.contracts.market_bilateral import offers_for_period
from gridledger.contracts.market_day_ahead_state import (
    day_ahead_orders,
    read_day_ahead_book,
    reveal_closes_s,
)
from gridledger.contracts.market_parameters import MarketParameters, bilateral_window
from gridledger.contracts.market_sealed import StoredSealedOrder, sealed_orders_of_day
from gridledger.contracts.market_state import (
    StoredOrder,
    depth,
    orders_for_period,
    read_order,
    read_period,
    trades_for_period,
)
from gridledger.contracts.parameters import (
    day_ahead_of,
    parameters_for,
    period_of,
    schedule,
    sealed_orders_of,
    windows_for,
)
from gridledger.contracts.pricing import posted_price
from gridledger.contracts.settlement import (
    debt_of,
    read_settlement,
    read_statement,
    statements_for_period,
)
from gridledger.ledger import StateReader
from gridledger.ledger.encoding import MAX_INTEGER
from gridledger.node.core import Node
from gridledger.node.errors import InvalidQuery, NotFound, NotSettled
from gridledger.node.views import check_address

MAX_ORDER_ID_LENGTH = 64
MAX_DAY = 10_000_000
"""Days since 1970 a day-ahead query may name (about 27,000 years): periods stay in 64 bits."""

R = TypeVar("R", bound=msgspec.Struct)


def mirror(record: msgspec.Struct, reply_type: type[R], **extra: Any) -> R:
    """The reply mirroring a contract record (same field names), with `extra` fields."""
    return reply_type(**msgspec.structs.asdict(record), **extra)


# -- input checks ------------------------------------------------------------------------------


def check_period(period: int, field: str = "period") -> int:
    """A delivery period is an integer in [0, 2**63 - 1] (what the ledger can encode)."""
    if period < 0:
        raise InvalidQuery(field, period, f"{period} is negative")
    if period > MAX_INTEGER:
        raise InvalidQuery(
            field, period, f"{period} does not fit in 64 bits (at most {MAX_INTEGER})"
        )
    return period


def check_order_id(order_id: str) -> str:
    if not 0 < len(order_id) <= MAX_ORDER_ID_LENGTH:
        raise InvalidQuery("order_id", order_id, f"must be 1 to {MAX_ORDER_ID_LENGTH} characters")
    return order_id


# -- time --------------------------------------------------------------------------------------


def window(parameters: MarketParameters, period: int) -> WindowReply:
    """When `period` starts and ends, when its gate closes and when its meter window ends."""
    start = period * parameters.period_seconds
    end = start + parameters.period_seconds
    return WindowReply(
        start_s=start,
        gate_closure_s=start - parameters.gate_closure_seconds,
        end_s=end,
        meter_window_end_s=end + parameters.meter_window_seconds,
    )


def phase(times: WindowReply, now_s: int, settled: bool) -> str:
    """Where `now_s` falls in a period's life: open, gate_closed, delivery, metering,
    settleable or settled."""
    if settled:
        return "settled"
    if now_s < times.gate_closure_s:
        return "open"
    if now_s < times.start_s:
        return "gate_closed"
    if now_s < times.end_s:
        return "delivery"
    if now_s < times.meter_window_end_s:
        return "metering"
    return "settleable"


def now_s(node: Node) -> int:
    return node.head.timestamp_ms // 1000


def timing(state: StateReader, period: int, now: int, settled: bool) -> dict[str, Any]:
    """The ``window``, ``now_s`` and ``phase`` fields of a period's reply."""
    times = window(parameters_for(state, period), period)
    return {"window": times, "now_s": now, "phase": phase(times, now, settled)}


def next_open_period(state: StateReader, now: int) -> int:
    """The first period that still accepts orders at `now` (its gate closure is later)."""
    period = period_of(state, now * 1000) + 1
    while window(parameters_for(state, period), period).gate_closure_s <= now:
        period += 1
    return period


LOOKBACK_SECONDS = 7 * 86_400
"""How far back `latest_trades_period` looks for a period with trades (a week)."""


def chain_open_period(node: Node) -> int:
    """The first period open for orders by the chain's own time, the head block's.

    Where the dashboard and the reads start from: on a live chain it is the period open
    now; on a chain that stopped, a simulated community's, it is the one right after its
    last market, however far that lies from the wall clock.
    """
    return next_open_period(node.state, now_s(node))


def latest_trades_period(node: Node, open_period: int) -> int | None:
    """The newest period with trades at or before `open_period`, looking back a week of
    periods, and failing that a week back from the chain's own open period; None if
    neither week holds a trade."""
    state = node.state
    first_period = period_of(state, node.genesis.genesis_time_ms)
    lookback = max(1, LOOKBACK_SECONDS // parameters_for(state, 0).period_seconds)
    for start in dict.fromkeys((open_period, chain_open_period(node))):
        for period in range(start, max(first_period, start - lookback) - 1, -1):
            book = read_period(state, period)
            if book is not None and book.trade_count > 0:
                return period
    return None


def is_settled(state: StateReader, period: int) -> bool:
    return read_settlement(state, period) is not None


def order_reply(order: StoredOrder) -> OrderReply:
    return mirror(order, OrderReply, filled_wh=order.energy_wh - order.residual_wh)


# -- views -------------------------------------------------------------------------------------


def current_view(node: Node) -> MarketCurrentReply:
    """The current period by the head block's time, and the next period open for orders.

    ``clock_ms`` is the node's clock, which stamps the next block it cuts (never before the
    head); ``open_period`` is the first period still open for orders by that clock.
    ``chain_open_period`` is the one by the head block's time, and ``latest_trades_period``
    the newest with trades (`latest_trades_period`): what the reads default to.
    """
    state = node.state
    head_ms = node.head.timestamp_ms
    period = period_of(state, head_ms)
    clock_ms = max(node.clock_ms(), head_ms)
    open_period = next_open_period(state, clock_ms // 1000)
    return MarketCurrentReply(
        height=node.head.height,
        timestamp_ms=head_ms,
        period=period,
        period_seconds=parameters_for(state, period).period_seconds,
        **timing(state, period, head_ms // 1000, is_settled(state, period)),
        clock_ms=clock_ms,
        open_period=open_period,
        open_window=window(parameters_for(state, open_period), open_period),
        chain_open_period=chain_open_period(node),
        latest_trades_period=latest_trades_period(node, open_period),
    )


def parameters_view(node: Node, period: int | None = None) -> ParametersReply:
    """The market parameters in force for `period` (default: the current period)."""
    state = node.state
    if period is None:
        period = period_of(state, node.head.timestamp_ms)
    check_period(period)
    entries = schedule(state)
    from_period = max((e.from_period for e in entries if e.from_period <= period), default=0)
    return ParametersReply(
        period=period,
        from_period=from_period,
        parameters=mirror(parameters_for(state, period), MarketParametersReply),
        **timing(state, period, now_s(node), is_settled(state, period)),
        schedule=[
            ScheduledParametersReply(
                from_period=e.from_period,
                parameters=mirror(e.parameters, MarketParametersReply),
            )
            for e in entries
        ],
        windows=trading_windows(state, period),
    )


def trading_windows(state: StateReader, period: int) -> TradingWindowsReply:
    """Seed 001's negotiation and commit windows of `period` and seed 003's amend time."""
    windows = windows_for(state, period)
    times = bilateral_window(parameters_for(state, period), windows, period)
    return TradingWindowsReply(
        negotiation_seconds=windows.negotiation_seconds,
        commit_seconds=windows.commit_seconds,
        amend_seconds=windows.amend_seconds,
        negotiation_opens_s=times.opens_s,
        commit_opens_s=times.commit_opens_s,
    )


def book_view(node: Node, period: int) -> BookReply:
    """Depth per limit price on both sides of `period`'s book, with its flags and times.

    Bids are best (highest) first, asks best (lowest) first. Orders past their expiry
    show until a transaction touches the book (the market contract's expiry rule).
    """
    check_period(period)
    state = node.state
    meta = read_period(state, period)
    levels = depth(state, period)
    settled = meta is not None and meta.settled
    return BookReply(
        period=period,
        mechanism=parameters_for(state, period).mechanism if meta is None else meta.mechanism,
        mechanism_fixed=meta is not None,
        cleared=meta is not None and meta.cleared,
        cleared_height=meta.cleared_height if meta is not None and meta.cleared else None,
        settled=settled,
        orders=0 if meta is None else meta.next_sequence,
        open_orders=0 if meta is None else meta.open_count,
        trades=0 if meta is None else meta.trade_count,
        offers=0 if meta is None else meta.offer_count,
        bids=[mirror(level, DepthLevelReply) for level in levels.bids],
        asks=[mirror(level, DepthLevelReply) for level in levels.asks],
        **timing(state, period, now_s(node), settled),
    )


def orders_view(node: Node, period: int, owner: str | None = None) -> OrdersReply:
    """Every order of `period` in insertion sequence (open and closed), or one owner's."""
    check_period(period)
    if owner is not None:
        check_address(owner, "owner")
    orders = orders_for_period(node.state, period)
    if owner is not None:
        orders = [o for o in orders if o.owner == owner]
    return OrdersReply(period=period, owner=owner, orders=[order_reply(o) for o in orders])


def order_view(node: Node, order_id: str) -> OrderReply:
    """One order by id (``"<period>-<sequence>"``)."""
    found = read_order(node.state, check_order_id(order_id))
    if found is None:
        raise NotFound("order", order_id, f"no order {order_id!r}")
    return order_reply(found)


def trades_view(node: Node, period: int) -> TradesReply:
    """Every trade of `period` (book and bilateral) in the order made, with totals."""
    check_period(period)
    trades = trades_for_period(node.state, period)
    return TradesReply(
        period=period,
        count=len(trades),
        traded_wh=sum(t.energy_wh for t in trades),
        value_micro=sum(t.value_micro for t in trades),
        trades=[mirror(t, TradeReply) for t in trades],
    )


def day_ahead_view(node: Node, day: int) -> DayAheadReply:
    """One delivery day's day-ahead auction (``day``: UTC days since 1970): its gate, its
    products, whether it was cleared, and every order placed in it, in sequence."""
    if not 0 <= day <= MAX_DAY:
        raise InvalidQuery("day", day, f"{day} is not a day in [0, {MAX_DAY}]")
    state = node.state
    offered = day_ahead_of(state)
    seconds = parameters_for(state, 0).period_seconds
    book = read_day_ahead_book(state, day)
    first = day * DAY_SECONDS // seconds
    rules = sealed_orders_of(state)
    sealed = sealed_orders_of_day(state, day)
    return DayAheadReply(
        day=day,
        offered=offered is not None,
        gate_s=None if offered is None else day_ahead_gate_s(day, offered),
        now_s=now_s(node),
        cleared=book is not None and book.cleared,
        cleared_height=book.cleared_height if book is not None and book.cleared else None,
        trade_count=0 if book is None else book.trade_count,
        traded_wh=0 if book is None else book.traded_wh,
        products=list(range(first, first + DAY_SECONDS // seconds)),
        orders=[
            mirror(o, DayAheadOrderReply, sealed=_sealed_reply(sealed.get(o.order_id)))
            for o in day_ahead_orders(state, day)
        ],
        reveal_closes_s=(
            None
            if offered is None or rules is None
            else reveal_closes_s(day_ahead_gate_s(day, offered), rules)
        ),
    )


def _sealed_reply(record: StoredSealedOrder | None) -> SealedOrderReply | None:
    if record is None:
        return None
    return SealedOrderReply(
        price_commitment=record.price_commitment.hex(),
        energy_commitment=record.energy_commitment.hex(),
        price_low=record.price_low,
        price_high=record.price_high,
        max_energy_wh=record.max_energy_wh,
        fee_micro=record.fee_micro,
        revealed=record.revealed,
    )


def offers_view(node: Node, period: int) -> OffersReply:
    """The bilateral offers published for `period`, in publication order."""
    check_period(period)
    offers = offers_for_period(node.state, period)
    return OffersReply(period=period, offers=[mirror(o, OfferReply) for o in offers])


def settlement_view(node: Node, period: int) -> SettlementReply:
    """Whether `period` is settled and, if so, its summary (energy and money totals)."""
    check_period(period)
    state = node.state
    found = read_settlement(state, period)
    return SettlementReply(
        period=period,
        settled=found is not None,
        summary=None if found is None else mirror(found, SettlementSummaryReply),
        **timing(state, period, now_s(node), found is not None),
    )


def statements_view(node: Node, period: int) -> StatementsReply:
    """Every member's statement of a settled period (empty while it is not settled)."""
    check_period(period)
    state = node.state
    return StatementsReply(
        period=period,
        settled=is_settled(state, period),
        statements=[mirror(s, StatementReply) for s in statements_for_period(state, period)],
        corrections=[mirror(c, CorrectionReply) for c in corrections_for_period(state, period)],
    )


def statement_view(node: Node, period: int, member: str) -> MemberStatementReply:
    """One member's statement of a settled period: bought, sold, delivered, paid, received,
    penalised; with the member's debt to the grid now (``debt_now_micro``) and the corrections
    of its trades of the period (``corrections``), beside the statement as it was settled."""
    check_period(period)
    check_address(member, "member")
    state = node.state
    found = read_statement(state, period, member)
    if found is None:
        if not is_settled(state, period):
            times = window(parameters_for(state, period), period)
            raise NotSettled(period, times.meter_window_end_s)
        raise NotFound(
            "statement",
            f"{period}/{member}",
            f"member {member} has no statement for period {period} (no trade, no reading)",
        )
    corrections = [
        mirror(c, CorrectionReply)
        for c in corrections_for_period(state, period)
        if member in (c.buyer, c.seller)
    ]
    return mirror(
        found, MemberStatementReply, debt_now_micro=debt_of(state, member), corrections=corrections
    )


def price_view(node: Node, period: int) -> PriceReply:
    """The microgrid price the operator posted for `period` with the ``pricing`` contract
    (seed 003; its latest revision), with the period's time window; 404 if none is posted.

    ``supply_wh`` and ``demand_wh`` are the forecast totals the price was computed from;
    ``revision`` counts replacements (0: the first posting); ``height`` and
    ``timestamp_ms`` say which block posted it. The price is firm from gate closure on.
    """
    check_period(period)
    state = node.state
    found = posted_price(state, period)
    if found is None:
        raise NotFound(
            "price",
            str(period),
            f"no price is posted for period {period} (the operator posts one with "
            "pricing.post_price, seed 003)",
            period=period,
        )
    return mirror(
        found, PriceReply, **timing(state, period, now_s(node), is_settled(state, period))
    )
