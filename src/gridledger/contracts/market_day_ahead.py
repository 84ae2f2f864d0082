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

This module holds the three methods; the book and the orders (keys, reads,
writes, closing an order) are in `market_day_ahead_state`, the clear of a day's
products in `market_day_ahead_clearing`.
"""

from __future__ import annotations

from collections import defaultdict

import msgspec

from gridledger.contracts.errors import NegativeValue
from gridledger.contracts.market_day_ahead_clearing import clear_period, drop_unrevealed
from gridledger.contracts.market_day_ahead_state import (
    StoredDayAheadOrder,
    book_key,
    close_order,
    day_ahead_order_id,
    day_ahead_orders,
    day_book,
    find_day_ahead_order,
    offered_day_ahead,
    open_day_book,
    reveal_closes_s,
    store_new_order,
)
from gridledger.contracts.market_errors import (
    DayAheadAlreadyCleared,
    DayAheadGateClosed,
    DayAheadGateNotReached,
    NotOrderOwner,
    OrderNotOpen,
)
from gridledger.contracts.market_sealed_errors import RevealWindowOpen
from gridledger.contracts.market_session import check_limit_order, require_trading_role
from gridledger.contracts.market_state import (
    ESCROW,
    NAMESPACE,
    OrderStatus,
    contract,
)
from gridledger.contracts.parameters import sealed_orders_of
from gridledger.contracts.tokens import move
from gridledger.ledger import Context
from gridledger.market import trade_value_micro

__all__ = ["cancel_day_ahead_order", "clear_day_ahead", "place_day_ahead_order"]


class PlaceDayAheadArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    side: str
    energy_wh: int
    price_micro_per_kwh: int
    period: int
    all_or_none: bool = False


@contract.method(PlaceDayAheadArgs)
def place_day_ahead_order(context: Context, args: PlaceDayAheadArgs) -> None:
    """Place a limit order in the day-ahead auction of the period's day; a buy escrows."""
    check_limit_order(args.side, args.energy_wh, args.price_micro_per_kwh, args.period)
    require_trading_role(context, args.side)
    day_ahead = offered_day_ahead(context, f"period {args.period}")
    parameters, day, book, now_s = open_day_book(context, args.period, day_ahead)
    sequence = book.next_sequence
    order_id = day_ahead_order_id(day, sequence)
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
    day, _, stored = find_day_ahead_order(context.overlay, args.order_id)
    if stored.owner != context.sender:
        raise NotOrderOwner(args.order_id, stored.owner, context.sender)
    if stored.status not in (OrderStatus.OPEN, OrderStatus.SEALED):
        raise OrderNotOpen(args.order_id, stored.status)
    book = day_book(context, day, offered_day_ahead(context, f"order {args.order_id}"))
    now_s = context.timestamp_ms // 1000
    if now_s >= book.gate_s:
        raise DayAheadGateClosed(day, book.gate_s, now_s)
    close_order(context, stored, OrderStatus.CANCELLED, 0, now_s)
    context.write(
        NAMESPACE, book_key(day), msgspec.structs.replace(book, open_count=book.open_count - 1)
    )


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
            drop_unrevealed(context, stored, rules.non_reveal_fee_micro, now_s)
    trades = traded = 0
    for period in sorted(by_period):
        made, energy = clear_period(context, book.gate_s, period, by_period[period])
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
