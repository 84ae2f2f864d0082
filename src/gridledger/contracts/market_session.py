"""One period's market state, as one transaction reads and changes it (internal to the contract).

A `Session` reads the period's `PeriodBook` and nothing else up front; price
levels, price lists, orders and the expiry index are read when the transaction
first needs them and cached, changed in memory, and written back by `save` in
sorted key order. So an order costs what it touches: the levels it rests in or
trades through and the orders it fills, not the size of the book.

Levels are kept with these rules (the layout is in `market_state`):

- an order rests by appending its sequence to the last chunk of its level's
  queue; since sequences and block times only grow, appending is time
  priority;
- an order that leaves a level (filled, cancelled, expired) only lowers the
  level's count of open orders; its queue entry is skipped and taken off when
  it reaches the head (`Session.head`), and a chunk is deleted once its last
  entry is;
- a level whose count reaches 0 is deleted with its chunks and its price
  leaves the side's price list; the period record keeps the best price of
  each side, so a crossing check needs no list at all;
- an order that can expire while the book is open (``expiry_s`` before the
  period's end) is also in the expiry index, and leaves it when it closes.
"""

from __future__ import annotations

from bisect import bisect_left, insort

import msgspec

from gridledger.contracts.market_state import (
    ESCROW,
    HORIZON_SECONDS,
    NAMESPACE,
    QUEUE_CHUNK,
    SIDES,
    Level,
    OrderStatus,
    PeriodBook,
    StoredOrder,
    Trade,
    chunk_key,
    expiring_key,
    level_key,
    make_order_id,
    order_key,
    period_key,
    prices_key,
    read_chunk,
    read_expiring,
    read_level,
    read_order,
    read_period,
    read_prices,
    trade_key,
)
from gridledger.contracts.parameters import NAMESPACE as PARAMETERS
from gridledger.contracts.parameters import MarketParameters, ScheduledParameters
from gridledger.contracts.tokens import move
from gridledger.ledger import Context, ContractRejected, InsufficientFunds, StateReader, decode
from gridledger.market import Match, MatchResult, PriceBounds, trade_value_micro

_SCHEDULES: dict[bytes, list[ScheduledParameters]] = {}
"""Decoded parameter schedules by their stored bytes (a memo of a pure function)."""
_BOUNDS: dict[tuple[int, int], PriceBounds] = {}


def parameters_in_force(state: StateReader, period: int) -> MarketParameters:
    """`parameters.parameters_for`, with the schedule decoded once per distinct value.

    Every order reads the schedule; it changes only when the regulator changes a
    parameter, so its decoding is remembered by its bytes.
    """
    raw = state.get(PARAMETERS, "market")
    if raw is None:
        return MarketParameters()
    entries = _SCHEDULES.get(raw)
    if entries is None:
        entries = decode(raw, list[ScheduledParameters])
        if len(_SCHEDULES) >= 64:
            _SCHEDULES.clear()
        _SCHEDULES[raw] = entries
    current = MarketParameters()
    for entry in entries:
        if entry.from_period <= period:
            current = entry.parameters
    return current


def _bounds(feed_in_micro_per_kwh: int, cap_micro_per_kwh: int) -> PriceBounds:
    key = (feed_in_micro_per_kwh, cap_micro_per_kwh)
    bounds = _BOUNDS.get(key)
    if bounds is None:
        if len(_BOUNDS) >= 64:
            _BOUNDS.clear()
        bounds = _BOUNDS[key] = PriceBounds(feed_in_micro_per_kwh, cap_micro_per_kwh)
    return bounds


