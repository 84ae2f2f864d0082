"""Seed 000's speculator: buys into its battery when the price has fallen, sells when it rose.

Seed 000 §2.2 (3): the speculator looks at the price's relative change over a
window of ``τ`` past periods,

    r = (p_last - p_(last-τ)) / p_(last-τ),

and buys when it is low, sells when it is high. The paper's sentence has the
comparison backwards ("buy when the variation is higher than TH^C") and
contradicts its own next sentence ("buy orders when the price is low and sell
orders when the price is higher"); we follow the intent. With two thresholds,
``r < buy_below`` buys and ``r > sell_above`` sells (the paper's single
``TH^C`` is ``buy_below == sell_above``); in between it holds.

It trades only its battery (``MarketView.storage``) and never asks for more
than the battery can do this period: a buy is at most
``min(max_charge_wh, capacity_wh - state_of_charge_wh)`` and a sell at most
``min(max_discharge_wh, state_of_charge_wh)``. Buys are placed at the last
price, sells at the last price but not below what the stored energy cost plus
a margin, so a round trip does not sell at a loss it knows about.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from gridledger.agents.interfaces import Bid, MarketView, Outcome, StorageView

__all__ = [
    "Speculator",
    "SpeculatorParameters",
    "buy_room_wh",
    "relative_change",
    "sell_room_wh",
    "speculator_bids",
]


@dataclass(frozen=True)
class SpeculatorParameters:
    """The window ``τ`` (periods), the thresholds (fractions) and how much of its room it uses.

    The paper gives no values; the defaults (a 3-period window, ±2 %) are ours.
    """

    window_periods: int = 3
    """``τ``: compare the last price with the one this many priced periods before."""
    buy_below: float = -0.02
    """Buy when the relative change is below this."""
    sell_above: float = 0.02
    """Sell when the relative change is above this."""
    trade_share: float = 1.0
    """Share of the battery's room (charge or discharge) traded in one period, in (0, 1]."""
    min_margin: float = 0.0
    """A sell is priced at least ``(1 + min_margin) ×`` the stored energy's mean cost."""

    def __post_init__(self) -> None:
        if self.window_periods < 1:
            raise ValueError(f"window_periods must be at least 1, got {self.window_periods}")
        if self.buy_below > self.sell_above:
            raise ValueError(
                f"buy_below {self.buy_below} must not exceed sell_above {self.sell_above}"
            )
        if not 0 < self.trade_share <= 1:
            raise ValueError(f"trade_share must lie in (0, 1], got {self.trade_share}")
        if self.min_margin < 0:
            raise ValueError(f"min_margin must not be negative, got {self.min_margin}")


def relative_change(history: tuple[int, ...], window_periods: int) -> float | None:
    """``(p_last - p_(last-τ)) / p_(last-τ)``; None with too little history or a zero base."""
    if len(history) <= window_periods:
        return None
    base = history[-1 - window_periods]
    if base <= 0:
        return None
    return (history[-1] - base) / base


def buy_room_wh(storage: StorageView) -> int:
    """Most the battery can take in this period: power limit and headroom."""
    headroom = storage.capacity_wh - storage.state_of_charge_wh
    return max(0, min(storage.max_charge_wh, headroom))


def sell_room_wh(storage: StorageView) -> int:
    """Most the battery can give out this period: power limit and charge."""
    return max(0, min(storage.max_discharge_wh, storage.state_of_charge_wh))


def speculator_bids(
    parameters: SpeculatorParameters, view: MarketView, stored_cost_micro_per_kwh: float | None
) -> list[Bid]:
    """The speculator's bids for one period (at most one, never both sides).

    ``stored_cost_micro_per_kwh`` is the mean price paid for what it bought
    and still holds (None if nothing), the floor of its sell price.
    """
    storage = view.storage
    change = relative_change(view.price_history_micro_per_kwh, parameters.window_periods)
    if storage is None or change is None:
        return []
    band = view.prices
    floor, cap = max(1, band.feed_in_micro_per_kwh), band.cap_micro_per_kwh
    last = min(cap, max(floor, view.price_history_micro_per_kwh[-1]))
    if change < parameters.buy_below:
        energy_wh = math.floor(buy_room_wh(storage) * parameters.trade_share)
        return [Bid("buy", energy_wh, last)] if energy_wh > 0 else []
    if change > parameters.sell_above:
        energy_wh = math.floor(sell_room_wh(storage) * parameters.trade_share)
        least = 0.0
        if stored_cost_micro_per_kwh is not None:
            least = stored_cost_micro_per_kwh * (1 + parameters.min_margin)
        price = min(cap, max(last, math.ceil(least)))
        return [Bid("sell", energy_wh, price)] if energy_wh > 0 else []
    return []


class Speculator:
    """The speculator as a `Strategy`; it remembers the mean cost of the energy it bought."""

    def __init__(self, parameters: SpeculatorParameters | None = None) -> None:
        self.parameters = parameters or SpeculatorParameters()
        self.held_wh = 0
        """Energy bought in the market and not yet sold (an estimate: losses are ignored)."""
        self.held_cost_micro = 0.0

    @property
    def stored_cost_micro_per_kwh(self) -> float | None:
        """Mean price paid for the energy it holds, None when it holds none."""
        if self.held_wh <= 0:
            return None
        return self.held_cost_micro * 1000 / self.held_wh

    def bid(self, view: MarketView, rng: random.Random) -> list[Bid]:
        """Bid by the rule of `speculator_bids` (deterministic: ``rng`` is not used)."""
        return speculator_bids(self.parameters, view, self.stored_cost_micro_per_kwh)

    def learn(self, outcome: Outcome) -> None:
        """Add what it bought to its holding at cost; take what it sold out at mean cost."""
        if outcome.sold_wh > 0 and self.held_wh > 0:
            sold = min(outcome.sold_wh, self.held_wh)
            self.held_cost_micro -= self.held_cost_micro * sold / self.held_wh
            self.held_wh -= sold
        if outcome.bought_wh > 0:
            self.held_wh += outcome.bought_wh
            self.held_cost_micro += outcome.bought_value_micro
