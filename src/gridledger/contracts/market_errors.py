"""The market contract's refusals: orders, the gate, clearing and bilateral offers.

Range checks of energy and price are the shared `EnergyOutOfRange` and
`PriceOutOfRange`; who may sell or buy is `NotAuthorised`; a buyer short of
escrow is `InsufficientFunds`.
"""

from __future__ import annotations

from gridledger.contracts.errors import ContractError
from gridledger.ledger import ResultCode


class MarketContractError(ContractError):
    """Base of the market contract's refusals (`gridledger.market.MarketError` is the library's)."""


class InvalidSide(MarketContractError):
    code = ResultCode.INVALID_SIDE

    def __init__(self, side: str) -> None:
        self.side = side
        super().__init__(f"side {side!r} must be 'buy' or 'sell'")


class ExpiryNotInFuture(MarketContractError):
    """An order or offer would expire at or before the block time."""

    code = ResultCode.EXPIRY_NOT_IN_FUTURE

    def __init__(self, expiry_s: int, now_s: int) -> None:
        self.expiry_s, self.now_s = expiry_s, now_s
        super().__init__(f"expiry_s {expiry_s} is not after now ({now_s} s)")


class PeriodClosed(MarketContractError):
    """Orders, cancellations, offers and agreements of a period close at its gate closure."""

    code = ResultCode.PERIOD_CLOSED

    def __init__(
        self, action: str, period: int, gate_closure_s: int, period_start_s: int, now_s: int
    ) -> None:
        self.action, self.period = action, period
        self.gate_closure_s, self.period_start_s, self.now_s = gate_closure_s, period_start_s, now_s
        super().__init__(
            f"{action} for period {period} closed at {gate_closure_s} s (gate closure, "
            f"{period_start_s - gate_closure_s} s before the period starts at "
            f"{period_start_s} s); now is {now_s} s"
        )


class BeyondHorizon(MarketContractError):
    """A period starts too far ahead to trade yet."""

    code = ResultCode.BEYOND_HORIZON

    def __init__(self, period: int, period_start_s: int, horizon_s: int, now_s: int) -> None:
        self.period, self.period_start_s = period, period_start_s
        self.horizon_s, self.now_s = horizon_s, now_s
        super().__init__(
            f"period {period} starts at {period_start_s} s, more than {horizon_s} s "
            f"after now ({now_s} s)"
        )


class UnknownOrder(MarketContractError):
    code = ResultCode.UNKNOWN_ORDER

    def __init__(self, order_id: str) -> None:
        self.order_id = order_id
        super().__init__(f"no order {order_id!r}")


class NotOrderOwner(MarketContractError):
    """Only an order's owner may cancel it."""

    code = ResultCode.NOT_ORDER_OWNER

    def __init__(self, order_id: str, owner: str, sender: str) -> None:
        self.order_id, self.owner, self.sender = order_id, owner, sender
        super().__init__(f"order {order_id} belongs to {owner}, not to {sender}")


class OrderNotOpen(MarketContractError):
    code = ResultCode.ORDER_NOT_OPEN

    def __init__(self, order_id: str, order_status: str) -> None:
        self.order_id, self.order_status = order_id, order_status
        super().__init__(f"order {order_id} is {order_status}, not open")


class GateNotClosed(MarketContractError):
    """A period is cleared at or after its gate closure, not before."""

    code = ResultCode.GATE_NOT_CLOSED

    def __init__(self, period: int, gate_closure_s: int, now_s: int) -> None:
        self.period, self.gate_closure_s, self.now_s = period, gate_closure_s, now_s
        super().__init__(
            f"period {period} cannot be cleared before its gate closure at "
            f"{gate_closure_s} s (now {now_s} s)"
        )


class PeriodAlreadyCleared(MarketContractError):
    code = ResultCode.PERIOD_ALREADY_CLEARED

    def __init__(self, period: int, cleared_height: int) -> None:
        self.period, self.cleared_height = period, cleared_height
        super().__init__(f"period {period} was already cleared at height {cleared_height}")


class PeriodAlreadySettled(MarketContractError):
    """A period is settled once (market and settlement contracts alike)."""

    code = ResultCode.PERIOD_ALREADY_SETTLED

    def __init__(self, period: int) -> None:
        self.period = period
        super().__init__(f"period {period} is already settled")


class UnknownOffer(MarketContractError):
    code = ResultCode.UNKNOWN_OFFER

    def __init__(self, offer_id: str) -> None:
        self.offer_id = offer_id
        super().__init__(f"no offer {offer_id!r}")