class Session:
    """The book of `period` as one transaction sees and changes it."""

    def __init__(self, context: Context, period: int) -> None:
        if period < 0:
            raise ContractRejected(NAMESPACE, f"period {period} is negative")
        self.context = context
        self.period = period
        self.now_s = context.timestamp_ms // 1000
        self.parameters = parameters_in_force(context.overlay, period)
        seconds = self.parameters.period_seconds
        self.period_start_s = period * seconds
        self.period_end_s = (period + 1) * seconds
        self.gate_closure_s = self.period_start_s - self.parameters.gate_closure_seconds
        cap = self.parameters.cap_price_micro_per_kwh
        self.bounds = _bounds(self.parameters.feed_in_price_micro_per_kwh, cap)
        meta = read_period(context.overlay, period)
        self.existed = meta is not None
        if meta is None:
            meta = PeriodBook(
                period,
                self.parameters.mechanism,
                0,
                0,
                0,
                0,
                False,
                0,
                False,
                None,
                None,
                cap,
                None,
            )
        self.mechanism = meta.mechanism
        self.next_sequence = meta.next_sequence
        self.open_count = meta.open_count
        self.trade_count = meta.trade_count
        self.offer_count = meta.offer_count
        self.cleared = meta.cleared
        self.cleared_height = meta.cleared_height
        self.settled = meta.settled
        self.best = {"buy": meta.best_bid_micro_per_kwh, "sell": meta.best_ask_micro_per_kwh}
        self.escrow_cap = meta.escrow_cap_micro_per_kwh
        self.next_expiry_s = meta.next_expiry_s
        self._orders: dict[int, StoredOrder] = {}
        self._dirty_orders: set[int] = set()
        self._levels: dict[tuple[str, int], Level] = {}
        self._dirty_levels: set[tuple[str, int]] = set()
        self._chunks: dict[tuple[str, int, int], list[int]] = {}
        self._dirty_chunks: set[tuple[str, int, int]] = set()
        self._prices: dict[str, list[int]] = {}
        self._expiring: list[tuple[int, int]] | None = None

    # -- rules ---------------------------------------------------------------------------

    def require_before_gate(self, what: str) -> None:
        if self.now_s >= self.gate_closure_s:
            raise ContractRejected(
                NAMESPACE,
                f"{what} for period {self.period} closed at {self.gate_closure_s} s "
                f"(gate closure, {self.parameters.gate_closure_seconds} s before the period "
                f"starts at {self.period_start_s} s); now is {self.now_s} s",
            )

    def take_sequence(self) -> int:
        sequence = self.next_sequence
        self.next_sequence += 1
        return sequence

    # -- money ---------------------------------------------------------------------------

    def pay_in(self, owner: str, amount_micro: int, reason: str) -> None:
        """Escrow `amount_micro` from `owner` (InsufficientFunds if it lacks it)."""
        move(self.context, owner, ESCROW, amount_micro, reason)

    def _release(self, owner: str, amount_micro: int, reason: str) -> None:
        if amount_micro < 0:
            raise ContractRejected(
                NAMESPACE, f"escrow would be overdrawn by {-amount_micro} ({reason})"
            )
        move(self.context, ESCROW, owner, amount_micro, reason)

    def reconcile_escrow(self) -> None:
        """Re-price open buys' escrow if the cap for the period changed since it was taken.

        Walks every open buy, in insertion sequence, but only in the first
        transaction that sees a new cap: the period record keeps the cap the
        escrow was last priced against.
        """
        cap = self.bounds.cap_price_micro_per_kwh
        if cap == self.escrow_cap:
            return
        self.escrow_cap = cap
        for sequence in sorted(self.sequences("buy")):
            stored = self.order(sequence)
            price = min(stored.price_micro_per_kwh, cap)
            if price == stored.escrow_price_micro_per_kwh:
                continue
            needed = trade_value_micro(stored.residual_wh, price)
            held = stored.escrow_micro
            order_id = stored.order_id
            if needed < held:
                self._release(stored.owner, held - needed, f"escrow {order_id} cap changed")
            elif needed > held:
                try:
                    self.pay_in(stored.owner, needed - held, f"escrow {order_id} cap changed")
                except InsufficientFunds:
                    self.unrest(stored)
                    self.close(sequence, OrderStatus.UNDERFUNDED)
                    continue
            self._update(
                msgspec.structs.replace(
                    stored, escrow_micro=needed, escrow_price_micro_per_kwh=price
                )
            )

    # -- orders --------------------------------------------------------------------------

    def order(self, sequence: int) -> StoredOrder:
        """The order with `sequence` in this period, as this transaction last left it."""
        stored = self._orders.get(sequence)
        if stored is None:
            order_id = make_order_id(self.period, sequence)
            stored = read_order(self.context.overlay, order_id)
            if stored is None:  # pragma: no cover - levels and orders are written together
                raise ContractRejected(NAMESPACE, f"order {order_id} is indexed but missing")
            self._orders[sequence] = stored
        return stored

    def _update(self, stored: StoredOrder) -> None:
        self._orders[stored.sequence] = stored
        self._dirty_orders.add(stored.sequence)

    def add_order(self, stored: StoredOrder) -> None:
        """Record a new open order (not yet resting: see `rest`)."""
        self.open_count += 1
        self._update(stored)

    def close(self, sequence: int, status: str) -> None:
        """Close an open order that rests nowhere any more, and release its escrow."""
        stored = self.order(sequence)
        order_id = stored.order_id
        self._release(stored.owner, stored.escrow_micro, f"release {order_id} {status}")
        self.open_count -= 1
        self._unindex_expiry(stored)
        self._update(
            msgspec.structs.replace(stored, status=status, escrow_micro=0, closed_at_s=self.now_s)
        )
        self.context.emit(NAMESPACE, "order_closed", order_id=order_id, status=status)

    def fill(self, sequence: int, energy_wh: int, value_micro: int) -> bool:
        """Take a fill of `energy_wh` worth `value_micro` off an open order; True if now filled.

        A buy keeps in escrow the trade's value plus what its residual needs at
        its escrow price, and gets the rest back at once.
        """
        stored = self.order(sequence)
        residual = stored.residual_wh - energy_wh
        escrow = stored.escrow_micro
        if stored.side == "buy":
            keep = trade_value_micro(residual, stored.escrow_price_micro_per_kwh)
            reason = f"release {stored.order_id} fill"
            self._release(stored.owner, escrow - keep - value_micro, reason)
            escrow = keep
        filled = residual == 0
        self._update(
            msgspec.structs.replace(
                stored,
                residual_wh=residual,
                escrow_micro=escrow,
                status=OrderStatus.FILLED if filled else OrderStatus.OPEN,
                closed_at_s=self.now_s if filled else 0,
            )
        )
        if filled:
            self.open_count -= 1
            self._unindex_expiry(stored)
        return filled

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

    # -- expiry --------------------------------------------------------------------------

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

    def expire(self, now_s: int) -> int:
        """Close every open order with ``expiry_s <= now_s``, earliest first; how many.

        The rule of the contract: an expired order is closed by the next
        transaction that touches its period's book (an order, a cancel, an
        agreement, the clear). It costs nothing while no order is due: the
        period record holds the earliest expiry in the index.
        """
        closed = 0
        while self.next_expiry_s is not None and self.next_expiry_s <= now_s:
            _, sequence = self._expiry_index()[0]
            self.unrest(self.order(sequence))
            self.close(sequence, OrderStatus.EXPIRED)  # takes it out of the index
            closed += 1
        return closed

    # -- trades --------------------------------------------------------------------------

    def record_match(self, match: Match) -> None:
        """Store a match the library made at clear time and fill both orders."""
        reason = match.reason
        if match.value_micro != trade_value_micro(match.energy_wh, match.price_micro_per_kwh):
            raise ContractRejected(NAMESPACE, f"match value {match.value_micro} is inconsistent")
        self.append_trade(
            Trade(
                trade_id="",
                period=self.period,
                kind="order",
                value_micro=0,
                height=0,
                buy_order_id=match.buy_order_id,
                sell_order_id=match.sell_order_id,
                buyer=match.buyer,
                seller=match.seller,
                energy_wh=match.energy_wh,
                price_micro_per_kwh=match.price_micro_per_kwh,
                matched_at_s=match.matched_at_s,
                mechanism=str(reason.mechanism),
                price_rule=str(reason.price_rule),
                bid_price_micro_per_kwh=reason.bid_price_micro_per_kwh,
                ask_price_micro_per_kwh=reason.ask_price_micro_per_kwh,
                buy_order_time_s=reason.buy_order_time_s,
                sell_order_time_s=reason.sell_order_time_s,
                buy_sequence=reason.buy_sequence,
                sell_sequence=reason.sell_sequence,
                clamped=reason.clamped,
            )
        )
        self.fill(_sequence_of(match.buy_order_id), match.energy_wh, match.value_micro)
        self.fill(_sequence_of(match.sell_order_id), match.energy_wh, match.value_micro)

    def apply_clear_result(self, result: MatchResult) -> None:
        """Apply what a library mechanism did to the rebuilt book at clear time."""
        for order in result.expired:
            self.close(order.sequence, OrderStatus.EXPIRED)
        # fills first: an order cancelled by self-trade prevention may have traded before
        for match in result.matches:
            self.record_match(match)
        for order in result.cancelled:
            self.close(order.sequence, OrderStatus.SELF_TRADE)

    def append_trade(self, draft: Trade) -> Trade:
        """Store the next trade of the period; id, value and height are filled in here.

        The value is `trade_value_micro`, computed once: the buyer pays and the
        seller receives exactly this number.
        """
        index = self.trade_count
        self.trade_count += 1
        trade = msgspec.structs.replace(
            draft,
            trade_id=f"{self.period}-t{index}",
            period=self.period,
            value_micro=trade_value_micro(draft.energy_wh, draft.price_micro_per_kwh),
            height=self.context.height,
        )
        self.context.write(NAMESPACE, trade_key(self.period, index), trade)
        self.context.emit(
            NAMESPACE,
            "trade",
            trade_id=trade.trade_id,
            buyer=trade.buyer,
            seller=trade.seller,
            energy_wh=trade.energy_wh,
            price_micro_per_kwh=trade.price_micro_per_kwh,
            value_micro=trade.value_micro,
            kind=trade.kind,
        )
        return trade

    # -- period --------------------------------------------------------------------------

    def drop_book(self) -> None:
        """Delete every level with its queue, both price lists and the expiry index.

        After the clear: no order is open any more.
        """
        for side in SIDES:
            for price in list(self.prices(side)):
                self._drop_level(side, price)
        self._expiring = []
        self.next_expiry_s = None

    def mark_cleared(self) -> None:
        self.cleared = True
        self.cleared_height = self.context.height

    def mark_settled(self) -> None:
        self.settled = True

    def save(self) -> None:
        """Write what this transaction changed, in sorted key order."""
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
        context.write(
            NAMESPACE,
            period_key(period),
            PeriodBook(
                period,
                self.mechanism,
                self.next_sequence,
                self.open_count,
                self.trade_count,
                self.offer_count,
                self.cleared,
                self.cleared_height,
                self.settled,
                self.best["buy"],
                self.best["sell"],
                self.escrow_cap,
                self.next_expiry_s,
            ),
        )


def _write_or_delete(
    context: Context, key: str, value: Level | list[int] | list[tuple[int, int]] | None
) -> None:
    """Write a value; delete the key of an empty or absent one (if it exists)."""
    if value:
        context.write(NAMESPACE, key, value)
    elif context.get(NAMESPACE, key) is not None:
        context.delete(NAMESPACE, key)


def _sequence_of(order_id: str) -> int:
    """The sequence in an order id ``"<period>-<sequence>"``."""
    return int(order_id.rsplit("-", 1)[1])


def within_horizon(session: Session, period: int) -> None:
    """Refuse periods that start more than `HORIZON_SECONDS` ahead."""
    if session.period_start_s - session.now_s > HORIZON_SECONDS:
        raise ContractRejected(
            NAMESPACE,
            f"period {period} starts at {session.period_start_s} s, more than "
            f"{HORIZON_SECONDS} s after now ({session.now_s} s)",
        )


__all__ = ["Session", "within_horizon"]
