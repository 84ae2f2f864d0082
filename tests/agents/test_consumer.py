"""Seed 000's consumer (eq. 5) against hand-computed periods."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridledger.agents.consumer import (
    CASE_STUDY_CONSUMERS,
    ConsumerParameters,
    ConsumerState,
    LearningConsumer,
    consumer_profit_micro,
    update_consumer,
)
from gridledger.agents.interfaces import Bid, MarketView, Outcome, PriceBand
from gridledger.agents.learning import ProfitMemory

BAND = PriceBand(feed_in_micro_per_kwh=20_000, grid_micro_per_kwh=60_000, cap_micro_per_kwh=60_000)
PARAMETERS = ConsumerParameters(
    initial_price_micro_per_kwh=47_000,
    valuation_micro_per_kwh=48_000,
    price_step_micro_per_kwh=1_000,
    profit_threshold_micro=100,
)


def view(deficit_wh: int, band: PriceBand = BAND) -> MarketView:
    return MarketView(1, band, (), 0, deficit_wh)


def bought(wanted: int, energy: int, value: int) -> Outcome:
    return Outcome(1, 0, 0, wanted, energy, 0, value, 0, None)


def test_profit_is_quantity_times_valuation_minus_price() -> None:
    # 1,000 Wh bought for 47,000 micro, valued at 48,000 micro/kWh:
    # ε = 1,000 × 48,000 / 1,000 - 47,000 = 1,000
    assert consumer_profit_micro(48_000, bought(1_000, 1_000, 47_000)) == 1_000
    assert consumer_profit_micro(48_000, bought(1_000, 0, 0)) == 0


def test_eq5_over_five_periods() -> None:
    state = ConsumerState(47_000.0, 48_000)
    # 1) first profit 1,000 → flat; magnitude D = 0.4, coin 0.2 < 1/2 → up: 47,000 + 400
    state = update_consumer(PARAMETERS, state, 1_000.0, 0.4, 0.2)
    assert state.price_micro_per_kwh == pytest.approx(47_400)
    # 2) profit 600: -400 < -ξ → p - Δp = 46,400
    state = update_consumer(PARAMETERS, state, 600.0, 0.4, 0.2)
    assert state.price_micro_per_kwh == pytest.approx(46_400)
    # 3) profit 800: +200 > ξ → p + Δp = 47,400
    state = update_consumer(PARAMETERS, state, 800.0, 0.4, 0.2)
    assert state.price_micro_per_kwh == pytest.approx(47_400)
    # 4) profit 750: -50 within ξ → flat; D = 0.6, coin 0.7 >= 1/2 → down: 47,400 - 600 = 46,800
    state = update_consumer(PARAMETERS, state, 750.0, 0.6, 0.7)
    assert state.price_micro_per_kwh == pytest.approx(46_800)
    # 5) a loss, ε = -500 < 0 → p = c = 48,000
    state = update_consumer(PARAMETERS, state, -500.0, 0.6, 0.7)
    assert state.price_micro_per_kwh == 48_000
    assert state.memory == ProfitMemory(-500.0, 800.0, 600.0 - 500.0)


def test_price_never_exceeds_the_valuation() -> None:
    # rise from 47,800: 47,800 + 1,000 = 48,800 > c → 48,000
    state = ConsumerState(47_800.0, 48_000, ProfitMemory(0.0))
    assert update_consumer(PARAMETERS, state, 500.0, 0.5, 0.5).price_micro_per_kwh == 48_000


def test_strategy_bids_the_whole_deficit_and_learns() -> None:
    consumer = LearningConsumer(PARAMETERS)
    rng = random.Random(3)
    assert consumer.bid(view(2_500), rng) == [Bid("buy", 2_500, 47_000)]
    # bought 2,000 of 2,500 Wh for 94,000: ε = 2,000 × 48 - 94,000 = 2,000
    consumer.learn(bought(2_500, 2_000, 94_000))
    assert consumer.pending_profit_micro == 2_000
    check = random.Random(3)
    check.random(), check.random()
    draw, sign = check.random(), check.random()
    expected = update_consumer(PARAMETERS, ConsumerState(47_000.0, 48_000), 2_000.0, draw, sign)
    assert consumer.bid(view(2_500), rng) == [
        Bid("buy", 2_500, round(expected.price_micro_per_kwh))
    ]


def test_the_valuation_defaults_to_the_grid_price() -> None:
    consumer = LearningConsumer(ConsumerParameters(initial_price_micro_per_kwh=90_000))
    # 90,000 is above the grid price 60,000 = c: the bid is held at c
    assert consumer.bid(view(1_000), random.Random(1)) == [Bid("buy", 1_000, 60_000)]
    assert consumer.state.valuation_micro_per_kwh == 60_000


def test_no_deficit_no_bid() -> None:
    consumer = LearningConsumer(PARAMETERS)
    assert consumer.bid(view(0), random.Random(1)) == []
    consumer.learn(bought(0, 0, 0))
    assert consumer.pending_profit_micro is None


def test_case_study_table_3_is_copied_as_printed() -> None:
    # the paper prints "Total 1" but its rows add up to 0.1 + 0.16 + 0.3 + 0.08 + 0.06
    # + 0.2 + 0.12 = 1.02: kept as printed, normalise when splitting a demand
    assert sum(c.demand_share_percent for c in CASE_STUDY_CONSUMERS) == pytest.approx(102)
    assert all(
        c.valuation_micro_per_kwh - c.initial_price_micro_per_kwh == 1_000
        for c in CASE_STUDY_CONSUMERS
    )


@given(
    seed=st.integers(0, 2**32),
    initial=st.integers(1, 200_000),
    valuation=st.one_of(st.none(), st.integers(1, 200_000)),
    deficits=st.lists(st.integers(0, 50_000), min_size=1, max_size=12),
    fills=st.lists(st.floats(0, 1), min_size=12, max_size=12),
    feed_in=st.integers(0, 50_000),
    spread=st.integers(1, 50_000),
)
def test_bids_are_positive_integers_within_the_band(
    seed: int,
    initial: int,
    valuation: int | None,
    deficits: list[int],
    fills: list[float],
    feed_in: int,
    spread: int,
) -> None:
    band = PriceBand(feed_in, feed_in + spread, feed_in + spread)
    consumer = LearningConsumer(ConsumerParameters(initial, valuation, 2_000, 50))
    rng = random.Random(seed)
    for deficit, fill in zip(deficits, fills, strict=False):
        bids = consumer.bid(view(deficit, band), rng)
        for bid in bids:
            assert bid.side == "buy" and bid.energy_wh == deficit
            assert isinstance(bid.price_micro_per_kwh, int)
            assert 0 < bid.price_micro_per_kwh <= band.cap_micro_per_kwh
            assert bid.price_micro_per_kwh <= (valuation or band.grid_micro_per_kwh)
        got = int(deficit * fill) if bids else 0
        value = got * (bids[0].price_micro_per_kwh if bids else 0) // 1000
        consumer.learn(bought(deficit if bids else 0, got, value))
