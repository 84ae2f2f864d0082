"""One period's order book as stored: orders, price levels, queues, expiry index (internal).

`BookStore` is the storage half of a market `Session`: it reads the orders,
price levels, price lists, queue chunks and expiry index of one period when a
transaction first needs them, caches them, changes them in memory and writes
back what changed in sorted key order (`save_book`). So an order costs what it
touches: the levels it rests in or trades through and the orders it fills, not
the size of the book. The rules that move money are in `market_session`;
trades are made by the library's matching, which reaches these levels through
`market_continuous.StoredLevels` (continuous) or reads the whole book into an
`OrderBook` (`market_clearing`); the state layout is in `market_state`.

Levels are kept with these rules:

- an order rests by appending its sequence to the last chunk of its level's
  queue; since sequences and block times only grow, appending is time
  priority;
- an order that leaves a level (filled, cancelled, expired) only lowers the
  level's count of open orders; its queue entry is skipped and taken off when
  it reaches the head (`BookStore.head`), and a chunk is deleted once its last
  entry is;
- a level whose count reaches 0 is deleted with its chunks and its price
  leaves the side's price list; the period record keeps the best price of
  each side, so a crossing check needs no list at all;
- an order that can expire while the book is open (``expiry_s`` before the
  period's end) is also in the expiry index, and leaves it when it closes.
"""

from __future__ import annotations

from bisect import bisect_left, insort

from gridledger.contracts.market_errors import BookInconsistent
from gridledger.contracts.market_state import (
    NAMESPACE,
    QUEUE_CHUNK,
    SIDES,
    Level,
    OrderStatus,
    StoredOrder,
    chunk_key,
    expiring_key,
    level_key,
    make_order_id,
    order_key,
    prices_key,
    read_chunk,
    read_expiring,
    read_level,
    read_order,
    read_prices,
)
from gridledger.ledger import Context


