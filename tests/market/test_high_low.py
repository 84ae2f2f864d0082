"""Seed 000's high-low matching (§2.2 (6), Fig. 4), price rules, the cap, self-trades."""

from __future__ import annotations

import pytest

from gridledger.market import (
    Mechanism,
    OrderBook,
    PriceBounds,
    PriceRule,
    Side,
    UnsupportedPriceRule,
    match_high_low,
)

from .helpers import book_of, buy, check_match_money, fills, residuals, sell

# Prices in micro-units per kWh (50_000 = 0.050 per kWh, the magnitude of seed 000
# Tables 2-3); energy in Wh.
CONSUMERS = [  # C1..C8: descending bid prices
    ("C1", 3_000, 55_000),
    ("C2", 2_000, 52_000),
    ("C3", 4_000, 50_000),
    ("C4", 3_000, 48_000),
    ("C5", 2_500, 46_000),
    ("C6", 2_000, 42_000),
    ("C7", 2_000, 38_000),
    ("C8", 5_000, 30_000),
]
PRODUCERS = [  # P1..P5: ascending ask prices
    ("P1", 4_000, 20_000),
    ("P2", 3_000, 25_000),
    ("P3", 5_000, 32_000),
    ("P4", 3_000, 45_000),
    ("P5", 4_000, 50_000),
]


def figure_4_book() -> OrderBook:
    orders = [buy(n, e, p, time=0, seq=i) for i, (n, e, p) in enumerate(CONSUMERS)]
    orders += [sell(n, e, p, time=0, seq=10 + i) for i, (n, e, p) in enumerate(PRODUCERS)]
    return book_of(*orders)


def test_seed_000_figure_4_high_low_matching() -> None:
    """Seed 000 Fig. 4: eight consumers C1-C8, five producers P1-P5.

    Reading of the figure: the text copy of the paper has the figure as an
    image without numbers; it shows the consumers' bids C1-C8 as a descending
    staircase and the producers' offers P1-P5 as an ascending staircase that
    cross, with the matched volume left of the crossing. We therefore choose
    quantities and prices (above) with that shape, and such that the walk
    exercises the three cases of §2.2 (6): the buyer's residual is smaller
    (C1 against P1: C1 filled, P1 stays at the head with 1000 Wh), the seller's
    is smaller (P1 against C2), and both are equal (C4 against P3's remaining
    3000 Wh: both filled). Matching stops at C6 (42_000) < P4 (45_000):
    C6-C8 and P5 stay untouched, P4 keeps 500 Wh.
    """
    book = figure_4_book()
    result = match_high_low(book, now_s=3_600)

    pairs = [
        (m.buy_order_id, m.sell_order_id, m.energy_wh, m.price_micro_per_kwh)
        for m in result.matches
    ]
    assert pairs == [
        ("C1", "P1", 3_000, 37_500),  # (55_000 + 20_000) // 2
        ("C2", "P1", 1_000, 36_000),
        ("C2", "P2", 1_000, 38_500),
        ("C3", "P2", 2_000, 37_500),
        ("C3", "P3", 2_000, 41_000),
        ("C4", "P3", 3_000, 40_000),  # equal residuals: both filled
        ("C5", "P4", 2_500, 45_500),
    ]
    assert residuals(book) == {"C6": 2_000, "C7": 2_000, "C8": 5_000, "P4": 500, "P5": 4_000}
    assert book.best_bid() == 42_000 and book.best_ask() == 45_000
    assert result.traded_wh == 14_500
    assert fills(result.matches) == {
        "C1": 3_000, "C2": 2_000, "C3": 4_000, "C4": 3_000, "C5": 2_500,
        "P1": 4_000, "P2": 3_000, "P3": 5_000, "P4": 2_500,
    }  # fmt: skip
    check_match_money(result.matches)
    first = result.matches[0]
    assert first.value_micro == 3_000 * 37_500 // 1000
    assert first.reason.mechanism is Mechanism.HIGH_LOW
    assert first.reason.price_rule is PriceRule.MIDPOINT
    assert (first.reason.bid_price_micro_per_kwh, first.reason.ask_price_micro_per_kwh) == (
        55_000,
        20_000,
    )
    assert (first.reason.buy_sequence, first.reason.sell_sequence) == (0, 10)
    assert not first.reason.clamped
    assert all(m.matched_at_s == 3_600 and m.delivery_period == 1 for m in result.matches)
    # A second clearing finds nothing more to do.
    assert match_high_low(book, now_s=3_601).matches == ()


