"""Matches (trades) and the record of why each one happened.

A :class:`Match` is one trade between one buy and one sell order (or a
standing offer). Its ``value_micro`` is computed once, by
:func:`~gridledger.market.prices.trade_value_micro`, and is what the buyer pays
and the seller receives. Its :class:`MatchReason` keeps what an auditor needs
to re-check the priority and the price: the mechanism, the two limits as
submitted, the two orders' times and sequences, the price rule and whether a
price bound was applied.

Every mechanism returns a :class:`MatchResult`: the matches in the order they
were made, plus the orders the call removed for other reasons (expired, or
cancelled by self-trade prevention) so that nothing leaves the book unseen.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec

from gridledger.market.orders import Order
from gridledger.market.prices import PriceRule

__all__ = ["Match", "MatchReason", "MatchResult", "Mechanism"]


class Mechanism(StrEnum):
    """The mechanism that made a match."""

    HIGH_LOW = "high_low"
    CONTINUOUS = "continuous"
    CALL_AUCTION = "call_auction"
    STANDING_OFFER = "standing_offer"
    DAY_AHEAD = "day_ahead"


class MatchReason(msgspec.Struct, frozen=True):
    """Why a match happened, for audit.

    Prices are the limits as submitted (micro/kWh); for a standing offer the
    counterparty's "limit" is the cap (regulator) or feed-in price (grid) and
    its time and sequence are None. ``clamped`` is True when a price bound
    replaced one of the two limits (a buy above the cap or a sell below the
    feed-in price) in the crossing test and the price.
    """

    mechanism: Mechanism
    price_rule: PriceRule
    bid_price_micro_per_kwh: int
    ask_price_micro_per_kwh: int
    buy_order_time_s: int | None
    sell_order_time_s: int | None
    buy_sequence: int | None
    sell_sequence: int | None
    clamped: bool


class Match(msgspec.Struct, frozen=True):
    """One trade of ``energy_wh`` at ``price_micro_per_kwh`` for ``value_micro`` micro-units.

    ``buyer``/``seller`` are owners (``REGULATOR`` or ``GRID`` for a standing
    offer, whose order id is the same pseudo-owner name); ``matched_at_s`` is
    the clearing moment or arrival time given to the mechanism.
    """

    buy_order_id: str
    sell_order_id: str
    buyer: str
    seller: str
    energy_wh: int
    price_micro_per_kwh: int
    value_micro: int
    delivery_period: int
    matched_at_s: int
    reason: MatchReason


class MatchResult(msgspec.Struct, frozen=True):
    """What one call of a mechanism did to the book.

    ``matches`` in the order made; ``expired`` the orders removed because
    ``expiry_s <= now_s`` (checked before matching); ``cancelled`` the orders
    removed by self-trade prevention, with the residual they had; ``resting``
    (continuous matching only) the incoming order as it now rests, or None if
    it was filled or cancelled.
    """

    matches: tuple[Match, ...]
    expired: tuple[Order, ...] = ()
    cancelled: tuple[Order, ...] = ()
    resting: Order | None = None

    @property
    def traded_wh(self) -> int:
        """Total energy traded, in Wh."""
        return sum(m.energy_wh for m in self.matches)