class NotOfferOwner(MarketContractError):
    """Only an offer's seller may withdraw it."""

    code = ResultCode.NOT_OFFER_OWNER

    def __init__(self, offer_id: str, seller: str, sender: str) -> None:
        self.offer_id, self.seller, self.sender = offer_id, seller, sender
        super().__init__(f"offer {offer_id} belongs to {seller}, not to {sender}")


class OfferNotOpen(MarketContractError):
    """The offer was withdrawn, taken, or has expired (``offer_status`` ``expired``)."""

    code = ResultCode.OFFER_NOT_OPEN

    def __init__(self, offer_id: str, offer_status: str, expiry_s: int) -> None:
        self.offer_id, self.offer_status, self.expiry_s = offer_id, offer_status, expiry_s
        super().__init__(f"offer {offer_id} is {offer_status} (expiry {expiry_s} s)")


class OwnOffer(MarketContractError):
    code = ResultCode.OWN_OFFER

    def __init__(self, offer_id: str, seller: str) -> None:
        self.offer_id, self.seller = offer_id, seller
        super().__init__(f"seller {seller} cannot agree with its own offer {offer_id}")


class AgreementExists(MarketContractError):
    """An agreement id is used once per offer."""

    code = ResultCode.AGREEMENT_EXISTS

    def __init__(self, offer_id: str, agreement_id: str) -> None:
        self.offer_id, self.agreement_id = offer_id, agreement_id
        super().__init__(f"agreement {agreement_id} on offer {offer_id} is already used")


class InvalidAgreementSignature(MarketContractError):
    """The seller's signature over the agreement does not verify."""

    code = ResultCode.INVALID_AGREEMENT_SIGNATURE

    def __init__(self, offer_id: str, seller: str) -> None:
        self.offer_id, self.seller = offer_id, seller
        super().__init__(f"the seller's signature on offer {offer_id} does not verify for {seller}")


class EscrowOverdrawn(MarketContractError):
    """A release would take more out of escrow than an order put in (a broken invariant)."""

    code = ResultCode.ESCROW_OVERDRAWN

    def __init__(self, overdrawn_micro: int, reason: str) -> None:
        self.overdrawn_micro, self.reason = overdrawn_micro, reason
        super().__init__(f"escrow would be overdrawn by {overdrawn_micro} micro-units ({reason})")


class BookInconsistent(MarketContractError):
    """The stored book contradicts itself or the library refused it (a broken invariant)."""

    code = ResultCode.BOOK_INCONSISTENT

    def __init__(self, period: int, problem: str) -> None:
        self.period, self.problem = period, problem
        super().__init__(f"the book of period {period} is inconsistent: {problem}")


__all__ = [
    "AgreementExists",
    "AllOrNoneNotSupported",
    "BeyondHorizon",
    "BookInconsistent",
    "DayAheadAlreadyCleared",
    "DayAheadGateClosed",
    "DayAheadGateNotReached",
    "DayAheadNotOffered",
    "EscrowOverdrawn",
    "ExpiryNotInFuture",
    "GateNotClosed",
    "InvalidAgreementSignature",
    "InvalidSide",
    "MarketContractError",
    "NotOfferOwner",
    "NotOrderOwner",
    "OfferNotOpen",
    "OrderNotOpen",
    "OwnOffer",
    "PeriodAlreadyCleared",
    "PeriodAlreadySettled",
    "PeriodClosed",
    "UnknownOffer",
    "UnknownOrder",
]


# -- seed 001's windows (`market_parameters.bilateral_window`), seed 003's amend window -------


class NegotiationNotOpen(MarketContractError):
    """An offer for a period published before its negotiation window opens."""

    code = ResultCode.NEGOTIATION_NOT_OPEN

    def __init__(self, period: int, opens_s: int, now_s: int) -> None:
        self.period, self.opens_s, self.now_s = period, opens_s, now_s
        super().__init__(
            f"offers for period {period} open with its negotiation window at {opens_s} s; "
            f"now is {now_s} s"
        )


class NegotiationClosed(MarketContractError):
    """An offer published once the commit window opened: nobody could negotiate it."""

    code = ResultCode.NEGOTIATION_CLOSED

    def __init__(self, period: int, commit_opens_s: int, now_s: int) -> None:
        self.period, self.commit_opens_s, self.now_s = period, commit_opens_s, now_s
        super().__init__(
            f"negotiation for period {period} closed at {commit_opens_s} s, when its commit "
            f"window opened; now is {now_s} s"
        )


