"""State of the market contract: its records, their keys, and the queries over them.

The market contract's methods live in `gridledger.contracts.market` (orders,
clearing) and `gridledger.contracts.market_bilateral` (seed 001's offers and
signed agreements); both register on the one `contract` defined here.

State (namespace ``market``), every key zero-padded so that sorted keys are
chronological:

- ``period/<period>`` → `PeriodBook`: the mechanism, the order ids in
  insertion sequence (all, and those still open), the trade count, whether the
  book was cleared and settled;
- ``order/<order id>`` → `StoredOrder`; order ids are ``"<period>-<sequence>"``;
- ``trade/<period>/<n>`` → `Trade`, ``n`` from 0 in the order trades were made;
- ``offer/<offer id>`` → `Offer` (bilateral path); offer ids ``"<period>-o<n>"``;
- ``agreement/<offer id>/<agreement id>`` → trade id (spent agreement ids).

Money: the escrow of open buy orders and of unsettled trades is held in the
token account `ESCROW`. Invariant, for every period not yet settled::

    escrow held for the period = Σ escrow_micro of its open buy orders
                               + Σ value_micro of its trades

and settlement takes exactly the trades' values out of it.
"""

from __future__ import annotations

import msgspec

from gridledger.contracts.registry import Contract
from gridledger.ledger import StateReader, decode
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


class StoredOrder(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
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


class Trade(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """One trade, with the audit record of why it happened (the library's `MatchReason`)."""

    trade_id: str
    period: int
    kind: str
    """``"order"`` (matched in the book) or ``"bilateral"`` (a signed agreement)."""
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


class PeriodBook(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    period: int
    mechanism: str
    """Fixed when the period's first order (or its clear) arrives."""
    next_sequence: int
    order_ids: list[str]
    open_ids: list[str]
    trade_count: int
    offer_count: int
    cleared: bool
    cleared_height: int
    settled: bool


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


def trade_key(period: int, index: int) -> str:
    return f"trade/{period:012d}/{index:06d}"


def offer_key(offer_id: str) -> str:
    return f"offer/{offer_id}"


def agreement_key(offer_id: str, agreement_id: str) -> str:
    return f"agreement/{offer_id}/{agreement_id}"


def make_order_id(period: int, sequence: int) -> str:
    return f"{period}-{sequence}"


# -- queries (pure functions of the state) ----------------------------------------------------


def read_period(state: StateReader, period: int) -> PeriodBook | None:
    raw = state.get(NAMESPACE, period_key(period))
    return None if raw is None else decode(raw, PeriodBook)


def read_order(state: StateReader, order_id: str) -> StoredOrder | None:
    raw = state.get(NAMESPACE, order_key(order_id))
    return None if raw is None else decode(raw, StoredOrder)


def read_offer(state: StateReader, offer_id: str) -> Offer | None:
    raw = state.get(NAMESPACE, offer_key(offer_id))
    return None if raw is None else decode(raw, Offer)


def _load(state: StateReader, order_id: str) -> StoredOrder:
    order = read_order(state, order_id)
    if order is None:  # pragma: no cover - the index and the records are written together
        raise LookupError(f"order {order_id} is indexed but not stored")
    return order


def orders_for_period(state: StateReader, period: int) -> list[StoredOrder]:
    """Every order placed for `period`, open or closed, in insertion sequence."""
    book = read_period(state, period)
    return [] if book is None else [_load(state, i) for i in book.order_ids]


def open_orders(state: StateReader, period: int) -> list[StoredOrder]:
    """The orders of `period` still open, in insertion sequence."""
    book = read_period(state, period)
    return [] if book is None else [_load(state, i) for i in book.open_ids]


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


def as_library_order(stored: StoredOrder) -> Order:
    return Order(
        stored.order_id,
        stored.owner,
        Side(stored.side),
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
    book = book_of(open_orders(state, period), period)

    def levels(side: Side) -> list[DepthLevel]:
        return [
            DepthLevel(level.price_micro_per_kwh, level.residual_wh, level.orders)
            for level in book.depth(side)
        ]

    return Depth(period, levels(Side.BUY), levels(Side.SELL))