class BookStore:
    """The stored book of `period` as one transaction reads and changes it.

    The subclass sets `best` (best price per side), `next_expiry_s` and
    `period_end_s` from the period record before using the book.
    """

    context: Context
    period: int
    period_end_s: int
    best: dict[str, int | None]
    next_expiry_s: int | None

    def __init__(self, context: Context, period: int) -> None:
        self.context = context
        self.period = period
        self._orders: dict[int, StoredOrder] = {}
        self._dirty_orders: set[int] = set()
        self._levels: dict[tuple[str, int], Level] = {}
        self._dirty_levels: set[tuple[str, int]] = set()
        self._chunks: dict[tuple[str, int, int], list[int]] = {}
        self._dirty_chunks: set[tuple[str, int, int]] = set()
        self._prices: dict[str, list[int]] = {}
        self._expiring: list[tuple[int, int]] | None = None

    # -- orders --------------------------------------------------------------------------

    def order(self, sequence: int) -> StoredOrder:
        """The order with `sequence` in this period, as this transaction last left it."""
        stored = self._orders.get(sequence)
        if stored is None:
            order_id = make_order_id(self.period, sequence)
            stored = read_order(self.context.overlay, order_id)
            if stored is None:  # pragma: no cover - levels and orders are written together
                raise BookInconsistent(self.period, f"order {order_id} is indexed but missing")
            self._orders[sequence] = stored
        return stored

    def _update(self, stored: StoredOrder) -> None:
        self._orders[stored.sequence] = stored
        self._dirty_orders.add(stored.sequence)

    # -- price levels --------------------------------------------------------------------

    def prices(self, side: str) -> list[int]:
        """Limit prices with a level on `side`, ascending (cached; change through methods)."""
        prices = self._prices.get(side)
        if prices is None:
            prices = self._prices[side] = read_prices(self.context.overlay, self.period, side)
        return prices

    def level(self, side: str, price: int) -> Level:
        """The queue at `price` on `side` (cached; an absent level is empty)."""
        key = (side, price)
        level = self._levels.get(key)
        if level is None:
            level = self._levels[key] = read_level(self.context.overlay, self.period, side, price)
        return level

    def _chunk(self, side: str, price: int, chunk: int) -> list[int]:
        key = (side, price, chunk)
        sequences = self._chunks.get(key)
        if sequences is None:
            sequences = read_chunk(self.context.overlay, self.period, side, price, chunk)
            self._chunks[key] = sequences
        return sequences

    def head(self, side: str, price: int) -> StoredOrder:
        """The open order first in time at `price` on `side` (the level must have one).

        Entries of orders that closed elsewhere than at the head are skipped and
        taken off here, and a chunk is deleted once its last entry is.
        """
        level = self.level(side, price)
        while True:
            chunk, offset = divmod(level.head, QUEUE_CHUNK)
            stored = self.order(self._chunk(side, price, chunk)[offset])
            if stored.status == OrderStatus.OPEN:
                return stored
            self._advance(side, price, level)

    def _advance(self, side: str, price: int, level: Level) -> None:
        level.head += 1
        self._dirty_levels.add((side, price))
        if level.head % QUEUE_CHUNK == 0:
            self._set_chunk(side, price, level.head // QUEUE_CHUNK - 1, [])

    def _set_chunk(self, side: str, price: int, chunk: int, sequences: list[int]) -> None:
        self._chunks[(side, price, chunk)] = sequences
        self._dirty_chunks.add((side, price, chunk))

    def sequences(self, side: str) -> list[int]:
        """Every open order's sequence on `side`, best level first (reads the whole side)."""
        prices = self.prices(side)
        best_first = list(reversed(prices) if side == "buy" else prices)
        found: list[int] = []
        for price in best_first:
            level = self.level(side, price)
            for position in range(level.head, level.tail):
                chunk, offset = divmod(position, QUEUE_CHUNK)
                sequence = self._chunk(side, price, chunk)[offset]
                if self.order(sequence).status == OrderStatus.OPEN:
                    found.append(sequence)
        return found

    def rest(self, stored: StoredOrder) -> None:
        """Put an open order at the back of its price level's queue."""
        side, price = stored.side, stored.price_micro_per_kwh
        level = self.level(side, price)
        if not level.live:
            insort(self.prices(side), price)
            best = self.best[side]
            if best is None or (price > best if side == "buy" else price < best):
                self.best[side] = price
        chunk = level.tail // QUEUE_CHUNK
        sequences = self._chunk(side, price, chunk)
        sequences.append(stored.sequence)
        self._set_chunk(side, price, chunk, sequences)
        level.tail += 1
        level.live += 1
        self._dirty_levels.add((side, price))
        if stored.expiry_s < self.period_end_s:
            expiring = self._expiry_index()
            insort(expiring, (stored.expiry_s, stored.sequence))
            self.next_expiry_s = expiring[0][0]

    def unrest(self, stored: StoredOrder) -> None:
        """Count an order out of its level (filled or closing); its queue entry is skipped later.

        A level left without open orders is deleted with its chunks, and its
        price leaves the price list (and the best price moves on).
        """
        side, price = stored.side, stored.price_micro_per_kwh
        level = self.level(side, price)
        level.live -= 1
        self._dirty_levels.add((side, price))
        if not level.live:
            self._drop_level(side, price)

    def _drop_level(self, side: str, price: int) -> None:
        """Delete a level, its queue chunks and its price (the best price moves on)."""
        level = self.level(side, price)
        for chunk in range(level.head // QUEUE_CHUNK, -(-level.tail // QUEUE_CHUNK)):
            self._set_chunk(side, price, chunk, [])
        level.head = level.tail = level.live = 0
        self._dirty_levels.add((side, price))
        prices = self.prices(side)
        del prices[bisect_left(prices, price)]
        if self.best[side] == price:
            self.best[side] = (prices[-1] if side == "buy" else prices[0]) if prices else None

    def drop_book(self) -> None:
        """Delete every level with its queue, both price lists and the expiry index.

        After the clear: no order is open any more.
        """
        for side in SIDES:
            for price in list(self.prices(side)):
                self._drop_level(side, price)
        self._expiring = []
        self.next_expiry_s = None

    # -- expiry index --------------------------------------------------------------------

    def _expiry_index(self) -> list[tuple[int, int]]:
        if self._expiring is None:
            self._expiring = read_expiring(self.context.overlay, self.period)
        return self._expiring

    def _unindex_expiry(self, stored: StoredOrder) -> None:
        if stored.expiry_s >= self.period_end_s or self.next_expiry_s is None:
            return
        expiring = self._expiry_index()
        entry = (stored.expiry_s, stored.sequence)
        index = bisect_left(expiring, entry)
        if index < len(expiring) and expiring[index] == entry:  # else it never rested
            del expiring[index]
            self.next_expiry_s = expiring[0][0] if expiring else None

    # -- write-back ----------------------------------------------------------------------

    def save_book(self) -> None:
        """Write the orders, levels, chunks, price lists and expiry index changed, sorted."""
        context, period = self.context, self.period
        for sequence in sorted(self._dirty_orders):
            stored = self._orders[sequence]
            context.write(NAMESPACE, order_key(stored.order_id), stored)
        self._dirty_orders.clear()
        for side, price in sorted(self._dirty_levels):
            level = self._levels[(side, price)]
            _write_or_delete(context, level_key(period, side, price), level if level.live else None)
        self._dirty_levels.clear()
        for side, price, chunk in sorted(self._dirty_chunks):
            sequences = self._chunks[(side, price, chunk)]
            _write_or_delete(context, chunk_key(period, side, price, chunk), sequences)
        self._dirty_chunks.clear()
        for side in sorted(self._prices):
            _write_or_delete(context, prices_key(period, side), self._prices[side])
        if self._expiring is not None:
            _write_or_delete(context, expiring_key(period), self._expiring)


def _write_or_delete(
    context: Context, key: str, value: Level | list[int] | list[tuple[int, int]] | None
) -> None:
    """Write a value; delete the key of an empty or absent one (if it exists)."""
    if value:
        context.write(NAMESPACE, key, value)
    elif context.get(NAMESPACE, key) is not None:
        context.delete(NAMESPACE, key)


__all__ = ["BookStore"]
