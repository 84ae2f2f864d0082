"""The corrections contract: no rewriting, corrections by consent (seed 004 §2.3).

Seed 004's weak central management: the regulator "does not have the right to ...
modify the information. Relevant modifications are subject to the consent of the
nodes involved in energy trading." So nothing on the chain is ever rewritten:

- ``correct`` records a correction of a settled trade between two members *beside*
  the trade, which stays as it was, with its statements. The correction must be
  signed by the buyer, the seller and an active regulator (one multi-signed
  transaction, `gridledger.ledger.multisig`: any of them builds it, the others
  co-sign, ``gridledger tx build|cosign|submit``). It moves money between the two
  parties (``refund_micro``: positive, the seller pays the buyer back; negative, the
  buyer pays the seller more), so no currency appears or vanishes, and records the
  energy the parties agree was really delivered (``energy_wh``; the trade's own when
  only the money changes). The trade's statements and the settlement record are not
  touched; views show them with their corrections.
- Double corrections are allowed, and chained: a trade's corrections are numbered
  0, 1, ... and each names the number it takes (``sequence``), so a correction
  prepared against an older chain is refused (CORRECTION_OUT_OF_ORDER) rather than
  applied twice. The refunds of a chain add up, and their sum stays within the trade's
  value either way (AMOUNT_OUT_OF_RANGE): a correction can return at most what was
  paid, or ask at most as much again. At most `MAX_CORRECTIONS` per trade.
- ``flag`` is the regulator's audit: it marks a trade or a transaction for audit with a
  reason, changes nothing else, and cannot be undone (a later flag may say the audit
  is closed). A transaction's existence is not checked: a contract does not read
  blocks, only state (the explorer shows the flag on the transaction if it exists).

Only settled trades are corrected: before settlement a trade is not final (its
period's settlement may still charge the shortfall), and the market's own rules
(cancel, amend) apply. Trades with a standing offer (kinds ``regulator``, ``grid``)
are not: their other side is the grid account, which has no signature of its own
to consent with.

State (namespace ``corrections``):

- ``trade/<trade id>`` → list of `Correction`, in sequence order
- ``period/<period>`` → sorted list of the trade ids of that period with corrections
- ``flag/<kind>/<subject>`` → list of `Flag`
- ``flagged`` → list of ``<kind>/<subject>``, in the order first flagged
"""

from __future__ import annotations

from typing import Literal

import msgspec

from gridledger.contracts.corrections_errors import (
    ConsentMissing,
    CorrectionLimitReached,
    CorrectionOutOfOrder,
    FlagLimitReached,
    TradeNotCorrectable,
    TradeNotSettled,
    UnknownTrade,
)
from gridledger.contracts.errors import (
    AmountOutOfRange,
    EnergyOutOfRange,
    NotHex,
    TextLengthOutOfRange,
)
from gridledger.contracts.market_state import MEMBER_KINDS, Trade, trade_key
from gridledger.contracts.market_state import NAMESPACE as MARKET
from gridledger.contracts.membership import require_role, standing
from gridledger.contracts.registry import Contract
from gridledger.contracts.settlement import read_settlement
from gridledger.contracts.tokens import move
from gridledger.ledger import Context, StateReader, decode
from gridledger.ledger.encoding import MAX_INTEGER

NAMESPACE = "corrections"
contract = Contract(NAMESPACE)

MAX_CORRECTIONS = 8
"""Corrections one trade may have."""
MAX_FLAGS = 8
"""Audit flags one trade or transaction may have."""
MAX_REASON = 512
"""Longest reason, in characters."""


