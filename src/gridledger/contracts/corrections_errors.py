"""The corrections contract's refusals: one class per rule, each with its own result code."""

from __future__ import annotations

from gridledger.contracts.errors import ContractError
from gridledger.ledger import ResultCode


class CorrectionsError(ContractError):
    """Base of the corrections contract's refusals."""


class UnknownTrade(CorrectionsError):
    """No trade has this id (``<period>-t<index>``)."""

    code = ResultCode.UNKNOWN_TRADE

    def __init__(self, trade_id: str) -> None:
        self.trade_id = trade_id
        super().__init__(f"there is no trade {trade_id!r}")


class TradeNotSettled(CorrectionsError):
    """A trade's period is not settled yet: it is not final, so there is nothing to correct."""

    code = ResultCode.TRADE_NOT_SETTLED

    def __init__(self, trade_id: str, period: int) -> None:
        self.trade_id, self.period = trade_id, period
        super().__init__(
            f"trade {trade_id} is in period {period}, which is not settled; "
            "only a settled trade is corrected"
        )


class TradeNotCorrectable(CorrectionsError):
    """A trade with a standing offer on one side: its counterparty is the grid, not a member."""

    code = ResultCode.TRADE_NOT_CORRECTABLE

    def __init__(self, trade_id: str, kind: str) -> None:
        self.trade_id, self.kind = trade_id, kind
        super().__init__(
            f"trade {trade_id} is of kind {kind!r}; only trades between two members "
            "(order, bilateral) are corrected by their parties' consent"
        )


class ConsentMissing(CorrectionsError):
    """A correction not signed by the buyer, the seller and an active regulator."""

    code = ResultCode.CONSENT_MISSING

    def __init__(self, trade_id: str, missing: str) -> None:
        self.trade_id, self.missing = trade_id, missing
        super().__init__(
            f"a correction of trade {trade_id} needs the signatures of both parties and the "
            f"regulator; missing: {missing}"
        )


class CorrectionOutOfOrder(CorrectionsError):
    """A correction names a sequence other than the trade's next (it was prepared against a
    chain of corrections that has moved on)."""

    code = ResultCode.CORRECTION_OUT_OF_ORDER

    def __init__(self, trade_id: str, expected: int, got: int) -> None:
        self.trade_id, self.expected, self.got = trade_id, expected, got
        super().__init__(
            f"correction {got} of trade {trade_id}: the trade's next correction is {expected}"
        )


class CorrectionLimitReached(CorrectionsError):
    """A trade has been corrected the most times one trade may be."""

    code = ResultCode.CORRECTION_LIMIT_REACHED

    def __init__(self, trade_id: str, limit: int) -> None:
        self.trade_id, self.limit = trade_id, limit
        super().__init__(f"trade {trade_id} has {limit} corrections, the most one trade may have")


class FlagLimitReached(CorrectionsError):
    """One subject has been flagged the most times one subject may be."""

    code = ResultCode.FLAG_LIMIT_REACHED

    def __init__(self, kind: str, subject: str, limit: int) -> None:
        self.kind, self.subject, self.limit = kind, subject, limit
        super().__init__(f"{kind} {subject} has {limit} audit flags, the most one may have")
