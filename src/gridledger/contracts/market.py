"""The market contract: orders, escrow and matching on the ledger (seed 000 §2.2).

Active members place limit orders for a delivery period as transactions; the
order book of each period lives in state and is run by the pure library in
`gridledger.market`. State layout and queries: `gridledger.contracts.market_state`.

Orders
    ``place_order(side, energy_wh, price_micro_per_kwh, period, expiry_s=0)``.
    The order time is the block timestamp (seconds); the order id is
    ``"<period>-<sequence>"`` with the period's insertion sequence, which is
    also the library's tie-breaker. Buys may be placed by consumers, producers,
    prosumers and storage; sells only by producers, prosumers and storage.
    ``expiry_s`` 0 means the end of the delivery period. An order is refused at
    or after the period's gate closure (``gate_closure_seconds`` before the
    period starts, so past periods too) and for periods starting more than a
    week ahead. ``cancel_order(order_id)``: the owner only, before gate
    closure (after it orders are firm). ``amend_order(order_id, energy_wh,
    price_micro_per_kwh)``: the owner changes an open order, which loses its
    time priority (a new order replaces it, see `amend_order`). When the
    community sets ``amend_seconds`` (seed 003: "modify or withdraw the
    published information in a short time after release"), an order can be
    amended or cancelled only that long after it was placed.

Mechanism
    Taken from the parameters in force for the period when its first order
    arrives, and fixed from then on for that period. ``continuous`` matches each
    order on arrival: the library's `match_incoming` runs on the stored price
    levels (`market_continuous`), at the resting order's price;
    ``high_low`` (`match_high_low`, midpoint rule) and ``call_auction``
    (`clear_call_auction`) match when the book is cleared. Every mechanism is
    bounded by ``PriceBounds(feed_in, cap)`` of the parameters in force for the
    period: a buy limit above the regulator's cap trades at the cap, a sell
    limit below the feed-in price at the feed-in price. Self-trade prevention
    is the library's: the newer of two crossing orders of one owner is
    cancelled.

Standing offers
    While the regulator's cap is below the grid price
    (`market_parameters.standing_offers_in_force`), the regulator's standing offer
    (unlimited energy at the cap) and the grid's standing bid (unlimited
    purchase at the feed-in price) trade at the clear, after the members'
    matching: a buy still open with a limit at or above the cap is filled by
    the regulator, a sell still open with a limit at or below the feed-in
    price by the grid (`market_clearing`). They are stored as trades of kind
    ``regulator`` and ``grid`` with their reason, and settled at those prices;
    settlement adds the regulator's trades for unmet demand
    (`record_unmet_demand`). With the cap at or above the grid price the
    standing offers do not trade: settlement plays the grid's part alone.

Clearing
    ``clear(period)``: any active member, once, at or after gate closure. The
    clearing moment is the gate closure time itself, whatever the block time,
    so an order takes part if it had not expired by then. After matching, every
    order still open is closed as ``unfilled`` (nothing can trade after gate
    closure) and its escrow released. Settlement clears a period nobody cleared.

Escrow
    A buy escrows ``trade_value_micro(energy_wh, min(limit, cap))`` in the token
    account ``market:escrow``; refused with INSUFFICIENT_FUNDS when the buyer
    lacks it. On each fill the trade's value stays in escrow (settlement pays it
    out) and what the filled energy no longer needs (limit vs. trade price) is
    released at once; cancel, expiry, self-trade cancellation and closing at
    clear release the rest. If the regulator changes the cap for a period that
    already has open buys, the next order or clear of the period re-prices
    their escrow: surplus is released, a shortfall is topped up from the buyer,
    and a buy whose owner cannot top up is closed as ``underfunded``. (That
    one transaction walks the open buys; the period record keeps the cap the
    escrow was priced at, so the others do not.)

Expiry (the rule)
    An order with ``expiry_s <= now`` is expired, but state changes only in
    transactions, so it is closed and its escrow released the next time a
    transaction touches its period's book: an order, a cancel, a bilateral
    agreement or the clear (and so at the latest at settlement). Queries may
    show it open until then. This needs no scan of the book: orders that can
    expire while the book is open (an ``expiry_s`` before the period's end;
    the default expiry is the period's end) are kept in an expiry index sorted
    by (expiry, sequence), the period record holds the earliest, and a
    transaction closes the due ones from the front, earliest first. (The index
    is one list: an order with an explicit early expiry costs in proportion to
    how many such orders are open; orders with the default expiry never touch
    it.)

Cost
    An order reads and writes what it touches - the period record, its price
    level's queue or the levels and orders it trades through (layout in
    `gridledger.contracts.market_state`) - never the whole book; ``clear``
    reads the whole book once.
"""

