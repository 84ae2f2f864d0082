"""Seed 003's case study (§4.1–4.2.1): the five-user PV microgrid, periods 7–18.

The data of Tables 8 (load) and 9 (PV output) in watt-hours, the arithmetic of
Tables 10 (net output per user, eq. 5) and 11 (totals per period, eq. 7), and
Tables 12–13 (price, sellers' adjusted loads, traded volumes) recomputed under
the implemented pricing rule (`gridledger.market.pricing`, Nash rule, run by
the operator's agent exactly as it would be before posting). Also the buyers'
cost against buying everything from the grid (the paper's Figure 4) and the
sellers' revenue against selling everything at the feed-in price (Figure 5).
Pure arithmetic: no chain, no I/O.

The paper's printed Tables 10–13 are kept beside ours (``PAPER_*``) so tests
and docs can compare them; differences are explained in ``docs/pricing.md``.
Table 11 prints the microgrid net output of periods 13 and 14 with the wrong
sign (−3.03 and −2.3 where sold − bought is +3.03 and +2.30; the text itself
says those periods have a surplus), and Table 13 has no row for period 18.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridledger.agents.interfaces import PriceBand
from gridledger.agents.pricing_agent import HouseholdPosition, PriceOperator, PricePosting
from gridledger.market.pricing import Regime

__all__ = [
    "BAND",
    "FEED_IN_PRICE_MICRO_PER_KWH",
    "GENERATION_WH",
    "GRID_PRICE_MICRO_PER_KWH",
    "LOAD_WH",
    "PAPER_NET_OUTPUT_WH",
    "PAPER_PRICE_MICRO_PER_KWH",
    "PAPER_SELLER_LOADS_WH",
    "PAPER_TOTALS_WH",
    "PAPER_VOLUMES_WH",
    "PERIODS",
    "USERS",
    "PeriodPricing",
    "PeriodTotals",
    "net_output_wh",
    "period_pricing",
    "period_totals",
    "positions",
]

USERS = ("user1", "user2", "user3", "user4", "user5")
PERIODS = tuple(range(7, 19))
"""Hours 7:00 to 18:00, when the PV systems produce."""
FEED_IN_PRICE_MICRO_PER_KWH = 770_000
"""'Surplus power to the grid': 0.77 yuan per kWh."""
GRID_PRICE_MICRO_PER_KWH = 850_000
"""The grid's price: 0.85 yuan per kWh."""
BAND = PriceBand(
    feed_in_micro_per_kwh=FEED_IN_PRICE_MICRO_PER_KWH,
    grid_micro_per_kwh=GRID_PRICE_MICRO_PER_KWH,
    cap_micro_per_kwh=GRID_PRICE_MICRO_PER_KWH,
)

# Table 8. User power load, Wh (users 1..5).
LOAD_WH: dict[int, tuple[int, ...]] = {
    7: (210, 560, 4_970, 9_990, 10_990),
    8: (1_710, 830, 7_930, 12_030, 17_640),
    9: (1_520, 1_110, 11_550, 12_120, 20_980),
    10: (1_510, 1_130, 12_210, 12_960, 21_950),
    11: (2_540, 1_200, 13_330, 12_990, 22_230),
    12: (1_860, 1_190, 15_210, 13_560, 22_710),
    13: (1_490, 910, 15_790, 8_790, 17_520),
    14: (1_430, 880, 16_830, 9_550, 16_770),
    15: (1_420, 1_060, 15_560, 13_230, 15_880),
    16: (1_510, 1_230, 11_980, 11_010, 13_940),
    17: (1_500, 1_090, 9_960, 7_370, 10_070),
    18: (30, 430, 1_360, 1_310, 4_320),
}

# Table 9. PV output power, Wh.
GENERATION_WH: dict[int, tuple[int, ...]] = {
    7: (9_880, 4_540, 1_970, 2_910, 7_410),
    8: (14_440, 7_220, 2_880, 4_290, 10_830),
    9: (16_710, 8_360, 3_340, 5_010, 12_530),
    10: (17_860, 8_930, 3_570, 5_370, 13_390),
    11: (18_330, 9_160, 3_660, 5_490, 13_740),
    12: (18_390, 9_200, 3_670, 5_520, 13_790),
    13: (18_080, 9_040, 3_610, 3_240, 13_560),
    14: (17_370, 8_680, 3_470, 5_220, 13_020),
    15: (16_260, 8_130, 3_250, 4_890, 12_190),
    16: (14_050, 7_030, 2_810, 4_200, 10_530),
    17: (9_620, 4_810, 1_890, 2_880, 7_210),
    18: (100, 500, 780, 20, 70),
}

