"""The profit-driven adjustment rule shared by seed 000's producer and consumer.

Seed 000 §2.2 (1)–(2) lets each trader move its price (eqs. 3 and 5) and a
producer also its quantity (eq. 4) after every period, by comparing the profit
it just made, ``ε^t``, with the one before, ``ε^(t-1)``:

- ``ε^t - ε^(t-1) > ξ`` (the profit *rose*): the value goes up by its step,
  ``x^(t+1) = x^t + Δ``, and the profit is added to the success sum
  ``ε_s += ε^t``;
- ``ε^t - ε^(t-1) < -ξ`` (the profit *fell*): the value goes down by its step,
  ``x^(t+1) = x^t - Δ``, and the profit is added to the decline sum
  ``ε_d += ε^t``;
- otherwise (the profit stayed *flat*): draw ``D = rand(0, 1)``; the value
  goes up by ``Δ × D`` if ``D < pol_s`` and down by ``Δ × D`` otherwise, where
  ``pol_s = ε_s / (ε_s + ε_d)`` and ``pol_d = ε_d / (ε_s + ε_d)``.

Money is in micro-units (``_micro``) and may be fractional here: this runs off
chain. The functions are pure; the strategies keep the state.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

__all__ = [
    "NEUTRAL_PROBABILITY",
    "ProfitMemory",
    "Trend",
    "classify_change",
    "record_profit",
    "step_value",
    "success_probability",
]

Trend = Literal["rise", "fall", "flat"]

NEUTRAL_PROBABILITY = 0.5
"""``pol_s`` before there is any evidence (and whenever ``ε_s + ε_d <= 0``)."""


@dataclass(frozen=True)
class ProfitMemory:
    """What the rule remembers between periods (all in micro-units).

    ``previous_profit_micro`` is ``ε^(t-1)`` (None before the first period);
    ``success_micro`` and ``decline_micro`` are the sums ``ε_s`` and ``ε_d``.
    """

    previous_profit_micro: float | None = None
    success_micro: float = 0.0
    decline_micro: float = 0.0


def classify_change(profit_micro: float, previous_micro: float | None, xi_micro: float) -> Trend:
    """Which branch of eqs. 3–5 a profit change falls in, with tolerance ``ξ``.

    With no previous profit the change counts as zero (flat): the first period
    explores.
    """
    change = 0.0 if previous_micro is None else profit_micro - previous_micro
    if change > xi_micro:
        return "rise"
    if change < -xi_micro:
        return "fall"
    return "flat"


def success_probability(memory: ProfitMemory) -> float:
    """``pol_s = ε_s / (ε_s + ε_d)`` (eq. 3), the chance of stepping up when flat.

    The paper leaves the ratio undefined when the sums are zero, and profits
    can be negative (the breakdown loss), which would put it outside [0, 1];
    so a non-positive denominator gives 1/2 and the ratio is clipped to [0, 1].
    """
    total = memory.success_micro + memory.decline_micro
    if total <= 0:
        return NEUTRAL_PROBABILITY
    return min(1.0, max(0.0, memory.success_micro / total))


def record_profit(
    memory: ProfitMemory, profit_micro: float, xi_micro: float
) -> tuple[ProfitMemory, Trend]:
    """Classify ``ε^t`` against ``ε^(t-1)`` and update ``ε_s`` / ``ε_d`` (eqs. 3–4).

    Price and quantity share the sums: the paper writes the same ``ε_{G,s}``
    and ``ε_{G,d}`` in both equations, so a period's profit is counted once.
    """
    trend = classify_change(profit_micro, memory.previous_profit_micro, xi_micro)
    updated = replace(memory, previous_profit_micro=profit_micro)
    if trend == "rise":
        updated = replace(updated, success_micro=memory.success_micro + profit_micro)
    elif trend == "fall":
        updated = replace(updated, decline_micro=memory.decline_micro + profit_micro)
    return updated, trend


def step_value(
    value: float, step: float, trend: Trend, draw: float, up_probability: float
) -> float:
    """One step of eqs. 3–5: ``x ± Δ`` on a rise or fall, ``x ± Δ × D`` when flat.

    ``draw`` is ``D = rand(0, 1)``; when flat the value rises by ``Δ × D`` if
    ``D < up_probability`` (``pol_s``) and falls by ``Δ × D`` otherwise.
    """
    if trend == "rise":
        return value + step
    if trend == "fall":
        return value - step
    if draw < up_probability:
        return value + step * draw
    return value - step * draw
