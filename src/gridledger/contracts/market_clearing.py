"""Clearing a period's book, and re-pricing escrow when the cap changes (internal).

The clear is the one place the whole book is read: the open orders are loaded
into the pure library's `OrderBook`, the period's mechanism runs on it once at
the gate closure, its matches and cancellations are applied to the stored
book through the `Session`, and every order still open is closed as unfilled.
`reconcile_escrow` is shared with order placement: it walks the open buys only
in the first transaction that sees a new cap.

The standing offers (seed 000 §2.2 (4)). While the regulator's cap is below the
grid price (`market_parameters.standing_offers_in_force`), the clear runs the
library's `match_against_standing_offers` after the members' own matching,
whatever the mechanism: every buy still open whose limit reaches the cap is
filled by the regulator at the cap (a trade of kind ``regulator``) and every
sell still open whose limit is at most the feed-in price by the grid at the
feed-in price (kind ``grid``). Members trade with each other first, so the
standing offers take only what no member would. A regulator trade is paid from
the buyer's escrow like any other; a grid trade has no escrow (settlement pays
the seller from the grid account). Under continuous matching the standing
offers wait for the clear as well: a buy at the cap may still meet a cheaper
sell until the gate closes.
"""

from __future__ import annotations

import msgspec

from gridledger.contracts.market_errors import BookInconsistent
from gridledger.contracts.market_parameters import standing_offers_in_force
from gridledger.contracts.market_session import Session, draft_trade
from gridledger.contracts.market_state import (
    SIDES,
    OrderStatus,
    book_of,
)
from gridledger.ledger import InsufficientFunds
from gridledger.market import (
    GRID,
    REGULATOR,
    MarketError,
    Match,
    MatchResult,
    PriceRule,
    clear_call_auction,
    match_against_standing_offers,
    match_high_low,
    trade_value_micro,
)


def reconcile_escrow(session: Session) -> None:
    """Re-price open buys' escrow if the cap for the period changed since it was taken.

    Walks every open buy, in insertion sequence, but only in the first
    transaction that sees a new cap: the period record keeps the cap the
    escrow was last priced against.
    """
    cap = session.bounds.cap_price_micro_per_kwh
    if cap == session.escrow_cap:
        return
    session.escrow_cap = cap
    for sequence in sorted(session.sequences("buy")):
        stored = session.order(sequence)
        price = min(stored.price_micro_per_kwh, cap)
        if price == stored.escrow_price_micro_per_kwh:
            continue
        needed = trade_value_micro(stored.residual_wh, price)
        held = stored.escrow_micro
        order_id = stored.order_id
        if needed < held:
            session.release(stored.owner, held - needed, f"escrow {order_id} cap changed")
        elif needed > held:
            try:
                session.pay_in(stored.owner, needed - held, f"escrow {order_id} cap changed")
            except InsufficientFunds:
                session.unrest(stored)
                session.close(sequence, OrderStatus.UNDERFUNDED)
                continue
        session.update_order(
            msgspec.structs.replace(stored, escrow_micro=needed, escrow_price_micro_per_kwh=price)
        )


def record_match(session: Session, match: Match) -> None:
    """Store a match the library made at clear time and fill both orders."""
    if match.value_micro != trade_value_micro(match.energy_wh, match.price_micro_per_kwh):
        raise BookInconsistent(
            session.period,
            f"match {match.buy_order_id}/{match.sell_order_id} is valued {match.value_micro}",
        )
    session.append_trade(draft_trade(match))
    if match.buyer != GRID:  # a standing offer has no order to fill
        session.fill(_sequence_of(match.buy_order_id), match.energy_wh, match.value_micro)
    if match.seller != REGULATOR:
        session.fill(_sequence_of(match.sell_order_id), match.energy_wh, match.value_micro)


def apply_clear_result(session: Session, result: MatchResult) -> None:
    """Apply what a library mechanism did to the rebuilt book at clear time."""
    for order in result.expired:
        session.close(order.sequence, OrderStatus.EXPIRED)
    # fills first: an order cancelled by self-trade prevention may have traded before
    for match in result.matches:
        record_match(session, match)
    for order in result.cancelled:
        session.close(order.sequence, OrderStatus.SELF_TRADE)


def clear_book(session: Session) -> MatchResult:
    """Match the period's book at its gate closure and close every order left open.

    The one place the whole book is read: the open orders are loaded into the
    library's `OrderBook`, the period's mechanism runs on it once, then the
    standing offers if they are in force (see the module's docstring), and after
    that every order still open is closed as unfilled and the levels are deleted.
    The result returned holds the matches of both.
    """
    moment = session.gate_closure_s
    reconcile_escrow(session)
    session.expire(moment)
    sequences = sorted(s for side in SIDES for s in session.sequences(side))
    book = book_of([session.order(s) for s in sequences], session.period)
    try:
        if session.mechanism == "high_low":
            result = match_high_low(book, moment, rule=PriceRule.MIDPOINT, bounds=session.bounds)
        elif session.mechanism == "call_auction":
            result = clear_call_auction(book, moment, bounds=session.bounds)
        else:  # continuous: everything that could trade already has
            result = MatchResult((), book.expire(moment))
        if standing_offers_in_force(session.parameters):
            standing = match_against_standing_offers(book, moment, session.bounds)
            result = MatchResult(
                result.matches + standing.matches,
                result.expired + standing.expired,
                result.cancelled,
            )
    except MarketError as error:
        raise BookInconsistent(session.period, str(error)) from error
    apply_clear_result(session, result)
    for order in sorted(book, key=lambda order: order.sequence):
        session.close(order.sequence, OrderStatus.UNFILLED)
    session.drop_book()
    session.mark_cleared()
    return result


def _sequence_of(order_id: str) -> int:
    """The sequence in an order id ``"<period>-<sequence>"``."""
    return int(order_id.rsplit("-", 1)[1])


__all__ = ["apply_clear_result", "clear_book", "reconcile_escrow", "record_match"]
