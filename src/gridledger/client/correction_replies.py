"""Replies of the corrections reads: corrections of settled trades, recorded beside them, and
the regulator's audit flags (see `replies` for the rules). Mirrors of
`gridledger.contracts.corrections` records keep its field names. A trade with its
corrections is `market_replies.TradeCorrectionsReply`; statements carry theirs."""

from __future__ import annotations

from gridledger.client.replies import FlagReply, Reply


class CorrectionReply(Reply):
    """A correction of a settled trade; ``refund_micro`` is paid by the seller to the buyer
    (negative: by the buyer to the seller); the trade itself is unchanged."""

    trade_id: str
    sequence: int
    period: int
    buyer: str
    seller: str
    refund_micro: int
    energy_wh: int
    original_energy_wh: int
    original_value_micro: int
    reason: str
    signers: list[str]
    height: int
    timestamp_ms: int
    transaction_id: str


class CorrectionsReply(Reply):
    """Every correction of a period's trades."""

    period: int
    corrections: list[CorrectionReply]


class FlagsReply(Reply):
    flags: list[FlagReply]


__all__ = [
    "CorrectionReply",
    "CorrectionsReply",
    "FlagsReply",
]