@pytest.mark.parametrize(
    ("rule", "first_price"), [(PriceRule.BID, 55_000), (PriceRule.ASK, 20_000)]
)
def test_figure_4_with_bid_and_ask_price_rules(rule: PriceRule, first_price: int) -> None:
    book = figure_4_book()
    result = match_high_low(book, now_s=1, rule=rule)
    assert result.matches[0].price_micro_per_kwh == first_price
    assert result.traded_wh == 14_500  # the rule sets prices, never quantities
    assert all(m.reason.price_rule is rule for m in result.matches)


def test_unsupported_rule_is_refused_before_anything_changes() -> None:
    book = figure_4_book()
    with pytest.raises(UnsupportedPriceRule) as info:
        match_high_low(book, now_s=1, rule=PriceRule.UNIFORM)
    assert info.value.rule is PriceRule.UNIFORM
    assert len(book) == 13


def test_regulator_cap_clamps_the_price() -> None:
    """C1 bids above the cap: it is treated as bidding the cap (the regulator sells there)."""
    book = figure_4_book()
    bounds = PriceBounds(feed_in_price_micro_per_kwh=22_000, cap_price_micro_per_kwh=54_000)
    result = match_high_low(book, now_s=1, bounds=bounds)
    first = result.matches[0]
    # effective bid 54_000 (cap), effective ask 22_000 (P1's 20_000 lifted to feed-in)
    assert first.price_micro_per_kwh == (54_000 + 22_000) // 2
    assert first.reason.clamped
    assert first.reason.bid_price_micro_per_kwh == 55_000  # the limit as submitted
    assert all(22_000 <= m.price_micro_per_kwh <= 54_000 for m in result.matches)
    assert not result.matches[-1].reason.clamped  # C5/P4 were inside the bounds


def test_cap_bounds_a_bid_rule_price() -> None:
    book = book_of(buy("b", 10, 900), sell("s", 10, 100))
    result = match_high_low(book, now_s=1, rule=PriceRule.BID, bounds=PriceBounds(50, 300))
    assert result.matches[0].price_micro_per_kwh == 300


def test_sell_above_the_cap_never_trades() -> None:
    book = book_of(buy("b", 10, 900), sell("s", 10, 400))
    result = match_high_low(book, now_s=1, bounds=PriceBounds(50, 300))
    assert result.matches == ()
    assert len(book) == 2


def test_ties_resolved_by_time_then_sequence() -> None:
    book = book_of(
        buy("b_late", 10, 50, time=5, seq=0),
        buy("b_seq2", 10, 50, time=1, seq=2),
        buy("b_seq1", 10, 50, time=1, seq=1),
        sell("s", 25, 50, time=0, seq=3),
    )
    result = match_high_low(book, now_s=10)
    assert [(m.buy_order_id, m.energy_wh) for m in result.matches] == [
        ("b_seq1", 10),
        ("b_seq2", 10),
        ("b_late", 5),
    ]
    assert residuals(book) == {"b_late": 5}


def test_self_trade_cancels_the_newer_order() -> None:
    """Policy: when an owner's best buy meets its own best sell, the newer is cancelled."""
    book = book_of(
        buy("ann_buy", 10, 60, owner="ann", time=1, seq=1),
        sell("ann_sell", 10, 40, owner="ann", time=2, seq=2),  # newer: cancelled
        sell("bob_sell", 10, 50, owner="bob", time=3, seq=3),
    )
    result = match_high_low(book, now_s=10)
    assert [o.order_id for o in result.cancelled] == ["ann_sell"]
    assert result.cancelled[0].residual_wh == 10
    assert [(m.buyer, m.seller) for m in result.matches] == [("ann", "bob")]
    assert len(book) == 0


def test_self_trade_keeps_the_older_and_matching_goes_on() -> None:
    book = book_of(
        sell("ann_sell", 10, 40, owner="ann", time=1, seq=1),
        buy("ann_buy", 10, 60, owner="ann", time=2, seq=2),  # newer: cancelled
        buy("bob_buy", 4, 55, owner="bob", time=3, seq=3),
    )
    result = match_high_low(book, now_s=10)
    assert [o.order_id for o in result.cancelled] == ["ann_buy"]
    assert [(m.buyer, m.seller, m.energy_wh) for m in result.matches] == [("bob", "ann", 4)]
    assert residuals(book) == {"ann_sell": 6}


def test_expired_orders_are_removed_before_matching() -> None:
    book = book_of(buy("old", 10, 90, expiry=100), buy("b", 10, 50), sell("s", 10, 40))
    result = match_high_low(book, now_s=100)
    assert [o.order_id for o in result.expired] == ["old"]
    assert [m.buy_order_id for m in result.matches] == ["b"]


def test_one_side_empty_does_nothing() -> None:
    book = book_of(buy("b", 10, 50))
    result = match_high_low(book, now_s=1)
    assert result.matches == () and len(book) == 1
    assert book.orders(Side.BUY)[0].residual_wh == 10
