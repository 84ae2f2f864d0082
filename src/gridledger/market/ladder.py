"""The inside of an order book: one side's price levels (a "ladder") and its entries.

Internal to :mod:`gridledger.market`: :class:`~gridledger.market.book.OrderBook`
owns two ladders, and the matching mechanisms walk them. Nothing here is part
of the public API.

A ladder keeps one FIFO of entries per price level (a :class:`Level`, which is
a deque) in a dict, plus a plain sorted list of the level keys (ints)
maintained with ``bisect``. Keys are the price for buys and minus the price for
sells, so on both sides a larger key is better and the best level is
``keys[-1]``: taking the best level off is an O(1) ``list.pop``.

Removal is lazy. A dead entry (residual 0: filled, cancelled, expired or
amended away) is a tombstone: it stays in its FIFO until it reaches the head,
where :meth:`Ladder.head` and :meth:`Ladder.unlink` drop it. Each level counts
its live entries and disappears with its last one, so the best key always has
a live order; a level whose tombstones outnumber its live entries (plus a
little slack) is compacted, so tombstones behind a long-lived head cannot
pile up. Readers (:meth:`Ladder.live_levels`) skip tombstones.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterator

import msgspec

from gridledger.market.orders import Order

__all__ = ["TOMBSTONE_SLACK", "Entry", "Ladder", "Level", "arrives_after"]

TOMBSTONE_SLACK = 16
"""Tombstones a level may hold beyond its live count before it is compacted (entries)."""


class Entry(msgspec.Struct, gc=False, eq=False):
    """A resting order with its mutable residual (Wh) and its ladder ``key``.

    ``key`` is the limit price (micro/kWh) for a buy and minus it for a sell.
    An entry whose residual is 0 is dead (a tombstone) and is skipped wherever
    it is still referenced. A msgspec Struct because it is built in C (one per
    order the book takes); ``gc=False`` because it only refers to an immutable
    :class:`Order`, so it can never be part of a reference cycle; ``eq=False``
    because entries are told apart by identity.
    """

    order: Order
    residual: int
    key: int


def arrives_after(first: Order, second: Order) -> bool:
    """Time priority inside one price level: later time, then higher sequence."""
    return first.order_time_s > second.order_time_s or (
        first.order_time_s == second.order_time_s and first.sequence > second.sequence
    )


class Level(deque[Entry]):
    """The entries at one price in time order, tombstones included; ``live`` counts the others.

    A deque subclass rather than a holder of one, so that each access on the
    hot path is one lookup less.
    """

    __slots__ = ("live",)

    def __init__(self, first: Entry) -> None:
        super().__init__((first,))
        self.live = 1

    def compact(self) -> None:
        """Drop the tombstones, keeping the live entries in time order."""
        live = [e for e in self if e.residual]
        self.clear()
        self.extend(live)


class Ladder:
    """One side of the book: levels by key, keys sorted ascending (best last)."""

    __slots__ = ("keys", "levels")

    def __init__(self) -> None:
        self.levels: dict[int, Level] = {}
        self.keys: list[int] = []

    def insert(self, entry: Entry) -> None:
        """Rest ``entry`` behind the entries at its price issued before it."""
        key = entry.key
        level = self.levels.get(key)
        if level is None:
            self.levels[key] = Level(entry)
            keys = self.keys
            if not keys or key > keys[-1]:
                keys.append(key)  # a new best level: no search needed
            else:
                insort(keys, key)
            return
        level.live += 1
        last, order = level[-1].order, entry.order  # a level that exists is never empty
        if last.order_time_s < order.order_time_s or (
            last.order_time_s == order.order_time_s and last.sequence <= order.sequence
        ):
            level.append(entry)  # the usual case: issued after everything resting here
            return
        # Rare: issued before orders already resting at this price. Keep time order.
        index = len(level)
        while index > 0 and arrives_after(level[index - 1].order, order):
            index -= 1
        level.insert(index, entry)

    def unlink(self, entry: Entry) -> None:
        """Account for ``entry`` having just died; drop its level if it was the last.

        The entry stays in its level as a tombstone unless it is at the head;
        the level is compacted once tombstones exceed live entries plus
        :data:`TOMBSTONE_SLACK`, which keeps the cost amortised O(1).
        """
        key = entry.key
        level = self.levels[key]
        live = level.live - 1
        if live == 0:
            del self.levels[key]
            keys = self.keys
            if keys[-1] == key:
                keys.pop()
            else:
                del keys[bisect_left(keys, key)]
            return
        level.live = live
        if level[0] is entry:
            level.popleft()
        elif len(level) > 2 * live + TOMBSTONE_SLACK:
            level.compact()

    def head(self) -> Entry | None:
        """The live entry served first on this side, or None; drops tombstones it passes."""
        keys = self.keys
        if not keys:
            return None
        level = self.levels[keys[-1]]
        entry = level[0]
        while not entry.residual:
            level.popleft()
            entry = level[0]
        return entry

    def live_levels(self) -> Iterator[tuple[int, list[Entry]]]:
        """(key, live entries in time order) from the best level down; tombstones skipped."""
        for key in reversed(self.keys):
            yield key, [e for e in self.levels[key] if e.residual]
