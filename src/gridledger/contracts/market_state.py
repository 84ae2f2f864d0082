"""State of the market contract: its records, their keys, and the queries over them.

The market contract's methods live in `gridledger.contracts.market` (orders,
clearing) and `gridledger.contracts.market_bilateral` (seed 001's offers and
signed agreements); both register on the one `contract` defined here.

State (namespace ``market``), every number zero-padded so that sorted keys are
chronological (periods, trades) or by price (levels):

- ``period/<period>`` → `PeriodBook`: the mechanism, the sequence counter,
  counts of open orders, trades and offers, the best bid and ask, whether the
  book was cleared and settled. Fixed in size, whatever the book holds;
- ``order/<order id>`` → `StoredOrder`, one key per order, open or closed;
  order ids are ``"<period>-<sequence>"``;
- ``level/<period>/<side>/<price>`` → `Level`: the queue of the orders resting
  at that limit price on that side, in time priority, as positions ``[head,
  tail)`` and the number of open orders in it; the key exists while the level
  holds an open order;
- ``queue/<period>/<side>/<price>/<chunk>`` → the sequences at queue positions
  ``chunk * QUEUE_CHUNK`` onwards (at most `QUEUE_CHUNK`), so appending or
  taking the head reads and writes one short list whatever the level holds.
  An order that leaves the level other than from its head (cancelled, expired)
  stays in its chunk and is skipped when it reaches the head: that is paid
  once, by the transaction that skips it;
- ``prices/<period>/<side>`` → the limit prices that have a level on that side,
  ascending;
- ``expiring/<period>`` → ``[expiry_s, sequence]`` of the open orders that can
  expire while the book is open (``expiry_s`` before the period's end), sorted;
- ``trade/<period>/<n>`` → `Trade`, ``n`` from 0 in the order trades were made;
- ``offer/<offer id>`` → `Offer` (bilateral path); offer ids ``"<period>-o<n>"``;
- ``agreement/<offer id>/<agreement id>`` → trade id (spent agreement ids).

So an order reads and writes the period record, the level and queue chunk it
rests in or the levels and chunks it trades through, the orders it trades with
and, only when a level appears or disappears, the side's price list: its cost
follows the price levels crossed and the orders filled, not the size of the
book. After the clear the levels, queues, price lists and expiry index are
deleted (no order is open any more).

Money: the escrow of open buy orders and of unsettled trades is held in the
token account `ESCROW`. Invariant, for every period not yet settled::

    escrow held for the period = Σ escrow_micro of its open buy orders
                               + Σ value_micro of its trades bought by a member

and settlement takes exactly those trades' values out of it. A trade of kind
``grid`` (a member's sell taken by the grid's standing bid) has no buyer's
escrow: the grid account pays it at settlement.
"""

from __future__ import annotations

import msgspec

from gridledger.contracts.registry import Contract
from gridledger.ledger import StateReader, decode
from gridledger.ledger.encoding import omit_empty_last_field
from gridledger.market import Order, OrderBook, Side

NAMESPACE = "market"
contract = Contract(NAMESPACE)

ESCROW = "market:escrow"
"""Token account holding buyers' escrow until settlement."""

TRADING_ROLES = ("consumer", "producer", "prosumer", "storage")
"""Roles that may buy. The operator and the regulator run the market and do not trade."""
SELLING_ROLES = ("producer", "prosumer", "storage")
"""Roles that may sell (they have generation or storage behind the meter)."""

MAX_ORDER_ENERGY_WH = 10_000_000
"""10 MWh: the same sanity bound as one period's meter reading."""
MAX_PRICE_MICRO_PER_KWH = 100_000_000_000
"""Keeps ``energy_wh * price`` well inside 64 bits."""
HORIZON_SECONDS = 7 * 86_400
"""Orders and offers are accepted for periods starting at most a week ahead."""


class OrderStatus:
    OPEN = "open"
    FILLED = "filled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    SELF_TRADE = "self_trade_cancelled"
    UNFILLED = "unfilled"
    """Still (partly) open when the book was cleared: nothing more can trade."""
    UNDERFUNDED = "underfunded"
    """The cap rose and the buyer could not top up the escrow."""
    AMENDED = "amended"
    """Replaced by an amended order placed anew (`market.amend_order`)."""
    SEALED = "sealed"
    """A sealed day-ahead order not yet revealed: its price and energy are commitments."""
    UNREVEALED = "unrevealed"
    """A sealed order its owner did not reveal in the window: dropped, non-reveal fee paid."""


