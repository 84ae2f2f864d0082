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
:class:`MatchResult`. They validate their arguments before touching the book,
and use only its public methods. Continuous matching is :func:`match_incoming`,
written against the :class:`~gridledger.market.levels.LevelStore` interface so
that the market contract runs it on its stored price levels too;
:func:`match_continuous` is its front for an :class:`OrderBook`.
"""

from __future__ import annotations

from gridledger.market.book import OrderBook
from gridledger.market.errors import InvalidOrder, UnsupportedPriceRule
from gridledger.market.ladder import Entry
from gridledger.market.levels import LevelStore, R
from gridledger.market.orders import (
    BUY,
    GRID,
    REGULATOR,
    SELL,
    Order,
    is_newer,
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

__all__ = [
    "match_against_standing_offers",
    "match_continuous",
    "match_high_low",
    "match_incoming",
]

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
    view = with_residual(newer.order, newer.residual)
    book.remove(newer)
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
        bid_limit = book.best_price(BUY)
        ask_limit = book.best_price(SELL)
        if bid_limit is None or ask_limit is None:
            break
        buy = book.head(BUY, bid_limit)
        sell = book.head(SELL, ask_limit)
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
        book.reduce(buy, energy)
        book.reduce(sell, energy)
    return MatchResult(tuple(matches), expired, tuple(cancelled))


def match_continuous(
    book: OrderBook,
    incoming: Order,
    now_s: int,
    *,
    bounds: PriceBounds | None = None,
    assign_sequence: bool = False,
) -> MatchResult:
    """Match ``incoming`` on arrival at ``now_s`` against ``book``; rest the remainder.

    Checks what :func:`match_incoming` leaves to its caller - the incoming
    order must be valid for the book, issued no later than ``now_s`` and not
    yet expired - and removes the orders expired by ``now_s``
    (:meth:`OrderBook.arrive`; they are in :attr:`MatchResult.expired`), then
    runs :func:`match_incoming` on the book. With ``assign_sequence`` the
    order gets the book's next sequence.
    """
    if type(now_s) is not int or now_s < 0:
        require_time(now_s)
    expired = book.arrive(incoming, now_s)
    if assign_sequence:
        incoming = with_sequence(incoming, book.next_sequence)
    return match_incoming(book, incoming, now_s, bounds, expired)


def match_incoming(
    levels: LevelStore[R],
    incoming: Order,
    now_s: int,
    bounds: PriceBounds | None = None,
    expired: tuple[Order, ...] = (),
) -> MatchResult:
    """Continuous matching: match ``incoming`` at ``now_s`` against the orders in ``levels``.

    The one implementation of the rules, for any :class:`LevelStore` (the
    in-memory :class:`OrderBook`, the market contract's stored levels):

    * **Priority.** The opposite side is taken from its best price
      (:meth:`LevelStore.best_price`), level by level, and inside a level in
      time priority (:meth:`LevelStore.head`), while the resting price crosses
      the incoming limit.
    * **Price.** Each trade executes at the resting order's effective limit,
      the price it advertised; with ``bounds``, a resting sell below the
      feed-in price trades at the feed-in price and a resting buy above the
      cap at the cap, and the incoming limit counts as bounded too when
      checking the cross. ``clamped`` says when a bound changed either.
    * **Partial fills.** Each trade is the smaller of the two residuals; the
      resting order is filled (:meth:`LevelStore.fill`), and leaves once
      nothing is left of it. What remains of the incoming order rests
      (:meth:`LevelStore.rest`, :attr:`MatchResult.resting`).
    * **Self-trade prevention: cancel the newer.** When the next resting order
      has the incoming order's owner, the newer of the two is cancelled: the
      incoming order with what is left of it (matching stops; nothing rests),
      or the resting one (:meth:`LevelStore.remove`; matching goes on). Both
      are reported in :attr:`MatchResult.cancelled`.

    The caller checks the order (valid, issued by ``now_s``, not expired, new
    to ``levels``) and removes the orders expired by ``now_s`` first;
    ``expired`` (what it removed) is passed through to the result.
    """
    is_buy = incoming.side is BUY
    limit = incoming.price_micro_per_kwh
    # The common case first: the best opposite limit does not cross, so the order rests.
    best = levels.best_price(SELL if is_buy else BUY)
    if best is None or not (
        (limit >= best if is_buy else best >= limit)
        if bounds is None
        else (
            effective_bid(limit, bounds) >= effective_ask(best, bounds)
            if is_buy
            else effective_bid(best, bounds) >= effective_ask(limit, bounds)
        )
    ):
        levels.rest(incoming)
        return MatchResult((), expired, (), incoming)
    return _take_liquidity(levels, incoming, best, now_s, bounds, expired)


def _take_liquidity(
    levels: LevelStore[R],
    incoming: Order,
    best: int,
    now_s: int,
    bounds: PriceBounds | None,
    expired: tuple[Order, ...],
) -> MatchResult:
    """The matching loop of :func:`match_incoming`, for an ``incoming`` order that crosses ``best``.

    ``best`` is the best opposite limit; from then on it is asked again after
    every trade or cancellation.
    """
    is_buy = incoming.side is BUY
    opposite = SELL if is_buy else BUY
    limit = incoming.price_micro_per_kwh
    if bounds is None:
        floor, cap = 0, limit  # never applied: prices stay the limits
    else:
        floor, cap = bounds.feed_in_price_micro_per_kwh, bounds.cap_price_micro_per_kwh
    effective = limit if bounds is None else (min(limit, cap) if is_buy else max(limit, floor))
    best_price, head, fill = levels.best_price, levels.head, levels.fill
    owner = incoming.owner
    remaining = incoming.residual_wh
    matches: list[Match] = []
    cancelled: list[Order] = []
    while True:
        if bounds is None:
            price = best
        elif is_buy:
            price = best if best > floor else floor
        else:
            price = best if best < cap else cap
        if (effective < price) if is_buy else (price < effective):
            break
        resting = head(opposite, best)
        rest = resting.order
        if rest.owner == owner:
            if is_newer(incoming, rest):
                cancelled.append(with_residual(incoming, remaining))
                remaining = 0
                break
            cancelled.append(with_residual(rest, resting.residual))  # the resting one is newer
            levels.remove(resting)
        else:
            residual = resting.residual
            energy = remaining if remaining < residual else residual
            match = pair_match(
                incoming if is_buy else rest,
                rest if is_buy else incoming,
                energy,
                price,
                now_s,
                CONTINUOUS,
                RESTING,
                effective != limit or price != best,
            )
            matches.append(match)
            fill(resting, match)
            remaining -= energy
            if not remaining:
                break
        next_best = best_price(opposite)
        if next_best is None:
            break
        best = next_best
    if not remaining:
        return MatchResult(tuple(matches), expired, tuple(cancelled))
    left = incoming if remaining == incoming.residual_wh else with_residual(incoming, remaining)
    levels.rest(left)
    return MatchResult(tuple(matches), expired, tuple(cancelled), left)


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
    for entry in book.entries(BUY):
        order = entry.order
        if order.price_micro_per_kwh < cap:
            break
        matches.append(_standing_match(order, entry.residual, cap, now_s, buying=True))
        book.remove(entry)
    for entry in book.entries(SELL):
        order = entry.order
        if order.price_micro_per_kwh > feed_in:
            break
        matches.append(_standing_match(order, entry.residual, feed_in, now_s, buying=False))
        book.remove(entry)
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
