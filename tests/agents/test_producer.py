"""Seed 000's producer (eqs. 1–4) against hand-computed periods."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridledger.agents.interfaces import Bid, MarketView, Outcome, PriceBand
from gridledger.agents.learning import ProfitMemory
from gridledger.agents.producer import (
    CASE_STUDY_GENERATORS,
    LearningProducer,
    ProducerParameters,
    ProducerState,
    producer_profit_micro,
    update_producer,
)

BAND = PriceBand(feed_in_micro_per_kwh=10_000, grid_micro_per_kwh=60_000, cap_micro_per_kwh=60_000)
PARAMETERS = ProducerParameters(
    production_cost_micro_per_kwh=16_000,
    initial_price_micro_per_kwh=17_000,
    price_step_micro_per_kwh=1_000,
    quantity_step_share=0.1,
    initial_quantity_share=0.5,
    profit_threshold_micro=1_000,
    breakdown_loss_micro=1_000_000,
)


def view(surplus_wh: int, band: PriceBand = BAND) -> MarketView:
    return MarketView(1, band, (), surplus_wh, 0)


def outcome(offered: int, sold: int, value: int, penalty: int = 0) -> Outcome:
    return Outcome(1, offered, sold, 0, 0, value, 0, penalty, None)


def test_eq1_profit_when_selling_and_the_breakdown_loss_when_not() -> None:
    # 1,600 Wh sold for 27,200 micro at cost 16,000 micro/kWh:
    # ε = 27,200 - 1,600 × 16,000 / 1,000 = 27,200 - 25,600 = 1,600
    assert producer_profit_micro(PARAMETERS, outcome(1_600, 1_600, 27_200)) == 1_600
    # settlement penalties are part of the profit: 1,600 - 500 = 1,100
    assert producer_profit_micro(PARAMETERS, outcome(1_600, 1_600, 27_200, 500)) == 1_100
    # offered but sold nothing (p = 0): ε = -σ
    assert producer_profit_micro(PARAMETERS, outcome(1_600, 0, 0)) == -1_000_000


def test_eqs_3_and_4_over_six_periods() -> None:
    state = ProducerState(17_000.0, 0.5)
    # 1) first profit 1,600: no previous → flat, pol_s = 0.5 (no evidence), D = 0.3 < 0.5 → up
    #    p = 17,000 + 1,000 × 0.3 = 17,300; θ = 0.5 + 0.1 × 0.3 = 0.53
    state = update_producer(PARAMETERS, state, 1_600.0, 0.3)
    assert state.price_micro_per_kwh == pytest.approx(17_300)
    assert state.quantity_share == pytest.approx(0.53)
    assert state.memory == ProfitMemory(1_600.0, 0.0, 0.0)
    # 2) profit 4,000: +2,400 > ξ → rise: p = 18,300, θ = 0.63, ε_s = 4,000
    state = update_producer(PARAMETERS, state, 4_000.0, 0.99)
    assert state.price_micro_per_kwh == pytest.approx(18_300)
    assert state.quantity_share == pytest.approx(0.63)
    assert state.memory.success_micro == 4_000
    # 3) profit 1,000: -3,000 < -ξ → fall: p = 17,300, θ = 0.53, ε_d = 1,000
    state = update_producer(PARAMETERS, state, 1_000.0, 0.01)
    assert state.price_micro_per_kwh == pytest.approx(17_300)
    assert state.quantity_share == pytest.approx(0.53)
    assert state.memory.decline_micro == 1_000
    # 4) profit 1,500: +500 within ξ → flat; pol_s = 4,000 / 5,000 = 0.8; D = 0.7 < 0.8 → up
    #    p = 17,300 + 700 = 18,000; θ = 0.53 + 0.07 = 0.60
    state = update_producer(PARAMETERS, state, 1_500.0, 0.7)
    assert state.price_micro_per_kwh == pytest.approx(18_000)
    assert state.quantity_share == pytest.approx(0.60)
    # 5) profit 1,200: -300 → flat; D = 0.9 >= 0.8 → down: p = 18,000 - 900 = 17,100;
    #    θ = 0.60 - 0.09 = 0.51
    state = update_producer(PARAMETERS, state, 1_200.0, 0.9)
    assert state.price_micro_per_kwh == pytest.approx(17_100)
    assert state.quantity_share == pytest.approx(0.51)
    # 6) breakdown: ε = -1,000,000 → fall (θ = 0.41, ε_d = 1,000 - 1,000,000) and, as
    #    ε < 0, p = c = 16,000
    state = update_producer(PARAMETERS, state, -1_000_000.0, 0.5)
    assert state.price_micro_per_kwh == 16_000
    assert state.quantity_share == pytest.approx(0.41)
    assert state.memory.decline_micro == -999_000


def test_price_never_falls_below_cost_and_share_stays_in_unit_interval() -> None:
    # profit 5,000 → 2,000 is a fall (-3,000 < -ξ) with a positive profit, so no reset:
    # p = 16,200 - 1,000 = 15,200 < c → held at c = 16,000; θ = 0.05 - 0.1 < 0 → 0
    near_cost = ProducerState(16_200.0, 0.05, ProfitMemory(5_000.0))
    fallen = update_producer(PARAMETERS, near_cost, 2_000.0, 0.5)
    assert fallen.price_micro_per_kwh == 16_000
    assert fallen.quantity_share == 0.0
    # profit 0 → 5,000 is a rise: θ = 0.97 + 0.1 → clipped to 1
    full = update_producer(PARAMETERS, ProducerState(20_000.0, 0.97, ProfitMemory(0.0)), 5e3, 0.5)
    assert full.quantity_share == 1.0


def test_strategy_bids_its_share_then_learns_with_the_generators_draw() -> None:
    producer = LearningProducer(PARAMETERS)
    rng = random.Random(7)
    assert producer.bid(view(1_600), rng) == [_sell(800, 17_000)]  # θ^0 = 0.5 of 1,600 Wh
    # sold all 800 Wh at 17,000: value 13,600; ε = 13,600 - 800 × 16 = 800 (flat, first period)
    producer.learn(outcome(800, 800, 13_600))
    expected = update_producer(PARAMETERS, ProducerState(17_000.0, 0.5), 800.0, _draws(7, 2)[1])
    [bid] = producer.bid(view(1_600), rng)
    assert bid.price_micro_per_kwh == round(expected.price_micro_per_kwh)
    assert bid.energy_wh == int(expected.quantity_share * 1_600)


def test_no_surplus_no_bid_and_no_lesson() -> None:
    producer = LearningProducer(PARAMETERS)
    assert producer.bid(view(0), random.Random(1)) == []
    producer.learn(outcome(0, 0, 0))
    assert producer.pending_profit_micro is None


def test_withholding_the_whole_surplus_costs_the_breakdown_loss() -> None:
    producer = LearningProducer(ProducerParameters(16_000, 17_000, initial_quantity_share=0.0))
    assert producer.bid(view(1_600), random.Random(1)) == []  # θ = 0: nothing offered
    producer.learn(outcome(0, 0, 0))
    assert producer.pending_profit_micro == -1_000_000  # ε = -σ


def test_cost_above_the_cap_means_no_offer() -> None:
    dear = LearningProducer(ProducerParameters(70_000, 71_000))
    assert dear.bid(view(1_000), random.Random(1)) == []


def test_case_study_table_2_adds_up_to_seven_point_two_kwh() -> None:
    assert sum(g.supply_wh for g in CASE_STUDY_GENERATORS) == 7_200
    assert all(
        g.initial_price_micro_per_kwh - g.production_cost_micro_per_kwh == 1_000
        for g in CASE_STUDY_GENERATORS
    )


@pytest.mark.parametrize(
    "field, value",
    [
        ("production_cost_micro_per_kwh", -1),
        ("initial_price_micro_per_kwh", 0),
        ("quantity_step_share", 1.5),
        ("breakdown_loss_micro", -1),
    ],
)
def test_bad_parameters_are_refused(field: str, value: float) -> None:
    arguments: dict[str, float] = {
        "production_cost_micro_per_kwh": 1,
        "initial_price_micro_per_kwh": 2,
        field: value,
    }
    with pytest.raises(ValueError):
        ProducerParameters(**arguments)  # type: ignore[arg-type]


@given(
    seed=st.integers(0, 2**32),
    cost=st.integers(0, 100_000),
    surpluses=st.lists(st.integers(0, 50_000), min_size=1, max_size=12),
    sold_share=st.lists(st.floats(0, 1), min_size=12, max_size=12),
    feed_in=st.integers(0, 50_000),
    spread=st.integers(0, 50_000),
)
def test_bids_are_positive_integers_within_the_band_and_the_surplus(
    seed: int, cost: int, surpluses: list[int], sold_share: list[float], feed_in: int, spread: int
) -> None:
    band = PriceBand(feed_in, feed_in + spread, feed_in + spread)
    producer = LearningProducer(ProducerParameters(cost, cost + 1_000, 3_000, 0.2, 1.0))
    rng = random.Random(seed)
    for surplus, share in zip(surpluses, sold_share, strict=False):
        bids = producer.bid(view(surplus, band), rng)
        for bid in bids:
            assert bid.side == "sell"
            assert isinstance(bid.energy_wh, int) and 0 < bid.energy_wh <= surplus
            assert isinstance(bid.price_micro_per_kwh, int)
            assert max(1, cost, feed_in) <= bid.price_micro_per_kwh <= band.cap_micro_per_kwh
        offered = sum(b.energy_wh for b in bids)
        sold = int(offered * share)
        value = sold * (bids[0].price_micro_per_kwh if bids else 0) // 1000
        producer.learn(outcome(offered, sold, value))


def _sell(energy_wh: int, price: int) -> Bid:
    return Bid("sell", energy_wh, price)


def _draws(seed: int, count: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.random() for _ in range(count)]
