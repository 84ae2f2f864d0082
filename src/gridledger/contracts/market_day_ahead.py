"""The day-ahead auction on the ledger: orders until a day's gate, one clear at the gate.

Seed 002 §5.3.3's first market stage. A community offers it by naming
``day_ahead_gate_seconds`` in its genesis (`day_ahead_parameters.DayAhead`); the
products of a delivery day are its periods (one UTC day: 24 hourly products
with hourly periods) and its gate is ``gate_seconds`` before the day starts
(noon the day before by default). After the gate the periods go on to their
own (intraday) market until each period's gate closure, then to settlement,
unchanged.

Methods (namespace ``market``):

``place_day_ahead_order(side, energy_wh, price_micro_per_kwh, period, all_or_none=False)``
    Before the gate of the period's day (DAY_AHEAD_GATE_CLOSED at or after
    it; DAY_AHEAD_NOT_OFFERED in a community without the auction; periods
    more than a week ahead are BEYOND_HORIZON), by the roles that may trade
    on that side. A buy escrows ``trade_value_micro(energy_wh, min(limit,
    cap))`` in ``market:escrow``, as in the period's market. Order ids are
    ``"da<day>-<sequence>"``; ``sequence`` counts the day's orders and breaks
    ties of equal limit and time. ``all_or_none``: the order is filled whole
    or not at all (`gridledger.market.day_ahead`). The periods' own markets
    refuse all-or-none (ALL_OR_NONE_NOT_SUPPORTED): a continuous book fills
    an arriving order against the orders resting at that moment, so an
    all-or-none order there would have to be a fill-or-kill, a different
    promise; it is left out rather than half-made.
``cancel_day_ahead_order(order_id)``
    The owner, before the gate; its escrow is released.
``clear_day_ahead(day)``
    Any active member, once, at or after the gate. Every product is cleared
    at the gate time by the library's `clear_product` with the price bounds of
    its period in force at the clear; each match is stored as a trade of the
    period (kind ``order``, mechanism ``day_ahead``), its value staying in
    escrow for settlement, and every order is closed: ``filled``,
    ``unfilled``, ``all_or_none_rejected``, ``self_trade_cancelled`` or
    ``underfunded`` (the cap rose since the order was placed and its owner
    could not top up the escrow). A buy gets back at once whatever escrow
    its trades do not need. A product whose own gate closure has passed
    before the clear, or whose period was already cleared, cannot trade any
    more: its orders close ``unfilled`` and their escrow is released, so
    nothing is ever stuck.

The clearing reads only plain orders (`DayAheadOrder`): a sealed order
(`market_sealed`, issue 15) becomes one at its reveal and is cleared the same
way. In a community that takes sealed orders the clear waits for the reveal
window: gate → reveal window → clear (REVEAL_WINDOW_OPEN before
``gate_s + reveal_window_seconds``); the auction itself is still cleared as of
the gate (the orders' times are all before it). A sealed order still sealed
at the clear closes ``unrevealed``; its non-reveal fee goes to the grid account.

State: ``dayahead/<day>`` → `DayAheadBook`; ``dayahead_order/<day>/<sequence>``
→ `StoredDayAheadOrder`. Money: ``market:escrow`` holds, per day not yet
cleared, the escrow of its open buys; after the clear what stays is the
value of the day-ahead trades, owed to settlement like any trade of the period.
"""

from __future__ import annotations

from collections import defaultdict

import msgspec

