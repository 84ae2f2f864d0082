"""Matching: seed 000's high-low matching, continuous matching, and the standing offers.

All mechanisms share these rules:

* **Expiry first.** Orders with ``expiry_s <= now_s`` are removed before any
  matching and reported in :attr:`MatchResult.expired`.
* **Price bounds.** With :class:`PriceBounds` given, a buy limit above the cap
  counts as the cap and a sell limit below the feed-in price counts as the
  feed-in price (the regulator sells and the grid buys unlimited volume
  there); crossing and prices use these effective limits, so every price is in
  ``[feed_in, cap]``. Priority still uses the limits as submitted.
* **Self-trade prevention: cancel the newer.** An owner's buy never trades
  with the same owner's sell. When the two orders a mechanism is about to
  pair belong to one owner, the newer of them (later ``order_time_s``, then
  higher ``sequence``, then larger id) is cancelled - its whole residual -
  and reported in :attr:`MatchResult.cancelled`; the older keeps its place and
  matching goes on. Cancelling (rather than skipping) means no crossed pair is
  ever left in the book, and keeping the older order respects time priority.

The mechanisms mutate the book they are given and return a
:class:`MatchResult`. They validate their arguments before touching the book.
"""

from __future__ import annotations

from gridledger.market.book import OrderBook
from gridledger.market.errors import InvalidOrder, UnsupportedPriceRule
from gridledger.market.ladder import Entry
from gridledger.market.orders import (
    BUY,
    GRID,
    REGULATOR,
    Order,
    Side,
    is_newer,
    validate_order,
    with_residual,
    with_sequence,
)
from gridledger.market.prices import (
    PAIR_RULES,
    PriceBounds,
    PriceRule,
    effective_ask,
    effective_bid,
    pair_price,
    trade_value_micro,
)
from gridledger.market.trades import Match, MatchReason, MatchResult, Mechanism

__all__ = ["match_against_standing_offers", "match_continuous", "match_high_low"]

CONTINUOUS = Mechanism.CONTINUOUS  # enum members as globals: cheaper to read per match
RESTING = PriceRule.RESTING


def require_time(now_s: object) -> None:
    """A clearing moment is a non-negative integer number of seconds (the block timestamp)."""
    if type(now_s) is not int or now_s < 0:
        raise InvalidOrder(field="now_s", value=now_s, reason="must be a non-negative integer")


def pair_match(
    buy: Order,
    sell: Order,
    energy_wh: int,
    price_micro_per_kwh: int,
    now_s: int,
    mechanism: Mechanism,
    rule: PriceRule,
    clamped: bool,
) -> Match:
    """The match of ``energy_wh`` between two member orders, value computed once."""
    return Match(
        buy.order_id,
        sell.order_id,
        buy.owner,
        sell.owner,
        energy_wh,
        price_micro_per_kwh,
        trade_value_micro(energy_wh, price_micro_per_kwh),
        buy.delivery_period,
        now_s,
        MatchReason(
            mechanism,
            rule,
            buy.price_micro_per_kwh,
            sell.price_micro_per_kwh,
            buy.order_time_s,
            sell.order_time_s,
            buy.sequence,
            sell.sequence,
            clamped,
        ),
    )


def cancel_newer(book: OrderBook, first: Entry, second: Entry) -> Order:
    """Self-trade prevention: remove the newer of two entries of one owner; return it."""
    newer = first if is_newer(first.order, second.order) else second
    view = book._view(newer)
    book._remove(newer)
    return view


