"""Continuous matching on arrival: resting price, remainders, priority, bounds, self-trades."""

from __future__ import annotations

import pytest

from gridledger.market import (
    DuplicateOrder,
    InvalidOrder,
    Mechanism,
    PriceBounds,
    PriceRule,
    Side,
    match_continuous,
)

from .helpers import book_of, buy, check_match_money, residuals, sell


def test_trades_at_the_resting_price_and_the_remainder_rests() -> None:
    book = book_of(sell("s1", 300, 40, time=1, seq=1), sell("s2", 500, 45, time=2, seq=2))
    incoming = buy("b", 1000, 50, time=5, seq=3)
    result = match_continuous(book, incoming, now_s=5)
    assert [(m.sell_order_id, m.energy_wh, m.price_micro_per_kwh) for m in result.matches] == [
        ("s1", 300, 40),
        ("s2", 500, 45),
    ]
    assert result.resting is not None and result.resting.residual_wh == 200
    assert residuals(book) == {"b": 200}
    assert book.best_bid() == 50
    reason = result.matches[0].reason
    assert reason.mechanism is Mechanism.CONTINUOUS and reason.price_rule is PriceRule.RESTING
    assert (reason.buy_order_time_s, reason.sell_order_time_s) == (5, 1)
    check_match_money(result.matches)


def test_incoming_sell_trades_at_resting_bids_and_stops_at_its_limit() -> None:
    book = book_of(buy("b1", 100, 60, seq=1), buy("b2", 100, 55, seq=2), buy("b3", 100, 49, seq=3))
    result = match_continuous(book, sell("s", 250, 50, time=1, seq=4), now_s=1)
    assert [(m.buy_order_id, m.price_micro_per_kwh) for m in result.matches] == [
        ("b1", 60),
        ("b2", 55),
    ]
    assert result.resting is not None and result.resting.residual_wh == 50
    assert book.best_ask() == 50 and book.best_bid() == 49


def test_fully_filled_incoming_does_not_rest() -> None:
    book = book_of(sell("s", 1000, 40))
    result = match_continuous(book, buy("b", 400, 40, time=1, seq=1), now_s=1)
    assert result.resting is None
    assert residuals(book) == {"s": 600}


def test_non_crossing_order_rests_unchanged() -> None:
    book = book_of(sell("s", 1000, 40))
    incoming = buy("b", 400, 39, time=1, seq=1)
    result = match_continuous(book, incoming, now_s=1)
    assert result.matches == () and result.resting == incoming
    assert len(book) == 2


def test_time_priority_among_resting_orders() -> None:
    book = book_of(
        sell("later", 10, 40, time=3, seq=1),
        sell("earlier", 10, 40, time=2, seq=9),
        sell("same_time_low_seq", 10, 40, time=3, seq=0),
    )
    result = match_continuous(book, buy("b", 25, 40, time=4, seq=10), now_s=4)
    assert [(m.sell_order_id, m.energy_wh) for m in result.matches] == [
        ("earlier", 10),
        ("same_time_low_seq", 10),
        ("later", 5),
    ]


def test_amended_order_loses_priority_for_continuous_matching() -> None:
    book = book_of(sell("a", 10, 40, time=1, seq=1), sell("b", 10, 40, time=2, seq=2))
    book.amend("a", now_s=3, energy_wh=10)
    result = match_continuous(book, buy("x", 10, 40, time=4, seq=9), now_s=4)
    assert result.matches[0].sell_order_id == "b"


def test_bounds_clamp_the_resting_price() -> None:
    bounds = PriceBounds(feed_in_price_micro_per_kwh=30, cap_price_micro_per_kwh=100)
    book = book_of(sell("cheap", 10, 10, seq=1))
    result = match_continuous(book, buy("b", 10, 500, time=1, seq=2), now_s=1, bounds=bounds)
    (m,) = result.matches
    assert m.price_micro_per_kwh == 30  # a seller never gets less than feed-in
    assert m.reason.clamped
    book = book_of(buy("rich", 10, 500, seq=1))
    result = match_continuous(book, sell("s", 10, 50, time=1, seq=2), now_s=1, bounds=bounds)
    assert result.matches[0].price_micro_per_kwh == 100  # a buyer never pays more than the cap


def test_sell_above_cap_does_not_cross_even_a_huge_bid() -> None:
    bounds = PriceBounds(30, 100)
    book = book_of(buy("rich", 10, 500, seq=1))
    result = match_continuous(book, sell("s", 10, 101, time=1, seq=2), now_s=1, bounds=bounds)
    assert result.matches == () and len(book) == 2


def test_self_trade_cancels_the_incoming_newer_order() -> None:
    book = book_of(
        sell("other", 10, 40, owner="bob", seq=1),
        sell("mine", 10, 41, owner="ann", seq=2),
        sell("other2", 10, 42, owner="carl", seq=3),
    )
    result = match_continuous(book, buy("ann_buy", 30, 50, owner="ann", time=1, seq=4), now_s=1)
    assert [m.sell_order_id for m in result.matches] == ["other"]
    assert [(o.order_id, o.residual_wh) for o in result.cancelled] == [("ann_buy", 20)]
    assert result.resting is None
    assert residuals(book) == {"mine": 10, "other2": 10}


def test_self_trade_cancels_a_newer_resting_order() -> None:
    # The resting order was issued after the incoming one (later order time): it goes.
    book = book_of(sell("mine", 10, 40, owner="ann", time=5, seq=2), sell("o", 10, 45, seq=3))
    result = match_continuous(book, buy("ann_buy", 15, 50, owner="ann", time=3, seq=1), now_s=6)
    assert [o.order_id for o in result.cancelled] == ["mine"]
    assert [(m.sell_order_id, m.energy_wh) for m in result.matches] == [("o", 10)]
    assert result.resting is not None and result.resting.residual_wh == 5


def test_incoming_order_is_checked_before_the_book_changes() -> None:
    book = book_of(sell("s", 10, 40, expiry=5), buy("dup", 1, 1))
    with pytest.raises(InvalidOrder) as future:
        match_continuous(book, buy("b", 10, 50, time=20), now_s=10)
    assert future.value.field == "order_time_s"
    with pytest.raises(InvalidOrder) as stale:
        match_continuous(book, buy("b", 10, 50, time=0, expiry=10), now_s=10)
    assert stale.value.field == "expiry_s"
    with pytest.raises(DuplicateOrder):
        match_continuous(book, buy("dup", 10, 50), now_s=10)
    with pytest.raises(InvalidOrder) as bad_now:
        match_continuous(book, buy("b", 10, 50), now_s=-1)
    assert bad_now.value.field == "now_s"
    assert len(book) == 2  # nothing expired, nothing matched


def test_expired_resting_orders_do_not_trade() -> None:
    book = book_of(sell("stale", 10, 40, expiry=5), sell("fresh", 10, 45))
    result = match_continuous(book, buy("b", 10, 50, time=5, seq=3), now_s=5)
    assert [o.order_id for o in result.expired] == ["stale"]
    assert [m.sell_order_id for m in result.matches] == ["fresh"]


def test_assign_sequence() -> None:
    book = book_of(sell("s", 10, 60, seq=7))
    result = match_continuous(book, buy("b", 10, 50, time=1), now_s=1, assign_sequence=True)
    assert result.resting is not None and result.resting.sequence == 8
    assert book.get("b").sequence == 8
    assert book.orders(Side.BUY)[0].sequence == 8