# Table 10 as printed: net PV power, Wh.
PAPER_NET_OUTPUT_WH: dict[int, tuple[int, ...]] = {
    7: (9_670, 3_980, -3_000, -7_080, -3_580),
    8: (12_730, 6_390, -5_050, -7_740, -6_810),
    9: (15_190, 7_250, -8_210, -7_110, -8_450),
    10: (16_350, 7_800, -8_640, -7_590, -8_560),
    11: (15_790, 7_960, -9_670, -7_500, -8_490),
    12: (16_530, 8_010, -11_540, -8_040, -8_920),
    13: (16_590, 8_130, -12_180, -5_550, -3_960),
    14: (15_940, 7_800, -13_360, -4_330, -3_750),
    15: (14_840, 7_070, -12_310, -8_340, -3_690),
    16: (12_540, 5_800, -9_170, -6_810, -3_410),
    17: (8_120, 3_720, -8_070, -4_490, -2_860),
    18: (70, 70, -580, -1_290, -4_250),
}

# Table 11 as printed: (total sold, total purchased, microgrid net output), Wh.
PAPER_TOTALS_WH: dict[int, tuple[int, int, int]] = {
    7: (13_650, -13_660, -10),
    8: (19_120, -19_600, -480),
    9: (22_440, -23_770, -1_330),
    10: (24_150, -24_790, -640),
    11: (23_750, -25_660, -1_910),
    12: (24_540, -28_500, -3_960),
    13: (24_720, -21_690, -3_030),  # sign error: 24.72 - 21.69 = +3.03
    14: (23_740, -21_440, -2_300),  # sign error: 23.74 - 21.44 = +2.30
    15: (21_910, -24_340, -2_430),
    16: (18_340, -19_390, -1_050),
    17: (11_840, -15_420, -3_580),
    18: (140, -6_120, -5_980),
}

# Table 12 as printed: price (micro/kWh) and sellers' adjusted loads e_L,1, e_L,2 (Wh).
PAPER_PRICE_MICRO_PER_KWH: dict[int, int] = {
    7: 780_000, 8: 792_000, 9: 799_000, 10: 781_000, 11: 803_000, 12: 826_000,
    13: 810_000, 14: 810_000, 15: 822_000, 16: 796_000, 17: 823_000, 18: 836_000,
}  # fmt: skip
PAPER_SELLER_LOADS_WH: dict[int, tuple[int, int]] = {
    7: (187, 552), 8: (1_584, 740), 9: (1_345, 965), 10: (1_472, 1_002),
    11: (2_125, 1_001), 12: (1_369, 623), 13: (1_450, 880), 14: (1_400, 830),
    15: (1_277, 611), 16: (1_401, 1_025), 17: (1_399, 946), 18: (30, 355),
}  # fmt: skip

# Table 13 as printed: traded volume per user, Wh (sellers negative); no row for period 18.
PAPER_VOLUMES_WH: dict[int, tuple[int, ...]] = {
    7: (-9_693, -3_988, 3_000, 7_090, 3_590),
    8: (-12_856, -6_480, 4_980, 7_640, 6_720),
    9: (-15_365, -7_395, 7_860, 6_810, 8_090),
    10: (-16_388, -7_928, 8_470, 7_440, 8_400),
    11: (-16_205, -8_159, 9_180, 7_120, 8_060),
    12: (-17_021, -8_577, 10_360, 7_220, 8_010),
    13: (-16_630, -8_160, 12_180, 5_550, 3_960),
    14: (-15_970, -7_850, 13_360, 4_330, 3_750),
    15: (-14_983, -7_519, 11_380, 7_710, 3_410),
    16: (-12_649, -6_005, 8_820, 6_550, 3_280),
    17: (-8_221, -3_864, 6_320, 3_520, 2_240),
}


