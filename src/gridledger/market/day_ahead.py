"""The day-ahead call auction: the hourly products of one day cleared together at one gate.

Seed 002 §5.3.3: "the market is cleared the day before it operates … the next
day's hourly clear of demand and supply generates 24 market prices and
quantities". Members send limit orders for the products (delivery periods) of
a day until its gate, the day before; at the gate every product is cleared
once, with one uniform price per product (pay-as-clear), by the library's
call auction (`gridledger.market.auction.clear_call_auction`): volume
maximised, the midpoint of the max-volume price range rounded down, rationing
of the marginal orders in price-time priority (limit, then ``order_time_s``,
then ``sequence``), self-trade prevention that cancels the newer of an
owner's crossing buy and sell, all bounded by ``PriceBounds(feed_in, cap)``.

All-or-none. An order may ask to be executed completely or not at all within
its one product (``all_or_none``; there are no blocks across hours, so the
products stay independent). The auction is first cleared as if every order
were divisible; if an all-or-none order is then only partly filled (it is the
marginal order on its side), it is rejected - the last such order in priority
is taken out - and the product is cleared again without it, until no
all-or-none order is partly filled. This is the "paradoxically rejected
order" rule of the European day-ahead coupling in its simplest, deterministic
form: each pass removes one order, so it ends, and every all-or-none order is
either filled exactly or left whole. It is not guaranteed to reach the
largest possible volume (that is an integer programme); it is reproducible to
the byte, which a ledger needs more.

Inputs and outputs are plain values, no I/O: `clear_day_ahead` takes
`DayAheadOrder` values and returns `DayAheadResult`. A sealed order (a
Pedersen commitment to price and energy, opened after the gate) feeds the
same clearing: the reveal step checks each opening and produces the plain
`DayAheadOrder` it commits to; nothing here needs to know.

Ties are explicit: products are cleared in ascending period; within a
product the call auction's priority applies; matches are listed in the order
the auction pairs them (buys and sells in priority, head to head).
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import groupby

import msgspec

from gridledger.market.auction import clear_call_auction
from gridledger.market.book import OrderBook
from gridledger.market.errors import DuplicateOrder, InvalidOrder
from gridledger.market.orders import Order, Side, priority_key, validate_order
from gridledger.market.prices import PriceBounds
from gridledger.market.trades import Match, MatchReason, Mechanism

__all__ = [
    "DayAheadOrder",
    "DayAheadResult",
    "ProductClearing",
    "clear_day_ahead",
    "clear_product",
]


class DayAheadOrder(msgspec.Struct, frozen=True):
    """One limit order for one product (delivery period) of a day-ahead auction.

    Energy in Wh, limit in micro-units per kWh, ``order_time_s`` when it was
    placed (at or before the gate), ``sequence`` the tie-breaker for equal
    limit and time. ``all_or_none``: executed for all of ``energy_wh`` or not
    at all.
    """

    order_id: str
    owner: str
    side: Side
    energy_wh: int
    price_micro_per_kwh: int
    delivery_period: int
    order_time_s: int
    sequence: int
    all_or_none: bool = False


class ProductClearing(msgspec.Struct, frozen=True):
    """The outcome of one product: its uniform price (None if nothing traded) and trades.

    ``rejected_all_or_none`` are the all-or-none orders taken out because the
    auction could fill them only in part; ``self_trade_cancelled`` the orders
    cancelled by self-trade prevention; ``filled_wh`` maps every order id of
    the product to the energy it got (0 for the unfilled), in order-id order.
    """

    delivery_period: int
    price_micro_per_kwh: int | None
    volume_wh: int
    matches: tuple[Match, ...]
    filled_wh: dict[str, int]
    rejected_all_or_none: tuple[str, ...]
    self_trade_cancelled: tuple[str, ...]


class DayAheadResult(msgspec.Struct, frozen=True):
    """Every product's clearing, in ascending delivery period."""

    gate_s: int
    products: tuple[ProductClearing, ...]

    @property
    def matches(self) -> tuple[Match, ...]:
        """All matches, product by product."""
        return tuple(m for product in self.products for m in product.matches)


