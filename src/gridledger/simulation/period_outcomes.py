"""What a period's chain records say: its price band, its mean price, every member's net
committed export and the outcome of every member's bids, for its strategy to learn from.

Everything here reads the replies of the client (`gridledger.client.market_replies`), so
the prices and outcomes the agents see are the chain's, not the runner's own numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

from gridledger.agents.interfaces import Outcome, PriceBand
from gridledger.client.market_replies import (
    OrderReply,
    ParametersReply,
    StatementReply,
    TradeReply,
)
from gridledger.market import trade_value_micro


def period_band(parameters: ParametersReply) -> PriceBand:
    p = parameters.parameters
    return PriceBand(
        p.feed_in_price_micro_per_kwh, p.grid_price_micro_per_kwh, p.cap_price_micro_per_kwh
    )


def mean_price(trades: Sequence[TradeReply]) -> int | None:
    """Volume-weighted mean trade price (micro-units per kWh), None without trades."""
    energy: int = sum(t.energy_wh for t in trades)
    if energy == 0:
        return None
    value: int = sum(t.energy_wh * t.price_micro_per_kwh for t in trades)
    return round(value / energy)


def committed_exports(trades: Sequence[TradeReply]) -> dict[str, int]:
    """Per member, energy sold minus energy bought in the period's trades (Wh)."""
    net: dict[str, int] = {}
    for trade in trades:
        net[trade.seller] = net.get(trade.seller, 0) + trade.energy_wh
        net[trade.buyer] = net.get(trade.buyer, 0) - trade.energy_wh
    return net


def outcomes_of(
    period: int,
    orders: Sequence[OrderReply],
    trades: Sequence[TradeReply],
    statements: Sequence[StatementReply],
    grid_price_micro_per_kwh: int,
) -> dict[str, Outcome]:
    """What became of every member's bids in a settled period, from the chain's records.

    Members without orders, trades or a statement are absent (their outcome is all zeros).
    """
    price = mean_price(trades)
    totals: dict[str, dict[str, int]] = {}

    def of(member: str) -> dict[str, int]:
        return totals.setdefault(member, dict.fromkeys(OUTCOME_FIELDS, 0))

    for order in orders:
        side = "offered_wh" if order.side == "sell" else "wanted_wh"
        of(order.owner)[side] += order.energy_wh
    for trade in trades:
        seller, buyer = of(trade.seller), of(trade.buyer)
        seller["sold_wh"] += trade.energy_wh
        seller["sold_value_micro"] += trade.value_micro
        buyer["bought_wh"] += trade.energy_wh
        buyer["bought_value_micro"] += trade.value_micro
    for statement in statements:
        shortfall = trade_value_micro(statement.shortfall_wh, grid_price_micro_per_kwh)
        of(statement.member)["penalty_micro"] += statement.penalised_micro + shortfall
    return {
        member: Outcome(period=period, mean_price_micro_per_kwh=price, **values)
        for member, values in totals.items()
    }


OUTCOME_FIELDS = (
    "offered_wh",
    "sold_wh",
    "wanted_wh",
    "bought_wh",
    "sold_value_micro",
    "bought_value_micro",
    "penalty_micro",
)