class StoredOrder(
    msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True, gc=False
):
    order_id: str
    owner: str
    side: str
    energy_wh: int
    residual_wh: int
    price_micro_per_kwh: int
    """The limit as submitted (a buy above the cap trades at the cap)."""
    order_time_s: int
    expiry_s: int
    period: int
    sequence: int
    status: str
    escrow_micro: int
    """Escrow still held for the residual (buys; 0 for sells and closed orders)."""
    escrow_price_micro_per_kwh: int
    """The price the escrow covers: min(limit, cap) when last checked (buys)."""
    height: int
    closed_at_s: int
    """Block time at which the order stopped being open (0 while open)."""


@omit_empty_last_field
class Trade(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True, gc=False):
    """One trade, with the audit record of why it happened (the library's `MatchReason`).

    ``kind`` says who the counterparties are: ``"order"`` (two members' orders matched in
    the book), ``"bilateral"`` (a signed agreement), ``"regulator"`` (a member bought from
    the regulator's standing offer at the cap) or ``"grid"`` (a member sold to the grid's
    standing bid at the feed-in price). A standing offer's side is the pseudo-owner
    ``REGULATOR`` or ``GRID`` (buyer or seller, and its order id). ``reason`` says why a
    standing offer traded (`STANDING_REASONS`); it is empty for the other kinds and then
    left out of the encoding (`omit_empty_last_field`), so trades recorded before it
    existed keep their bytes.
    """

    trade_id: str
    period: int
    kind: str
    """``"order"``, ``"bilateral"``, ``"regulator"`` or ``"grid"`` (see above)."""
    buy_order_id: str
    sell_order_id: str
    buyer: str
    seller: str
    energy_wh: int
    price_micro_per_kwh: int
    value_micro: int
    """What the buyer pays and the seller receives: `trade_value_micro`, computed once."""
    matched_at_s: int
    height: int
    mechanism: str
    price_rule: str
    bid_price_micro_per_kwh: int
    ask_price_micro_per_kwh: int
    buy_order_time_s: int | None
    sell_order_time_s: int | None
    buy_sequence: int | None
    sell_sequence: int | None
    clamped: bool
    reason: str = ""
    """Why a standing offer traded (`STANDING_REASONS`); empty for members' trades."""


KIND_ORDER = "order"
KIND_BILATERAL = "bilateral"
KIND_REGULATOR = "regulator"
KIND_GRID = "grid"
MEMBER_KINDS = (KIND_ORDER, KIND_BILATERAL)
"""Trades between two members; the others have a standing offer on one side."""

REASON_CAP = "buy_limit_at_or_above_cap"
"""At the clear, a buy whose limit reached the cap was filled by the regulator at the cap."""
REASON_FEED_IN = "sell_limit_at_or_below_feed_in"
"""At the clear, a sell whose limit was at most the feed-in price went to the grid at it."""
REASON_UNMET = "unmet_demand"
"""At settlement, metered import beyond what the member bought, served by the regulator."""
STANDING_REASONS = (REASON_CAP, REASON_FEED_IN, REASON_UNMET)


class PeriodBook(
    msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True, gc=False
):
    """One period's book record: small and fixed in size, read by every order of the period."""

    period: int
    mechanism: str
    """Fixed when the period's first order (or its clear) arrives."""
    next_sequence: int
    """Orders placed so far: ids ``"<period>-0"`` to ``"<period>-<next_sequence - 1>"``."""
    open_count: int
    """Orders still open (resting in a price level)."""
    trade_count: int
    offer_count: int
    cleared: bool
    cleared_height: int
    settled: bool
    best_bid_micro_per_kwh: int | None
    """The highest limit of an open buy (None: no buy rests)."""
    best_ask_micro_per_kwh: int | None
    """The lowest limit of an open sell (None: no sell rests)."""
    escrow_cap_micro_per_kwh: int
    """The cap the open buys' escrow was last priced against (re-priced when the cap changes)."""
    next_expiry_s: int | None
    """The earliest ``expiry_s`` in the expiry index (None: the index is empty)."""


