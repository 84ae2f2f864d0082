"""Seed 003's pricing game: best responses, the literal form's degenerate price, and the
well-posed Nash rule's properties (strictly inside the band, rising with the shortage,
volumes within supply and demand)."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.market.pricing import (
    NEGLIGIBLE_WH,
    GameRule,
    InvalidPricingGame,
    PricingGame,
    Regime,
    Seller,
    best_response_load_wh,
    buyers_saving_micro,
    preference_for_load,
    sellers_gain_micro,
    sellers_response,
    short_side_weight,
    solve_pricing_game,
)

FEED_IN = 770_000.0
GRID = 850_000.0


def seller(generation_wh: float, load_wh: float) -> Seller:
    """A seller whose best response at the feed-in price is `load_wh`."""
    return Seller(generation_wh, preference_for_load(load_wh, FEED_IN))


def game(sellers: list[Seller], demands: list[float] | list[int]) -> PricingGame:
    return PricingGame(tuple(sellers), tuple(demands), FEED_IN, GRID)


# seed 003, period 12 (Tables 8-9): users 1-2 sell, users 3-5 buy
PERIOD_12 = game([seller(18_390, 1_860), seller(9_200, 1_190)], [11_540, 8_040, 8_920])


def test_best_response_is_lambda_over_price_minus_one_kwh_clipped() -> None:
    s = Seller(10_000, 1_600_000)  # λ = 1.6 units
    assert best_response_load_wh(s, 800_000) == pytest.approx(1_000)  # 1.6/0.8 - 1 = 1 kWh
    assert best_response_load_wh(s, 2_000_000) == 0  # λ/p < 1: consume nothing
    assert best_response_load_wh(Seller(500, 1_600_000), 800_000) == 500  # at most e_DG


def test_calibrated_preference_reproduces_the_forecast_load_at_feed_in() -> None:
    s = seller(18_390, 1_860)
    assert s.preference_micro == pytest.approx(770_000 * 2.86)
    assert best_response_load_wh(s, FEED_IN) == pytest.approx(1_860)
    assert best_response_load_wh(s, 820_000) < 1_860  # a higher price: sell more


def test_period_12_price_is_inside_the_band_above_the_compromise() -> None:
    outcome = solve_pricing_game(PERIOD_12)
    assert outcome.regime is Regime.SHORTAGE
    assert outcome.price_micro_per_kwh is not None
    # w = 28500 / (28500 + 24540); with a fixed supply the price would be
    # 770000 + w * 80000 = 812986.4; sellers' elasticity raises it a little
    assert outcome.sellers_weight == pytest.approx(28_500 / 53_040)
    assert 812_986 < outcome.price_micro_per_kwh < 814_000
    assert all(load < before for load, before in zip(outcome.loads_wh, (1_860, 1_190), strict=True))
    assert outcome.traded_wh == pytest.approx(math.fsum(outcome.sold_wh))
    assert outcome.traded_wh < outcome.demand_wh  # the grid covers the rest
    # eq. 13: buyers share the microgrid volume in proportion to their demand
    shares = [q / d for q, d in zip(outcome.bought_wh, (11_540, 8_040, 8_920), strict=True)]
    assert shares == pytest.approx([outcome.traded_wh / 28_500] * 3)


def test_literal_form_lands_on_the_feed_in_bound() -> None:
    outcome = solve_pricing_game(PERIOD_12, GameRule.LITERAL)
    assert outcome.price_micro_per_kwh == FEED_IN  # eq. 8 demands p_s < p: degenerate
    assert outcome.loads_wh == pytest.approx((1_860, 1_190))  # no incentive to adjust


def test_stackelberg_with_grid_remainder_also_hits_the_bound_for_inelastic_sellers() -> None:
    assert solve_pricing_game(PERIOD_12, GameRule.STACKELBERG).price_micro_per_kwh == FEED_IN


def test_stackelberg_is_interior_when_supply_is_elastic_enough() -> None:
    # sellers who would consume almost everything at feed-in: supply very price-elastic
    elastic = game([Seller(10_000, preference_for_load(9_900, FEED_IN))], [5_000])
    price = solve_pricing_game(elastic, GameRule.STACKELBERG).price_micro_per_kwh
    assert price is not None
    assert FEED_IN < price < GRID


def test_surplus_is_rationed_pro_rata_and_the_rest_exported() -> None:
    surplus = game([seller(10_000, 1_000), seller(5_000, 500)], [6_000])
    outcome = solve_pricing_game(surplus)
    assert outcome.regime is Regime.SURPLUS
    assert outcome.sellers_weight < 0.5
    assert outcome.price_micro_per_kwh is not None
    assert FEED_IN < outcome.price_micro_per_kwh < (FEED_IN + GRID) / 2
    assert outcome.traded_wh == pytest.approx(6_000)
    assert outcome.bought_wh == pytest.approx((6_000,))
    share = outcome.sold_wh[0] / (outcome.sold_wh[0] + outcome.exported_wh[0])
    assert outcome.sold_wh[1] / (outcome.sold_wh[1] + outcome.exported_wh[1]) == pytest.approx(
        share
    )
    effective, rationing = sellers_response(surplus, outcome.price_micro_per_kwh)
    assert rationing == pytest.approx(share)
    assert effective == pytest.approx(FEED_IN + share * (outcome.price_micro_per_kwh - FEED_IN))


def test_non_literal_rules_price_a_surplus_at_the_compromise() -> None:
    surplus = game([seller(10_000, 1_000)], [6_000])
    assert solve_pricing_game(surplus, GameRule.LITERAL).price_micro_per_kwh == 810_000


@pytest.mark.parametrize(
    ("sellers", "demands"), [([], [1_000]), ([seller(1_000, 2_000)], [1_000]), ([seller(1, 0)], [])]
)
def test_no_supply_or_no_demand_is_no_trade(sellers: list[Seller], demands: list[float]) -> None:
    outcome = solve_pricing_game(game(sellers, demands))
    assert outcome.regime is Regime.NO_TRADE
    assert outcome.price_micro_per_kwh is None
    assert outcome.traded_wh == 0


def test_symmetric_weight_gives_about_the_midpoint() -> None:
    price = solve_pricing_game(PERIOD_12, sellers_weight=0.5).price_micro_per_kwh
    assert price == pytest.approx(810_000, abs=1_000)


@pytest.mark.parametrize(
    ("field", "build"),
    [
        ("grid_price_micro_per_kwh", lambda: PricingGame((), (), 800_000, 800_000)),
        ("sellers[0].generation_wh", lambda: game([Seller(-1, 0)], [1])),
        ("sellers[0].preference_micro", lambda: game([Seller(1, math.nan)], [1])),
        ("demands_wh[1]", lambda: game([], [1, -5])),
    ],
)
def test_bad_inputs_name_their_field(field: str, build: object) -> None:
    with pytest.raises(InvalidPricingGame) as raised:
        build()  # type: ignore[operator]
    assert raised.value.field == field


def test_bad_weight_is_refused() -> None:
    with pytest.raises(InvalidPricingGame) as raised:
        solve_pricing_game(PERIOD_12, sellers_weight=1.0)
    assert raised.value.field == "sellers_weight"


def test_short_side_weight() -> None:
    assert short_side_weight(1, 1) == 0.5
    assert short_side_weight(1, 3) == 0.75


# --- properties ---------------------------------------------------------------------------

sellers_strategy = st.lists(
    st.builds(
        lambda generation, load, scale: Seller(
            generation, preference_for_load(load, FEED_IN) * scale
        ),
        st.integers(0, 30_000),
        st.integers(0, 10_000),
        st.floats(0.5, 3.0),
    ),
    min_size=1,
    max_size=4,
)
demands_strategy = st.lists(st.integers(0, 20_000), min_size=1, max_size=4)
"""Energy in whole Wh, as on the chain."""


@settings(max_examples=60, deadline=None)
@given(sellers_strategy, demands_strategy)
def test_price_strictly_inside_and_volumes_within_supply_and_demand(
    sellers: list[Seller], demands: list[int]
) -> None:
    g = game(sellers, demands)
    outcome = solve_pricing_game(g)
    if outcome.regime is Regime.NO_TRADE:
        # under a milliwatt-hour (float noise such as 1e-13 Wh) is nothing to trade
        assert g.forecast_supply_wh < NEGLIGIBLE_WH or g.demand_wh < NEGLIGIBLE_WH
        return
    price = outcome.price_micro_per_kwh
    assert price is not None
    assert FEED_IN < price < GRID
    assert buyers_saving_micro(g, price) > 0
    assert sellers_gain_micro(g, price) > 0
    assert outcome.traded_wh <= outcome.supply_wh * (1 + 1e-9) + 1e-6
    assert outcome.traded_wh <= outcome.demand_wh * (1 + 1e-9) + 1e-6
    for sold, exported, load, s in zip(
        outcome.sold_wh, outcome.exported_wh, outcome.loads_wh, sellers, strict=True
    ):
        assert sold >= 0 and exported >= -1e-9
        assert sold + exported == pytest.approx(s.generation_wh - load, abs=1e-6)
        assert 0 <= load <= s.generation_wh
    for bought, demand in zip(outcome.bought_wh, demands, strict=True):
        assert 0 <= bought <= demand * (1 + 1e-9) + 1e-9


@settings(max_examples=25, deadline=None)
@given(sellers_strategy, demands_strategy, st.lists(st.floats(0.2, 3.0), min_size=2, max_size=5))
def test_price_does_not_fall_as_the_shortage_grows(
    sellers: list[Seller], demands: list[float], scales: list[float]
) -> None:
    prices = []
    for scale in sorted(scales):
        outcome = solve_pricing_game(game(sellers, [d * scale for d in demands]))
        if outcome.price_micro_per_kwh is not None:
            prices.append(outcome.price_micro_per_kwh)
    assert all(later >= earlier - 1e-3 for earlier, later in itertools.pairwise(prices))


@settings(max_examples=30, deadline=None)
@given(sellers_strategy, demands_strategy)
def test_literal_form_always_lands_on_the_feed_in_bound_in_a_shortage(
    sellers: list[Seller], demands: list[float]
) -> None:
    outcome = solve_pricing_game(game(sellers, demands), GameRule.LITERAL)
    if outcome.regime is Regime.SHORTAGE:
        assert outcome.price_micro_per_kwh == FEED_IN


def test_a_surplus_of_rounding_noise_is_no_trade_not_an_error() -> None:
    """A 1 Wh seller whose best response eats its generation leaves ~1e-13 Wh: no trade."""
    noise = game([Seller(1, preference_for_load(1, FEED_IN))], [1024])
    assert 0.0 <= noise.forecast_supply_wh < 1e-3
    assert solve_pricing_game(noise).regime is Regime.NO_TRADE
