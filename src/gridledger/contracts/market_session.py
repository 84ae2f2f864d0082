"""One period's market, as one transaction reads and changes it (internal to the contract).

A `Session` reads the period's `PeriodBook` and nothing else up front; the
rest of the book is read when first needed and written back by `save` (the
storage half, `market_levels.BookStore`). On top of it the session keeps the
rules every market method shares: gate closure, the period's sequence and
counts, escrow in and out, closing and filling orders, expiry and trades. What
only the clear does is in `market_clearing`.
"""

from __future__ import annotations

import msgspec

from gridledger.contracts.errors import EnergyOutOfRange, NegativeValue, PriceOutOfRange
from gridledger.contracts.market_errors import (
    BeyondHorizon,
    EscrowOverdrawn,
    InvalidSide,
    PeriodClosed,
)
from gridledger.contracts.market_levels import BookStore
from gridledger.contracts.market_parameters import MarketParameters, ScheduledParameters
from gridledger.contracts.market_state import (
    ESCROW,
    HORIZON_SECONDS,
    KIND_GRID,
    KIND_ORDER,
    KIND_REGULATOR,
    MAX_ORDER_ENERGY_WH,
    MAX_PRICE_MICRO_PER_KWH,
    NAMESPACE,
    REASON_CAP,
    REASON_FEED_IN,
    SELLING_ROLES,
    TRADING_ROLES,
    OrderStatus,
    PeriodBook,
    StoredOrder,
    Trade,
    period_key,
    read_period,
    trade_key,
)
from gridledger.contracts.membership import require_role
from gridledger.contracts.parameters import NAMESPACE as PARAMETERS
from gridledger.contracts.tokens import move
from gridledger.ledger import Context, StateReader, decode
from gridledger.market import GRID, REGULATOR, Match, PriceBounds, trade_value_micro

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


class Session(BookStore):
    """The book of `period` as one transaction sees and changes it."""

    def __init__(self, context: Context, period: int) -> None:
        if period < 0:
            raise NegativeValue("period", period)
        super().__init__(context, period)
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

    # -- rules ---------------------------------------------------------------------------

    def require_before_gate(self, what: str) -> None:
        if self.now_s >= self.gate_closure_s:
            raise PeriodClosed(
                what, self.period, self.gate_closure_s, self.period_start_s, self.now_s
            )

    def take_sequence(self) -> int:
        sequence = self.next_sequence
        self.next_sequence += 1
        return sequence

    # -- money ---------------------------------------------------------------------------

    def pay_in(self, owner: str, amount_micro: int, reason: str) -> None:
        """Escrow `amount_micro` from `owner` (InsufficientFunds if it lacks it)."""
        move(self.context, owner, ESCROW, amount_micro, reason)

    def release(self, owner: str, amount_micro: int, reason: str) -> None:
        """Pay `amount_micro` back out of escrow to `owner` (a negative amount is refused)."""
        if amount_micro < 0:
            raise EscrowOverdrawn(-amount_micro, reason)
        move(self.context, ESCROW, owner, amount_micro, reason)

    # -- orders --------------------------------------------------------------------------

    def update_order(self, stored: StoredOrder) -> None:
        """Replace an order of this period as this transaction leaves it (written by `save`)."""
        self._update(stored)

    def add_order(self, stored: StoredOrder) -> None:
        """Record a new open order (not yet resting: see `rest`)."""
        self.open_count += 1
        self._update(stored)

    def close(self, sequence: int, status: str) -> None:
        """Close an open order that rests nowhere any more, and release its escrow."""
        stored = self.order(sequence)
        order_id = stored.order_id
        self.release(stored.owner, stored.escrow_micro, f"release {order_id} {status}")
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
            self.release(stored.owner, escrow - keep - value_micro, reason)
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
            # a standing offer's reason; members' trades emit what they always did
            **({"reason": trade.reason} if trade.reason else {}),
        )
        return trade

    # -- period --------------------------------------------------------------------------

    def mark_cleared(self) -> None:
        self.cleared = True
        self.cleared_height = self.context.height

    def mark_settled(self) -> None:
        self.settled = True

    def save(self) -> None:
        """Write what this transaction changed, in sorted key order, then the period record."""
        self.save_book()
        self.context.write(
            NAMESPACE,
            period_key(self.period),
            PeriodBook(
                self.period,
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


def draft_trade(match: Match) -> Trade:
    """The trade a library match makes, for `Session.append_trade` (which numbers it).

    A match with the regulator's standing offer (seller ``REGULATOR``) is a trade of
    kind ``regulator``, one with the grid's standing bid (buyer ``GRID``) of kind
    ``grid``, each with its reason; any other is of kind ``order``.
    """
    reason = match.reason
    if match.seller == REGULATOR:
        kind, why = KIND_REGULATOR, REASON_CAP
    elif match.buyer == GRID:
        kind, why = KIND_GRID, REASON_FEED_IN
    else:
        kind, why = KIND_ORDER, ""
    return Trade(
        trade_id="",
        period=match.delivery_period,
        kind=kind,
        reason=why,
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


def within_horizon(session: Session, period: int) -> None:
    """Refuse periods that start more than `HORIZON_SECONDS` ahead."""
    if session.period_start_s - session.now_s > HORIZON_SECONDS:
        raise BeyondHorizon(period, session.period_start_s, HORIZON_SECONDS, session.now_s)


def check_limit_order(side: str, energy_wh: int, price_micro_per_kwh: int, period: int) -> None:
    """Refuse a limit order's side, energy, price or period, the first out of range (the
    period's market and the day-ahead auction take the same orders)."""
    if side not in ("buy", "sell"):
        raise InvalidSide(side)
    if not 0 < energy_wh <= MAX_ORDER_ENERGY_WH:
        raise EnergyOutOfRange("energy_wh", energy_wh, 1, MAX_ORDER_ENERGY_WH)
    if not 0 <= price_micro_per_kwh <= MAX_PRICE_MICRO_PER_KWH:
        raise PriceOutOfRange(price_micro_per_kwh, 0, MAX_PRICE_MICRO_PER_KWH)
    if period < 0:
        raise NegativeValue("period", period)


def require_trading_role(context: Context, side: str) -> None:
    """Refuse a sender whose role may not place an order on `side` ("buy" or "sell")."""
    if side == "sell":
        require_role(context, SELLING_ROLES, "sell energy")
    else:
        require_role(context, TRADING_ROLES, "buy energy")


__all__ = [
    "Session",
    "check_limit_order",
    "draft_trade",
    "parameters_in_force",
    "require_trading_role",
    "within_horizon",
]