class Correction(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """One correction of a settled trade, recorded beside it (money in micro-units)."""

    trade_id: str
    sequence: int
    """0 for the trade's first correction, 1 for the next, ..."""
    period: int
    buyer: str
    seller: str
    refund_micro: int
    """Paid by the seller to the buyer (negative: by the buyer to the seller)."""
    energy_wh: int
    """The energy the parties agree was delivered (the trade's own if unchanged)."""
    original_energy_wh: int
    original_value_micro: int
    reason: str
    signers: list[str]
    """Everyone who signed the correction, sorted: buyer, seller and regulator at least."""
    height: int
    timestamp_ms: int
    transaction_id: str


class Flag(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """The regulator's audit flag on a trade or a transaction: it changes nothing."""

    kind: str
    subject: str
    reason: str
    flagged_by: str
    height: int
    timestamp_ms: int
    transaction_id: str


def corrections_key(trade_id: str) -> str:
    return f"trade/{trade_id}"


def period_key(period: int) -> str:
    return f"period/{period:012d}"


def flag_key(kind: str, subject: str) -> str:
    return f"flag/{kind}/{subject}"


def read_trade(state: StateReader, trade_id: str) -> Trade | None:
    """The trade with id ``<period>-t<index>``, or None if there is none (or the id is not one)."""
    period_text, separator, index_text = trade_id.partition("-t")
    if not separator or not period_text.isdigit() or not index_text.isdigit():
        return None
    if len(period_text) > 12 or len(index_text) > 6:
        return None
    raw = state.get(MARKET, trade_key(int(period_text), int(index_text)))
    return None if raw is None else decode(raw, Trade)


def corrections_of(state: StateReader, trade_id: str) -> list[Correction]:
    raw = state.get(NAMESPACE, corrections_key(trade_id))
    return [] if raw is None else decode(raw, list[Correction])


def corrected_trades(state: StateReader, period: int) -> list[str]:
    raw = state.get(NAMESPACE, period_key(period))
    return [] if raw is None else decode(raw, list[str])


def corrections_for_period(state: StateReader, period: int) -> list[Correction]:
    """Every correction of the period's trades, by trade id then sequence."""
    return [
        c for trade_id in corrected_trades(state, period) for c in corrections_of(state, trade_id)
    ]


def flags_of(state: StateReader, kind: str, subject: str) -> list[Flag]:
    raw = state.get(NAMESPACE, flag_key(kind, subject))
    return [] if raw is None else decode(raw, list[Flag])


def flagged(state: StateReader) -> list[str]:
    """``<kind>/<subject>`` of everything flagged, in the order first flagged."""
    raw = state.get(NAMESPACE, "flagged")
    return [] if raw is None else decode(raw, list[str])


def all_flags(state: StateReader) -> list[Flag]:
    found: list[Flag] = []
    for entry in flagged(state):
        kind, _, subject = entry.partition("/")
        found.extend(flags_of(state, kind, subject))
    return found


def _check_reason(reason: str) -> None:
    if not 1 <= len(reason) <= MAX_REASON:
        raise TextLengthOutOfRange("reason", len(reason), 1, MAX_REASON)


def missing_consent(context: Context, trade: Trade) -> list[str]:
    """Who of buyer, seller and a regulator did not sign (empty: all consented)."""
    signers = set(context.signers) | {context.sender}
    missing = [
        f"{role} {address}"
        for role, address in (("buyer", trade.buyer), ("seller", trade.seller))
        if address not in signers
    ]
    if not any(standing(context.overlay, a) == ("active", "regulator") for a in signers):
        missing.append("an active regulator")
    return missing


class CorrectArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    trade_id: str
    sequence: int
    """The number this correction takes in the trade's chain (0 for the first)."""
    refund_micro: int
    energy_wh: int
    reason: str


@contract.method(CorrectArgs)
def correct(context: Context, args: CorrectArgs) -> None:
    """Record a correction of a settled trade beside it, signed by buyer, seller and regulator."""
    state = context.overlay
    trade = read_trade(state, args.trade_id)
    if trade is None:
        raise UnknownTrade(args.trade_id)
    if trade.kind not in MEMBER_KINDS:
        raise TradeNotCorrectable(trade.trade_id, trade.kind)
    if read_settlement(state, trade.period) is None:
        raise TradeNotSettled(trade.trade_id, trade.period)
    missing = missing_consent(context, trade)
    if missing:
        raise ConsentMissing(trade.trade_id, ", ".join(missing))
    _check_reason(args.reason)
    chain = corrections_of(state, trade.trade_id)
    if len(chain) >= MAX_CORRECTIONS:
        raise CorrectionLimitReached(trade.trade_id, MAX_CORRECTIONS)
    if args.sequence != len(chain):
        raise CorrectionOutOfOrder(trade.trade_id, len(chain), args.sequence)
    if not 0 <= args.energy_wh <= MAX_INTEGER:
        raise EnergyOutOfRange("energy_wh", args.energy_wh, 0, MAX_INTEGER)
    refunded = sum(c.refund_micro for c in chain)
    low, high = -trade.value_micro - refunded, trade.value_micro - refunded
    if not low <= args.refund_micro <= high:
        raise AmountOutOfRange(args.refund_micro, low, high)
    reason = f"correction {trade.trade_id}#{args.sequence}"
    if args.refund_micro > 0:
        move(context, trade.seller, trade.buyer, args.refund_micro, reason)
    elif args.refund_micro < 0:
        move(context, trade.buyer, trade.seller, -args.refund_micro, reason)
    correction = Correction(
        trade_id=trade.trade_id,
        sequence=args.sequence,
        period=trade.period,
        buyer=trade.buyer,
        seller=trade.seller,
        refund_micro=args.refund_micro,
        energy_wh=args.energy_wh,
        original_energy_wh=trade.energy_wh,
        original_value_micro=trade.value_micro,
        reason=args.reason,
        signers=sorted(set(context.signers) | {context.sender}),
        height=context.height,
        timestamp_ms=context.timestamp_ms,
        transaction_id=context.transaction_id.hex(),
    )
    context.write(NAMESPACE, corrections_key(trade.trade_id), [*chain, correction])
    trades = corrected_trades(state, trade.period)
    if trade.trade_id not in trades:
        context.write(NAMESPACE, period_key(trade.period), sorted([*trades, trade.trade_id]))
    context.emit(
        NAMESPACE,
        "corrected",
        trade_id=trade.trade_id,
        sequence=args.sequence,
        refund_micro=args.refund_micro,
        energy_wh=args.energy_wh,
    )


class FlagArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    kind: Literal["trade", "transaction"]
    subject: str
    """A trade id, or a transaction id (64 hex digits)."""
    reason: str


@contract.method(FlagArgs)
def flag(context: Context, args: FlagArgs) -> None:
    """The regulator flags a trade or a transaction for audit, with a reason; nothing changes."""
    require_role(context, ("regulator",), "flag for audit")
    if args.kind == "trade":
        if read_trade(context.overlay, args.subject) is None:
            raise UnknownTrade(args.subject)
    elif len(args.subject) != 64 or any(c not in "0123456789abcdef" for c in args.subject):
        raise NotHex("subject (a transaction id: 64 lower-case hex digits)")
    _check_reason(args.reason)
    existing = flags_of(context.overlay, args.kind, args.subject)
    if len(existing) >= MAX_FLAGS:
        raise FlagLimitReached(args.kind, args.subject, MAX_FLAGS)
    entry = Flag(
        kind=args.kind,
        subject=args.subject,
        reason=args.reason,
        flagged_by=context.sender,
        height=context.height,
        timestamp_ms=context.timestamp_ms,
        transaction_id=context.transaction_id.hex(),
    )
    context.write(NAMESPACE, flag_key(args.kind, args.subject), [*existing, entry])
    if not existing:
        index = flagged(context.overlay)
        context.write(NAMESPACE, "flagged", [*index, f"{args.kind}/{args.subject}"])
    context.emit(NAMESPACE, "flagged", kind=args.kind, subject=args.subject, reason=args.reason)
