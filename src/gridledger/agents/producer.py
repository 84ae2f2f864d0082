"""Seed 000's producer: learns its price and its quantity from its profit (eqs. 1–4).

Each period the producer offers a share of the energy it has for sale at a
price; after settlement it computes its profit (eq. 1) and moves price
(eq. 3) and quantity (eq. 4) by the shared rule in
:mod:`gridledger.agents.learning`:

- eq. 1: ``ε^t = q^t × (p^t - c)`` when it traded, ``ε^t = -σ`` when it did
  not (the breakdown loss, which keeps producers from withholding energy to
  raise prices). Here ``q^t × p^t`` is what the chain says it was paid
  (``sold_value_micro``), less the penalties settlement charged it;
- eq. 2: ``0 <= q^t <= q_max``; ``q_max`` is the surplus the household has this
  period (``MarketView.surplus_wh``), so the learned quantity is the *share*
  ``θ`` of it that is offered and ``Δq`` is a share too (a PV surplus changes
  hour by hour, a fixed quantity in Wh would not);
- eq. 3: ``p ± Δp`` on a profit rise/fall beyond ``ξ``, ``p ± Δp × D`` when flat
  (up when ``D < pol_s``), and ``p = c`` after a loss;
- eq. 4: ``θ ± Δq`` the same way, with the same ``D``, clipped to [0, 1].

The update needs ``D`` from the scenario's random generator, which only
`bid` receives, so `learn` stores the profit and the next `bid` applies it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from gridledger.agents.interfaces import Bid, MarketView, Outcome
from gridledger.agents.learning import ProfitMemory, record_profit, step_value, success_probability

__all__ = [
    "CASE_STUDY_GENERATORS",
    "CaseStudyGenerator",
    "LearningProducer",
    "ProducerParameters",
    "ProducerState",
    "producer_profit_micro",
    "update_producer",
]


@dataclass(frozen=True)
class ProducerParameters:
    """A producer's constants. Prices in micro-units per kWh, money in micro-units.

    Seed 000 gives only ``c`` and the initial price (Table 2); ``Δp``, ``Δq``,
    ``ξ`` and ``σ`` are not printed, so the defaults are ours: ``Δp`` 5,000
    micro/kWh (1/16 of the default band between feed-in and grid price),
    ``Δq`` a tenth of the surplus, ``ξ`` 1,000 micro-units (0.001 currency
    units, about one trade's rounding) and ``σ`` 1,000,000 micro-units, the
    community's default breakdown penalty.
    """

    production_cost_micro_per_kwh: int
    """``c_{G,i}``: the unit cost; the producer never offers below it."""
    initial_price_micro_per_kwh: int
    """``p^0_{G,i}``."""
    price_step_micro_per_kwh: int = 5_000
    """``Δp``."""
    quantity_step_share: float = 0.1
    """``Δq``, as a share of the period's surplus."""
    initial_quantity_share: float = 1.0
    """``q^0 / q_max``: the paper's generators start by offering their whole supply."""
    profit_threshold_micro: int = 1_000
    """``ξ``: a profit change within ±ξ counts as no change."""
    breakdown_loss_micro: int = 1_000_000
    """``σ_{G,i}``: the profit of a period in which the producer offered but sold nothing."""

    def __post_init__(self) -> None:
        if self.production_cost_micro_per_kwh < 0:
            raise ValueError("production_cost_micro_per_kwh must not be negative")
        if self.initial_price_micro_per_kwh <= 0:
            raise ValueError("initial_price_micro_per_kwh must be positive")
        if self.price_step_micro_per_kwh < 0 or self.profit_threshold_micro < 0:
            raise ValueError("price_step_micro_per_kwh and profit_threshold_micro must be >= 0")
        if not 0 <= self.quantity_step_share <= 1 or not 0 <= self.initial_quantity_share <= 1:
            raise ValueError("quantity shares must lie in [0, 1]")
        if self.breakdown_loss_micro < 0:
            raise ValueError("breakdown_loss_micro must not be negative")


@dataclass(frozen=True)
class ProducerState:
    """``p^t`` (micro/kWh, float off chain), ``θ^t`` (share of surplus) and the profit memory."""

    price_micro_per_kwh: float
    quantity_share: float
    memory: ProfitMemory = field(default_factory=ProfitMemory)


def producer_profit_micro(parameters: ProducerParameters, outcome: Outcome) -> float:
    """Eq. 1: ``q × (p - c)`` less settlement penalties if it sold, ``-σ`` if it sold nothing."""
    if outcome.sold_wh == 0:
        return -float(parameters.breakdown_loss_micro)
    cost_micro = outcome.sold_wh * parameters.production_cost_micro_per_kwh / 1000
    return outcome.sold_value_micro - cost_micro - outcome.penalty_micro


def update_producer(
    parameters: ProducerParameters, state: ProducerState, profit_micro: float, draw: float
) -> ProducerState:
    """Eqs. 3–4: the next price and quantity share after a period with profit ``ε^t``.

    ``draw`` is ``D = rand(0, 1)``, used by both equations when the profit is
    flat. A loss (``ε^t < 0``) resets the price to the cost ``c`` (eq. 3); the
    price never falls below ``c`` and the share stays in [0, 1] (eq. 2).
    """
    memory, trend = record_profit(state.memory, profit_micro, parameters.profit_threshold_micro)
    up = success_probability(memory)
    cost = float(parameters.production_cost_micro_per_kwh)
    price = step_value(
        state.price_micro_per_kwh, parameters.price_step_micro_per_kwh, trend, draw, up
    )
    if profit_micro < 0:
        price = cost
    share = step_value(state.quantity_share, parameters.quantity_step_share, trend, draw, up)
    return ProducerState(max(cost, price), min(1.0, max(0.0, share)), memory)


class LearningProducer:
    """Seed 000's producer as a `Strategy`: sells ``θ × surplus`` at ``p``, learns both."""

    def __init__(self, parameters: ProducerParameters) -> None:
        self.parameters = parameters
        self.state = ProducerState(
            float(parameters.initial_price_micro_per_kwh), parameters.initial_quantity_share
        )
        self.pending_profit_micro: float | None = None
        self.withheld = False
        """Whether the last bid offered nothing although there was surplus (``θ`` = 0)."""

    def bid(self, view: MarketView, rng: random.Random) -> list[Bid]:
        """Apply the pending update (one draw ``D`` per call), then offer ``θ × surplus``.

        The price is kept within ``[max(c, feed-in), cap]``: the contract refuses
        a sell outside the band and eq. 3 never wants one below cost. If the
        cost is above the cap there is nothing profitable to offer.
        """
        draw = rng.random()
        self.withheld = False
        if self.pending_profit_micro is not None:
            self.state = update_producer(
                self.parameters, self.state, self.pending_profit_micro, draw
            )
            self.pending_profit_micro = None
        band = view.prices
        floor = max(1, self.parameters.production_cost_micro_per_kwh, band.feed_in_micro_per_kwh)
        if floor > band.cap_micro_per_kwh:
            return []
        price = min(band.cap_micro_per_kwh, max(floor, round(self.state.price_micro_per_kwh)))
        self.state = ProducerState(float(price), self.state.quantity_share, self.state.memory)
        energy_wh = int(self.state.quantity_share * view.surplus_wh)
        self.withheld = energy_wh <= 0 < view.surplus_wh
        if energy_wh <= 0:
            return []
        return [Bid("sell", energy_wh, price)]

    def learn(self, outcome: Outcome) -> None:
        """Remember eq. 1's profit.

        Withholding the whole surplus is "not producing": it costs ``σ``, which is
        how eq. 1 keeps the share from sticking at 0. A period without surplus
        (or whose cost was above the cap) teaches nothing.
        """
        if outcome.offered_wh > 0 or self.withheld:
            self.pending_profit_micro = producer_profit_micro(self.parameters, outcome)


@dataclass(frozen=True)
class CaseStudyGenerator:
    """One row of seed 000 Table 2, converted: kWh → Wh, $ → micro-units (1 $ = 1 unit)."""

    supply_wh: int
    production_cost_micro_per_kwh: int
    initial_price_micro_per_kwh: int


CASE_STUDY_GENERATORS: tuple[CaseStudyGenerator, ...] = (
    CaseStudyGenerator(1_600, 16_000, 17_000),
    CaseStudyGenerator(400, 17_000, 18_000),
    CaseStudyGenerator(600, 18_000, 19_000),
    CaseStudyGenerator(400, 24_000, 25_000),
    CaseStudyGenerator(1_000, 28_000, 29_000),
    CaseStudyGenerator(3_000, 21_000, 22_000),
    CaseStudyGenerator(200, 23_000, 24_000),
)
"""Seed 000 Table 2: seven generators, 7.2 kWh in all; costs $0.016–0.028/kWh."""