def match_high_low(
    book: OrderBook,
    now_s: int,
    *,
    rule: PriceRule = PriceRule.MIDPOINT,
    bounds: PriceBounds | None = None,
) -> MatchResult:
    """Seed 000's high-low matching at the clearing moment ``now_s`` (§2.2 (6), Fig. 4).

    While the best buy and the best sell cross, pair them: the one with the
    smaller residual is filled completely, the other is filled partially and
    stays at the head of its side with its residual reduced; with equal
    residuals both are filled. Each pair is priced by ``rule`` from the two
    effective limits: ``MIDPOINT`` (default) is ``(bid + ask) // 2``, rounded
    down (in the buyer's favour by at most one micro-unit per kWh); ``BID`` or
    ``ASK`` take one side's limit. Afterwards the book is not crossed.
    """
    if rule not in PAIR_RULES:
        raise UnsupportedPriceRule(
            rule=rule, mechanism="high-low matching", allowed=tuple(str(r) for r in PAIR_RULES)
        )
    require_time(now_s)
    expired = book.expire(now_s)
    matches: list[Match] = []
    cancelled: list[Order] = []
    while True:
        buy = book._head(Side.BUY)
        sell = book._head(Side.SELL)
        if buy is None or sell is None:
            break
        buy_order, sell_order = buy.order, sell.order
        bid = effective_bid(buy_order.price_micro_per_kwh, bounds)
        ask = effective_ask(sell_order.price_micro_per_kwh, bounds)
        if bid < ask:
            break
        if buy_order.owner == sell_order.owner:
            cancelled.append(cancel_newer(book, buy, sell))
            continue
        energy = min(buy.residual, sell.residual)
        clamped = bid != buy_order.price_micro_per_kwh or ask != sell_order.price_micro_per_kwh
        price = pair_price(bid, ask, rule)
        matches.append(
            pair_match(
                buy_order, sell_order, energy, price, now_s, Mechanism.HIGH_LOW, rule, clamped
            )
        )
        book._fill(buy, energy)
        book._fill(sell, energy)
    return MatchResult(tuple(matches), expired, tuple(cancelled))


def match_continuous(
    book: OrderBook,
    incoming: Order,
    now_s: int,
    *,
    bounds: PriceBounds | None = None,
    assign_sequence: bool = False,
) -> MatchResult:
    """Match ``incoming`` on arrival at ``now_s`` against the resting orders; rest the remainder.

    Resting orders are taken in priority order while they cross the incoming
    limit; each trade executes at the resting order's (effective) limit, the
    price the resting order advertised. What remains of the incoming order
    rests in the book (:attr:`MatchResult.resting`). The incoming order must
    be valid for the book, issued no later than ``now_s`` and not yet expired.
    With ``assign_sequence`` it gets the book's next sequence.
    """
    if type(now_s) is not int or now_s < 0:
        require_time(now_s)
    validate_order(incoming)
    if incoming.delivery_period != book._period or incoming.order_id in book._index:
        book._check_new(incoming)  # raises the precise error
    if incoming.order_time_s > now_s:
        raise InvalidOrder(
            field="order_time_s",
            value=incoming.order_time_s,
            reason=f"an order cannot arrive at {now_s} s before it is issued",
        )
    if incoming.expiry_s <= now_s:
        raise InvalidOrder(
            field="expiry_s", value=incoming.expiry_s, reason=f"already expired at {now_s} s"
        )
    if assign_sequence:
        incoming = with_sequence(incoming, book._next_sequence)
    times = book._expiry_times
    expired = book.expire(now_s) if times and times[0] <= now_s else ()
    # The common case first: the best opposite limit does not cross, so the order rests.
    limit = incoming.price_micro_per_kwh
    if incoming.side is BUY:
        keys = book._asks.keys  # minus the ask prices
        crosses = bool(keys) and (
            limit + keys[-1] >= 0
            if bounds is None
            else _crosses_bounded(True, limit, keys[-1], bounds)
        )
    else:
        keys = book._bids.keys
        crosses = bool(keys) and (
            keys[-1] >= limit
            if bounds is None
            else _crosses_bounded(False, limit, keys[-1], bounds)
        )
    if not crosses:
        book._insert(incoming, incoming.residual_wh)
        return MatchResult((), expired, (), incoming)
    return _take_liquidity(book, incoming, now_s, bounds, expired)


def _crosses_bounded(is_buy: bool, limit: int, best_key: int, bounds: PriceBounds) -> bool:
    """Whether an incoming ``limit`` crosses the best opposite level (its ladder key), bounded."""
    if is_buy:
        return effective_bid(limit, bounds) >= effective_ask(-best_key, bounds)
    return effective_bid(best_key, bounds) >= effective_ask(limit, bounds)


