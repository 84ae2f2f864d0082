"""One period's market state, loaded for one transaction (internal to the market contract).

A `Session` reads the period's `PeriodBook` and open orders, builds the
library's `OrderBook` from them, applies what the library reports (matches,
expiries, self-trade cancellations) to the stored orders and the escrow, and
writes everything back with `save`. Writes happen in sorted key order and the
book is rebuilt from insertion sequence, so every peer does the same thing.
"""

from __future__ import annotations

import msgspec

from gridledger.contracts.market_state import (
    ESCROW,
    HORIZON_SECONDS,
    NAMESPACE,
    OrderStatus,
    PeriodBook,
    StoredOrder,
    Trade,
    as_library_order,
    book_of,
    order_key,
    period_key,
    read_order,
    read_period,
    trade_key,
)
from gridledger.contracts.parameters import parameters_for
from gridledger.contracts.tokens import move
from gridledger.ledger import Context, ContractRejected, InsufficientFunds
from gridledger.market import Match, MatchResult, Order, PriceBounds, trade_value_micro


class Session:
    """The book of `period` as one transaction sees and changes it."""

    def __init__(self, context: Context, period: int) -> None:
        if period < 0:
            raise ContractRejected(NAMESPACE, f"period {period} is negative")
        self.context = context
        self.period = period
        self.now_s = context.timestamp_ms // 1000
        self.parameters = parameters_for(context.overlay, period)
        seconds = self.parameters.period_seconds
        self.period_start_s = period * seconds
        self.period_end_s = (period + 1) * seconds
        self.gate_closure_s = self.period_start_s - self.parameters.gate_closure_seconds
        self.bounds = PriceBounds(
            self.parameters.feed_in_price_micro_per_kwh, self.parameters.cap_price_micro_per_kwh
        )
        meta = read_period(context.overlay, period)
        self.existed = meta is not None
        if meta is None:
            meta = PeriodBook(period, self.parameters.mechanism, 0, [], [], 0, 0, False, 0, False)
        self.mechanism = meta.mechanism
        self.next_sequence = meta.next_sequence
        self.order_ids = list(meta.order_ids)
        self.open_ids = list(meta.open_ids)
        self.trade_count = meta.trade_count
        self.offer_count = meta.offer_count
        self.cleared = meta.cleared
        self.cleared_height = meta.cleared_height
        self.settled = meta.settled
        self.orders: dict[str, StoredOrder] = {}
        for order_id in self.open_ids:
            stored = read_order(context.overlay, order_id)
            if stored is None:  # pragma: no cover - written together
                raise ContractRejected(NAMESPACE, f"open order {order_id} is missing")
            self.orders[order_id] = stored
        self.book = book_of([self.orders[i] for i in self.open_ids], period)
        self._dirty: set[str] = set()

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
        """Re-price open buys' escrow if the cap for the period changed since it was taken."""
        cap = self.bounds.cap_price_micro_per_kwh
        for order_id in list(self.open_ids):
            stored = self.orders[order_id]
            if stored.side != "buy":
                continue
            price = min(stored.price_micro_per_kwh, cap)
            if price == stored.escrow_price_micro_per_kwh:
                continue
            needed = trade_value_micro(stored.residual_wh, price)
            held = stored.escrow_micro
            if needed < held:
                self._release(stored.owner, held - needed, f"escrow {order_id} cap changed")
            elif needed > held:
                try:
                    self.pay_in(stored.owner, needed - held, f"escrow {order_id} cap changed")
                except InsufficientFunds:
                    self.book.cancel(order_id)
                    self.close(order_id, OrderStatus.UNDERFUNDED)
                    continue
            self._update(
                msgspec.structs.replace(
                    stored, escrow_micro=needed, escrow_price_micro_per_kwh=price
                )
            )

    # -- orders --------------------------------------------------------------------------

    def _update(self, stored: StoredOrder) -> None:
        self.orders[stored.order_id] = stored
        self._dirty.add(stored.order_id)

    def add_order(self, stored: StoredOrder) -> Order:
        """Record a new open order (not yet in the library book); return its library form."""
        self.order_ids.append(stored.order_id)
        self.open_ids.append(stored.order_id)
        self._update(stored)
        return as_library_order(stored)

    def close(self, order_id: str, status: str) -> None:
        """Take an open order out (already out of the library book) and release its escrow."""
        stored = self.orders[order_id]
        self._release(stored.owner, stored.escrow_micro, f"release {order_id} {status}")
        self.open_ids.remove(order_id)
        self._update(
            msgspec.structs.replace(stored, status=status, escrow_micro=0, closed_at_s=self.now_s)
        )
        self.context.emit(NAMESPACE, "order_closed", order_id=order_id, status=status)

    def _fill(self, order_id: str, energy_wh: int, value_micro: int) -> None:
        stored = self.orders[order_id]
        residual = stored.residual_wh - energy_wh
        escrow = stored.escrow_micro
        if stored.side == "buy":
            keep = trade_value_micro(residual, stored.escrow_price_micro_per_kwh)
            self._release(stored.owner, escrow - keep - value_micro, f"release {order_id} fill")
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
            self.open_ids.remove(order_id)

    def apply_result(self, result: MatchResult) -> None:
        """Apply what a library call did to the book: expiries, cancellations, matches."""
        for order in result.expired:
            self.close(order.order_id, OrderStatus.EXPIRED)
        # fills first: an order cancelled by self-trade prevention may have traded before
        for match in result.matches:
            self.record_match(match)
        for order in result.cancelled:
            self.close(order.order_id, OrderStatus.SELF_TRADE)

    def record_match(self, match: Match) -> None:
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
        self._fill(match.buy_order_id, match.energy_wh, match.value_micro)
        self._fill(match.sell_order_id, match.energy_wh, match.value_micro)

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

    def mark_cleared(self) -> None:
        self.cleared = True
        self.cleared_height = self.context.height

    def mark_settled(self) -> None:
        self.settled = True

    def save(self) -> None:
        for order_id in sorted(self._dirty):
            self.context.write(NAMESPACE, order_key(order_id), self.orders[order_id])
        self._dirty.clear()
        self.context.write(
            NAMESPACE,
            period_key(self.period),
            PeriodBook(
                self.period,
                self.mechanism,
                self.next_sequence,
                self.order_ids,
                self.open_ids,
                self.trade_count,
                self.offer_count,
                self.cleared,
                self.cleared_height,
                self.settled,
            ),
        )


def within_horizon(session: Session, period: int) -> None:
    """Refuse periods that start more than `HORIZON_SECONDS` ahead."""
    if session.period_start_s - session.now_s > HORIZON_SECONDS:
        raise ContractRejected(
            NAMESPACE,
            f"period {period} starts at {session.period_start_s} s, more than "
            f"{HORIZON_SECONDS} s after now ({session.now_s} s)",
        )


__all__ = ["Session", "within_horizon"]
