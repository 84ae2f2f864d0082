"""The inside of an order book: one side's price levels (a "ladder") and its entries.

Internal to :mod:`gridledger.market`: :class:`~gridledger.market.book.OrderBook`
owns two ladders, and the matching mechanisms walk them. Nothing here is part
of the public API.

A ladder keeps one FIFO (a deque) of entries per price level in a dict, plus a
sorted list of the level keys maintained with ``bisect``. Keys are the price
for buys and minus the price for sells, so on both sides a larger key is better
and the best level is ``keys[-1]``: taking the best level off is an O(1)
``list.pop``. Removal is lazy: a dead entry (residual 0) stays in its FIFO
until it reaches the head, while each level counts its live entries and
disappears with its last one, so the best key always has a live order.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterator

from gridledger.market.orders import Order, Side

__all__ = ["Entry", "Ladder", "Level", "arrives_after"]


class Entry:
    """A resting order with its mutable residual (Wh); ``key`` is its ladder key.

    An entry whose residual is 0 is dead (filled, cancelled, expired or amended
    away) and is skipped wherever it is still referenced.
    """

    __slots__ = ("key", "order", "residual")

    def __init__(self, order: Order) -> None:
        self.order = order
        self.key = (
            order.price_micro_per_kwh if order.side is Side.BUY else -order.price_micro_per_kwh
        )
        self.residual = order.residual_wh


def arrives_after(first: Order, second: Order) -> bool:
    """Time priority inside one price level: later time, then higher sequence."""
    return first.order_time_s > second.order_time_s or (
        first.order_time_s == second.order_time_s and first.sequence > second.sequence
    )


class Level:
    """The entries resting at one price, in time order, and how many are live."""

    __slots__ = ("entries", "live")

    def __init__(self) -> None:
        self.entries: deque[Entry] = deque()
        self.live = 0


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
            level = self.levels[key] = Level()
            keys = self.keys
            if not keys or key > keys[-1]:
                keys.append(key)  # a new best level: no search needed
            else:
                insort(keys, key)
            level.entries.append(entry)
            level.live = 1
            return
        entries = level.entries
        if entries:
            last, order = entries[-1].order, entry.order
            if last.order_time_s > order.order_time_s or (
                last.order_time_s == order.order_time_s and last.sequence > order.sequence
            ):
                # Rare: issued before orders already resting at this price. Keep time order.
                index = len(entries)
                while index > 0 and arrives_after(entries[index - 1].order, order):
                    index -= 1
                entries.insert(index, entry)
                level.live += 1
                return
        entries.append(entry)
        level.live += 1

    def unlink(self, entry: Entry) -> None:
        """Account for ``entry`` having just died; drop its level if it was the last."""
        key = entry.key
        level = self.levels[key]
        level.live -= 1
        if level.live == 0:
            del self.levels[key]
            keys = self.keys
            if keys[-1] == key:
                keys.pop()
            else:
                del keys[bisect_left(keys, key)]
        elif level.entries[0] is entry:
            level.entries.popleft()

    def head(self) -> Entry | None:
        """The live entry served first on this side, or None; drops dead entries it passes."""
        keys = self.keys
        if not keys:
            return None
        entries = self.levels[keys[-1]].entries
        entry = entries[0]
        while not entry.residual:
            entries.popleft()
            entry = entries[0]
        return entry

    def live_levels(self) -> Iterator[tuple[int, list[Entry]]]:
        """(key, live entries in time order) from the best level down."""
        for key in reversed(self.keys):
            yield key, [e for e in self.levels[key].entries if e.residual]
