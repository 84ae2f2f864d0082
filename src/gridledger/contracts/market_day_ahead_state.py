"""The day-ahead auction's state: a delivery day's book and its orders, where they are
stored and how they are read, opened, added and closed.

Layout (namespace ``market``): ``dayahead/<day>`` → `DayAheadBook`;
``dayahead_order/<day>/<sequence>`` → `StoredDayAheadOrder` (plain and sealed
orders alike; `market_sealed`). The methods are in `market_day_ahead`, the clear
of a day's products in `market_day_ahead_clearing`.
"""

from __future__ import annotations

import msgspec

from gridledger.contracts.day_ahead_parameters import (
    DayAhead,
    SealedOrders,
    day_ahead_gate_s,
    day_of,
)
from gridledger.contracts.market_errors import (
    BeyondHorizon,
    DayAheadGateClosed,
    DayAheadNotOffered,
    UnknownOrder,
)
from gridledger.contracts.market_parameters import MarketParameters
from gridledger.contracts.market_session import parameters_in_force
from gridledger.contracts.market_state import ESCROW, HORIZON_SECONDS, NAMESPACE
from gridledger.contracts.parameters import day_ahead_of
from gridledger.contracts.tokens import move
from gridledger.ledger import Context, StateReader

__all__ = [
    "DayAheadBook",
    "StoredDayAheadOrder",
    "book_key",
    "close_order",
    "day_ahead_order_id",
    "day_ahead_orders",
    "day_book",
    "find_day_ahead_order",
    "offered_day_ahead",
    "open_day_book",
    "order_key",
    "parse_order_id",
    "read_day_ahead_book",
    "read_day_ahead_order",
    "reveal_closes_s",
    "store_new_order",
]


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


def day_ahead_order_id(day: int, sequence: int) -> str:
    """The id of the ``sequence``-th order of delivery day ``day`` (`parse_order_id` reads it)."""
    return f"da{day}-{sequence}"


def find_day_ahead_order(state: StateReader, order_id: str) -> tuple[int, int, StoredDayAheadOrder]:
    """(day, sequence, order) of a stored day-ahead order (plain or sealed), or `UnknownOrder`."""
    parsed = parse_order_id(order_id)
    stored = None if parsed is None else read_day_ahead_order(state, *parsed)
    if parsed is None or stored is None:
        raise UnknownOrder(order_id)
    return parsed[0], parsed[1], stored


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


def close_order(
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