def _as_order(order: DayAheadOrder, gate_s: int) -> Order:
    """The library order the call auction ranks: whole residual, resting until past the gate."""
    if type(order.all_or_none) is not bool:
        raise InvalidOrder(field="all_or_none", value=order.all_or_none, reason="must be a bool")
    if type(order.order_time_s) is int and order.order_time_s > gate_s:
        raise InvalidOrder(
            field="order_time_s",
            value=order.order_time_s,
            reason=f"is after the gate at {gate_s} s",
        )
    library = Order(
        order_id=order.order_id,
        owner=order.owner,
        side=order.side,
        energy_wh=order.energy_wh,
        residual_wh=order.energy_wh,
        price_micro_per_kwh=order.price_micro_per_kwh,
        order_time_s=order.order_time_s,
        expiry_s=gate_s + 1,
        delivery_period=order.delivery_period,
        sequence=order.sequence,
    )
    validate_order(library)
    return library


def _day_ahead(match: Match) -> Match:
    """The call auction's match, marked as made by the day-ahead auction."""
    reason = match.reason
    return msgspec.structs.replace(
        match,
        reason=MatchReason(
            Mechanism.DAY_AHEAD,
            reason.price_rule,
            reason.bid_price_micro_per_kwh,
            reason.ask_price_micro_per_kwh,
            reason.buy_order_time_s,
            reason.sell_order_time_s,
            reason.buy_sequence,
            reason.sell_sequence,
            reason.clamped,
        ),
    )


def clear_product(
    orders: Iterable[DayAheadOrder],
    delivery_period: int,
    gate_s: int,
    bounds: PriceBounds | None = None,
) -> ProductClearing:
    """Clear one product at ``gate_s``: uniform price, all-or-none by rejection and re-run.

    Every order must be for ``delivery_period`` (else `InvalidOrder`); ids must
    be unique (else `DuplicateOrder`). See the module docstring.
    """
    given = list(orders)
    library: dict[str, Order] = {}
    for order in given:
        if order.delivery_period != delivery_period:
            raise InvalidOrder(
                field="delivery_period",
                value=order.delivery_period,
                reason=f"this product is period {delivery_period}",
            )
        if order.order_id in library:
            raise DuplicateOrder(order_id=order.order_id)
        library[order.order_id] = _as_order(order, gate_s)
    all_or_none = {o.order_id for o in given if o.all_or_none}
    rejected: list[str] = []
    while True:
        book = OrderBook(delivery_period)
        for order in given:
            if order.order_id not in rejected:
                book.add(library[order.order_id])
        result = clear_call_auction(book, gate_s, bounds=bounds)
        filled = dict.fromkeys(sorted(library), 0)
        for match in result.matches:
            filled[match.buy_order_id] += match.energy_wh
            filled[match.sell_order_id] += match.energy_wh
        partial = [library[i] for i in sorted(all_or_none) if 0 < filled[i] < library[i].energy_wh]
        if not partial:
            break
        # the one served last: worst priority, a sell after a buy on a tie
        rejected.append(max(partial, key=lambda o: (priority_key(o), o.side is Side.SELL)).order_id)
    matches = tuple(_day_ahead(m) for m in result.matches)
    return ProductClearing(
        delivery_period=delivery_period,
        price_micro_per_kwh=matches[0].price_micro_per_kwh if matches else None,
        volume_wh=sum(m.energy_wh for m in matches),
        matches=matches,
        filled_wh=filled,
        rejected_all_or_none=tuple(rejected),
        self_trade_cancelled=tuple(sorted(o.order_id for o in result.cancelled)),
    )


def clear_day_ahead(
    orders: Iterable[DayAheadOrder],
    gate_s: int,
    bounds: PriceBounds | dict[int, PriceBounds] | None = None,
) -> DayAheadResult:
    """Clear every product that has orders, at ``gate_s``, in ascending delivery period.

    ``bounds`` is one `PriceBounds` for all products, or one per delivery
    period (the regulator's cap may differ from hour to hour); a period
    missing from the mapping is unbounded.
    """
    ordered = sorted(orders, key=lambda o: (o.delivery_period, o.sequence, o.order_id))
    products = []
    for period, group in groupby(ordered, key=lambda o: o.delivery_period):
        product_bounds = bounds.get(period) if isinstance(bounds, dict) else bounds
        products.append(clear_product(group, period, gate_s, product_bounds))
    return DayAheadResult(gate_s, tuple(products))
