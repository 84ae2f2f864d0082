"""The day-ahead clear of one delivery day's products: drop the sealed orders nobody
revealed, top up escrows the cap outgrew, clear each product with the library's
`clear_product`, store its trades and close every order with what it got.

`market_day_ahead.clear_day_ahead` checks the gate and the reveal window and calls
these; the orders and the book are in `market_day_ahead_state`.
"""

from __future__ import annotations

from collections import defaultdict

import msgspec

from gridledger.contracts.market_day_ahead_state import StoredDayAheadOrder, close_order
from gridledger.contracts.market_session import Session, draft_trade
from gridledger.contracts.market_state import ESCROW, NAMESPACE, OrderStatus
from gridledger.contracts.tokens import move
from gridledger.ledger import Context, InsufficientFunds
from gridledger.market import DayAheadOrder, Side, clear_product, trade_value_micro

__all__ = [
    "ALL_OR_NONE_REJECTED",
    "NON_REVEAL_FEE_ACCOUNT",
    "clear_period",
    "drop_unrevealed",
    "reprice_escrow",
]

NON_REVEAL_FEE_ACCOUNT = "grid"
"""Where non-reveal fees go: settlement's grid account (`settlement.GRID`)."""

ALL_OR_NONE_REJECTED = "all_or_none_rejected"
"""An all-or-none order the auction could fill only in part: left whole."""


def drop_unrevealed(
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
    close_order(
        context,
        msgspec.structs.replace(stored, escrow_micro=stored.escrow_micro - fee),
        OrderStatus.UNREVEALED,
        0,
        now_s,
    )


def clear_period(
    context: Context, gate_s: int, period: int, orders: list[StoredDayAheadOrder]
) -> tuple[int, int]:
    """Clear one product and close its orders; (trades made, energy traded)."""
    session = Session(context, period)
    now_s = session.now_s
    if session.cleared or session.settled or now_s >= session.gate_closure_s:
        for stored in orders:  # too late to trade: nothing stuck, everything released
            close_order(context, stored, OrderStatus.UNFILLED, 0, now_s)
        return 0, 0
    live: list[StoredDayAheadOrder] = []
    for stored in orders:
        funded = reprice_escrow(context, session.bounds.cap_price_micro_per_kwh, stored)
        if funded is None:
            close_order(context, stored, OrderStatus.UNDERFUNDED, 0, now_s)
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
        close_order(
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


def reprice_escrow(
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
