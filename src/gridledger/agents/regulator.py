"""Seed 000's regulator: keeps the cap price that bounds every trade (§2.2 (4)).

The regulator stands for the grid and the traditional plants: it offers
unlimited energy at its price ``P_regulator`` (the cap), so any buy above the
cap trades at the cap, and its goal is "to avoid violent price fluctuations".
In the ledger the cap is the ``cap_price_micro_per_kwh`` market parameter and
the contracts play the standing offer: while the cap is below the grid price,
the market's clear fills at the cap every buy whose limit reaches it and
settlement serves unmet demand at the cap, each a trade of kind ``regulator``
(`gridledger.contracts.market_clearing`, `gridledger.contracts.settlement`).
What the regulator *decides* is the cap's value, and this module is that decision:

    cap_next = clip(mean(last N prices) × (1 + allowed_rise), feed-in, grid)

moved at most ``max_step`` (a fraction of the current cap) per proposal, and
proposed only when it differs from the cap in force by at least
``min_change_micro_per_kwh`` (otherwise the cap is kept). The cap never goes
above the grid price (nobody would pay more than the grid) nor below the
feed-in price (the parameters contract refuses it). Without price history the
cap stays where it is.

Deviation: seed 000 treats ``P_regulator`` as a constant; a constant cap is
``allowed_rise`` so large that the clip holds it at the grid price (or simply
never posting). The proposal is posted by the regulator's key with the
parameters contract's ``change_market(from_period, {"cap_price_micro_per_kwh":
cap})``, which takes effect from a future period only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gridledger.agents.interfaces import PriceBand

__all__ = [
    "CapProposal",
    "CapRegulator",
    "RegulatorParameters",
    "change_market_arguments",
    "propose_cap",
]


@dataclass(frozen=True)
class RegulatorParameters:
    """How the regulator reads recent prices (fractions, periods, micro-units per kWh)."""

    window_periods: int = 24
    """N: the cap follows the mean of this many most recent priced periods (a day)."""
    allowed_rise: float = 0.10
    """A trade may be at most this fraction above the recent mean before the regulator sells."""
    max_step: float = 0.05
    """The cap moves at most this fraction of its current value per proposal."""
    min_change_micro_per_kwh: int = 1_000
    """Smaller changes are not worth a transaction: the cap is kept."""

    def __post_init__(self) -> None:
        if self.window_periods < 1:
            raise ValueError(f"window_periods must be at least 1, got {self.window_periods}")
        if self.allowed_rise < 0 or not 0 < self.max_step <= 1:
            raise ValueError("allowed_rise must be >= 0 and max_step in (0, 1]")
        if self.min_change_micro_per_kwh < 1:
            raise ValueError("min_change_micro_per_kwh must be at least 1")


@dataclass(frozen=True)
class CapProposal:
    """A new cap (micro/kWh) for delivery periods from ``from_period`` on."""

    from_period: int
    cap_micro_per_kwh: int
    reference_micro_per_kwh: int
    """The recent mean price the cap was derived from."""


def propose_cap(
    parameters: RegulatorParameters,
    from_period: int,
    band: PriceBand,
    history_micro_per_kwh: tuple[int, ...],
) -> CapProposal | None:
    """The cap for ``from_period`` on, or None to keep ``band.cap_micro_per_kwh``."""
    recent = history_micro_per_kwh[-parameters.window_periods :]
    if not recent:
        return None
    reference = sum(recent) / len(recent)
    target = reference * (1 + parameters.allowed_rise)
    current = band.cap_micro_per_kwh
    largest_move = current * parameters.max_step
    moved = min(current + largest_move, max(current - largest_move, target))
    cap = round(min(band.grid_micro_per_kwh, max(band.feed_in_micro_per_kwh, moved)))
    if abs(cap - current) < parameters.min_change_micro_per_kwh:
        return None
    return CapProposal(from_period, cap, round(reference))


def change_market_arguments(proposal: CapProposal) -> dict[str, Any]:
    """The arguments of ``parameters.change_market`` that post the proposal."""
    return {
        "from_period": proposal.from_period,
        "parameters": {"cap_price_micro_per_kwh": proposal.cap_micro_per_kwh},
    }


class CapRegulator:
    """The regulator's policy object: call `propose` once per period."""

    def __init__(self, parameters: RegulatorParameters | None = None) -> None:
        self.parameters = parameters or RegulatorParameters()

    def propose(
        self, from_period: int, band: PriceBand, history_micro_per_kwh: tuple[int, ...]
    ) -> CapProposal | None:
        """See `propose_cap`; ``from_period`` must be after the current period."""
        return propose_cap(self.parameters, from_period, band, history_micro_per_kwh)