from __future__ import annotations

import msgspec

from gridledger.contracts import market_bilateral as _bilateral  # noqa: F401 (registers methods)
from gridledger.contracts import market_day_ahead as _day_ahead  # noqa: F401 (registers methods)
from gridledger.contracts import market_sealed as _sealed  # noqa: F401 (registers methods)
from gridledger.contracts.errors import EnergyOutOfRange, PriceOutOfRange
from gridledger.contracts.market_clearing import clear_book, reconcile_escrow
from gridledger.contracts.market_continuous import match_on_arrival
from gridledger.contracts.market_errors import (
    AllOrNoneNotSupported,
    AmendWindowClosed,
    ExpiryNotInFuture,
    GateNotClosed,
    NothingToAmend,
    NotOrderOwner,
    OrderNotOpen,
    PeriodAlreadyCleared,
    PeriodAlreadySettled,
    UnknownOrder,
)
from gridledger.contracts.market_session import (
    Session,
    check_limit_order,
    require_trading_role,
    within_horizon,
)
from gridledger.contracts.market_state import (
    ESCROW,
    KIND_REGULATOR,
    MAX_ORDER_ENERGY_WH,
    MAX_PRICE_MICRO_PER_KWH,
    NAMESPACE,
    REASON_UNMET,
    OrderStatus,
    StoredOrder,
    Trade,
    contract,
    make_order_id,
    read_order,
    trades_for_period,
)
from gridledger.contracts.parameters import windows_for
from gridledger.ledger import Context
from gridledger.market import REGULATOR, Mechanism, PriceRule, Side, trade_value_micro

__all__ = ["ESCROW", "NAMESPACE", "close_for_settlement", "contract", "record_unmet_demand"]


class PlaceOrderArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    side: str
    """``"buy"`` or ``"sell"``."""
    energy_wh: int
    price_micro_per_kwh: int
    """The limit: the most a buyer pays, the least a seller accepts."""
    period: int
    """The delivery period (``timestamp_s // period_seconds``)."""
    expiry_s: int = 0
    """When an unfilled order leaves the book (seconds); 0 = the end of the period."""
    all_or_none: bool = False
    """Refused here (ALL_OR_NONE_NOT_SUPPORTED): only the day-ahead auction offers it."""


_SIDES = {"buy": Side.BUY, "sell": Side.SELL}


def _check_order_args(args: PlaceOrderArgs) -> Side:
    check_limit_order(args.side, args.energy_wh, args.price_micro_per_kwh, args.period)
    return _SIDES[args.side]


@contract.method(PlaceOrderArgs)
def place_order(context: Context, args: PlaceOrderArgs) -> None:
    """Place a limit order for a delivery period; a buy escrows its maximum cost."""
    side = _check_order_args(args)
    require_trading_role(context, side)
    session = Session(context, args.period)
    if args.all_or_none:
        raise AllOrNoneNotSupported(session.mechanism)
    session.require_before_gate("orders")
    within_horizon(session, args.period)
    expiry_s = args.expiry_s or session.period_end_s
    if expiry_s <= session.now_s:
        raise ExpiryNotInFuture(expiry_s, session.now_s)
    reconcile_escrow(session)
    _enter(context, session, side, args.energy_wh, args.price_micro_per_kwh, expiry_s)
    session.save()