QUEUE_CHUNK = 64
"""Queue positions per chunk of a level (one state value of at most 64 sequences)."""


class Level(msgspec.Struct, array_like=True, forbid_unknown_fields=True, gc=False):
    """One price level's queue: positions ``[head, tail)`` and its open orders (mutable)."""

    head: int
    """The first position not yet taken off (its order may have closed meanwhile)."""
    tail: int
    """The position the next order to rest here gets."""
    live: int
    """Open orders in the queue (the others are skipped when they reach the head)."""


class Offer(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """A seller's published offer (seed 001 ``MakeOffer``)."""

    offer_id: str
    seller: str
    period: int
    energy_wh: int
    remaining_wh: int
    price_micro_per_kwh: int
    production_cost_micro_per_kwh: int
    expiry_s: int
    status: str
    height: int


def period_key(period: int) -> str:
    return f"period/{period:012d}"


def order_key(order_id: str) -> str:
    return f"order/{order_id}"


def level_key(period: int, side: str, price_micro_per_kwh: int) -> str:
    return f"level/{period:012d}/{side}/{price_micro_per_kwh:012d}"


def chunk_key(period: int, side: str, price_micro_per_kwh: int, chunk: int) -> str:
    return f"queue/{period:012d}/{side}/{price_micro_per_kwh:012d}/{chunk:09d}"


def prices_key(period: int, side: str) -> str:
    return f"prices/{period:012d}/{side}"


def expiring_key(period: int) -> str:
    return f"expiring/{period:012d}"


def trade_key(period: int, index: int) -> str:
    return f"trade/{period:012d}/{index:06d}"


def offer_key(offer_id: str) -> str:
    return f"offer/{offer_id}"


def agreement_key(offer_id: str, agreement_id: str) -> str:
    return f"agreement/{offer_id}/{agreement_id}"


def make_order_id(period: int, sequence: int) -> str:
    return f"{period}-{sequence}"


SIDES = ("buy", "sell")


# -- queries (pure functions of the state) ----------------------------------------------------

# The records every order reads are decoded by typed decoders directly: they were written
# by `encode` (`Context.write`), so the canonical-form check of `ledger.decode` (decode,
# re-encode, compare) would only repeat what is known; it costs about as much as the decode.
# The records hold numbers and strings only, so they can never be part of a reference cycle
# and are declared ``gc=False``: the collector does not track them.
_PERIOD_BOOK = msgspec.msgpack.Decoder(PeriodBook)
_STORED_ORDER = msgspec.msgpack.Decoder(StoredOrder)
_LEVEL = msgspec.msgpack.Decoder(Level)
_INTEGERS = msgspec.msgpack.Decoder(list[int])


def read_period(state: StateReader, period: int) -> PeriodBook | None:
    raw = state.get(NAMESPACE, period_key(period))
    return None if raw is None else _PERIOD_BOOK.decode(raw)


def read_order(state: StateReader, order_id: str) -> StoredOrder | None:
    raw = state.get(NAMESPACE, order_key(order_id))
    return None if raw is None else _STORED_ORDER.decode(raw)


def read_offer(state: StateReader, offer_id: str) -> Offer | None:
    raw = state.get(NAMESPACE, offer_key(offer_id))
    return None if raw is None else decode(raw, Offer)


def read_prices(state: StateReader, period: int, side: str) -> list[int]:
    """Limit prices with open orders on `side` of `period`'s book, ascending."""
    raw = state.get(NAMESPACE, prices_key(period, side))
    return [] if raw is None else _INTEGERS.decode(raw)


def read_level(state: StateReader, period: int, side: str, price_micro_per_kwh: int) -> Level:
    """The queue at one limit price on `side` (empty if the level does not exist)."""
    raw = state.get(NAMESPACE, level_key(period, side, price_micro_per_kwh))
    return Level(0, 0, 0) if raw is None else _LEVEL.decode(raw)


def read_chunk(
    state: StateReader, period: int, side: str, price_micro_per_kwh: int, chunk: int
) -> list[int]:
    raw = state.get(NAMESPACE, chunk_key(period, side, price_micro_per_kwh, chunk))
    return [] if raw is None else _INTEGERS.decode(raw)


def queued_sequences(state: StateReader, period: int, side: str, price: int) -> list[int]:
    """Sequences in one level's queue from its head, in time priority (some may be closed)."""
    level = read_level(state, period, side, price)
    queued: list[int] = []
    for chunk in range(level.head // QUEUE_CHUNK, -(-level.tail // QUEUE_CHUNK)):
        queued += read_chunk(state, period, side, price, chunk)
    return queued[level.head % QUEUE_CHUNK :]


def read_expiring(state: StateReader, period: int) -> list[tuple[int, int]]:
    """``(expiry_s, sequence)`` of the open orders that can expire before the clear, sorted."""
    raw = state.get(NAMESPACE, expiring_key(period))
    return [] if raw is None else decode(raw, list[tuple[int, int]])


def _load(state: StateReader, order_id: str) -> StoredOrder:
    order = read_order(state, order_id)
    if order is None:  # pragma: no cover - the index and the records are written together
        raise LookupError(f"order {order_id} is indexed but not stored")
    return order


def orders_for_period(state: StateReader, period: int) -> list[StoredOrder]:
    """Every order placed for `period`, open or closed, in insertion sequence."""
    book = read_period(state, period)
    count = 0 if book is None else book.next_sequence
    return [_load(state, make_order_id(period, sequence)) for sequence in range(count)]


def open_on_side(state: StateReader, period: int, side: str) -> list[StoredOrder]:
    """The open orders on `side` of `period`'s book, in priority order (best level first)."""
    prices = read_prices(state, period, side)
    best_first = reversed(prices) if side == "buy" else prices
    orders = (
        _load(state, make_order_id(period, s))
        for price in best_first
        for s in queued_sequences(state, period, side, price)
    )
    return [o for o in orders if o.status == OrderStatus.OPEN]


def open_orders(state: StateReader, period: int) -> list[StoredOrder]:
    """The orders of `period` still open, in insertion sequence."""
    orders = [o for side in SIDES for o in open_on_side(state, period, side)]
    return sorted(orders, key=lambda o: o.sequence)


def trades_for_period(state: StateReader, period: int) -> list[Trade]:
    """Every trade of `period` (book and bilateral), in the order made."""
    book = read_period(state, period)
    if book is None:
        return []
    trades: list[Trade] = []
    for index in range(book.trade_count):
        raw = state.get(NAMESPACE, trade_key(period, index))
        if raw is None:  # pragma: no cover
            raise LookupError(f"trade {index} of period {period} is counted but not stored")
        trades.append(decode(raw, Trade))
    return trades


_LIBRARY_SIDES = {"buy": Side.BUY, "sell": Side.SELL}
"""Stored side names to the library's sides (a dict lookup; ``Side(name)`` costs ~1.5 µs)."""


def as_library_order(stored: StoredOrder) -> Order:
    """The stored order as the library's `Order`, with its residual now."""
    return Order(
        stored.order_id,
        stored.owner,
        _LIBRARY_SIDES[stored.side],
        stored.energy_wh,
        stored.residual_wh,
        stored.price_micro_per_kwh,
        stored.order_time_s,
        stored.expiry_s,
        stored.period,
        stored.sequence,
    )


def book_of(orders: list[StoredOrder], period: int) -> OrderBook:
    """An order book holding `orders` (open orders of one period) with their residuals."""
    book = OrderBook(period)
    for stored in orders:
        book.add(as_library_order(stored))
    return book


class DepthLevel(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    price_micro_per_kwh: int
    residual_wh: int
    orders: int


class Depth(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    period: int
    bids: list[DepthLevel]
    """Best (highest) limit first."""
    asks: list[DepthLevel]
    """Best (lowest) limit first."""


def depth(state: StateReader, period: int) -> Depth:
    """Open residual and order count per limit price on each side of `period`'s book.

    Orders past their expiry still show until a transaction touches the book.
    """

    def levels(side: str) -> list[DepthLevel]:
        by_price: dict[int, list[StoredOrder]] = {}
        for order in open_on_side(state, period, side):
            by_price.setdefault(order.price_micro_per_kwh, []).append(order)
        return [
            DepthLevel(price, sum(o.residual_wh for o in orders), len(orders))
            for price, orders in by_price.items()
        ]

    return Depth(period, levels("buy"), levels("sell"))
