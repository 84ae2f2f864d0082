"""Uniform-price call auction per delivery period (pay-as-clear).

At the clearing moment all resting orders of the period are aggregated into a
demand curve ``D(p)`` (residual of buys whose effective limit is ``>= p``) and
a supply curve ``S(p)`` (residual of sells whose effective limit is ``<= p``).
The traded volume at a price is ``min(D(p), S(p))``.

Clearing price choice. The volume is maximised; the prices that reach the
maximum form one interval ``[low, high]`` (``D`` falls and ``S`` rises, so
their minimum rises then falls), ``low`` is always a sell limit and ``high`` a
buy limit. The clearing price is its midpoint ``(low + high) // 2``, rounded
down, the same rounding as high-low matching's midpoint rule. Everyone trades
at this one price: buyers pay no more than their limit, sellers receive no
less than theirs.

Allocation. On each side the eligible orders are filled in price-time priority
until the volume is reached, so on the long side the marginal orders are
rationed: better prices first, then earlier ``order_time_s``, then lower
``sequence``. Filled buys and sells are then paired in the same order (as in
high-low matching) to produce one :class:`Match` per pair at the uniform
price. After the auction the book is not crossed.

Self-trade prevention. Before clearing, for each owner (in sorted order) whose
own buys and sells cross, the newer of the owner's best buy and best sell is
cancelled, repeatedly, until they no longer cross: the same "cancel the newer"
rule as the other mechanisms. After this no owner can be on both sides of the
fills (that would need ``sell limit <= price <= buy limit``), so no pair is a
self-trade.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import accumulate

from gridledger.market.book import OrderBook
from gridledger.market.ladder import Entry
from gridledger.market.matching import pair_match, require_time
from gridledger.market.orders import Order, Side, is_newer, priority_key, with_residual
from gridledger.market.prices import PriceBounds, PriceRule, effective_ask, effective_bid
from gridledger.market.trades import Match, MatchResult, Mechanism

__all__ = ["ClearingPoint", "clear_call_auction", "uniform_clearing"]


@dataclass(frozen=True, slots=True)
class ClearingPoint:
    """The outcome of aggregating the curves: price and volume, and the max-volume range.

    ``low_micro_per_kwh``/``high_micro_per_kwh`` bound every price that clears
    ``volume_wh``; ``price_micro_per_kwh`` is their midpoint, rounded down.
    """

    price_micro_per_kwh: int
    volume_wh: int
    low_micro_per_kwh: int
    high_micro_per_kwh: int


def uniform_clearing(
    bids: Iterable[tuple[int, int]], asks: Iterable[tuple[int, int]]
) -> ClearingPoint | None:
    """Clear ``(limit micro/kWh, energy Wh)`` bids and asks at one price; None if nothing trades.

    Volume is a step function that only changes at limit prices, so it is
    evaluated at every limit (O(n log n)).
    """
    bid_list = sorted(bids)
    ask_list = sorted(asks)
    if not bid_list or not ask_list:
        return None
    bid_prices = [p for p, _ in bid_list]
    ask_prices = [p for p, _ in ask_list]
    # demand_from[i]: energy bid at prices >= bid_prices[i]; supply_to[j]: asked at <= ask_prices[j]
    demand_from = list(accumulate((q for _, q in reversed(bid_list)), initial=0))[::-1]
    supply_to = list(accumulate((q for _, q in ask_list), initial=0))

    def volume(price: int) -> int:
        demand = demand_from[bisect_left(bid_prices, price)]
        supply = supply_to[bisect_right(ask_prices, price)]
        return min(demand, supply)

    best = max(volume(p) for p in (*bid_prices, *ask_prices))
    if best == 0:
        return None
    low = min(p for p in ask_prices if volume(p) == best)
    high = max(p for p in bid_prices if volume(p) == best)
    return ClearingPoint((low + high) // 2, best, low, high)


def clear_call_auction(
    book: OrderBook, now_s: int, *, bounds: PriceBounds | None = None
) -> MatchResult:
    """Clear the whole book at one price at ``now_s``; unfilled residuals stay resting.

    See the module docstring for the price choice, rationing and self-trade
    prevention. Every match carries ``PriceRule.UNIFORM`` and the same price.
    """
    require_time(now_s)
    expired = book.expire(now_s)
    cancelled = _cancel_self_crossing(book, bounds)
    buys = book.entries(Side.BUY)
    sells = book.entries(Side.SELL)
    clearing = uniform_clearing(
        ((effective_bid(e.order.price_micro_per_kwh, bounds), e.residual) for e in buys),
        ((effective_ask(e.order.price_micro_per_kwh, bounds), e.residual) for e in sells),
    )
    if clearing is None:
        return MatchResult((), expired, tuple(cancelled))
    price = clearing.price_micro_per_kwh
    buy_fills = _allocate(
        [e for e in buys if effective_bid(e.order.price_micro_per_kwh, bounds) >= price],
        clearing.volume_wh,
    )
    sell_fills = _allocate(
        [e for e in sells if effective_ask(e.order.price_micro_per_kwh, bounds) <= price],
        clearing.volume_wh,
    )
    matches = _pair_at(buy_fills, sell_fills, price, now_s, bounds)
    for entry, energy in (*buy_fills, *sell_fills):
        book.reduce(entry, energy)
    return MatchResult(tuple(matches), expired, tuple(cancelled))


def _allocate(eligible: list[Entry], volume_wh: int) -> list[tuple[Entry, int]]:
    """Fill ``volume_wh`` from ``eligible`` (in priority order): the marginal order is rationed."""
    fills: list[tuple[Entry, int]] = []
    remaining = volume_wh
    for entry in eligible:
        if remaining == 0:
            break
        energy = min(entry.residual, remaining)
        fills.append((entry, energy))
        remaining -= energy
    return fills


def _pair_at(
    buy_fills: list[tuple[Entry, int]],
    sell_fills: list[tuple[Entry, int]],
    price: int,
    now_s: int,
    bounds: PriceBounds | None,
) -> list[Match]:
    """Pair the two fill lists head to head, high-low style, all at ``price``."""
    matches: list[Match] = []
    i = j = 0
    buy_left = buy_fills[0][1]
    sell_left = sell_fills[0][1]
    while i < len(buy_fills) and j < len(sell_fills):
        buy, sell = buy_fills[i][0].order, sell_fills[j][0].order
        energy = min(buy_left, sell_left)
        clamped = (
            effective_bid(buy.price_micro_per_kwh, bounds) != buy.price_micro_per_kwh
            or effective_ask(sell.price_micro_per_kwh, bounds) != sell.price_micro_per_kwh
        )
        matches.append(
            pair_match(
                buy, sell, energy, price, now_s, Mechanism.CALL_AUCTION, PriceRule.UNIFORM, clamped
            )
        )
        buy_left -= energy
        sell_left -= energy
        if buy_left == 0:
            i += 1
            buy_left = buy_fills[i][1] if i < len(buy_fills) else 0
        if sell_left == 0:
            j += 1
            sell_left = sell_fills[j][1] if j < len(sell_fills) else 0
    return matches


def _cancel_self_crossing(book: OrderBook, bounds: PriceBounds | None) -> list[Order]:
    """Cancel the newer of an owner's crossing best buy and best sell until none cross."""
    cancelled: list[Order] = []
    for owner in book.owners():
        entries = book.entries_of(owner)
        buys = sorted(
            (e for e in entries if e.order.side is Side.BUY), key=lambda e: priority_key(e.order)
        )
        sells = sorted(
            (e for e in entries if e.order.side is Side.SELL), key=lambda e: priority_key(e.order)
        )
        i = j = 0
        while i < len(buys) and j < len(sells):
            buy, sell = buys[i], sells[j]
            bid = effective_bid(buy.order.price_micro_per_kwh, bounds)
            if bid < effective_ask(sell.order.price_micro_per_kwh, bounds):
                break
            if is_newer(buy.order, sell.order):
                newer, i = buy, i + 1
            else:
                newer, j = sell, j + 1
            cancelled.append(with_residual(newer.order, newer.residual))
            book.remove(newer)
    return cancelled