def _enter(
    context: Context, session: Session, side: Side, energy_wh: int, price: int, expiry_s: int
) -> str:
    """Record a new order at the block time, escrow a buy, match it; return its id."""
    now_s = session.now_s
    sequence = session.take_sequence()
    order_id = make_order_id(session.period, sequence)
    escrow_price = min(price, session.bounds.cap_price_micro_per_kwh)
    escrow = trade_value_micro(energy_wh, escrow_price) if side is Side.BUY else 0
    session.pay_in(context.sender, escrow, f"escrow {order_id}")
    stored = StoredOrder(
        order_id=order_id,
        owner=context.sender,
        side=str(side),
        energy_wh=energy_wh,
        residual_wh=energy_wh,
        price_micro_per_kwh=price,
        order_time_s=now_s,
        expiry_s=expiry_s,
        period=session.period,
        sequence=sequence,
        status=OrderStatus.OPEN,
        escrow_micro=escrow,
        escrow_price_micro_per_kwh=escrow_price if side is Side.BUY else 0,
        height=context.height,
        closed_at_s=0,
    )
    session.add_order(stored)
    session.expire(now_s)
    trades = 0
    if session.mechanism == "continuous":
        trades = match_on_arrival(session, sequence)
    else:  # high_low and call_auction match when the book is cleared
        session.rest(stored)
    context.emit(
        NAMESPACE,
        "order_placed",
        order_id=order_id,
        owner=context.sender,
        side=str(side),
        energy_wh=energy_wh,
        price_micro_per_kwh=price,
        period=session.period,
        escrow_micro=escrow,
        trades=trades,
    )
    return order_id


def _open_own_order(context: Context, order_id: str, action: str) -> tuple[Session, StoredOrder]:
    """The sender's open order and its period's session, inside the amend window."""
    stored = read_order(context.overlay, order_id)
    if stored is None:
        raise UnknownOrder(order_id)
    if stored.owner != context.sender:
        raise NotOrderOwner(order_id, stored.owner, context.sender)
    if stored.status != OrderStatus.OPEN:
        raise OrderNotOpen(order_id, stored.status)
    session = Session(context, stored.period)
    session.require_before_gate(action)
    amend_seconds = windows_for(context.overlay, stored.period).amend_seconds
    if amend_seconds and session.now_s > stored.order_time_s + amend_seconds:
        raise AmendWindowClosed(order_id, stored.order_time_s, amend_seconds, session.now_s)
    return session, stored


class CancelOrderArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    order_id: str


@contract.method(CancelOrderArgs)
def cancel_order(context: Context, args: CancelOrderArgs) -> None:
    """Withdraw one's own open order before gate closure (and within the amend window
    when the community sets one); its escrow is released."""
    session, stored = _open_own_order(context, args.order_id, "cancellations")
    session.expire(session.now_s)
    current = session.order(stored.sequence)
    if current.status == OrderStatus.OPEN:  # else it just expired
        session.unrest(current)
        session.close(stored.sequence, OrderStatus.CANCELLED)  # emits order_closed
    session.save()


class AmendOrderArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    order_id: str
    energy_wh: int
    """The new total energy, as placed; what was already filled stays filled."""
    price_micro_per_kwh: int
    """The new limit."""


@contract.method(AmendOrderArgs)
def amend_order(context: Context, args: AmendOrderArgs) -> None:
    """Change the energy or the limit of one's own open order; it loses time priority.

    As the library's `OrderBook.amend`: the order is taken off the book and
    entered again at the block time, exactly as if cancelled and placed anew.
    Here that is literal: the old order closes as ``amended`` (its escrow
    released) and a new order, with the next id of the period, is placed for
    ``energy_wh`` less what the old one filled, with the old expiry; a buy's
    escrow is taken again at the new price, so the escrow adjusts by the
    difference. It matches on arrival like any order (continuous mechanism).
    Refused after gate closure, outside the amend window (``amend_seconds``
    after the order was placed, seed 003; an amended order is a new
    publication), and when nothing changes.
    """
    if not 0 < args.energy_wh <= MAX_ORDER_ENERGY_WH:
        raise EnergyOutOfRange("energy_wh", args.energy_wh, 1, MAX_ORDER_ENERGY_WH)
    if not 0 <= args.price_micro_per_kwh <= MAX_PRICE_MICRO_PER_KWH:
        raise PriceOutOfRange(args.price_micro_per_kwh, 0, MAX_PRICE_MICRO_PER_KWH)
    session, stored = _open_own_order(context, args.order_id, "amendments")
    if (args.energy_wh, args.price_micro_per_kwh) == (stored.energy_wh, stored.price_micro_per_kwh):
        raise NothingToAmend(args.order_id, args.energy_wh, args.price_micro_per_kwh)
    filled = stored.energy_wh - stored.residual_wh
    if args.energy_wh <= filled:
        raise EnergyOutOfRange("energy_wh", args.energy_wh, filled + 1, MAX_ORDER_ENERGY_WH)
    if stored.expiry_s <= session.now_s:  # expired, though no transaction closed it yet
        raise OrderNotOpen(args.order_id, OrderStatus.EXPIRED)
    session.expire(session.now_s)
    reconcile_escrow(session)
    current = session.order(stored.sequence)
    if current.status != OrderStatus.OPEN:  # the cap rose and its owner could not top up
        raise OrderNotOpen(args.order_id, current.status)
    session.unrest(current)
    session.close(stored.sequence, OrderStatus.AMENDED)
    side = _SIDES[stored.side]
    new_id = _enter(
        context,
        session,
        side,
        args.energy_wh - filled,
        args.price_micro_per_kwh,
        stored.expiry_s,
    )
    session.save()
    context.emit(NAMESPACE, "order_amended", order_id=args.order_id, new_order_id=new_id)


class ClearArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    period: int


@contract.method(ClearArgs)
def clear(context: Context, args: ClearArgs) -> None:
    """Clear a period's book once, at or after its gate closure (any active member)."""
    session = Session(context, args.period)
    if session.now_s < session.gate_closure_s:
        raise GateNotClosed(args.period, session.gate_closure_s, session.now_s)
    if session.cleared:
        raise PeriodAlreadyCleared(args.period, session.cleared_height)
    result = clear_book(session)
    session.save()
    context.emit(
        NAMESPACE,
        "cleared",
        period=args.period,
        mechanism=session.mechanism,
        trades=len(result.matches),
        traded_wh=result.traded_wh,
    )


def close_for_settlement(context: Context, period: int) -> list[Trade]:
    """For settlement: clear the period if nobody did, mark it settled, return its trades.

    Refuses a period already settled. Afterwards no order of the period is open,
    so the escrow left for it is exactly the sum of its trades' values.
    """
    session = Session(context, period)
    if session.settled:
        raise PeriodAlreadySettled(period)
    if not session.cleared:
        clear_book(session)
    session.mark_settled()
    session.save()
    return trades_for_period(context.overlay, period)


def record_unmet_demand(
    context: Context, period: int, unmet_wh: list[tuple[str, int]], cap_micro_per_kwh: int
) -> list[Trade]:
    """For settlement: record the regulator serving each member's unmet demand at the cap.

    ``unmet_wh`` holds (member, Wh) pairs, in the order the trades are to be
    numbered (after the period's other trades). Each becomes a trade of kind
    ``regulator`` and reason ``unmet_demand``: bought by the member, sold by
    ``REGULATOR`` at ``cap_micro_per_kwh``, with no buy order (``buy_order_id``
    is empty), made at the settlement's block time. Settlement charges its value
    to the member with the period's other outside energy (it was never escrowed).
    """
    if not unmet_wh:
        return []
    session = Session(context, period)
    made: list[Trade] = []
    for member, energy_wh in unmet_wh:
        made.append(
            session.append_trade(
                Trade(
                    trade_id="",
                    period=period,
                    kind=KIND_REGULATOR,
                    buy_order_id="",
                    sell_order_id=REGULATOR,
                    buyer=member,
                    seller=REGULATOR,
                    energy_wh=energy_wh,
                    price_micro_per_kwh=cap_micro_per_kwh,
                    value_micro=0,
                    matched_at_s=session.now_s,
                    height=0,
                    mechanism=str(Mechanism.STANDING_OFFER),
                    price_rule=str(PriceRule.STANDING),
                    bid_price_micro_per_kwh=cap_micro_per_kwh,
                    ask_price_micro_per_kwh=cap_micro_per_kwh,
                    buy_order_time_s=None,
                    sell_order_time_s=None,
                    buy_sequence=None,
                    sell_sequence=None,
                    clamped=False,
                    reason=REASON_UNMET,
                )
            )
        )
    session.save()
    return made
