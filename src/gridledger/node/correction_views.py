"""The corrections reads: a trade with its corrections and flags, a period's corrections,
every audit flag (`gridledger.contracts.corrections`), as reply Structs
(`gridledger.client.correction_replies`). The original trade is always served as it was
recorded, its corrections beside it (seed 004 §2.3: nothing is rewritten)."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from gridledger.client.correction_replies import CorrectionReply, CorrectionsReply, FlagsReply
from gridledger.client.market_replies import TradeCorrectionsReply, TradeReply
from gridledger.client.replies import FlagReply
from gridledger.contracts.corrections import (
    all_flags,
    corrections_for_period,
    corrections_of,
    flags_of,
    read_trade,
)
from gridledger.contracts.settlement import read_settlement
from gridledger.ledger.encoding import MAX_INTEGER
from gridledger.node.core import Node
from gridledger.node.errors import InvalidQuery, NotFound

R = TypeVar("R")

MAX_TRADE_ID = 24
"""Longest trade id (``<period>-t<index>``: 12 + 2 + 6 digits, with room)."""


def mirror(record: msgspec.Struct, reply_type: type[R], **extra: Any) -> R:
    """The reply mirroring a contract record (same field names)."""
    return reply_type(**msgspec.structs.asdict(record), **extra)


def trade_corrections_view(node: Node, trade_id: str) -> TradeCorrectionsReply:
    """A trade as recorded, its corrections in sequence order (with the refunds' sum) and the
    regulator's audit flags on it; 404 if there is no such trade."""
    if not 1 <= len(trade_id) <= MAX_TRADE_ID:
        raise InvalidQuery("trade_id", trade_id, f"must be 1 to {MAX_TRADE_ID} characters")
    state = node.state
    trade = read_trade(state, trade_id)
    if trade is None:
        raise NotFound("trade", trade_id)
    chain = [mirror(c, CorrectionReply) for c in corrections_of(state, trade_id)]
    return TradeCorrectionsReply(
        trade=mirror(trade, TradeReply),
        settled=read_settlement(state, trade.period) is not None,
        corrections=chain,
        net_refund_micro=sum(c.refund_micro for c in chain),
        flags=[mirror(f, FlagReply) for f in flags_of(state, "trade", trade_id)],
    )


def period_corrections_view(node: Node, period: int) -> CorrectionsReply:
    """Every correction of the period's trades, by trade then sequence (empty if none)."""
    if not 0 <= period <= MAX_INTEGER:
        raise InvalidQuery("period", period, f"must be in [0, {MAX_INTEGER}]")
    found = corrections_for_period(node.state, period)
    return CorrectionsReply(period=period, corrections=[mirror(c, CorrectionReply) for c in found])


def flags_view(node: Node) -> FlagsReply:
    """Every audit flag the regulator has raised, in the order the subjects were first flagged."""
    return FlagsReply(flags=[mirror(f, FlagReply) for f in all_flags(node.state)])


def transaction_flags(node: Node, transaction_id: str) -> list[FlagReply]:
    """The audit flags on one transaction (the explorer shows them with it)."""
    return [mirror(f, FlagReply) for f in flags_of(node.state, "transaction", transaction_id)]
