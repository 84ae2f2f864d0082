"""The zero-intelligence baseline: whole position, random prices inside the band."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.agents.interfaces import MarketView, Outcome, PriceBand
from gridledger.agents.zero_intelligence import ZeroIntelligence

BAND = PriceBand(770_000, 850_000, 850_000)


def view(surplus: int, deficit: int, band: PriceBand = BAND) -> MarketView:
    return MarketView(1, band, (), surplus, deficit)


@settings(deadline=None)
@given(
    surplus=st.integers(0, 10**6),
    deficit=st.integers(0, 10**6),
    feed_in=st.integers(1, 10**6),
    spread=st.integers(0, 10**6),
    seed=st.integers(0, 2**32),
)
def test_bids_cover_the_position_at_prices_inside_the_band(
    surplus: int, deficit: int, feed_in: int, spread: int, seed: int
) -> None:
    band = PriceBand(feed_in, feed_in + spread, feed_in + spread)
    bids = ZeroIntelligence().bid(view(surplus, deficit, band), random.Random(seed))
    assert sum(b.energy_wh for b in bids if b.side == "sell") == surplus
    assert sum(b.energy_wh for b in bids if b.side == "buy") == deficit
    for bid in bids:
        assert band.feed_in_micro_per_kwh <= bid.price_micro_per_kwh <= band.cap_micro_per_kwh


def test_same_seed_same_bids_and_nothing_learned() -> None:
    strategy = ZeroIntelligence()
    first = strategy.bid(view(500, 0), random.Random(7))
    strategy.learn(Outcome(1, 500, 500, 0, 0, 400_000, 0, 0, 800_000))
    assert strategy.bid(view(500, 0), random.Random(7)) == first
    assert ZeroIntelligence().bid(view(0, 0), random.Random(7)) == []


def test_prices_are_spread_over_the_band() -> None:
    rng = random.Random(1)
    prices = {ZeroIntelligence().bid(view(0, 100), rng)[0].price_micro_per_kwh for _ in range(200)}
    assert min(prices) < 790_000 and max(prices) > 830_000
