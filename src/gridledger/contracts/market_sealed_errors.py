"""Refusals of sealed day-ahead orders (`market_sealed`): commitments, proofs and reveals.

A sealed order placed at or after the gate is `DayAheadGateClosed`, a reveal by
anyone but the owner `NotOrderOwner`, a second reveal `OrderNotOpen`
(`market_errors`); everything else that can go wrong with a sealed order has
its own class here, each with its own `ResultCode`.
"""

from __future__ import annotations

from gridledger.contracts.market_errors import MarketContractError
from gridledger.ledger import ResultCode

__all__ = [
    "InvalidCommitment",
    "InvalidRangeProofArgument",
    "OpeningMismatch",
    "OrderNotSealed",
    "RangeProofRangeMismatch",
    "RevealBeforeGate",
    "RevealWindowClosed",
    "RevealWindowOpen",
    "SealedOrdersNotOffered",
]


class SealedOrdersNotOffered(MarketContractError):
    """The genesis names no ``sealed_reveal_window_seconds``: sealed orders are not taken."""

    code = ResultCode.SEALED_ORDERS_NOT_OFFERED

    def __init__(self) -> None:
        super().__init__(
            "this community takes no sealed day-ahead orders (no sealed_reveal_window_seconds "
            "in its market parameters); place a plain order (market.place_day_ahead_order)"
        )


class InvalidCommitment(MarketContractError):
    """A commitment argument is not a compressed secp256k1 point."""

    code = ResultCode.INVALID_PEDERSEN_COMMITMENT

    def __init__(self, field: str, reason: str) -> None:
        self.field, self.reason = field, reason
        super().__init__(f"{field} is not a Pedersen commitment: {reason}")


class RangeProofRangeMismatch(MarketContractError):
    """A range proof proves [low, high] but the contract requires another range."""

    code = ResultCode.RANGE_PROOF_RANGE_MISMATCH

    def __init__(self, field: str, low: int, high: int, required_low: int, required_high: int):
        self.field, self.low, self.high = field, low, high
        self.required_low, self.required_high = required_low, required_high
        super().__init__(
            f"{field} proves the range [{low}, {high}], but this order needs "
            f"[{required_low}, {required_high}]"
        )


class InvalidRangeProofArgument(MarketContractError):
    """A range proof that is malformed or does not verify for its commitment."""

    code = ResultCode.INVALID_RANGE_PROOF

    def __init__(self, field: str, reason: str) -> None:
        self.field, self.reason = field, reason
        super().__init__(f"{field} does not verify: {reason}")


class OpeningMismatch(MarketContractError):
    """A reveal's value and blinding do not open the order's commitment."""

    code = ResultCode.OPENING_MISMATCH

    def __init__(self, order_id: str, field: str, value: int) -> None:
        self.order_id, self.field, self.value = order_id, field, value
        super().__init__(
            f"the revealed {field} {value} with its blinding does not open the commitment "
            f"of order {order_id}"
        )


class RevealWindowClosed(MarketContractError):
    """A reveal at or after the end of the reveal window (gate + reveal window)."""

    code = ResultCode.REVEAL_WINDOW_CLOSED

    def __init__(self, order_id: str, closed_s: int, now_s: int) -> None:
        self.order_id, self.closed_s, self.now_s = order_id, closed_s, now_s
        super().__init__(
            f"the reveal window of order {order_id} closed at {closed_s} s; now is {now_s} s "
            "(the order is dropped at the clear and its non-reveal fee charged)"
        )


class RevealBeforeGate(MarketContractError):
    """A reveal before the gate would show the bid while others can still react."""

    code = ResultCode.REVEAL_BEFORE_GATE

    def __init__(self, order_id: str, gate_s: int, now_s: int) -> None:
        self.order_id, self.gate_s, self.now_s = order_id, gate_s, now_s
        super().__init__(
            f"order {order_id} can be revealed from its gate at {gate_s} s; now is {now_s} s"
        )


class OrderNotSealed(MarketContractError):
    """A reveal of a plain day-ahead order."""

    code = ResultCode.ORDER_NOT_SEALED

    def __init__(self, order_id: str) -> None:
        self.order_id = order_id
        super().__init__(f"order {order_id} is a plain order: there is nothing to reveal")


class RevealWindowOpen(MarketContractError):
    """The clear of a day with sealed orders waits for the end of the reveal window."""

    code = ResultCode.REVEAL_WINDOW_OPEN

    def __init__(self, day: int, closes_s: int, now_s: int) -> None:
        self.day, self.closes_s, self.now_s = day, closes_s, now_s
        super().__init__(
            f"the reveal window of day {day} closes at {closes_s} s; the day-ahead auction "
            f"clears then; now is {now_s} s"
        )
