"""Seed 000's speculator: the window rule and the battery's bounds."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridledger.agents.interfaces import Bid, MarketView, Outcome, PriceBand, StorageView
from gridledger.agents.speculator import (
    Speculator,
    SpeculatorParameters,
    buy_room_wh,
    relative_change,
    sell_room_wh,
    speculator_bids,
)

BAND = PriceBand(feed_in_micro_per_kwh=700, grid_micro_per_kwh=900, cap_micro_per_kwh=900)
BATTERY = StorageView(
    state_of_charge_wh=4_000, capacity_wh=10_000, max_charge_wh=3_000, max_discharge_wh=2_500
)
RULE = SpeculatorParameters(window_periods=3, buy_below=-0.02, sell_above=0.02)


def view(history: tuple[int, ...], storage: StorageView | None = BATTERY) -> MarketView:
    return MarketView(9, BAND, history, 0, 0, storage)


def test_relative_change_over_the_window() -> None:
    # τ = 3 over (800, 880, 720, 760): (760 - 800) / 800 = -0.05
    assert relative_change((800, 880, 720, 760), 3) == pytest.approx(-0.05)
    # only the last τ + 1 matter: (840 - 800) / 800 = +0.05
    assert relative_change((1, 800, 880, 720, 840), 3) == pytest.approx(0.05)
    assert relative_change((800, 880, 720), 3) is None  # too short
    assert relative_change((0, 880, 720, 760), 3) is None  # no base


def test_a_fall_below_the_threshold_buys_at_the_last_price_within_the_charge_limit() -> None:
    # -5 % < -2 %: buy min(max_charge 3,000, headroom 10,000 - 4,000) = 3,000 Wh at 760
    assert speculator_bids(RULE, view((800, 880, 720, 760)), None) == [Bid("buy", 3_000, 760)]


def test_a_rise_above_the_threshold_sells_within_the_discharge_limit() -> None:
    # +5 % > +2 %: sell min(max_discharge 2,500, charge 4,000) = 2,500 Wh at 840
    assert speculator_bids(RULE, view((800, 880, 720, 840)), None) == [Bid("sell", 2_500, 840)]
    # bought at 830 with a 5 % margin: at least ceil(830 × 1.05) = 872 > 840
    margin = SpeculatorParameters(3, -0.02, 0.02, min_margin=0.05)
    assert speculator_bids(margin, view((800, 880, 720, 840)), 830.0) == [Bid("sell", 2_500, 872)]


def test_within_the_thresholds_it_holds() -> None:
    # (808 - 800) / 800 = +1 %, inside ±2 %
    assert speculator_bids(RULE, view((800, 880, 720, 808)), None) == []
    assert speculator_bids(RULE, view((800, 880, 720, 760), storage=None), None) == []


def test_prices_are_kept_in_the_band() -> None:
    # last price 600 is below the feed-in price 700: the buy is placed at 700
    assert speculator_bids(RULE, view((800, 800, 800, 600)), None) == [Bid("buy", 3_000, 700)]


def test_the_headroom_limits_a_buy_even_if_the_power_limit_would_allow_more() -> None:
    nearly_full = StorageView(9_500, 10_000, 3_000, 2_500)
    assert buy_room_wh(nearly_full) == 500
    assert sell_room_wh(StorageView(1_000, 10_000, 3_000, 2_500)) == 1_000


def test_it_tracks_the_mean_cost_of_what_it_bought() -> None:
    speculator = Speculator(RULE)
    assert speculator.stored_cost_micro_per_kwh is None
    # bought 2,000 Wh for 1,500 micro: 1,500 × 1,000 / 2,000 = 750 micro/kWh
    speculator.learn(Outcome(1, 0, 0, 2_000, 2_000, 0, 1_500, 0, 700))
    assert speculator.stored_cost_micro_per_kwh == pytest.approx(750)
    # sold 500 Wh: 1,500 Wh left, still at 750
    speculator.learn(Outcome(2, 500, 500, 0, 0, 420, 0, 0, 840))
    assert speculator.held_wh == 1_500
    assert speculator.stored_cost_micro_per_kwh == pytest.approx(750)
    # bought 1,500 more for 1,200 micro: (1,125 + 1,200) × 1,000 / 3,000 = 775
    speculator.learn(Outcome(3, 0, 0, 1_500, 1_500, 0, 1_200, 0, 800))
    assert speculator.stored_cost_micro_per_kwh == pytest.approx(775)


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError):
        SpeculatorParameters(window_periods=0)
    with pytest.raises(ValueError):
        SpeculatorParameters(buy_below=0.1, sell_above=0.0)
    with pytest.raises(ValueError):
        SpeculatorParameters(trade_share=0)


storages = st.integers(0, 20_000).flatmap(
    lambda capacity: st.builds(
        StorageView,
        state_of_charge_wh=st.integers(0, capacity),
        capacity_wh=st.just(capacity),
        max_charge_wh=st.integers(0, 10_000),
        max_discharge_wh=st.integers(0, 10_000),
    )
)


@given(
    storage=storages,
    history=st.lists(st.integers(1, 2_000), min_size=0, max_size=8).map(tuple),
    window=st.integers(1, 4),
    threshold=st.floats(-0.5, 0.5),
    width=st.floats(0, 0.5),
    share=st.floats(0.01, 1),
    held=st.one_of(st.none(), st.floats(0, 5_000)),
)
def test_never_bids_beyond_the_battery(
    storage: StorageView,
    history: tuple[int, ...],
    window: int,
    threshold: float,
    width: float,
    share: float,
    held: float | None,
) -> None:
    rule = SpeculatorParameters(window, threshold, threshold + width, share)
    bids = Speculator(rule).bid(view(history, storage), random.Random(0))
    assert len(bids) <= 1
    for bid in [*bids, *speculator_bids(rule, view(history, storage), held)]:
        assert isinstance(bid.energy_wh, int) and bid.energy_wh > 0
        assert BAND.feed_in_micro_per_kwh <= bid.price_micro_per_kwh <= BAND.cap_micro_per_kwh
        if bid.side == "buy":
            assert bid.energy_wh <= storage.max_charge_wh
            assert bid.energy_wh <= storage.capacity_wh - storage.state_of_charge_wh
        else:
            assert bid.energy_wh <= storage.max_discharge_wh
            assert bid.energy_wh <= storage.state_of_charge_wh
