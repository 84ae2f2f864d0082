"""Uniform-price call auction: clearing price and volume, rationing, pairing, self-trades."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.market import (
    ClearingPoint,
    Mechanism,
    PriceBounds,
    PriceRule,
    clear_call_auction,
    uniform_clearing,
)

from .helpers import book_of, buy, check_match_money, fills, residuals, sell


def test_call_auction_hand_example() -> None:
    """Demand D(p) and supply S(p), in Wh:

    ==========  =====  =====  =====  =====  =====  =====
    p           30-40  41-44  45-49  50     51-55  56-60
    D(p)        5000   4000   4000   4000   2000   1000
    S(p)        1500   1500   2500   3500   3500   3500 (4500 from 58)
    min         1500   1500   2500   3500   2000   1000
    ==========  =====  =====  =====  =====  =====  =====

    The volume peaks at 3500 Wh for p = 50 only. Buyers at 50 are rationed by
    time: B3 (earlier) is filled, B4 gets the last 500 Wh.
    """
    book = book_of(
        buy("B1", 1_000, 60, time=1, seq=1),
        buy("B2", 1_000, 55, time=2, seq=2),
        buy("B3", 1_000, 50, time=3, seq=3),
        buy("B4", 1_000, 50, time=4, seq=4),
        buy("B5", 1_000, 40, time=5, seq=5),
        sell("S1", 1_500, 30, time=1, seq=6),
        sell("S2", 1_000, 45, time=2, seq=7),
        sell("S3", 1_000, 50, time=3, seq=8),
        sell("S4", 1_000, 58, time=4, seq=9),
    )
    result = clear_call_auction(book, now_s=3_600)
    assert {m.price_micro_per_kwh for m in result.matches} == {50}
    assert [(m.buy_order_id, m.sell_order_id, m.energy_wh) for m in result.matches] == [
        ("B1", "S1", 1_000),
        ("B2", "S1", 500),
        ("B2", "S2", 500),
        ("B3", "S2", 500),
        ("B3", "S3", 500),
        ("B4", "S3", 500),
    ]
    assert residuals(book) == {"B4": 500, "B5": 1_000, "S4": 1_000}
    assert fills(result.matches)["B4"] == 500
    assert all(m.reason.mechanism is Mechanism.CALL_AUCTION for m in result.matches)
    assert all(m.reason.price_rule is PriceRule.UNIFORM for m in result.matches)
    check_match_money(result.matches)


def test_clearing_price_is_the_midpoint_of_the_max_volume_range() -> None:
    assert uniform_clearing([(60, 1_000)], [(40, 1_000)]) == ClearingPoint(50, 1_000, 40, 60)
    assert uniform_clearing([(60, 1_000)], [(41, 1_000)]) == ClearingPoint(50, 1_000, 41, 60)
    # Excess demand: every price in [8, 9] clears 7; midpoint rounds down to 8.
    assert uniform_clearing([(10, 5), (9, 5)], [(8, 7)]) == ClearingPoint(8, 7, 8, 9)
    assert uniform_clearing([(10, 5)], [(11, 5)]) is None
    assert uniform_clearing([], [(11, 5)]) is None


def test_rationing_by_price_then_time_on_the_long_side() -> None:
    book = book_of(
        buy("b_hi", 5, 10, time=3, seq=3),
        buy("b_early", 5, 9, time=1, seq=1),
        buy("b_late", 5, 9, time=2, seq=2),
        sell("s", 7, 8, time=0, seq=0),
    )
    result = clear_call_auction(book, now_s=5)
    assert fills(result.matches) == {"b_hi": 5, "b_early": 2, "s": 7}
    assert result.matches[0].price_micro_per_kwh == 8
    assert residuals(book) == {"b_early": 3, "b_late": 5}


def test_nothing_crosses_nothing_trades() -> None:
    book = book_of(buy("b", 5, 10), sell("s", 5, 11))
    result = clear_call_auction(book, now_s=1)
    assert result.matches == () and len(book) == 2


def test_self_crossing_orders_cancel_the_newer_before_clearing() -> None:
    book = book_of(
        buy("ann_buy", 10, 60, owner="ann", time=1, seq=1),
        sell("ann_sell", 10, 50, owner="ann", time=2, seq=2),
        sell("bob_sell", 10, 55, owner="bob", time=3, seq=3),
    )
    result = clear_call_auction(book, now_s=5)
    assert [o.order_id for o in result.cancelled] == ["ann_sell"]
    (m,) = result.matches
    assert (m.buyer, m.seller, m.energy_wh, m.price_micro_per_kwh) == ("ann", "bob", 10, 57)


def test_bounds_limit_the_clearing_price() -> None:
    bounds = PriceBounds(feed_in_price_micro_per_kwh=20, cap_price_micro_per_kwh=100)
    book = book_of(buy("b", 10, 1_000), sell("s", 10, 1))
    result = clear_call_auction(book, now_s=1, bounds=bounds)
    (m,) = result.matches
    assert m.price_micro_per_kwh == (20 + 100) // 2
    assert m.reason.clamped


def test_expired_orders_do_not_take_part() -> None:
    book = book_of(buy("old", 10, 90, expiry=100), sell("s", 10, 40))
    result = clear_call_auction(book, now_s=100)
    assert [o.order_id for o in result.expired] == ["old"]
    assert result.matches == ()


order_lists = st.lists(st.tuples(st.integers(0, 30), st.integers(1, 20)), min_size=0, max_size=12)


@settings(max_examples=300, deadline=None)
@given(bids=order_lists, asks=order_lists)
def test_uniform_clearing_maximises_volume(
    bids: list[tuple[int, int]], asks: list[tuple[int, int]]
) -> None:
    """Compared with brute force over every integer price."""

    def volume(p: int) -> int:
        demand = sum(q for price, q in bids if price >= p)
        supply = sum(q for price, q in asks if price <= p)
        return min(demand, supply)

    best = max((volume(p) for p in range(0, 32)), default=0)
    point = uniform_clearing(bids, asks)
    if best == 0:
        assert point is None
        return
    assert point is not None
    argmax = [p for p in range(0, 32) if volume(p) == best]
    assert point.volume_wh == best
    assert (point.low_micro_per_kwh, point.high_micro_per_kwh) == (min(argmax), max(argmax))
    assert argmax == list(range(min(argmax), max(argmax) + 1))  # one interval
    assert point.price_micro_per_kwh == (min(argmax) + max(argmax)) // 2
    assert volume(point.price_micro_per_kwh) == best
