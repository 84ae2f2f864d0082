"""Prices, price bounds and the value of a trade, all in integers.

Units: energy in watt-hours (``energy_wh``), prices in micro-units of the
community currency per kWh (``price_micro_per_kwh``), money in micro-units
(``amount_micro``). There are no floats here, so every peer computes the same
number from the same inputs.

Two standing offers bound every price (seed 000 §2.2 (4), DESIGN.md "Market
and settlement"):

* the regulator sells an unlimited volume at the cap price, so no buyer ever
  pays more than the cap: a buy limit above the cap is treated as the cap;
* the grid buys an unlimited volume at the feed-in price, so no seller ever
  receives less than the feed-in price: a sell limit below it is treated as it.

:class:`PriceBounds` holds the two prices; :func:`effective_bid` and
:func:`effective_ask` apply them to a limit. Every mechanism compares and
prices with the effective limits, so every trade price lies in
``[feed_in, cap]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gridledger.market.errors import InvalidBounds, PriceOutOfBounds, UnsupportedPriceRule

__all__ = [
    "PAIR_RULES",
    "PriceBounds",
    "PriceRule",
    "effective_ask",
    "effective_bid",
    "pair_price",
    "require_within_bounds",
    "trade_value_micro",
]

WH_PER_KWH = 1000


def trade_value_micro(energy_wh: int, price_micro_per_kwh: int) -> int:
    """Money for ``energy_wh`` at ``price_micro_per_kwh``, in micro-units, rounded down.

    This is the only place a trade's value is computed; the buyer pays and the
    seller receives this same number, so rounding can never create or destroy
    money.
    """
    return energy_wh * price_micro_per_kwh // WH_PER_KWH


@dataclass(frozen=True, slots=True)
class PriceBounds:
    """The grid's standing bid (feed-in price) and the regulator's standing offer (cap price).

    Both in micro/kWh, with ``0 <= feed_in <= cap``. Raises :class:`InvalidBounds`.
    """

    feed_in_price_micro_per_kwh: int
    cap_price_micro_per_kwh: int

    def __post_init__(self) -> None:
        feed_in = self.feed_in_price_micro_per_kwh
        cap = self.cap_price_micro_per_kwh
        if type(feed_in) is not int or type(cap) is not int:
            raise InvalidBounds(feed_in=feed_in, cap=cap, reason="prices must be integers")
        if feed_in < 0:
            raise InvalidBounds(feed_in=feed_in, cap=cap, reason="feed-in price is negative")
        if feed_in > cap:
            raise InvalidBounds(
                feed_in=feed_in, cap=cap, reason="feed-in price is above the cap price"
            )


class PriceRule(StrEnum):
    """How a trade's price was chosen; recorded on every match for audit.

    ``MIDPOINT``, ``BID`` and ``ASK`` are the pair rules of high-low matching;
    ``RESTING`` is continuous matching (the resting order's price), ``UNIFORM``
    the call auction's single clearing price and ``STANDING`` a fill against
    the regulator's or the grid's standing offer.
    """

    MIDPOINT = "midpoint"
    BID = "bid"
    ASK = "ask"
    RESTING = "resting"
    UNIFORM = "uniform"
    STANDING = "standing"


PAIR_RULES: tuple[PriceRule, ...] = (PriceRule.MIDPOINT, PriceRule.BID, PriceRule.ASK)
"""The rules :func:`pair_price` (and so high-low matching) accepts."""


def effective_bid(price_micro_per_kwh: int, bounds: PriceBounds | None) -> int:
    """A buy limit as the market treats it: never above the cap (the regulator sells there)."""
    if bounds is None:
        return price_micro_per_kwh
    return min(price_micro_per_kwh, bounds.cap_price_micro_per_kwh)


def effective_ask(price_micro_per_kwh: int, bounds: PriceBounds | None) -> int:
    """A sell limit as the market treats it: never below feed-in (the grid buys there)."""
    if bounds is None:
        return price_micro_per_kwh
    return max(price_micro_per_kwh, bounds.feed_in_price_micro_per_kwh)


def pair_price(bid_micro_per_kwh: int, ask_micro_per_kwh: int, rule: PriceRule) -> int:
    """The price of one high-low pair, given crossing (effective) limits ``ask <= bid``.

    ``MIDPOINT`` is ``(bid + ask) // 2``: integer division rounds down, so an
    odd spread gives the buyer the half micro-unit. The result always lies in
    ``[ask, bid]``. ``BID`` and ``ASK`` price at one side's limit.
    """
    if rule is PriceRule.MIDPOINT:
        return (bid_micro_per_kwh + ask_micro_per_kwh) // 2
    if rule is PriceRule.BID:
        return bid_micro_per_kwh
    if rule is PriceRule.ASK:
        return ask_micro_per_kwh
    raise UnsupportedPriceRule(
        rule=rule, mechanism="high-low matching", allowed=tuple(str(r) for r in PAIR_RULES)
    )


def require_within_bounds(price_micro_per_kwh: int, bounds: PriceBounds) -> None:
    """Raise :class:`PriceOutOfBounds` unless ``feed_in <= price <= cap``.

    For prices that come from outside the library (an off-chain pricing game's
    result entering the chain, an operator's manual price): the library's own
    mechanisms produce in-bounds prices by construction.
    """
    floor = bounds.feed_in_price_micro_per_kwh
    cap = bounds.cap_price_micro_per_kwh
    if not floor <= price_micro_per_kwh <= cap:
        raise PriceOutOfBounds(price=price_micro_per_kwh, floor=floor, cap=cap)
