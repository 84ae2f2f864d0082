"""The regulator's standing offer at the cap and the grid's standing bid at feed-in."""

from __future__ import annotations

from gridledger.market import (
    GRID,
    REGULATOR,
    Mechanism,
    PriceBounds,
    PriceRule,
    match_against_standing_offers,
    match_high_low,
)

from .helpers import book_of, buy, check_match_money, residuals, sell

BOUNDS = PriceBounds(feed_in_price_micro_per_kwh=30_000, cap_price_micro_per_kwh=300_000)


def test_unmatched_residuals_go_to_the_standing_offers_after_peer_matching() -> None:
    book = book_of(
        buy("urgent", 5_000, 400_000, time=1, seq=1),  # above the cap
        buy("at_cap", 1_000, 300_000, time=2, seq=2),
        buy("patient", 2_000, 100_000, time=3, seq=3),
        sell("peer", 3_000, 90_000, time=1, seq=4),
        sell("dump", 700, 10_000, time=4, seq=5),  # below feed-in, but a peer buys it first
        sell("surplus", 900, 30_000, time=5, seq=6),
        sell("pricey", 400, 350_000, time=6, seq=7),  # above the cap: nobody buys
    )
    peer = match_high_low(book, now_s=3_600, bounds=BOUNDS)
    # urgent counts as bidding the cap; dump counts as asking the feed-in price
    assert [
        (m.buy_order_id, m.sell_order_id, m.energy_wh, m.price_micro_per_kwh) for m in peer.matches
    ] == [
        ("urgent", "dump", 700, 165_000),
        ("urgent", "surplus", 900, 165_000),
        ("urgent", "peer", 3_000, 195_000),
    ]
    assert residuals(book) == {"urgent": 400, "at_cap": 1_000, "patient": 2_000, "pricey": 400}
    standing = match_against_standing_offers(book, now_s=3_600, bounds=BOUNDS)
    check_match_money(standing.matches)
    assert residuals(book) == {"patient": 2_000, "pricey": 400}
    by_buyer = {m.buy_order_id: m for m in standing.matches}
    assert set(by_buyer) == {"urgent", "at_cap"}
    urgent = by_buyer["urgent"]
    assert (urgent.seller, urgent.sell_order_id) == (REGULATOR, REGULATOR)
    assert urgent.energy_wh == 400
    assert by_buyer["at_cap"].energy_wh == 1_000
    assert urgent.price_micro_per_kwh == 300_000
    assert urgent.reason.mechanism is Mechanism.STANDING_OFFER
    assert urgent.reason.price_rule is PriceRule.STANDING
    assert urgent.reason.clamped and not by_buyer["at_cap"].reason.clamped
    assert urgent.reason.sell_order_time_s is None and urgent.reason.sell_sequence is None


def test_grid_buys_sells_at_or_below_feed_in() -> None:
    book = book_of(
        sell("low", 800, 10_000, seq=1),
        sell("at", 200, 30_000, seq=2),
        sell("above", 100, 30_001, seq=3),
    )
    result = match_against_standing_offers(book, now_s=10, bounds=BOUNDS)
    assert [
        (m.sell_order_id, m.buyer, m.buy_order_id, m.price_micro_per_kwh) for m in result.matches
    ] == [
        ("low", GRID, GRID, 30_000),
        ("at", GRID, GRID, 30_000),
    ]
    assert result.matches[0].value_micro == 800 * 30_000 // 1000
    assert result.matches[0].reason.clamped and not result.matches[1].reason.clamped
    assert residuals(book) == {"above": 100}


def test_nothing_to_fill_when_limits_are_inside_the_bounds() -> None:
    book = book_of(buy("b", 10, 100_000), sell("s", 10, 200_000))
    result = match_against_standing_offers(book, now_s=1, bounds=BOUNDS)
    assert result.matches == () and len(book) == 2