def _take_liquidity(
    book: OrderBook,
    incoming: Order,
    now_s: int,
    bounds: PriceBounds | None,
    expired: tuple[Order, ...],
) -> MatchResult:
    """The matching loop of :func:`match_continuous`, for an ``incoming`` order that crosses.

    Walks the opposite ladder from its best level, skipping tombstones, while
    the resting price (its effective limit: the trade price) crosses the
    incoming effective limit; the remainder, if any, rests.
    """
    is_buy = incoming.side is BUY
    limit = incoming.price_micro_per_kwh
    if bounds is None:
        floor, cap = 0, limit  # never applied: prices stay the limits
    else:
        floor, cap = bounds.feed_in_price_micro_per_kwh, bounds.cap_price_micro_per_kwh
    effective = limit if bounds is None else (min(limit, cap) if is_buy else max(limit, floor))
    opposite = book._asks if is_buy else book._bids
    keys, levels = opposite.keys, opposite.levels
    owner = incoming.owner
    remaining = incoming.residual_wh
    matches: list[Match] = []
    cancelled: list[Order] = []
    while remaining and keys:
        level = levels[keys[-1]]
        head = level[0]
        while not head.residual:  # tombstones at the head of the best level
            level.popleft()
            head = level[0]
        rest = head.order
        rest_limit = rest.price_micro_per_kwh
        if bounds is None:
            price = rest_limit
        elif is_buy:
            price = rest_limit if rest_limit > floor else floor
        else:
            price = rest_limit if rest_limit < cap else cap
        if (effective < price) if is_buy else (price < effective):
            break
        if rest.owner == owner:
            if is_newer(incoming, rest):
                cancelled.append(with_residual(incoming, remaining))
                remaining = 0
                break
            cancelled.append(book._view(head))  # the resting order is the newer one
            book._remove(head)
            continue
        residual = head.residual
        energy = remaining if remaining < residual else residual
        matches.append(
            pair_match(
                incoming if is_buy else rest,
                rest if is_buy else incoming,
                energy,
                price,
                now_s,
                CONTINUOUS,
                RESTING,
                effective != limit or price != rest_limit,
            )
        )
        remaining -= energy
        if energy == residual:
            book._remove(head)
        else:
            head.residual = residual - energy
    if not remaining:
        return MatchResult(tuple(matches), expired, tuple(cancelled))
    book._insert(incoming, remaining)
    return MatchResult(
        tuple(matches), expired, tuple(cancelled), with_residual(incoming, remaining)
    )


def match_against_standing_offers(book: OrderBook, now_s: int, bounds: PriceBounds) -> MatchResult:
    """Fill what the standing offers take, at the clearing moment ``now_s``.

    Every resting buy with a limit at or above the cap is filled completely by
    the regulator's unlimited offer at the cap price (seller and sell order id
    ``REGULATOR``); every resting sell with a limit at or below the feed-in
    price is filled completely by the grid's unlimited bid at the feed-in
    price (buyer and buy order id ``GRID``). Buys come first, each side in
    priority order. Run it after peer matching (high-low or call auction):
    otherwise orders that could trade with each other at a better price go to
    the standing offers instead.
    """
    require_time(now_s)
    expired = book.expire(now_s)
    cap = bounds.cap_price_micro_per_kwh
    feed_in = bounds.feed_in_price_micro_per_kwh
    matches: list[Match] = []
    for entry in book._entries(Side.BUY):
        order = entry.order
        if order.price_micro_per_kwh < cap:
            break
        matches.append(_standing_match(order, entry.residual, cap, now_s, buying=True))
        book._fill(entry, entry.residual)
    for entry in book._entries(Side.SELL):
        order = entry.order
        if order.price_micro_per_kwh > feed_in:
            break
        matches.append(_standing_match(order, entry.residual, feed_in, now_s, buying=False))
        book._fill(entry, entry.residual)
    return MatchResult(tuple(matches), expired)


def _standing_match(order: Order, energy_wh: int, price: int, now_s: int, *, buying: bool) -> Match:
    """A member's ``order`` filled by the regulator (member buying) or the grid (member selling)."""
    counterparty = REGULATOR if buying else GRID
    limit = order.price_micro_per_kwh
    return Match(
        order.order_id if buying else counterparty,
        counterparty if buying else order.order_id,
        order.owner if buying else counterparty,
        counterparty if buying else order.owner,
        energy_wh,
        price,
        trade_value_micro(energy_wh, price),
        order.delivery_period,
        now_s,
        MatchReason(
            Mechanism.STANDING_OFFER,
            PriceRule.STANDING,
            limit if buying else price,
            price if buying else limit,
            order.order_time_s if buying else None,
            None if buying else order.order_time_s,
            order.sequence if buying else None,
            None if buying else order.sequence,
            limit != price,
        ),
    )
