"""Market operators by name, as a scenario's ``operator.kind`` names them.

``none``: the plain order book, no operator agent. ``pricing``: seed 003's
operator. Before each period's orders it forecasts every household's
generation and load (each household's own forecaster), runs the pricing game
(`gridledger.agents.pricing_agent.PriceOperator`, rule ``nash`` unless
``params.rule`` says ``stackelberg`` or ``literal``) and posts the price with
``pricing.post_price``. The price members then trade at is the one read back
from the committed transaction's ``price_posted`` event, not the agent's own
number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gridledger.client.replies import TransactionReply
from gridledger.ledger import transaction_id
from gridledger.simulation.period_outcomes import period_band
from gridledger.simulation.scenario import Scenario, ScenarioError

if TYPE_CHECKING:
    from gridledger.simulation.runner import OperatorAgent, Runner

OPERATOR_KINDS = ("none", "pricing")


class PricingOperator:
    """Seed 003's market operator: posts each period's price through the pricing contract."""

    def __init__(self, rule: str = "nash") -> None:
        from gridledger.agents.pricing_agent import PriceOperator
        from gridledger.market.pricing import GameRule

        try:
            self.agent = PriceOperator(GameRule(rule))
        except ValueError as error:
            rules = ", ".join(r.value for r in GameRule)
            raise ScenarioError("operator.params.rule", f"must be one of {rules}") from error
        self.posted: dict[int, int] = {}

    def before_orders(self, runner: Runner, period: int) -> None:
        from gridledger.agents.pricing_agent import HouseholdPosition

        seconds = runner.scenario.market.period_seconds
        positions = []
        for agent in runner.agents:
            generation, load = agent.household.forecast_wh(period * seconds, seconds)
            positions.append(HouseholdPosition(agent.wallet.address, generation, load))
        band = period_band(runner.client.parameters(period))
        posting = self.agent.price_period(period, positions, band)
        if posting is None:
            return
        raw = runner.operator.sign("pricing", "post_price", posting.arguments())
        runner.commit(runner.time_s, [raw])
        receipt = runner.client.transaction(transaction_id(raw).hex())
        if not isinstance(receipt, TransactionReply):  # pragma: no cover - commit cut it
            raise RuntimeError(f"the price posting of period {period} is not committed")
        for event in receipt.events:
            if event.name == "price_posted":
                self.posted[period] = int(event.attributes["price_micro_per_kwh"])

    def posted_price(self, period: int) -> int | None:
        return self.posted.get(period)


def make_operator_agent(scenario: Scenario) -> OperatorAgent | None:
    kind = scenario.operator.kind
    params: dict[str, Any] = dict(scenario.operator.params)
    if kind == "none":
        if params:
            raise ScenarioError("operator.params", "operator kind 'none' takes no parameters")
        return None
    if kind == "pricing":
        unknown = sorted(set(params) - {"rule"})
        if unknown:
            raise ScenarioError("operator.params", f"unknown parameter(s): {', '.join(unknown)}")
        return PricingOperator(str(params.get("rule", "nash")))
    raise ScenarioError("operator.kind", f"must be one of {', '.join(OPERATOR_KINDS)}")