class CommitWindowNotOpen(MarketContractError):
    """An agreement signed while the parties may still negotiate (seed 001: only in the
    last minutes before gate closure)."""

    code = ResultCode.COMMIT_WINDOW_NOT_OPEN

    def __init__(self, period: int, commit_opens_s: int, now_s: int) -> None:
        self.period, self.commit_opens_s, self.now_s = period, commit_opens_s, now_s
        super().__init__(
            f"agreements for period {period} are signed from {commit_opens_s} s, when its "
            f"commit window opens; now is {now_s} s"
        )


class CommitWindowClosed(MarketContractError):
    """An agreement signed at or after the period's gate closure."""

    code = ResultCode.COMMIT_WINDOW_CLOSED

    def __init__(self, period: int, closes_s: int, now_s: int) -> None:
        self.period, self.closes_s, self.now_s = period, closes_s, now_s
        super().__init__(
            f"the commit window of period {period} closed at {closes_s} s (gate closure); "
            f"now is {now_s} s"
        )


class AmendWindowClosed(MarketContractError):
    """An order amended or withdrawn more than ``amend_seconds`` after it was placed."""

    code = ResultCode.AMEND_WINDOW_CLOSED

    def __init__(self, order_id: str, placed_s: int, amend_seconds: int, now_s: int) -> None:
        self.order_id, self.placed_s = order_id, placed_s
        self.amend_seconds, self.now_s = amend_seconds, now_s
        super().__init__(
            f"order {order_id} placed at {placed_s} s could be amended or withdrawn for "
            f"{amend_seconds} s, until {placed_s + amend_seconds} s; now is {now_s} s"
        )


class NothingToAmend(MarketContractError):
    """An amendment that changes neither the energy nor the price."""

    code = ResultCode.NOTHING_TO_AMEND

    def __init__(self, order_id: str, energy_wh: int, price_micro_per_kwh: int) -> None:
        self.order_id, self.energy_wh = order_id, energy_wh
        self.price_micro_per_kwh = price_micro_per_kwh
        super().__init__(
            f"amendment of order {order_id} changes nothing: {energy_wh} Wh at "
            f"{price_micro_per_kwh} micro/kWh"
        )


class DayAheadNotOffered(MarketContractError):
    """The community runs no day-ahead auction (``day_ahead_gate_seconds`` not in its genesis)."""

    code = ResultCode.DAY_AHEAD_NOT_OFFERED

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(
            f"this community runs no day-ahead auction ({what}); trade in the period's own "
            "market (market.place_order)"
        )


class DayAheadGateClosed(MarketContractError):
    """A day-ahead order or cancellation at or after the gate of its delivery day."""

    code = ResultCode.DAY_AHEAD_GATE_CLOSED

    def __init__(self, day: int, gate_s: int, now_s: int) -> None:
        self.day, self.gate_s, self.now_s = day, gate_s, now_s
        super().__init__(
            f"the day-ahead gate of day {day} closed at {gate_s} s; now is {now_s} s "
            "(trade the period in its intraday market until its own gate closure)"
        )


class DayAheadGateNotReached(MarketContractError):
    """The day-ahead auction of a day is cleared only at or after its gate."""

    code = ResultCode.DAY_AHEAD_GATE_NOT_REACHED

    def __init__(self, day: int, gate_s: int, now_s: int) -> None:
        self.day, self.gate_s, self.now_s = day, gate_s, now_s
        super().__init__(
            f"the day-ahead auction of day {day} clears at its gate, {gate_s} s; now is {now_s} s"
        )


class DayAheadAlreadyCleared(MarketContractError):
    code = ResultCode.DAY_AHEAD_ALREADY_CLEARED

    def __init__(self, day: int, height: int) -> None:
        self.day, self.height = day, height
        super().__init__(f"the day-ahead auction of day {day} was cleared at height {height}")


class AllOrNoneNotSupported(MarketContractError):
    """All-or-none is offered by the day-ahead auction only (`market_day_ahead`)."""

    code = ResultCode.ALL_OR_NONE_NOT_SUPPORTED

    def __init__(self, mechanism: str) -> None:
        self.mechanism = mechanism
        super().__init__(
            f"an all-or-none order is accepted only by the day-ahead auction "
            f"(market.place_day_ahead_order), not by the {mechanism} market of a period"
        )
