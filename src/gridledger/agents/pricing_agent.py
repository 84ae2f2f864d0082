"""The market operator's agent for seed 003's pricing game.

Before each period's gate closure the operator forecasts every household's
generation and load, runs the game (`gridledger.market.pricing`) and posts the
price with ``pricing.post_price``. This agent does the middle step: from the
forecast positions to the transaction's arguments. It never signs or submits;
the simulation signs the arguments as the operator and submits them through a
client, e.g.::

    posting = agent.price_period(period, positions, band)
    if posting is not None:
        raw = encode_transaction(make_transaction(
            operator_keys, chain_id, nonce, "pricing", "post_price", posting.arguments()))
        client.submit(raw)

Roles follow Tables 10–13 (not §3.2.2's reversed text): a household whose
forecast generation exceeds its load is a seller, one whose load exceeds its
generation is a buyer of the difference, one in balance sits the period out.
Each seller's preference λ is calibrated so that at the feed-in price it would
consume its forecast load (`preference_for_load`).

The game computes in floats; the posting is integer: the price is rounded to
the nearest micro/kWh and kept strictly inside ``(feed-in, grid)``, the totals
are the integer sums of the positions, so the contract's integer checks pass
whenever the game has a price. A period without sellers or without buyers
gets no posting (the contract would refuse it: there is nothing to price).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gridledger.agents.interfaces import PriceBand
from gridledger.market.pricing import (
    GameRule,
    PricingGame,
    PricingOutcome,
    Seller,
    preference_for_load,
    solve_pricing_game,
)

__all__ = [
    "HouseholdPosition",
    "PriceOperator",
    "PricePosting",
    "integer_price",
    "split_positions",
]


@dataclass(frozen=True)
class HouseholdPosition:
    """One household's forecast for the period."""

    member: str
    generation_wh: int
    """``e_DG``: forecast generation."""
    load_wh: int
    """``e_L``: forecast load before any price response."""

    def __post_init__(self) -> None:
        if self.generation_wh < 0 or self.load_wh < 0:
            raise ValueError(
                f"{self.member}: generation_wh {self.generation_wh} and load_wh "
                f"{self.load_wh} must not be negative"
            )

    @property
    def net_output_wh(self) -> int:
        """Eq. 5: ``e_DG − e_L``; positive for a seller."""
        return self.generation_wh - self.load_wh


@dataclass(frozen=True)
class PricePosting:
    """What the operator posts for a period, and the game's outcome behind it."""

    period: int
    price_micro_per_kwh: int
    supply_wh: int
    """The sellers' forecast surplus ``Σ (e_DG − e_L)``."""
    demand_wh: int
    """The buyers' forecast demand ``Σ (e_L − e_DG)``."""
    sellers: tuple[str, ...]
    buyers: tuple[str, ...]
    outcome: PricingOutcome
    """Loads, volumes and the unrounded price, in the order of `sellers` and `buyers`."""

    def arguments(self) -> dict[str, int]:
        """The arguments of ``pricing.post_price``."""
        return {
            "period": self.period,
            "price_micro_per_kwh": self.price_micro_per_kwh,
            "supply_wh": self.supply_wh,
            "demand_wh": self.demand_wh,
        }


def split_positions(
    positions: Sequence[HouseholdPosition],
) -> tuple[list[HouseholdPosition], list[HouseholdPosition]]:
    """(sellers, buyers) in the given order; balanced households are neither."""
    sellers = [p for p in positions if p.net_output_wh > 0]
    buyers = [p for p in positions if p.net_output_wh < 0]
    return sellers, buyers


def integer_price(price_micro_per_kwh: float, band: PriceBand) -> int | None:
    """The nearest integer strictly inside ``(feed-in, grid)``.

    None when the game's own price is not strictly inside the band (the
    degenerate literal and Stackelberg results: rounding must not hide them)
    or when no integer lies strictly inside it.
    """
    low, high = band.feed_in_micro_per_kwh + 1, band.grid_micro_per_kwh - 1
    inside = band.feed_in_micro_per_kwh < price_micro_per_kwh < band.grid_micro_per_kwh
    if low > high or not inside:
        return None
    return min(max(round(price_micro_per_kwh), low), high)


@dataclass(frozen=True)
class PriceOperator:
    """The operator's pricing agent: forecast positions in, a posting out."""

    rule: GameRule = GameRule.NASH

    def game(self, positions: Sequence[HouseholdPosition], band: PriceBand) -> PricingGame:
        """The period's game: sellers with calibrated λ, buyers' demands, the band's prices."""
        sellers, buyers = split_positions(positions)
        feed_in = float(band.feed_in_micro_per_kwh)
        return PricingGame(
            sellers=tuple(
                Seller(float(p.generation_wh), preference_for_load(p.load_wh, feed_in))
                for p in sellers
            ),
            demands_wh=tuple(float(-p.net_output_wh) for p in buyers),
            feed_in_price_micro_per_kwh=feed_in,
            grid_price_micro_per_kwh=float(band.grid_micro_per_kwh),
        )

    def price_period(
        self, period: int, positions: Sequence[HouseholdPosition], band: PriceBand
    ) -> PricePosting | None:
        """The posting for ``period``, or None when it has no sellers or no buyers."""
        sellers, buyers = split_positions(positions)
        supply = sum(p.net_output_wh for p in sellers)
        demand = -sum(p.net_output_wh for p in buyers)
        if supply <= 0 or demand <= 0:
            return None
        outcome = solve_pricing_game(self.game(positions, band), self.rule)
        if outcome.price_micro_per_kwh is None:
            return None
        price = integer_price(outcome.price_micro_per_kwh, band)
        if price is None:
            return None
        return PricePosting(
            period=period,
            price_micro_per_kwh=price,
            supply_wh=supply,
            demand_wh=demand,
            sellers=tuple(p.member for p in sellers),
            buyers=tuple(p.member for p in buyers),
            outcome=outcome,
        )
