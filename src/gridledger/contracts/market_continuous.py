"""Continuous matching in the market contract: the library's rules on the stored levels.

The contract does not implement matching. An arriving order is matched by the
library's `match_incoming` (`gridledger.market.matching`), which holds the
rules - price-time priority, partial fills, price bounds, self-trade
prevention - once, and reaches the resting orders only through the
`LevelStore` interface. `StoredLevels` is that interface over the period's
price levels in state (`market_levels.BookStore`: a queue of sequences per
price, in chunks) and over the `Session`'s money rules: a fill records the
trade and fills both orders' escrow as the match is made, so trades, escrow
moves and events come in the order the matches are made.
"""

from __future__ import annotations

import msgspec

from gridledger.contracts.market_session import Session, draft_trade
from gridledger.contracts.market_state import OrderStatus, as_library_order
from gridledger.market import Match, Order, Side, match_incoming

__all__ = ["StoredLevels", "StoredResting", "match_on_arrival"]

_NAMES = {Side.BUY: "buy", Side.SELL: "sell"}
"""The library's sides to the stored side names (plain strings in state and keys)."""


class StoredResting(msgspec.Struct, frozen=True, gc=False):
    """A stored open order as `StoredLevels` hands it out: the library order and its residual."""

    order: Order
    residual: int


class StoredLevels:
    """The period's stored price levels as the library's `LevelStore`, for one arriving order.

    ``arriving`` is the sequence of the order being matched: it is stored
    (open, not resting) before matching starts, and every fill of a resting
    order is also a fill of it.
    """

    __slots__ = ("arriving", "session")

    def __init__(self, session: Session, arriving: int) -> None:
        self.session = session
        self.arriving = arriving

    def best_price(self, side: Side) -> int | None:
        """The best price of ``side``: kept in the period record, so nothing else is read.

        (``side`` is a `StrEnum`: it finds the entry of its plain name.)
        """
        return self.session.best[side]

    def head(self, side: Side, price_micro_per_kwh: int) -> StoredResting:
        """The open order first in the queue at the price (closed entries are taken off)."""
        stored = self.session.head(_NAMES[side], price_micro_per_kwh)
        return StoredResting(as_library_order(stored), stored.residual_wh)

    def fill(self, resting: StoredResting, match: Match) -> None:
        """Record the trade, fill the arriving order, then the resting one (which may leave)."""
        session = self.session
        session.append_trade(draft_trade(match))
        energy, value = match.energy_wh, match.value_micro
        session.fill(self.arriving, energy, value)
        sequence = resting.order.sequence
        if session.fill(sequence, energy, value):
            session.unrest(session.order(sequence))

    def remove(self, resting: StoredResting) -> None:
        """Self-trade prevention cancels a resting order: out of its level, escrow released.

        Never happens in the contract (an arriving order is always newer than
        every resting one, so it is the one cancelled), but it is what the
        interface asks for.
        """
        sequence = resting.order.sequence
        self.session.unrest(self.session.order(sequence))
        self.session.close(sequence, OrderStatus.SELF_TRADE)

    def rest(self, order: Order) -> None:
        """Put the stored order behind its level's queue (its residual is already stored)."""
        self.session.rest(self.session.order(order.sequence))


def match_on_arrival(session: Session, sequence: int) -> int:
    """Continuous matching of the new open order ``sequence``; the number of trades made.

    `match_incoming` on the stored levels at the block time, bounded by the
    period's price bounds. An arriving order cancelled by self-trade
    prevention is closed here with what is left of it (its escrow released).
    """
    result = match_incoming(
        StoredLevels(session, sequence),
        as_library_order(session.order(sequence)),
        session.now_s,
        session.bounds,
    )
    if result.cancelled and result.cancelled[-1].sequence == sequence:
        session.close(sequence, OrderStatus.SELF_TRADE)  # cancelling it ended the matching
    return len(result.matches)
