"""The order book of one delivery period, kept in explicit price-time priority.

Priority (seed 000 §2.2 (6)): buys by limit price descending, sells by limit
price ascending; at equal price, earlier ``order_time_s`` first, then lower
``sequence``. Nothing depends on hash or set order, so every peer that applies
the same operations holds the same book and produces the same trades.

Layout, chosen for speed: each side is a :class:`~gridledger.market.ladder.Ladder`
(a deque per price level in a dict, plus the sorted level keys kept with
``bisect``); orders are found by id in a dict (the only index a removal
updates). A removal marks the entry dead (residual 0) and leaves it where it is
as a tombstone (lazy deletion); the ladder drops tombstones when they reach the
head and compacts a level where they pile up. Two more indexes are append-only
with the same tombstones, and every reader skips dead entries: a list of
entries per owner, and one bucket of entries per distinct ``expiry_s`` (orders
tend to share expiry times, e.g. the period's gate closure) with a heap of
those times. Both are compacted together once the entries added since the last
compaction exceed twice the live orders plus 1,024, so they hold at most about
three times the live orders and the work stays amortised O(1) per order.

The book does not match; the mechanisms in :mod:`gridledger.market.matching`
and :mod:`gridledger.market.auction` do, through the methods in the last
public section of the class: the :class:`~gridledger.market.levels.LevelStore`
interface that continuous matching runs on (:meth:`OrderBook.best_price`,
:meth:`OrderBook.head`, :meth:`OrderBook.fill`, :meth:`OrderBook.remove`,
:meth:`OrderBook.rest`) and access to the live entries for the clearing
mechanisms. Those methods hand out and take the book's own entries
(:class:`~gridledger.market.ladder.Entry`: an order and its residual) and
check nothing the caller is meant to have checked. A book may be crossed
between clearing moments (high-low matching and the call auction collect
orders first and clear later).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from heapq import heapify, heappop, heappush
from typing import TypeVar

from gridledger.market.errors import DuplicateOrder, InvalidOrder, UnknownOrder
from gridledger.market.ladder import Entry, Ladder
from gridledger.market.orders import (
    BUY,
    Order,
    Side,
    priority_key,
    validate_order,
    with_residual,
    with_sequence,
)
from gridledger.market.trades import Match

__all__ = ["OrderBook", "PriceLevel"]

K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class PriceLevel:
    """Aggregated depth at one limit price: total residual (Wh) and number of orders."""

    price_micro_per_kwh: int
    residual_wh: int
    orders: int


class OrderBook:
    """Resting orders of one delivery period, in price-time priority.

    Public operations: :meth:`add`, :meth:`cancel`, :meth:`amend`,
    :meth:`expire`, :meth:`get`, :meth:`best_bid`, :meth:`best_ask`,
    :meth:`best`, :meth:`depth`, :meth:`orders`, :meth:`orders_of`,
    :meth:`owners`, iteration (buys then sells, each in priority order),
    ``len`` and ``in`` (by order id). Errors leave the book unchanged. For
    the matching mechanisms: the :class:`~gridledger.market.levels.LevelStore`
    methods and :meth:`reduce`, :meth:`check_new`, :meth:`entries`,
    :meth:`entries_of` (see the module docstring).
    """

    __slots__ = (
        "_added_since_compaction",
        "_asks",
        "_bids",
        "_expiring",
        "_expiry_times",
        "_index",
        "_next_sequence",
        "_owners",
        "_period",
    )

    def __init__(self, delivery_period: int) -> None:
        if type(delivery_period) is not int or delivery_period < 0:
            raise InvalidOrder(
                field="delivery_period",
                value=delivery_period,
                reason="a book's delivery period is a non-negative integer",
            )
        self._period = delivery_period
        self._bids = Ladder()
        self._asks = Ladder()
        self._index: dict[str, Entry] = {}
        self._owners: dict[str, list[Entry]] = {}  # owner -> entries (some dead)
        self._expiring: dict[int, list[Entry]] = {}  # expiry_s -> entries (some dead)
        self._expiry_times: list[int] = []  # heap of the keys of _expiring
        self._added_since_compaction = 0  # entries appended to the two lazy indexes
        self._next_sequence = 0

    # -- reading -------------------------------------------------------------------------

    @property
    def delivery_period(self) -> int:
        """The delivery period every order in this book belongs to."""
        return self._period

    @property
    def next_sequence(self) -> int:
        """The sequence :meth:`add` gives with ``assign_sequence=True``: one above any seen."""
        return self._next_sequence

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._index

    def __iter__(self) -> Iterator[Order]:
        yield from self.orders(Side.BUY)
        yield from self.orders(Side.SELL)

    def get(self, order_id: str) -> Order:
        """The resting order ``order_id`` with its residual now; raises :class:`UnknownOrder`."""
        return self._view(self._entry(order_id))

    def best_bid(self) -> int | None:
        """Highest resting buy limit (micro/kWh), or None if no buy rests."""
        keys = self._bids.keys
        return keys[-1] if keys else None

    def best_ask(self) -> int | None:
        """Lowest resting sell limit (micro/kWh), or None if no sell rests."""
        keys = self._asks.keys
        return -keys[-1] if keys else None

    def best(self, side: Side) -> Order | None:
        """The order served first on ``side``, or None."""
        entry = self._ladder(side).head()
        return None if entry is None else self._view(entry)

    def orders(self, side: Side) -> tuple[Order, ...]:
        """All resting orders on ``side`` in priority order."""
        return tuple(self._view(e) for e in self.entries(side))

    def depth(self, side: Side) -> tuple[PriceLevel, ...]:
        """Residual (Wh) and order count per price level, best price first."""
        sign = 1 if side is Side.BUY else -1
        return tuple(
            PriceLevel(sign * key, sum(e.residual for e in entries), len(entries))
            for key, entries in self._ladder(side).live_levels()
        )

    def orders_of(self, owner: str) -> tuple[Order, ...]:
        """``owner``'s resting orders: buys then sells, each in priority order."""
        ranked = sorted(
            self.entries_of(owner),
            key=lambda e: (e.order.side is Side.SELL, priority_key(e.order)),
        )
        return tuple(self._view(e) for e in ranked)

    def owners(self) -> tuple[str, ...]:
        """Owners with at least one resting order, sorted."""
        owners = self._owners
        return tuple(sorted(o for o, entries in owners.items() if any(e.residual for e in entries)))

    # -- changing ------------------------------------------------------------------------

    def add(self, order: Order, *, assign_sequence: bool = False) -> Order:
        """Rest ``order`` (validated) and return it as stored.

        With ``assign_sequence`` the book replaces the order's sequence with
        :attr:`next_sequence`; otherwise the caller's sequence is kept and the
        counter moves above it. Raises :class:`InvalidOrder` (including a
        delivery period other than the book's) or :class:`DuplicateOrder`.
        """
        self.check_new(order)
        if assign_sequence:
            order = with_sequence(order, self._next_sequence)
        self.rest(order)
        return order

    def cancel(self, order_id: str) -> Order:
        """Remove ``order_id`` and return it with the residual it had."""
        entry = self._index.get(order_id)
        if entry is None:
            raise UnknownOrder(order_id=order_id)
        order = entry.order
        residual = entry.residual
        self.remove(entry)
        return order if residual == order.residual_wh else with_residual(order, residual)

    def amend(
        self,
        order_id: str,
        *,
        now_s: int,
        price_micro_per_kwh: int | None = None,
        energy_wh: int | None = None,
        sequence: int | None = None,
    ) -> Order:
        """Change the limit price and/or the total energy of a resting order.

        An amended order loses its time priority: it gets ``order_time_s =
        now_s`` and a new sequence (the next one unless given), exactly as if it
        had been cancelled and submitted again. ``energy_wh`` is the new
        original quantity; what was already filled stays filled, so it must
        exceed the filled energy. Returns the amended order.
        """
        entry = self._entry(order_id)
        if price_micro_per_kwh is None and energy_wh is None:
            raise InvalidOrder(
                field="price_micro_per_kwh",
                value=None,
                reason="an amendment must change the price or the energy",
            )
        old = entry.order
        filled = old.energy_wh - entry.residual
        energy = old.energy_wh if energy_wh is None else energy_wh
        if type(energy) is not int or energy <= filled:
            raise InvalidOrder(
                field="energy_wh",
                value=energy,
                reason=f"must exceed the {filled} Wh already filled",
            )
        price = old.price_micro_per_kwh if price_micro_per_kwh is None else price_micro_per_kwh
        amended = Order(
            old.order_id,
            old.owner,
            old.side,
            energy,
            energy - filled,
            price,
            now_s,
            old.expiry_s,
            old.delivery_period,
            self._next_sequence if sequence is None else sequence,
        )
        validate_order(amended)
        self.remove(entry)
        self.rest(amended)
        return amended

    def expire(self, now_s: int) -> tuple[Order, ...]:
        """Remove every order with ``expiry_s <= now_s``; return them by expiry, time, sequence."""
        times = self._expiry_times
        if not times or times[0] > now_s:
            return ()  # the usual case: nothing due
        expired: list[Order] = []
        while times and times[0] <= now_s:
            for entry in self._expiring.pop(heappop(times)):
                if entry.residual:
                    expired.append(self._view(entry))
                    self.remove(entry)
        expired.sort(key=lambda o: (o.expiry_s, o.order_time_s, o.sequence, o.order_id))
        return tuple(expired)

    # -- for the matching mechanisms: the LevelStore interface and entry access ------------

    def arrive(self, order: Order, now_s: int) -> tuple[Order, ...]:
        """Check ``order`` arriving at ``now_s``, then expire what is due; return that.

        The checks of :meth:`check_new`, and :class:`InvalidOrder` for an order
        issued after ``now_s`` or expired at it; nothing changes if one fails.
        The orders removed are returned as :meth:`expire` returns them.
        Continuous matching's first step on this book (one call: it runs for
        every order).
        """
        validate_order(order)
        if order.delivery_period != self._period or order.order_id in self._index:
            self.check_new(order)  # raises the precise error
        if order.order_time_s > now_s:
            raise InvalidOrder(
                field="order_time_s",
                value=order.order_time_s,
                reason=f"an order cannot arrive at {now_s} s before it is issued",
            )
        if order.expiry_s <= now_s:
            raise InvalidOrder(
                field="expiry_s", value=order.expiry_s, reason=f"already expired at {now_s} s"
            )
        times = self._expiry_times
        return self.expire(now_s) if times and times[0] <= now_s else ()

    def best_price(self, side: Side) -> int | None:
        """The best resting limit on ``side`` (micro/kWh), or None (:class:`LevelStore`)."""
        if side is BUY:
            keys = self._bids.keys
            return keys[-1] if keys else None
        keys = self._asks.keys
        return -keys[-1] if keys else None

    def head(self, side: Side, price_micro_per_kwh: int) -> Entry:
        """The live entry first in time at a price that has one (:class:`LevelStore`).

        Drops the tombstones it passes at the head of the level.
        """
        if side is BUY:
            level = self._bids.levels[price_micro_per_kwh]
        else:
            level = self._asks.levels[-price_micro_per_kwh]
        entry = level[0]
        while not entry.residual:
            level.popleft()
            entry = level[0]
        return entry

    def fill(self, resting: Entry, match: Match) -> None:
        """Take ``match.energy_wh`` off ``resting``; remove it once nothing is left."""
        residual = resting.residual - match.energy_wh
        if residual:
            resting.residual = residual
        else:
            self.remove(resting)

    def reduce(self, entry: Entry, energy_wh: int) -> None:
        """Reduce ``entry``'s residual by ``energy_wh``; remove it once nothing is left."""
        entry.residual -= energy_wh
        if entry.residual == 0:
            self.remove(entry)

    def remove(self, resting: Entry) -> None:
        """Take ``resting`` out of the book; lazy indexes keep it as a tombstone (residual 0)."""
        resting.residual = 0
        order = resting.order
        (self._bids if order.side is BUY else self._asks).unlink(resting)
        del self._index[order.order_id]

    def rest(self, order: Order) -> None:
        """Rest a checked ``order`` with its ``residual_wh``; index it by id, owner and expiry.

        Checked: see :meth:`check_new` (:meth:`add` is the checking front door).
        """
        price = order.price_micro_per_kwh
        if order.side is BUY:
            entry = Entry(order, order.residual_wh, price)
            self._bids.insert(entry)
        else:
            entry = Entry(order, order.residual_wh, -price)
            self._asks.insert(entry)
        order_id = order.order_id
        self._index[order_id] = entry
        owned = self._owners.get(order.owner)
        if owned is None:
            self._owners[order.owner] = [entry]
        else:
            owned.append(entry)
        expiry = order.expiry_s
        bucket = self._expiring.get(expiry)
        if bucket is None:
            self._expiring[expiry] = [entry]
            heappush(self._expiry_times, expiry)
        else:
            bucket.append(entry)
        if order.sequence >= self._next_sequence:
            self._next_sequence = order.sequence + 1
        self._added_since_compaction += 1
        if self._added_since_compaction > 2 * len(self._index) + 1024:
            self._compact()

    def check_new(self, order: Order) -> None:
        """Raise unless ``order`` may rest here: :class:`InvalidOrder` or :class:`DuplicateOrder`.

        Valid (:func:`validate_order`), for this book's delivery period, and
        with an id no resting order has.
        """
        validate_order(order)
        if order.delivery_period != self._period:
            raise InvalidOrder(
                field="delivery_period",
                value=order.delivery_period,
                reason=f"this book is for delivery period {self._period}",
            )
        if order.order_id in self._index:
            raise DuplicateOrder(order_id=order.order_id)

    def entries(self, side: Side) -> list[Entry]:
        """Live entries on ``side`` in priority order (a snapshot, safe to mutate the book)."""
        return [e for _, level in self._ladder(side).live_levels() for e in level]

    def entries_of(self, owner: str) -> list[Entry]:
        """``owner``'s live entries, in the order they were added (a snapshot)."""
        return [e for e in self._owners.get(owner, ()) if e.residual]

    # -- internal ------------------------------------------------------------------------

    def _ladder(self, side: Side) -> Ladder:
        return self._bids if side is BUY else self._asks

    def _entry(self, order_id: str) -> Entry:
        entry = self._index.get(order_id)
        if entry is None:
            raise UnknownOrder(order_id=order_id)
        return entry

    @staticmethod
    def _view(entry: Entry) -> Order:
        return with_residual(entry.order, entry.residual)

    def _compact(self) -> None:
        """Drop tombstones from the owner lists and expiry buckets (amortised, see module doc)."""
        self._owners = _live_lists(self._owners)
        self._expiring = _live_lists(self._expiring)
        self._expiry_times = list(self._expiring)
        heapify(self._expiry_times)
        self._added_since_compaction = 0


def _live_lists(lists: dict[K, list[Entry]]) -> dict[K, list[Entry]]:
    """``lists`` without dead entries, and without the keys left with none."""
    kept = ((key, [e for e in entries if e.residual]) for key, entries in lists.items())
    return {key: entries for key, entries in kept if entries}
