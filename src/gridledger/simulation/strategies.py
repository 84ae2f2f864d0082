"""Bidding strategies and the regulator's policy by name, as a scenario names them.

``zero_intelligence`` (`gridledger.agents.zero_intelligence`) takes no
parameters. Seed 000's learning agents take their parameter dataclass's fields
as ``strategy.params``: ``producer`` (`gridledger.agents.producer`:
production_cost_micro_per_kwh, initial_price_micro_per_kwh, …), ``consumer``
(`gridledger.agents.consumer`: initial_price_micro_per_kwh,
valuation_micro_per_kwh, …) and ``speculator`` (`gridledger.agents.speculator`:
window_periods, buy_below, sell_above, …), which trades from its battery.
``arbitrage`` (`gridledger.agents.arbitrage`: charge_hours, discharge_hours,
reserve_permille, round_trip_permille, min_known_hours) trades its battery for
arbitrage on the community's hourly
prices. ``posted_price`` (seed 003) bids the whole position at the price the
operator's pricing agent posted on chain. ``bilateral`` (seed 001,
`gridledger.simulation.bilateral`, built on `gridledger.agents.bilateral`)
places no book orders: it publishes its surplus as an offer, negotiates off
chain and signs agreements in the commit window; its params are
production_cost_micro_per_kwh, seller_opening_position,
buyer_opening_position, concession_permille and max_rounds. A bad parameter
is a `ScenarioError` naming the field.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gridledger.agents.interfaces import Bid, MarketView, Outcome, Strategy
from gridledger.agents.zero_intelligence import ZeroIntelligence
from gridledger.simulation.scenario import ScenarioError

STORAGE_TRADING = ("speculator", "arbitrage")
"""Strategies that trade from the household's battery (they get a `StorageView`)."""

# kind -> (module, strategy class, parameters class)
LEARNING: dict[str, tuple[str, str, str]] = {
    "producer": ("gridledger.agents.producer", "LearningProducer", "ProducerParameters"),
    "consumer": ("gridledger.agents.consumer", "LearningConsumer", "ConsumerParameters"),
    "speculator": ("gridledger.agents.speculator", "Speculator", "SpeculatorParameters"),
    "arbitrage": ("gridledger.agents.arbitrage", "BatteryArbitrage", "ArbitrageParameters"),
}
REGULATOR_KINDS = ("none", "cap")


def strategy_kinds() -> tuple[str, ...]:
    return ("zero_intelligence", "posted_price", "bilateral", *LEARNING)


@dataclass
class PostedPriceTaker:
    """Seed 003's members: trade the whole forecast position at the operator's posted price.

    Sells and buys are limited at the posted price, so a call auction clears
    every matched kWh at exactly that price. A period with no posted price (no
    sellers or no buyers were forecast) gets no bids: the grid settles it.
    """

    posted_price: Callable[[int], int | None]

    def bid(self, view: MarketView, rng: random.Random) -> list[Bid]:
        price = self.posted_price(view.period)
        if price is None:
            return []
        bids = []
        if view.surplus_wh > 0:
            bids.append(Bid("sell", view.surplus_wh, price))
        if view.deficit_wh > 0:
            bids.append(Bid("buy", view.deficit_wh, price))
        return bids

    def learn(self, outcome: Outcome) -> None:
        """The price is the operator's; nothing to learn."""


def _build(
    module_name: str, class_name: str, params_name: str, params: dict[str, Any], where: str
) -> Any:
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ScenarioError(f"{where}.kind", f"{module_name} is not installed ({error})") from error
    try:
        parameters = getattr(module, params_name)(**params)
    except (TypeError, ValueError) as error:
        raise ScenarioError(f"{where}.params", str(error)) from error
    return getattr(module, class_name)(parameters)


def make_strategy(
    kind: str, params: dict[str, Any], where: str, operator: Any | None = None
) -> Strategy:
    """A strategy of ``kind`` from its scenario parameters; ``where`` names the field in errors.

    ``posted_price`` takes the price the ``operator`` agent posted on chain
    (seed 003) and so needs one.
    """
    if kind in ("zero_intelligence", "posted_price") and params:
        raise ScenarioError(f"{where}.params", f"{kind} takes no parameters")
    if kind == "zero_intelligence":
        return ZeroIntelligence()
    if kind == "posted_price":
        if operator is None:
            raise ScenarioError(f"{where}.kind", "posted_price needs a pricing operator")
        return PostedPriceTaker(operator.posted_price)
    if kind == "bilateral":
        from gridledger.simulation.bilateral import bilateral_trader

        try:
            return bilateral_trader(params)
        except (TypeError, ValueError) as error:
            raise ScenarioError(f"{where}.params", str(error)) from error
    if kind not in LEARNING:
        raise ScenarioError(f"{where}.kind", f"must be one of {', '.join(strategy_kinds())}")
    strategy: Strategy = _build(*LEARNING[kind], params, where)
    return strategy


def make_regulator(kind: str, params: dict[str, Any]) -> Any | None:
    """The regulator's cap policy (`gridledger.agents.regulator.CapRegulator`), or None."""
    if kind == "none":
        if params:
            raise ScenarioError("regulator.params", "regulator kind 'none' takes no parameters")
        return None
    if kind == "cap":
        return _build(
            "gridledger.agents.regulator",
            "CapRegulator",
            "RegulatorParameters",
            params,
            "regulator",
        )
    raise ScenarioError("regulator.kind", f"must be one of {', '.join(REGULATOR_KINDS)}")
