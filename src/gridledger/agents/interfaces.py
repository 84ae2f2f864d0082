"""What a household's devices and its bidding strategy look like to the simulation.

Device physics and bidding strategy are kept apart: devices say how much energy
a household makes, uses and can store in a delivery period; a strategy turns
that position and what it has seen of the market into bids. The simulation
runner (`gridledger.simulation`) owns the loop: it asks the devices for the
position, the strategy for bids, signs the bids as market transactions through
a client, and after settlement tells the strategy what happened, read back from
the chain.

Units are the ledger's: energy in watt-hours (``_wh``), money in micro-units of
the community currency (``_micro``), prices in micro-units per kWh. Strategies
may compute in floats (they run off chain), but what they hand back is integer.
Randomness comes only from the ``random.Random`` passed in, seeded by the
scenario, so a rerun gives the same bids.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal, Protocol

Side = Literal["buy", "sell"]


@dataclass(frozen=True)
class PriceBand:
    """The community's price bounds for a period (from the market parameters)."""

    feed_in_micro_per_kwh: int
    """What the grid pays for surplus: the grid's standing bid, the floor."""
    grid_micro_per_kwh: int
    """What the grid charges for energy bought from it."""
    cap_micro_per_kwh: int
    """The regulator's standing offer, the ceiling of every trade price."""


@dataclass(frozen=True)
class StorageView:
    """A battery as a strategy sees it at the start of a period."""

    state_of_charge_wh: int
    capacity_wh: int
    max_charge_wh: int
    """Most energy the battery can take in this period (power limit x period)."""
    max_discharge_wh: int
    """Most energy it can give out this period."""


@dataclass(frozen=True)
class MarketView:
    """What a strategy knows when it bids for one delivery period."""

    period: int
    """The delivery period (``timestamp_s // period_seconds``)."""
    prices: PriceBand
    price_history_micro_per_kwh: tuple[int, ...]
    """The community's volume-weighted mean trade price of each past period that
    had trades, oldest first (empty before the first trade)."""
    surplus_wh: int
    """Energy the household expects to have for sale this period (>= 0), after
    its own consumption and the battery's self-consumption dispatch."""
    deficit_wh: int
    """Energy it expects to need from the market this period (>= 0)."""
    storage: StorageView | None = None
    """The battery, when the household has one and the strategy may trade from
    it (a speculator); None otherwise."""
    hourly_prices_micro_per_kwh: tuple[int | None, ...] = ()
    """The community's mean trade price in each period of the day (index = period of the
    day) over the last week, None where none traded; given to the strategies that use
    it (arbitrage), empty for the others."""
    period_of_day: int = 0
    """This period's index in the day (``period % periods per day``)."""


@dataclass(frozen=True)
class Bid:
    """One limit order a strategy wants placed for the period."""

    side: Side
    energy_wh: int
    price_micro_per_kwh: int

    def __post_init__(self) -> None:
        if self.side not in ("buy", "sell"):
            raise ValueError(f"side must be 'buy' or 'sell', got {self.side!r}")
        if self.energy_wh <= 0:
            raise ValueError(f"energy_wh must be positive, got {self.energy_wh}")
        if self.price_micro_per_kwh <= 0:
            raise ValueError(
                f"price_micro_per_kwh must be positive, got {self.price_micro_per_kwh}"
            )


@dataclass(frozen=True)
class Outcome:
    """What became of a household's bids in one period, read back from the chain
    after settlement."""

    period: int
    offered_wh: int
    """Energy the household offered for sale (sum of its sell orders)."""
    sold_wh: int
    """Energy matched on its sell orders."""
    wanted_wh: int
    """Energy it bid for (sum of its buy orders)."""
    bought_wh: int
    """Energy matched on its buy orders."""
    sold_value_micro: int
    bought_value_micro: int
    penalty_micro: int
    """Breakdown penalty and shortfall charges it paid in settlement."""
    mean_price_micro_per_kwh: int | None
    """The community's volume-weighted mean trade price; None without trades."""


class Strategy(Protocol):
    """A bidding strategy: bids for a period, and learns from what happened."""

    def bid(self, view: MarketView, rng: random.Random) -> list[Bid]: ...

    def learn(self, outcome: Outcome) -> None: ...


class EnergyProfile(Protocol):
    """Generation (PV) or consumption (load) of one household over time."""

    def energy_wh(self, start_s: int, seconds: int) -> int:
        """Energy in watt-hours over ``[start_s, start_s + seconds)`` (Unix seconds), >= 0."""
        ...


class Storage(Protocol):
    """A battery whose state of charge never leaves ``[0, capacity_wh]``."""

    @property
    def state_of_charge_wh(self) -> int: ...

    @property
    def capacity_wh(self) -> int: ...

    def max_charge_wh(self, seconds: int) -> int:
        """Most energy it can take in over ``seconds`` (power limit and headroom)."""
        ...

    def max_discharge_wh(self, seconds: int) -> int:
        """Most energy it can give out over ``seconds`` (power limit and charge)."""
        ...

    def charge(self, energy_wh: int, seconds: int) -> int:
        """Take in up to ``energy_wh`` from outside; returns what was taken
        (losses applied inside, so the stored gain may be smaller)."""
        ...

    def discharge(self, energy_wh: int, seconds: int) -> int:
        """Give out up to ``energy_wh``; returns what was delivered."""
        ...
