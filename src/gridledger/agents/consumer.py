"""Seed 000's consumer: a hard demand, a price learned from its profit (eq. 5).

Ordinary consumers do not speculate: each period they bid for the whole
energy they need (``MarketView.deficit_wh``). Only the price moves, by eq. 5:

- profit ``ε^t = q^t × (c - p^t)``: the value of the energy bought at the
  consumer's valuation ``c`` less what it paid (``bought_value_micro``);
- ``p + Δp`` if the profit rose by more than ``ξ``, ``p - Δp`` if it fell by
  more than ``ξ``, ``p ± Δp × rand(0, 1)`` otherwise;
- ``p = c`` after a loss (``ε^t < 0``).

Deviation: the paper's ``±`` in the flat case does not say how the sign is
chosen; here it is a fair coin drawn separately from the magnitude (the
producer's same-draw rule would drift the price down by Δp/4 a period).
The valuation defaults to the grid price: that is what the household pays for
energy it does not buy in the market, so ``c - p`` is its saving per kWh.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from gridledger.agents.interfaces import Bid, MarketView, Outcome
from gridledger.agents.learning import ProfitMemory, Trend, record_profit, step_value

__all__ = [
    "CASE_STUDY_CONSUMERS",
    "CaseStudyConsumer",
    "ConsumerParameters",
    "ConsumerState",
    "LearningConsumer",
    "consumer_profit_micro",
    "update_consumer",
]


@dataclass(frozen=True)
class ConsumerParameters:
    """A consumer's constants (prices in micro-units per kWh, money in micro-units).

    Seed 000 Table 3 gives ``c`` and the initial price; ``Δp`` and ``ξ`` are
    ours, the same as the producer's defaults.
    """

    initial_price_micro_per_kwh: int
    """``p^0_{C,i}``."""
    valuation_micro_per_kwh: int | None = None
    """``c_{C,i}``, the most a kWh is worth to it; None means the period's grid price."""
    price_step_micro_per_kwh: int = 5_000
    """``Δp``."""
    profit_threshold_micro: int = 1_000
    """``ξ``."""

    def __post_init__(self) -> None:
        if self.initial_price_micro_per_kwh <= 0:
            raise ValueError("initial_price_micro_per_kwh must be positive")
        if self.valuation_micro_per_kwh is not None and self.valuation_micro_per_kwh <= 0:
            raise ValueError("valuation_micro_per_kwh must be positive")
        if self.price_step_micro_per_kwh < 0 or self.profit_threshold_micro < 0:
            raise ValueError("price_step_micro_per_kwh and profit_threshold_micro must be >= 0")


@dataclass(frozen=True)
class ConsumerState:
    """``p^t`` (micro/kWh), the valuation in force and the profit memory."""

    price_micro_per_kwh: float
    valuation_micro_per_kwh: int
    memory: ProfitMemory = field(default_factory=ProfitMemory)


def consumer_profit_micro(valuation_micro_per_kwh: int, outcome: Outcome) -> float:
    """Eq. 5's profit: ``q × (c - p)`` = bought energy at valuation less what was paid."""
    return outcome.bought_wh * valuation_micro_per_kwh / 1000 - outcome.bought_value_micro


def update_consumer(
    parameters: ConsumerParameters,
    state: ConsumerState,
    profit_micro: float,
    draw: float,
    sign_draw: float,
) -> ConsumerState:
    """Eq. 5: the next bid price after a period with profit ``ε^t``.

    ``draw`` is the magnitude ``rand(0, 1)`` of a flat step, ``sign_draw`` the
    coin for its sign (up if below 1/2). After a loss the price is ``c``; it
    never exceeds ``c`` (a higher bid can only make a loss).
    """
    memory, trend = record_profit(state.memory, profit_micro, parameters.profit_threshold_micro)
    step = parameters.price_step_micro_per_kwh
    if trend == "flat":
        direction: Trend = "rise" if sign_draw < 0.5 else "fall"
        price = step_value(state.price_micro_per_kwh, step * draw, direction, draw, 0.5)
    else:
        price = step_value(state.price_micro_per_kwh, step, trend, draw, 0.5)
    valuation = float(state.valuation_micro_per_kwh)
    if profit_micro < 0:
        price = valuation
    return ConsumerState(min(valuation, price), state.valuation_micro_per_kwh, memory)


class LearningConsumer:
    """Seed 000's consumer as a `Strategy`: bids for its whole deficit at ``p``."""

    def __init__(self, parameters: ConsumerParameters) -> None:
        self.parameters = parameters
        valuation = parameters.valuation_micro_per_kwh or parameters.initial_price_micro_per_kwh
        self.state = ConsumerState(float(parameters.initial_price_micro_per_kwh), valuation)
        self.pending_profit_micro: float | None = None

    def bid(self, view: MarketView, rng: random.Random) -> list[Bid]:
        """Apply the pending update (two draws per call), then bid for the deficit.

        The price is kept within ``[feed-in, min(c, cap)]``: a buy above the cap
        would trade with the regulator at the cap anyway.
        """
        draw, sign_draw = rng.random(), rng.random()
        band = view.prices
        valuation = self.parameters.valuation_micro_per_kwh or band.grid_micro_per_kwh
        self.state = ConsumerState(self.state.price_micro_per_kwh, valuation, self.state.memory)
        if self.pending_profit_micro is not None:
            self.state = update_consumer(
                self.parameters, self.state, self.pending_profit_micro, draw, sign_draw
            )
            self.pending_profit_micro = None
        ceiling = min(valuation, band.cap_micro_per_kwh)
        floor = max(1, min(band.feed_in_micro_per_kwh, ceiling))
        price = min(ceiling, max(floor, round(self.state.price_micro_per_kwh)))
        self.state = ConsumerState(float(price), valuation, self.state.memory)
        if view.deficit_wh <= 0:
            return []
        return [Bid("buy", view.deficit_wh, price)]

    def learn(self, outcome: Outcome) -> None:
        """Remember eq. 5's profit; a period without a bid teaches nothing."""
        if outcome.wanted_wh > 0:
            self.pending_profit_micro = consumer_profit_micro(
                self.state.valuation_micro_per_kwh, outcome
            )


@dataclass(frozen=True)
class CaseStudyConsumer:
    """One row of seed 000 Table 3, converted ($ → micro-units; share in per cent of demand)."""

    demand_share_percent: float
    valuation_micro_per_kwh: int
    initial_price_micro_per_kwh: int


CASE_STUDY_CONSUMERS: tuple[CaseStudyConsumer, ...] = (
    CaseStudyConsumer(10.0, 48_000, 47_000),
    CaseStudyConsumer(16.0, 52_000, 51_000),
    CaseStudyConsumer(30.0, 56_000, 55_000),
    CaseStudyConsumer(8.0, 53_000, 52_000),
    CaseStudyConsumer(6.0, 46_000, 45_000),
    CaseStudyConsumer(20.0, 51_000, 50_000),
    CaseStudyConsumer(12.0, 52_000, 51_000),
)
"""Seed 000 Table 3 as printed. Its "Demand Portion (%)" column holds fractions
(0.1 = 10 %) and its rows add up to 102 %, not the "Total 1" it prints:
normalise by the sum when splitting a community's demand among them."""
