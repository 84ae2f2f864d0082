"""The market library's errors.

Every error derives from :class:`MarketError`, carries the values involved as
attributes (so a contract can turn it into a result code without parsing text)
and states those values in its message (so a human reading a log needs nothing
else). The library raises before it changes anything: a call that raises leaves
the order book exactly as it was.
"""

from __future__ import annotations

__all__ = [
    "DuplicateOrder",
    "InvalidBounds",
    "InvalidOrder",
    "MarketError",
    "PriceOutOfBounds",
    "UnknownOrder",
    "UnsupportedPriceRule",
]


class MarketError(Exception):
    """Base class of every error the market library raises."""


class UnknownOrder(MarketError):
    """No live order with this id is in the book (never added, filled, cancelled or expired)."""

    def __init__(self, *, order_id: str) -> None:
        self.order_id = order_id
        super().__init__(f"unknown order {order_id!r}: it is not resting in the book")


class DuplicateOrder(MarketError):
    """An order with this id is already resting in the book."""

    def __init__(self, *, order_id: str) -> None:
        self.order_id = order_id
        super().__init__(f"duplicate order {order_id!r}: an order with this id is already resting")


class InvalidOrder(MarketError):
    """One field of an order (or of an amendment) is not acceptable.

    ``field`` is the name of the offending :class:`~gridledger.market.orders.Order`
    field (or ``now_s`` for a clearing moment that is not a non-negative
    integer), ``value`` what it held and ``reason`` the rule it broke.
    """

    def __init__(self, *, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"invalid order: {field}={value!r}: {reason}")


class InvalidBounds(MarketError):
    """The feed-in price and cap price cannot bound a market (wrong type, negative, inverted)."""

    def __init__(self, *, feed_in: object, cap: object, reason: str) -> None:
        self.feed_in = feed_in
        self.cap = cap
        self.reason = reason
        super().__init__(
            f"invalid price bounds: feed_in={feed_in!r} micro/kWh, cap={cap!r} micro/kWh: {reason}"
        )


class PriceOutOfBounds(MarketError):
    """A price lies outside ``[floor, cap]`` (feed-in price .. regulator's cap), in micro/kWh."""

    def __init__(self, *, price: int, floor: int, cap: int) -> None:
        self.price = price
        self.floor = floor
        self.cap = cap
        super().__init__(
            f"price {price} micro/kWh is outside the bounds [{floor}, {cap}] micro/kWh"
        )


class UnsupportedPriceRule(MarketError):
    """A mechanism was asked to price trades with a rule it does not use."""

    def __init__(self, *, rule: object, mechanism: str, allowed: tuple[str, ...]) -> None:
        self.rule = rule
        self.mechanism = mechanism
        self.allowed = allowed
        super().__init__(
            f"price rule {rule!r} is not supported by {mechanism}; use one of {list(allowed)}"
        )