def net_output_wh(period: int) -> tuple[int, ...]:
    """Eq. 5 per user: ``e_DG − e_L`` (Table 10); positive for a seller."""
    return tuple(g - load for g, load in zip(GENERATION_WH[period], LOAD_WH[period], strict=True))


@dataclass(frozen=True)
class PeriodTotals:
    """Table 11 for one period, in Wh, with the paper's signs (purchases negative)."""

    sold_wh: int
    """Sum of the sellers' net output."""
    purchased_wh: int
    """Sum of the buyers' net output (negative)."""
    net_wh: int
    """Eq. 7: the microgrid's net output, ``sold + purchased``."""


def period_totals(period: int) -> PeriodTotals:
    net = net_output_wh(period)
    sold = sum(n for n in net if n > 0)
    purchased = sum(n for n in net if n < 0)
    return PeriodTotals(sold, purchased, sold + purchased)


def positions(period: int) -> list[HouseholdPosition]:
    """The five households' forecasts for ``period`` (Tables 8 and 9)."""
    return [
        HouseholdPosition(user, generation, load)
        for user, generation, load in zip(
            USERS, GENERATION_WH[period], LOAD_WH[period], strict=True
        )
    ]


@dataclass(frozen=True)
class PeriodPricing:
    """Tables 12–13 under the implemented rule, and what the market is worth to each side."""

    period: int
    regime: Regime
    price_micro_per_kwh: float
    """The game's price before rounding."""
    posted_price_micro_per_kwh: int
    """What the operator posts on chain."""
    seller_loads_wh: dict[str, float]
    """Table 12: sellers' adjusted loads ``e_L``."""
    volumes_wh: dict[str, float]
    """Table 13's convention: sellers' surplus offered (negative: sold to buyers plus any
    export), buyers' microgrid purchases (positive)."""
    sold_to_buyers_wh: dict[str, float]
    exported_wh: dict[str, float]
    buyers_cost_micro: float
    """Buyers' microgrid volume at the posted price, the rest from the grid."""
    buyers_grid_only_cost_micro: float
    """Buyers' whole demand at the grid price (Figure 4's comparison)."""
    sellers_revenue_micro: float
    """Sellers' sales at the posted price plus export at the feed-in price."""
    sellers_feed_in_only_revenue_micro: float
    """Sellers' forecast surplus all at the feed-in price (Figure 5's comparison)."""


def period_pricing(period: int, operator: PriceOperator | None = None) -> PeriodPricing:
    """Run the operator's game for ``period`` and account for both sides (all of 7–18 trade)."""
    operator = PriceOperator() if operator is None else operator
    posting: PricePosting | None = operator.price_period(period, positions(period), BAND)
    if posting is None:
        raise ValueError(f"period {period} has no sellers or no buyers")
    outcome = posting.outcome
    assert outcome.price_micro_per_kwh is not None  # a posting always has a price
    price = posting.price_micro_per_kwh
    p_s, p_b = FEED_IN_PRICE_MICRO_PER_KWH, GRID_PRICE_MICRO_PER_KWH
    demands = [-n for n in net_output_wh(period) if n < 0]
    sold = dict(zip(posting.sellers, outcome.sold_wh, strict=True))
    exported = dict(zip(posting.sellers, outcome.exported_wh, strict=True))
    bought = dict(zip(posting.buyers, outcome.bought_wh, strict=True))
    volumes = {user: -(sold[user] + exported[user]) for user in posting.sellers} | bought
    return PeriodPricing(
        period=period,
        regime=outcome.regime,
        price_micro_per_kwh=outcome.price_micro_per_kwh,
        posted_price_micro_per_kwh=price,
        seller_loads_wh=dict(zip(posting.sellers, outcome.loads_wh, strict=True)),
        volumes_wh={user: volumes[user] for user in USERS if user in volumes},
        sold_to_buyers_wh=sold,
        exported_wh=exported,
        buyers_cost_micro=(price * outcome.traded_wh + p_b * (sum(demands) - outcome.traded_wh))
        / 1000,
        buyers_grid_only_cost_micro=p_b * sum(demands) / 1000,
        sellers_revenue_micro=(price * sum(sold.values()) + p_s * sum(exported.values())) / 1000,
        sellers_feed_in_only_revenue_micro=p_s * posting.supply_wh / 1000,
    )
