"""The operator's pricing agent: forecast positions in, `pricing.post_price` arguments out,
accepted by the contract on a real chain."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.agents.interfaces import PriceBand
from gridledger.agents.pricing_agent import (
    HouseholdPosition,
    PriceOperator,
    integer_price,
    split_positions,
)
from gridledger.contracts.pricing import posted_price
from gridledger.market.pricing import GameRule, Regime
from tests.community import GENESIS_TIME_MS, NEXT_PERIOD, Community, run_at

BAND = PriceBand(
    feed_in_micro_per_kwh=770_000, grid_micro_per_kwh=850_000, cap_micro_per_kwh=850_000
)

# seed 003, period 12 (Tables 8-9), in Wh
PERIOD_12 = [
    HouseholdPosition("user1", 18_390, 1_860),
    HouseholdPosition("user2", 9_200, 1_190),
    HouseholdPosition("user3", 3_670, 15_210),
    HouseholdPosition("user4", 5_520, 13_560),
    HouseholdPosition("user5", 13_790, 22_710),
]


def test_sellers_are_households_with_positive_net_output() -> None:
    sellers, buyers = split_positions([*PERIOD_12, HouseholdPosition("even", 500, 500)])
    assert [p.member for p in sellers] == ["user1", "user2"]
    assert [p.member for p in buyers] == ["user3", "user4", "user5"]


def test_period_12_posting() -> None:
    posting = PriceOperator().price_period(NEXT_PERIOD, PERIOD_12, BAND)
    assert posting is not None
    assert posting.supply_wh == 16_530 + 8_010  # Table 11: 24.54 kWh sold
    assert posting.demand_wh == 11_540 + 8_040 + 8_920  # 28.5 kWh bought
    assert posting.sellers == ("user1", "user2")
    assert posting.outcome.regime is Regime.SHORTAGE
    assert posting.outcome.price_micro_per_kwh is not None
    assert posting.price_micro_per_kwh == round(posting.outcome.price_micro_per_kwh)
    assert 812_986 < posting.price_micro_per_kwh < 814_000
    assert posting.arguments() == {
        "period": NEXT_PERIOD,
        "price_micro_per_kwh": posting.price_micro_per_kwh,
        "supply_wh": 24_540,
        "demand_wh": 28_500,
    }


def test_the_contract_accepts_the_agents_posting() -> None:
    community = Community.create()
    posting = PriceOperator().price_period(NEXT_PERIOD, PERIOD_12, BAND)
    assert posting is not None
    receipt = run_at(
        community,
        GENESIS_TIME_MS // 1000 + 10,
        "operator",
        "pricing",
        "post_price",
        posting.arguments(),
    )
    assert receipt.ok, receipt.message
    posted = posted_price(community.state, NEXT_PERIOD)
    assert posted is not None
    assert posted.price_micro_per_kwh == posting.price_micro_per_kwh


@pytest.mark.parametrize(
    "positions",
    [
        [HouseholdPosition("a", 100, 500), HouseholdPosition("b", 0, 300)],  # no sellers
        [HouseholdPosition("a", 900, 500), HouseholdPosition("b", 300, 300)],  # no buyers
        [],
    ],
)
def test_no_posting_without_both_sides(positions: list[HouseholdPosition]) -> None:
    assert PriceOperator().price_period(NEXT_PERIOD, positions, BAND) is None


def test_degenerate_rules_are_not_rounded_into_the_band() -> None:
    assert PriceOperator(GameRule.LITERAL).price_period(NEXT_PERIOD, PERIOD_12, BAND) is None


def test_integer_price_rounds_and_stays_strictly_inside() -> None:
    assert integer_price(812_345.5, BAND) == 812_346
    assert integer_price(849_999.9, BAND) == 849_999
    assert integer_price(770_000.2, BAND) == 770_001
    assert integer_price(770_000.0, BAND) is None
    assert integer_price(850_000.0, BAND) is None
    assert integer_price(10.5, PriceBand(10, 11, 11)) is None  # no integer inside


def test_negative_forecast_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        HouseholdPosition("x", -1, 0)


positions_strategy = st.lists(
    st.builds(
        HouseholdPosition,
        st.sampled_from(["a", "b", "c", "d", "e"]),
        st.integers(0, 40_000),
        st.integers(0, 40_000),
    ),
    max_size=6,
)


@settings(max_examples=40, deadline=None)
@given(positions_strategy)
def test_every_posting_passes_the_contracts_integer_checks(
    positions: list[HouseholdPosition],
) -> None:
    posting = PriceOperator().price_period(NEXT_PERIOD, positions, BAND)
    sellers, buyers = split_positions(positions)
    if not sellers or not buyers:
        assert posting is None
        return
    assert posting is not None
    assert 770_000 < posting.price_micro_per_kwh < 850_000
    assert posting.supply_wh > 0 and posting.demand_wh > 0
    # a price above feed-in only draws more surplus out of the sellers
    assert posting.outcome.supply_wh >= posting.supply_wh - 1e-6
    assert posting.outcome.traded_wh <= min(posting.outcome.supply_wh, posting.demand_wh) + 1e-6