from gridledger.contracts.day_ahead_parameters import (
    DayAhead,
    SealedOrders,
    day_ahead_gate_s,
    day_of,
)
from gridledger.contracts.errors import EnergyOutOfRange, NegativeValue, PriceOutOfRange
from gridledger.contracts.market_errors import (
    BeyondHorizon,
    DayAheadAlreadyCleared,
    DayAheadGateClosed,
    DayAheadGateNotReached,
    DayAheadNotOffered,
    InvalidSide,
    NotOrderOwner,
    OrderNotOpen,
    UnknownOrder,
)
from gridledger.contracts.market_parameters import MarketParameters
from gridledger.contracts.market_sealed_errors import RevealWindowOpen
from gridledger.contracts.market_session import Session, draft_trade, parameters_in_force
from gridledger.contracts.market_state import (
    ESCROW,
    HORIZON_SECONDS,
    MAX_ORDER_ENERGY_WH,
    MAX_PRICE_MICRO_PER_KWH,
    NAMESPACE,
    SELLING_ROLES,
    TRADING_ROLES,
    OrderStatus,
    contract,
)
from gridledger.contracts.membership import require_role
from gridledger.contracts.parameters import day_ahead_of, sealed_orders_of
from gridledger.contracts.tokens import move
from gridledger.ledger import Context, InsufficientFunds, StateReader
from gridledger.market import DayAheadOrder, Side, clear_product, trade_value_micro

__all__ = [
    "ALL_OR_NONE_REJECTED",
    "DayAheadBook",
    "StoredDayAheadOrder",
    "day_ahead_orders",
    "day_book",
    "offered_day_ahead",
    "parse_order_id",
    "read_day_ahead_book",
    "reveal_closes_s",
]

NON_REVEAL_FEE_ACCOUNT = "grid"
"""Where non-reveal fees go: settlement's grid account (`settlement.GRID`)."""

ALL_OR_NONE_REJECTED = "all_or_none_rejected"
"""An all-or-none order the auction could fill only in part: left whole."""


