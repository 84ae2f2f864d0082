"""The zero-intelligence baseline (Gode and Sunder's ZI-C traders).

A zero-intelligence household bids its whole expected position every period
at a limit price drawn uniformly between the feed-in price and the cap: it
sells its forecast surplus and buys its forecast deficit, and learns nothing.
Constrained by the band it cannot trade at a loss against the grid, so any
better strategy has to beat it by what it learns, not by what it is allowed.
A speculator's battery is ignored: ZI trades only its own position.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from gridledger.agents.interfaces import Bid, MarketView, Outcome


def random_price(low_micro_per_kwh: int, high_micro_per_kwh: int, rng: random.Random) -> int:
    """A limit price drawn uniformly from the integers in [low, high] (at least 1)."""
    low, high = sorted((low_micro_per_kwh, high_micro_per_kwh))
    return max(1, rng.randint(low, high))


@dataclass
class ZeroIntelligence:
    """Sell the surplus and buy the deficit at uniformly random prices in [feed-in, cap]."""

    def bid(self, view: MarketView, rng: random.Random) -> list[Bid]:
        low = view.prices.feed_in_micro_per_kwh
        high = view.prices.cap_micro_per_kwh
        bids: list[Bid] = []
        if view.surplus_wh > 0:
            bids.append(Bid("sell", view.surplus_wh, random_price(low, high, rng)))
        if view.deficit_wh > 0:
            bids.append(Bid("buy", view.deficit_wh, random_price(low, high, rng)))
        return bids

    def learn(self, outcome: Outcome) -> None:
        """Zero intelligence: nothing to learn."""
