"""Small builders and checks shared by the market tests."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from gridledger.market import (
    Match,
    Order,
    OrderBook,
    PriceBounds,
    Side,
    effective_ask,
    effective_bid,
    new_order,
    trade_value_micro,
)

PERIOD = 1
EXPIRY = 1_000_000


def buy(
    order_id: str,
    energy_wh: int,
    price: int,
    *,
    owner: str | None = None,
    time: int = 0,
    seq: int = 0,
    expiry: int = EXPIRY,
) -> Order:
    """A buy order; the owner defaults to the order id (so no accidental self-trades)."""
    return new_order(
        order_id,
        owner or order_id,
        Side.BUY,
        energy_wh,
        price,
        order_time_s=time,
        expiry_s=expiry,
        delivery_period=PERIOD,
        sequence=seq,
    )


def sell(
    order_id: str,
    energy_wh: int,
    price: int,
    *,
    owner: str | None = None,
    time: int = 0,
    seq: int = 0,
    expiry: int = EXPIRY,
) -> Order:
    """A sell order; the owner defaults to the order id."""
    return new_order(
        order_id,
        owner or order_id,
        Side.SELL,
        energy_wh,
        price,
        order_time_s=time,
        expiry_s=expiry,
        delivery_period=PERIOD,
        sequence=seq,
    )


def book_of(*orders: Order) -> OrderBook:
    book = OrderBook(PERIOD)
    for order in orders:
        book.add(order)
    return book


def fills(matches: Iterable[Match]) -> dict[str, int]:
    """Energy filled per order id (both sides)."""
    out: dict[str, int] = defaultdict(int)
    for m in matches:
        out[m.buy_order_id] += m.energy_wh
        out[m.sell_order_id] += m.energy_wh
    return dict(out)


def residuals(book: OrderBook) -> dict[str, int]:
    return {o.order_id: o.residual_wh for o in book}


def effectively_crossed(book: OrderBook, bounds: PriceBounds | None) -> bool:
    """True if the best buy could trade with the best sell (any owners), after the bounds."""
    bid = book.best_bid()
    ask = book.best_ask()
    if bid is None or ask is None:
        return False
    return effective_bid(bid, bounds) >= effective_ask(ask, bounds)


def check_match_money(matches: Iterable[Match]) -> None:
    """Every match's value is the one formula; no owner trades with itself."""
    for m in matches:
        assert m.value_micro == trade_value_micro(m.energy_wh, m.price_micro_per_kwh)
        assert m.energy_wh > 0
        assert m.buyer != m.seller