class DayAheadBook(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """One delivery day's auction record."""

    day: int
    gate_s: int
    next_sequence: int
    open_count: int
    cleared: bool
    cleared_height: int
    trade_count: int
    traded_wh: int


class StoredDayAheadOrder(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    order_id: str
    owner: str
    side: str
    energy_wh: int
    price_micro_per_kwh: int
    period: int
    all_or_none: bool
    order_time_s: int
    sequence: int
    status: str
    filled_wh: int
    escrow_micro: int
    """Escrow held for the order while open (buys; 0 for sells and closed orders)."""
    escrow_price_micro_per_kwh: int
    height: int
    closed_at_s: int


def book_key(day: int) -> str:
    return f"dayahead/{day:09d}"


def order_key(day: int, sequence: int) -> str:
    return f"dayahead_order/{day:09d}/{sequence:09d}"


def read_day_ahead_book(state: StateReader, day: int) -> DayAheadBook | None:
    raw = state.get(NAMESPACE, book_key(day))
    return None if raw is None else msgspec.msgpack.decode(raw, type=DayAheadBook)


def read_day_ahead_order(state: StateReader, day: int, sequence: int) -> StoredDayAheadOrder | None:
    raw = state.get(NAMESPACE, order_key(day, sequence))
    return None if raw is None else msgspec.msgpack.decode(raw, type=StoredDayAheadOrder)


def day_ahead_orders(state: StateReader, day: int) -> list[StoredDayAheadOrder]:
    """Every day-ahead order of ``day``, open or closed, in sequence."""
    book = read_day_ahead_book(state, day)
    count = 0 if book is None else book.next_sequence
    found = (read_day_ahead_order(state, day, s) for s in range(count))
    return [o for o in found if o is not None]


def parse_order_id(order_id: str) -> tuple[int, int] | None:
    """(day, sequence) of ``"da<day>-<sequence>"``, None if it is not such an id."""
    if not order_id.startswith("da"):
        return None
    day, _, sequence = order_id[2:].partition("-")
    if not (day.isdigit() and sequence.isdigit()):
        return None
    return int(day), int(sequence)


def offered_day_ahead(context: Context, what: str) -> DayAhead:
    day_ahead = day_ahead_of(context.overlay)
    if day_ahead is None:
        raise DayAheadNotOffered(what)
    return day_ahead


def reveal_closes_s(gate_s: int, rules: SealedOrders | None) -> int:
    """When the clear may happen: the gate, or the end of the reveal window after it."""
    return gate_s if rules is None else gate_s + rules.reveal_window_seconds


def day_book(context: Context, day: int, day_ahead: DayAhead) -> DayAheadBook:
    book = read_day_ahead_book(context.overlay, day)
    if book is None:
        return DayAheadBook(day, day_ahead_gate_s(day, day_ahead), 0, 0, False, 0, 0, 0)
    return book


def open_day_book(
    context: Context, period: int, day_ahead: DayAhead
) -> tuple[MarketParameters, int, DayAheadBook, int]:
    """The parameters in force for `period`, its day, the day's book and now (seconds), for
    placing an order; refuse after the day's gate or beyond the order horizon."""
    parameters = parameters_in_force(context.overlay, period)
    day = day_of(period, parameters.period_seconds)
    book = day_book(context, day, day_ahead)
    now_s = context.timestamp_ms // 1000
    if now_s >= book.gate_s:
        raise DayAheadGateClosed(day, book.gate_s, now_s)
    start_s = period * parameters.period_seconds
    if start_s - now_s > HORIZON_SECONDS:
        raise BeyondHorizon(period, start_s, HORIZON_SECONDS, now_s)
    return parameters, day, book, now_s


def store_new_order(
    context: Context, day: int, book: DayAheadBook, order: StoredDayAheadOrder
) -> None:
    """Write a new order (plain or sealed) of `day` at the book's next sequence, and count it."""
    context.write(NAMESPACE, order_key(day, order.sequence), order)
    context.write(
        NAMESPACE,
        book_key(day),
        msgspec.structs.replace(
            book, next_sequence=order.sequence + 1, open_count=book.open_count + 1
        ),
    )


class PlaceDayAheadArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    side: str
    energy_wh: int
    price_micro_per_kwh: int
    period: int
    all_or_none: bool = False


@contract.method(PlaceDayAheadArgs)
def place_day_ahead_order(context: Context, args: PlaceDayAheadArgs) -> None:
    """Place a limit order in the day-ahead auction of the period's day; a buy escrows."""
    if args.side not in ("buy", "sell"):
        raise InvalidSide(args.side)
    if not 0 < args.energy_wh <= MAX_ORDER_ENERGY_WH:
        raise EnergyOutOfRange("energy_wh", args.energy_wh, 1, MAX_ORDER_ENERGY_WH)
    if not 0 <= args.price_micro_per_kwh <= MAX_PRICE_MICRO_PER_KWH:
        raise PriceOutOfRange(args.price_micro_per_kwh, 0, MAX_PRICE_MICRO_PER_KWH)
    if args.period < 0:
        raise NegativeValue("period", args.period)
    if args.side == "sell":
        require_role(context, SELLING_ROLES, "sell energy")
    else:
        require_role(context, TRADING_ROLES, "buy energy")
    day_ahead = offered_day_ahead(context, f"period {args.period}")
    parameters, day, book, now_s = open_day_book(context, args.period, day_ahead)
    sequence = book.next_sequence
    order_id = f"da{day}-{sequence}"
    escrow_price = min(args.price_micro_per_kwh, parameters.cap_price_micro_per_kwh)
    escrow = trade_value_micro(args.energy_wh, escrow_price) if args.side == "buy" else 0
    move(context, context.sender, ESCROW, escrow, f"escrow {order_id}")
    store_new_order(
        context,
        day,
        book,
        StoredDayAheadOrder(
            order_id=order_id,
            owner=context.sender,
            side=args.side,
            energy_wh=args.energy_wh,
            price_micro_per_kwh=args.price_micro_per_kwh,
            period=args.period,
            all_or_none=args.all_or_none,
            order_time_s=now_s,
            sequence=sequence,
            status=OrderStatus.OPEN,
            filled_wh=0,
            escrow_micro=escrow,
            escrow_price_micro_per_kwh=escrow_price if args.side == "buy" else 0,
            height=context.height,
            closed_at_s=0,
        ),
    )
    context.emit(
        NAMESPACE,
        "day_ahead_order_placed",
        order_id=order_id,
        owner=context.sender,
        side=args.side,
        energy_wh=args.energy_wh,
        price_micro_per_kwh=args.price_micro_per_kwh,
        period=args.period,
        all_or_none=args.all_or_none,
        escrow_micro=escrow,
    )


class CancelDayAheadArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    order_id: str


@contract.method(CancelDayAheadArgs)
def cancel_day_ahead_order(context: Context, args: CancelDayAheadArgs) -> None:
    """Withdraw one's own open day-ahead order before the gate; its escrow is released."""
    parsed = parse_order_id(args.order_id)
    stored = None if parsed is None else read_day_ahead_order(context.overlay, *parsed)
    if parsed is None or stored is None:
        raise UnknownOrder(args.order_id)
    if stored.owner != context.sender:
        raise NotOrderOwner(args.order_id, stored.owner, context.sender)
    if stored.status not in (OrderStatus.OPEN, OrderStatus.SEALED):
        raise OrderNotOpen(args.order_id, stored.status)
    day = parsed[0]
    book = day_book(context, day, offered_day_ahead(context, f"order {args.order_id}"))
    now_s = context.timestamp_ms // 1000
    if now_s >= book.gate_s:
        raise DayAheadGateClosed(day, book.gate_s, now_s)
    _close(context, stored, OrderStatus.CANCELLED, 0, now_s)
    context.write(
        NAMESPACE, book_key(day), msgspec.structs.replace(book, open_count=book.open_count - 1)
    )


def _close(
    context: Context, stored: StoredDayAheadOrder, status: str, spent_micro: int, now_s: int
) -> None:
    """Close an order with what it got, releasing the escrow its trades do not hold."""
    day = int(stored.order_id[2:].partition("-")[0])
    move(
        context,
        ESCROW,
        stored.owner,
        stored.escrow_micro - spent_micro,
        f"release {stored.order_id} {status}",
    )
    context.write(
        NAMESPACE,
        order_key(day, stored.sequence),
        msgspec.structs.replace(stored, status=status, escrow_micro=0, closed_at_s=now_s),
    )
    context.emit(NAMESPACE, "order_closed", order_id=stored.order_id, status=status)


class ClearDayAheadArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    day: int
    """The delivery day: UTC days since 1970 (``period * period_seconds // 86400``)."""


@contract.method(ClearDayAheadArgs)
def clear_day_ahead(context: Context, args: ClearDayAheadArgs) -> None:
    """Clear every product of a delivery day once, at or after its gate (any active member)."""
    if args.day < 0:
        raise NegativeValue("day", args.day)
    day_ahead = offered_day_ahead(context, f"day {args.day}")
    book = day_book(context, args.day, day_ahead)
    now_s = context.timestamp_ms // 1000
    if now_s < book.gate_s:
        raise DayAheadGateNotReached(args.day, book.gate_s, now_s)
    if book.cleared:
        raise DayAheadAlreadyCleared(args.day, book.cleared_height)
    rules = sealed_orders_of(context.overlay)
    closes_s = reveal_closes_s(book.gate_s, rules)
    if now_s < closes_s:
        raise RevealWindowOpen(args.day, closes_s, now_s)
    by_period: dict[int, list[StoredDayAheadOrder]] = defaultdict(list)
    for stored in day_ahead_orders(context.overlay, args.day):
        if stored.status == OrderStatus.OPEN:
            by_period[stored.period].append(stored)
        elif stored.status == OrderStatus.SEALED and rules is not None:
            _drop_unrevealed(context, stored, rules.non_reveal_fee_micro, now_s)
    trades = traded = 0
    for period in sorted(by_period):
        made, energy = _clear_period(context, book.gate_s, period, by_period[period])
        trades += made
        traded += energy
    context.write(
        NAMESPACE,
        book_key(args.day),
        msgspec.structs.replace(
            book,
            open_count=0,
            cleared=True,
            cleared_height=context.height,
            trade_count=trades,
            traded_wh=traded,
        ),
    )
    context.emit(
        NAMESPACE,
        "day_ahead_cleared",
        day=args.day,
        gate_s=book.gate_s,
        trades=trades,
        traded_wh=traded,
    )


def _drop_unrevealed(
    context: Context, stored: StoredDayAheadOrder, fee_micro: int, now_s: int
) -> None:
    """Close a sealed order nobody revealed: the fee to the grid account, the rest back."""
    fee = min(fee_micro, stored.escrow_micro)
    move(context, ESCROW, NON_REVEAL_FEE_ACCOUNT, fee, f"non-reveal fee {stored.order_id}")
    context.emit(
        NAMESPACE,
        "day_ahead_order_unrevealed",
        order_id=stored.order_id,
        owner=stored.owner,
        fee_micro=fee,
    )
    _close(
        context,
        msgspec.structs.replace(stored, escrow_micro=stored.escrow_micro - fee),
        OrderStatus.UNREVEALED,
        0,
        now_s,
    )


def _clear_period(
    context: Context, gate_s: int, period: int, orders: list[StoredDayAheadOrder]
) -> tuple[int, int]:
    """Clear one product and close its orders; (trades made, energy traded)."""
    session = Session(context, period)
    now_s = session.now_s
    if session.cleared or session.settled or now_s >= session.gate_closure_s:
        for stored in orders:  # too late to trade: nothing stuck, everything released
            _close(context, stored, OrderStatus.UNFILLED, 0, now_s)
        return 0, 0
    live: list[StoredDayAheadOrder] = []
    for stored in orders:
        funded = _reprice_escrow(context, session.bounds.cap_price_micro_per_kwh, stored)
        if funded is None:
            _close(context, stored, OrderStatus.UNDERFUNDED, 0, now_s)
        else:
            live.append(funded)
    product = clear_product(
        (
            DayAheadOrder(
                o.order_id,
                o.owner,
                Side.BUY if o.side == "buy" else Side.SELL,
                o.energy_wh,
                o.price_micro_per_kwh,
                period,
                o.order_time_s,
                o.sequence,
                o.all_or_none,
            )
            for o in live
        ),
        period,
        gate_s,
        session.bounds,
    )
    spent: dict[str, int] = defaultdict(int)
    for match in product.matches:
        session.append_trade(draft_trade(match))
        spent[match.buy_order_id] += match.value_micro
    session.save()
    rejected = set(product.rejected_all_or_none)
    cancelled = set(product.self_trade_cancelled)
    for stored in live:
        filled = product.filled_wh.get(stored.order_id, 0)
        if filled == stored.energy_wh:
            status = OrderStatus.FILLED
        elif stored.order_id in rejected:
            status = ALL_OR_NONE_REJECTED
        elif stored.order_id in cancelled:
            status = OrderStatus.SELF_TRADE
        else:
            status = OrderStatus.UNFILLED
        _close(
            context,
            msgspec.structs.replace(stored, filled_wh=filled),
            status,
            spent[stored.order_id],
            now_s,
        )
    context.emit(
        NAMESPACE,
        "day_ahead_price",
        period=period,
        price_micro_per_kwh=product.price_micro_per_kwh,
        volume_wh=product.volume_wh,
    )
    return len(product.matches), product.volume_wh


def _reprice_escrow(
    context: Context, cap_micro_per_kwh: int, stored: StoredDayAheadOrder
) -> StoredDayAheadOrder | None:
    """A buy's escrow topped up if the cap rose since it was placed; None if it cannot be."""
    if stored.side != "buy":
        return stored
    price = min(stored.price_micro_per_kwh, cap_micro_per_kwh)
    needed = trade_value_micro(stored.energy_wh, price)
    if needed <= stored.escrow_micro:
        return stored
    try:
        move(
            context,
            stored.owner,
            ESCROW,
            needed - stored.escrow_micro,
            f"escrow {stored.order_id} cap changed",
        )
    except InsufficientFunds:
        return None
    return msgspec.structs.replace(stored, escrow_micro=needed, escrow_price_micro_per_kwh=price)
