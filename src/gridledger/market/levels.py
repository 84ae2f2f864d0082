"""What continuous matching needs from a book: the :class:`LevelStore` interface.

:func:`~gridledger.market.matching.match_incoming` holds the rules of
continuous matching (price-time priority, partial fills, price bounds,
self-trade prevention) once, and reaches the resting orders only through this
interface. Two books implement it: the in-memory
:class:`~gridledger.market.book.OrderBook` of this library, and the market
contract's price levels kept in ledger state (chunked queues per price, read
and written as one transaction touches them). So the contract runs exactly the
library's matching, and a test runs both on the same orders
(``tests/contracts/test_market_levels.py``).

A store hands out resting orders as handles of its own type (``R``): anything
with the order as placed (:attr:`Resting.order`) and what is left of it
(:attr:`Resting.residual`). The matching function reads the handle and gives
it back to :meth:`LevelStore.fill` or :meth:`LevelStore.remove`; it never
keeps a handle across a change of the store.

Prices are limits in micro-units per kWh as submitted (no price bound
applied), energy is in Wh.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from gridledger.market.orders import Order, Side
from gridledger.market.trades import Match

__all__ = ["LevelStore", "Resting"]


class Resting(Protocol):
    """A resting order as a :class:`LevelStore` hands it out.

    ``order`` is the order as it was placed (its ``residual_wh`` may be stale:
    only the identity, owner, limit, times and sequence count); ``residual``
    is the energy still open (Wh, positive).
    """

    @property
    def order(self) -> Order: ...

    @property
    def residual(self) -> int: ...


R = TypeVar("R", bound=Resting)


class LevelStore(Protocol[R]):
    """The resting orders of one delivery period by side and price level, in time priority.

    Each method states what an implementation must do;
    ``tests/contracts/test_market_levels.py`` checks both implementations
    against these statements.
    """

    def best_price(self, side: Side) -> int | None:
        """The best limit with a resting order on ``side`` (highest buy, lowest sell), or None.

        Must read nothing but the side's best price: continuous matching asks it
        first for every arriving order, and most orders then just rest.
        """
        ...

    def head(self, side: Side, price_micro_per_kwh: int) -> R:
        """The resting order served first at ``price_micro_per_kwh`` on ``side``.

        First in time priority at that price: earliest ``order_time_s``, then
        lowest ``sequence``. Called only for a price that has a resting order
        (as :meth:`best_price` just said). The store may drop what it keeps of
        orders that left the level before it.
        """
        ...

    def fill(self, resting: R, match: Match) -> None:
        """``resting`` traded ``match``: take ``match.energy_wh`` off its residual.

        Once nothing is left the order leaves the store, and the best price of
        its side moves on when its level empties. Called once per match made
        against a resting order, in the order the matches are made and as each
        is made; a store that keeps accounts records the match here (the market
        contract stores the trade and fills both orders' escrow).
        """
        ...

    def remove(self, resting: R) -> None:
        """Take ``resting`` out of the store, whatever is left of it (self-trade prevention)."""
        ...

    def rest(self, order: Order) -> None:
        """Rest ``order`` (new to the store, checked by the caller) with ``order.residual_wh``.

        It takes its place at its price in time priority: behind every order
        there with an earlier ``order_time_s``, or the same time and a lower
        ``sequence``. (The market contract's orders arrive in that order, so
        there it joins the back of its level's queue.) The best price of its
        side moves to its price if that is better.
        """
        ...
