"""The arbitrage battery: it charges in the cheap hours, sells in the dear ones above what the
round trip costs, trades only its position otherwise, and never bids against itself."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.agents.arbitrage import ArbitrageParameters, BatteryArbitrage
from gridledger.agents.interfaces import MarketView, PriceBand, StorageView

BAND = PriceBand(80_000, 320_000, 320_000)
PROFILE = tuple([90_000] * 6 + [150_000] * 12 + [300_000] * 6)
"""Hours 0-5 cheap, 18-23 dear."""


def view(slot: int, surplus: int = 0, deficit: int = 0, soc: int = 5_000, profile=PROFILE):
    return MarketView(
        period=slot,
        prices=BAND,
        price_history_micro_per_kwh=(),
        surplus_wh=surplus,
        deficit_wh=deficit,
        storage=StorageView(soc, 10_000, 5_000, 5_000),
        hourly_prices_micro_per_kwh=profile,
        period_of_day=slot,
    )


def bids(v: MarketView) -> list[tuple[str, int, int]]:
    strategy = BatteryArbitrage(ArbitrageParameters())
    return [(b.side, b.energy_wh, b.price_micro_per_kwh) for b in strategy.bid(v, random.Random(1))]


def test_cheap_hour_buys_to_charge_beyond_its_own_surplus() -> None:
    assert bids(view(2, surplus=1_000, soc=8_000)) == [("buy", 1_000, 90_000)]
    [sell] = bids(view(2, surplus=3_000, soc=8_000))  # charging takes 2 kWh of it
    assert sell[:2] == ("sell", 1_000)


def test_dear_hour_sells_down_to_the_reserve_above_the_round_trip() -> None:
    assert bids(view(20, soc=5_000)) == [("sell", 4_000, 300_000)]
    [buy] = bids(view(20, deficit=4_500, soc=5_000))  # its own need first
    assert buy[:2] == ("buy", 500)
    # dear hours that do not pay for the round trip: 100_000 / 0.9 > 95_000, it holds
    flat = tuple([90_000] * 6 + [95_000] * 18)
    assert bids(view(20, soc=5_000, profile=flat)) == []


def test_without_enough_prices_it_trades_its_position_only() -> None:
    few = tuple([None] * 20 + [100_000] * 4)
    [sell] = bids(view(22, surplus=700, profile=few))
    assert sell[:2] == ("sell", 700) and 80_000 <= sell[2] <= 320_000
    assert bids(view(22, profile=())) == []


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 23),
    st.integers(0, 6_000),
    st.integers(0, 6_000),
    st.integers(0, 10_000),
    st.lists(st.one_of(st.none(), st.integers(1, 400_000)), min_size=24, max_size=24),
)
def test_it_never_bids_on_both_sides(slot, surplus, deficit, soc, profile) -> None:
    if surplus and deficit:
        deficit = 0  # a position is one or the other
    placed = bids(view(slot, surplus, deficit, soc, tuple(profile)))
    assert len({side for side, _, _ in placed}) <= 1
    assert all(energy > 0 and price >= 1 for _, energy, price in placed)


def test_bad_parameters_are_named() -> None:
    with pytest.raises(ValueError, match="reserve_permille"):
        ArbitrageParameters(reserve_permille=1_001)
    with pytest.raises(ValueError, match="round_trip_permille"):
        ArbitrageParameters(round_trip_permille=0)
    with pytest.raises(ValueError, match="charge_hours"):
        ArbitrageParameters(charge_hours=-1)
