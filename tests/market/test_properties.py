"""Property tests: uncrossed books, price-time priority, fills add up, nothing created.

Orders are drawn with few owners (so self-trades happen), few prices and times
(so ties happen) and short lives (so some orders expire at the clearing
moment), with and without price bounds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.market import (
    Match,
    MatchResult,
    Order,
    OrderBook,
    PriceBounds,
    PriceRule,
    Side,
    clear_call_auction,
    effective_ask,
    effective_bid,
    match_continuous,
    match_high_low,
    new_order,
    outranks,
    pair_price,
)

from .helpers import PERIOD, check_match_money, effectively_crossed, fills, residuals

NOW = 5
OWNERS = ("ann", "bob", "cy", "dee")

order_specs = st.lists(
    st.tuples(
        st.sampled_from(OWNERS),
        st.sampled_from(Side),
        st.integers(1, 50),  # energy_wh
        st.integers(10, 30),  # price_micro_per_kwh
        st.integers(0, NOW),  # order_time_s
        st.integers(1, 12),  # lifetime_s: expiry = time + lifetime, some expire at NOW
    ),
    max_size=30,
)
bounds_strategy = st.one_of(
    st.none(),
    st.tuples(st.integers(8, 25), st.integers(0, 10)).map(lambda t: PriceBounds(t[0], t[0] + t[1])),
)


def make_orders(specs: Sequence[tuple[str, Side, int, int, int, int]]) -> list[Order]:
    return [
        new_order(
            f"o{i}",
            owner,
            side,
            energy,
            price,
            order_time_s=time,
            expiry_s=time + life,
            delivery_period=PERIOD,
            sequence=i,
        )
        for i, (owner, side, energy, price, time, life) in enumerate(specs)
    ]


def eff(order: Order, bounds: PriceBounds | None) -> int:
    if order.side is Side.BUY:
        return effective_bid(order.price_micro_per_kwh, bounds)
    return effective_ask(order.price_micro_per_kwh, bounds)


def check_accounting(
    originals: Sequence[Order], book: OrderBook, results: Sequence[MatchResult]
) -> dict[str, int]:
    """Every order ends in exactly one state and its fills plus what is left equal its energy."""
    matches = [m for r in results for m in r.matches]
    filled = fills(matches)
    left = residuals(book)
    cancelled = {o.order_id: o.residual_wh for r in results for o in r.cancelled}
    expired = {o.order_id: o.residual_wh for r in results for o in r.expired}
    if results and results[-1].resting is not None:
        assert left[results[-1].resting.order_id] == results[-1].resting.residual_wh
    for order in originals:
        oid = order.order_id
        fates = [oid in left, oid in cancelled, oid in expired]
        assert sum(fates) <= 1
        remaining = left.get(oid, 0) + cancelled.get(oid, 0) + expired.get(oid, 0)
        assert filled.get(oid, 0) + remaining == order.energy_wh
        if not any(fates):
            assert filled.get(oid, 0) == order.energy_wh
        if oid in left:
            assert 0 < left[oid] <= order.energy_wh
    # The book's aggregates agree with its orders.
    for side in Side:
        assert sum(level.residual_wh for level in book.depth(side)) == sum(
            o.residual_wh for o in book.orders(side)
        )
    assert len(book) == len(left)
    return filled


def check_conservation(matches: Sequence[Match]) -> None:
    """Energy and money balance per owner: what one side gets, the other gives."""
    check_match_money(matches)
    energy: dict[str, int] = defaultdict(int)
    money: dict[str, int] = defaultdict(int)
    for m in matches:
        energy[m.buyer] += m.energy_wh
        energy[m.seller] -= m.energy_wh
        money[m.buyer] -= m.value_micro
        money[m.seller] += m.value_micro
    assert sum(energy.values()) == 0
    assert sum(money.values()) == 0


def check_priority(candidates: Sequence[Order], book: OrderBook, filled: dict[str, int]) -> None:
    """No order got a fill while an order ranked above it on its side is still resting."""
    resting = residuals(book)
    for side in Side:
        same_side = [o for o in candidates if o.side is side]
        for x in same_side:
            if not filled.get(x.order_id):
                continue
            for y in same_side:
                assert not (outranks(y, x) and y.order_id in resting), (y, x)


@settings(max_examples=300, deadline=None)
@given(
    specs=order_specs,
    rule=st.sampled_from([PriceRule.MIDPOINT, PriceRule.BID, PriceRule.ASK]),
    bounds=bounds_strategy,
)
def test_high_low_properties(
    specs: list[tuple[str, Side, int, int, int, int]],
    rule: PriceRule,
    bounds: PriceBounds | None,
) -> None:
    originals = make_orders(specs)
    book = OrderBook(PERIOD)
    for order in originals:
        book.add(order)
    result = match_high_low(book, NOW, rule=rule, bounds=bounds)

    assert not effectively_crossed(book, bounds)
    assert {o.order_id for o in result.expired} == {
        o.order_id for o in originals if o.expiry_s <= NOW
    }
    filled = check_accounting(originals, book, [result])
    live = [o for o in originals if o.expiry_s > NOW]
    check_priority(live, book, filled)
    check_conservation(result.matches)
    by_id = {o.order_id: o for o in originals}
    for m in result.matches:
        bid = eff(by_id[m.buy_order_id], bounds)
        ask = eff(by_id[m.sell_order_id], bounds)
        assert m.price_micro_per_kwh == pair_price(bid, ask, rule)
        assert ask <= m.price_micro_per_kwh <= bid
        if bounds is not None:
            assert (
                bounds.feed_in_price_micro_per_kwh
                <= m.price_micro_per_kwh
                <= bounds.cap_price_micro_per_kwh
            )


@settings(max_examples=300, deadline=None)
@given(specs=order_specs, bounds=bounds_strategy)
def test_continuous_properties(
    specs: list[tuple[str, Side, int, int, int, int]], bounds: PriceBounds | None
) -> None:
    # Orders arrive in order-time order; each arrives at its own order time.
    originals = sorted(make_orders(specs), key=lambda o: (o.order_time_s, o.sequence))
    book = OrderBook(PERIOD)
    results: list[MatchResult] = []
    for incoming in originals:
        now = incoming.order_time_s
        opposite = [o for o in book.orders(incoming.side.opposite) if o.expiry_s > now]
        result = match_continuous(book, incoming, now, bounds=bounds)
        results.append(result)

        assert not effectively_crossed(book, bounds)
        # The resting orders touched (filled or cancelled) are a prefix of the
        # opposite side in priority order; all but the last are gone.
        touched = {
            m.sell_order_id if incoming.side is Side.BUY else m.buy_order_id for m in result.matches
        } | {o.order_id for o in result.cancelled if o.order_id != incoming.order_id}
        prefix = [o.order_id for o in opposite[: len(touched)]]
        assert set(prefix) == touched
        assert all(oid not in book for oid in prefix[:-1])
        resting_by_id = {o.order_id: o for o in opposite}
        for m in result.matches:
            rest_id = m.sell_order_id if incoming.side is Side.BUY else m.buy_order_id
            assert m.price_micro_per_kwh == eff(resting_by_id[rest_id], bounds)
            assert m.matched_at_s == now
        left = result.resting.residual_wh if result.resting else 0
        cancelled_self = sum(
            o.residual_wh for o in result.cancelled if o.order_id == incoming.order_id
        )
        assert (
            sum(m.energy_wh for m in result.matches) + left + cancelled_self == incoming.energy_wh
        )

    check_accounting(originals, book, results)
    check_conservation([m for r in results for m in r.matches])


@settings(max_examples=300, deadline=None)
@given(specs=order_specs, bounds=bounds_strategy)
def test_call_auction_properties(
    specs: list[tuple[str, Side, int, int, int, int]], bounds: PriceBounds | None
) -> None:
    originals = make_orders(specs)
    book = OrderBook(PERIOD)
    for order in originals:
        book.add(order)
    result = clear_call_auction(book, NOW, bounds=bounds)

    assert not effectively_crossed(book, bounds)
    filled = check_accounting(originals, book, [result])
    check_conservation(result.matches)
    assert len({m.price_micro_per_kwh for m in result.matches}) <= 1
    cancelled = {o.order_id for o in result.cancelled}
    live = [o for o in originals if o.expiry_s > NOW and o.order_id not in cancelled]
    check_priority(live, book, filled)
    if result.matches:
        price = result.matches[0].price_micro_per_kwh
        for order in live:
            if filled.get(order.order_id):
                if order.side is Side.BUY:
                    assert eff(order, bounds) >= price
                else:
                    assert eff(order, bounds) <= price

    # Volume is the maximum any single price could clear (brute force).
    def volume(p: int) -> int:
        demand = sum(o.energy_wh for o in live if o.side is Side.BUY and eff(o, bounds) >= p)
        supply = sum(o.energy_wh for o in live if o.side is Side.SELL and eff(o, bounds) <= p)
        return min(demand, supply)

    assert result.traded_wh == max(volume(p) for p in range(0, 40))
    # No owner is left with a crossing pair of its own.
    for owner in OWNERS:
        mine = book.orders_of(owner)
        bids = [eff(o, bounds) for o in mine if o.side is Side.BUY]
        asks = [eff(o, bounds) for o in mine if o.side is Side.SELL]
        assert not (bids and asks and max(bids) >= min(asks))
