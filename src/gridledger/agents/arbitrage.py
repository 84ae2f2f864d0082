"""A battery that trades for arbitrage: it buys to charge in the hours the market is cheap
and sells from its charge in the dear ones, besides trading its own surplus and deficit.

The price it expects for an hour is the community's mean trade price in the same
hour of the day over the last days (`MarketView.hourly_prices_micro_per_kwh`, one
entry per period of the day, None where no trade was seen). Ranked among the
hours with a price:

- the ``charge_hours`` cheapest: it bids to fill the battery (up to the power
  limit and the headroom) at the hour's expected price, buying beyond what its
  own surplus brings in;
- the ``discharge_hours`` dearest: it offers its charge down to the reserve
  (``reserve_permille`` of the capacity) at the hour's expected price, but never
  below what the cheapest charge hours cost divided by the round trip
  (``round_trip_permille``): a sale must pay for the energy lost in the battery;
- otherwise, and until it has seen prices in at least ``min_known_hours`` hours,
  it only trades its own position.

Its own surplus and deficit it trades as zero intelligence does (a limit drawn
uniformly in [feed-in, cap]). It is a storage-trading strategy: its battery is
dispatched to honour its trades (`agents.household.dispatch_to_trades`), so
whatever it did not trade the battery absorbs or supplies, as self-consumption
would. Its buys and sells never cross each other (a charge buy is only made when
there is no surplus left to sell, and the reverse), so self-trade prevention
never cancels its own bids.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from gridledger.agents.interfaces import Bid, MarketView, Outcome
from gridledger.agents.zero_intelligence import random_price

__all__ = ["ArbitrageParameters", "BatteryArbitrage"]


@dataclass(frozen=True)
class ArbitrageParameters:
    charge_hours: int = 6
    discharge_hours: int = 6
    reserve_permille: int = 100
    round_trip_permille: int = 900
    min_known_hours: int = 12

    def __post_init__(self) -> None:
        for name in ("charge_hours", "discharge_hours", "min_known_hours"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")
        if not 0 <= self.reserve_permille <= 1000:
            raise ValueError(f"reserve_permille must be in [0, 1000], got {self.reserve_permille}")
        if not 0 < self.round_trip_permille <= 1000:
            raise ValueError(
                f"round_trip_permille must be in (0, 1000], got {self.round_trip_permille}"
            )


@dataclass
class BatteryArbitrage:
    parameters: ArbitrageParameters

    def bid(self, view: MarketView, rng: random.Random) -> list[Bid]:
        low, high = view.prices.feed_in_micro_per_kwh, view.prices.cap_micro_per_kwh
        surplus, deficit = view.surplus_wh, view.deficit_wh
        mode, price = self._mode(view)
        storage = view.storage
        bids: list[Bid] = []
        if storage is None or mode == "hold":
            if surplus > 0:
                bids.append(Bid("sell", surplus, random_price(low, high, rng)))
            if deficit > 0:
                bids.append(Bid("buy", deficit, random_price(low, high, rng)))
            return bids
        if mode == "charge":
            charge = min(storage.max_charge_wh, storage.capacity_wh - storage.state_of_charge_wh)
            if surplus > charge:
                bids.append(Bid("sell", surplus - charge, random_price(low, high, rng)))
            if deficit > 0:
                bids.append(Bid("buy", deficit, random_price(low, high, rng)))
            if charge > surplus:
                bids.append(Bid("buy", charge - surplus, max(1, min(price, high))))
            return bids
        reserve = storage.capacity_wh * self.parameters.reserve_permille // 1000
        discharge = min(storage.max_discharge_wh, max(0, storage.state_of_charge_wh - reserve))
        if deficit > discharge:
            bids.append(Bid("buy", deficit - discharge, random_price(low, high, rng)))
        if surplus > 0:
            bids.append(Bid("sell", surplus, random_price(low, high, rng)))
        if discharge > deficit:
            bids.append(Bid("sell", discharge - deficit, max(1, max(price, low))))
        return bids

    def _mode(self, view: MarketView) -> tuple[str, int]:
        """``charge``, ``discharge`` or ``hold`` for this hour, and the limit to bid at."""
        profile = view.hourly_prices_micro_per_kwh
        known = sorted((price, slot) for slot, price in enumerate(profile) if price is not None)
        p = self.parameters
        slot = view.period_of_day
        if len(known) < max(1, p.min_known_hours) or slot >= len(profile):
            return "hold", 0
        price = profile[slot]
        if price is None:
            return "hold", 0
        cheap = known[: p.charge_hours]
        dear = known[len(known) - p.discharge_hours :] if p.discharge_hours else []
        if (price, slot) in cheap:
            return "charge", price
        if (price, slot) in dear:
            cost = max(c for c, _ in cheap) if cheap else 0
            floor = -(-cost * 1000 // p.round_trip_permille)
            return ("discharge", max(price, floor)) if price >= floor else ("hold", 0)
        return "hold", 0

    def learn(self, outcome: Outcome) -> None:
        """It reads the market's prices from the view; nothing to learn from its own outcome."""
