"""The run's steps in simulated time: what kind each is, and when each period's fall.

A period has four steps of its own (`schedule`): orders shortly before its gate closure,
the clear at gate closure, meter readings just after it ends and settlement when its meter
window closes. Scenarios add the day-ahead stage's orders, reveals and clear for each
delivery day (`simulation.day_ahead`), seed 001's offers and agreements
(`simulation.bilateral`) and the operator's daily issue. Steps of neighbouring periods
interleave; the runner (`simulation.runner`) runs them in time order, and when two fall on
the same second, in the order of their kinds.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridledger.simulation.bilateral import trading_steps, uses_bilateral
from gridledger.simulation.day_ahead import day_ahead_steps, uses_day_ahead
from gridledger.simulation.scenario import Scenario, start_seconds

# step kinds, in the order they run when they fall on the same second
ORDERS, CLEAR, READINGS, SETTLE = 0, 1, 2, 3
OFFERS, AGREEMENTS = 4, 5
"""Seed 001's bilateral steps, only in scenarios with a ``bilateral`` strategy."""
DAY_AHEAD_ORDERS, DAY_AHEAD_CLEAR = 6, 7
"""The day-ahead stage's steps (their ``period`` is the delivery day), only in scenarios
whose ``market.stages`` name ``day_ahead`` (`simulation.day_ahead`)."""
DAY_AHEAD_REVEAL = 8
"""Sealed orders' reveals (``privacy.sealed_orders``), at the gate."""
ISSUE = 9
"""The operator's daily issue to every household (scenarios with ``currency.daily_issue_micro``)."""
DAY_SECONDS = 86_400

STEP_NAMES = {
    ORDERS: "orders",
    CLEAR: "clear",
    READINGS: "readings",
    SETTLE: "settle",
    OFFERS: "offers",
    AGREEMENTS: "agreements",
    ISSUE: "issue",
    DAY_AHEAD_ORDERS: "day-ahead orders",
    DAY_AHEAD_CLEAR: "day-ahead clear",
    DAY_AHEAD_REVEAL: "day-ahead reveals",
}
"""What each kind of step is called in the progress line."""


@dataclass(frozen=True, order=True)
class Step:
    """One step of a run: when it runs (simulated Unix seconds), its kind, and the period it
    belongs to (for the day-ahead stage's steps, the delivery day)."""

    time_s: int
    kind: int
    period: int


def schedule(scenario: Scenario) -> list[Step]:
    """Every step of every period, in the order they run."""
    market = scenario.market
    length = market.period_seconds
    first = start_seconds(scenario.horizon) // length
    lead = min(60, max(1, (length - market.gate_closure_seconds) // 2))
    after = min(60, market.meter_window_seconds // 2)
    steps: list[Step] = []
    for period in range(first, first + scenario.horizon.periods):
        start = period * length
        steps.append(Step(start - market.gate_closure_seconds - lead, ORDERS, period))
        steps.append(Step(start - market.gate_closure_seconds, CLEAR, period))
        steps.append(Step(start + length + after, READINGS, period))
        steps.append(Step(start + length + market.meter_window_seconds, SETTLE, period))
    if scenario.currency.daily_issue_micro:
        horizon_start = first * length
        horizon_end = (first + scenario.horizon.periods) * length
        day = horizon_start // DAY_SECONDS + 1
        while day * DAY_SECONDS < horizon_end:
            steps.append(Step(day * DAY_SECONDS, ISSUE, day * DAY_SECONDS // length))
            day += 1
    if uses_bilateral(scenario):
        kinds = {"offers": OFFERS, "agreements": AGREEMENTS}
        periods = range(first, first + scenario.horizon.periods)
        steps.extend(Step(t, kinds[k], p) for t, k, p in trading_steps(scenario, periods))
    if uses_day_ahead(scenario):
        periods = range(first, first + scenario.horizon.periods)
        stage = {
            "day_ahead_orders": DAY_AHEAD_ORDERS,
            "day_ahead_reveal": DAY_AHEAD_REVEAL,
            "day_ahead_clear": DAY_AHEAD_CLEAR,
        }
        steps.extend(Step(t, stage[k], d) for t, k, d in day_ahead_steps(scenario, periods))
    return sorted(steps)
