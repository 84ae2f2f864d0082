"""Who may read what: the one read policy of the API and the block stream.

Pure functions over (caller, resource). A `Caller` is anonymous, a household member
(consumer, producer, prosumer, storage), an outsider (a key that is not a member: an
applicant, who may read its own account and application only), or an auditor (the
operator, the regulator, a consortium peer, or anyone under ``--public-reads``).

- anonymous: liveness and the chain head (height, block hash);
- outsider: its own account, nonce, transactions and member record;
- household: everything about itself; the market's public aggregates; block headers and
  Merkle proofs; others' trades without identities; the roster without balances or
  registration data;
- auditor: everything; each read of a household's data goes to its access log.

docs/security.md has the table per route.

`check_*` functions raise `Forbidden` (403 ``forbidden``, naming what) or `NotAMember`
(403 ``not_a_member``); `redact_*` functions return what a household may see of a reply.
The in-process client reads without a caller: it is the node's owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import msgspec

from gridledger.client.dashboard_replies import OverviewReply
from gridledger.client.market_replies import (
    DayAheadReply,
    OfferReply,
    OffersReply,
    OrderReply,
    OrdersReply,
    StatementsReply,
    TradeReply,
    TradesReply,
)
from gridledger.client.replies import (
    BlockReply,
    BlockTransactionReply,
    MemberReply,
    MembersReply,
)
from gridledger.contracts.membership import member_of_meter, standing
from gridledger.crypto import address_of, is_address
from gridledger.ledger import StateReader
from gridledger.node.errors import NodeError

HOUSEHOLD_ROLES = frozenset({"consumer", "producer", "prosumer", "storage"})
AUDITOR_ROLES = frozenset({"operator", "regulator"})
ANONYMOUS = "anonymous"
OUTSIDER = "outsider"
PEER = "peer"
PUBLIC = "public"
"""The role of an anonymous caller served as an auditor under ``--public-reads``."""
WITHHELD = ""
"""What a withheld identity (an owner, a counterparty) reads as."""


class Forbidden(NodeError):
    """The caller may not read `what` (403)."""

    status: ClassVar[int] = 403
    error: ClassVar[str] = "forbidden"

    def __init__(self, what: str, reason: str) -> None:
        self.what = what
        super().__init__(f"forbidden: {what}: {reason}")

    @property
    def values(self) -> dict[str, Any]:
        return {"what": self.what}


class NotAMember(NodeError):
    """A signer that is neither a member nor a consortium peer (403)."""

    status: ClassVar[int] = 403
    error: ClassVar[str] = "not_a_member"

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__(
            f"{address} is not a member of this community (nor a consortium peer); "
            "it may read its own account and application only"
        )

    @property
    def values(self) -> dict[str, Any]:
        return {"address": self.address}


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks: an `address` (None when anonymous) and a `role`."""

    address: str | None
    role: str
    public_key: bytes | None = None
    signer: str | None = None
    """The address of the signing key when it is not `address` (a household's meter)."""

    @property
    def is_auditor(self) -> bool:
        return self.role in AUDITOR_ROLES or self.role in (PEER, PUBLIC)

    @property
    def is_member(self) -> bool:
        """A household or an auditor: may read the community's public aggregates."""
        return self.is_auditor or self.role in HOUSEHOLD_ROLES

    def is_self(self, address: str) -> bool:
        return address in (self.address, self.signer) and bool(address)


NOBODY = Caller(None, ANONYMOUS)
AUDITOR = Caller(None, PUBLIC)


def caller_of_key(state: StateReader, public_key: bytes, peer_keys: frozenset[bytes]) -> Caller:
    """The caller holding `public_key`: a consortium peer, or the active member of its
    address, or the active household whose meter it is, or an outsider (an applicant, a
    member who left or was revoked, anyone else: it reads its own data only)."""
    address = address_of(public_key)
    if public_key in peer_keys:
        return Caller(address, PEER, public_key)
    found = standing(state, address)
    if found is None:
        household = member_of_meter(state, public_key.hex())
        if household is not None:  # a household's meter reads as its household
            status, role = standing(state, household) or ("", "")
            if status == "active" and role in HOUSEHOLD_ROLES:
                return Caller(household, role, public_key, address)
        return Caller(address, OUTSIDER, public_key)
    status, role = found
    if status != "active":  # an applicant, or a member who left: its own data only
        return Caller(address, OUTSIDER, public_key)
    return Caller(address, role, public_key)


# -- checks -----------------------------------------------------------------------------------


def check_member(caller: Caller) -> None:
    """The caller may read the community's shared data (aggregates, headers, roster)."""
    if not caller.is_member:
        raise NotAMember(caller.address or "?")


def check_own(caller: Caller, address: str, what: str) -> None:
    """`what` belongs to `address`: readable by that address itself (an outsider too: an
    applicant reads its nonce) and by auditors."""
    if caller.is_auditor or caller.is_self(address):
        return
    if not caller.is_member:
        raise NotAMember(caller.address or "?")
    raise Forbidden(what, "it is another member's; a household reads only its own")


def parties(transaction: dict[str, Any]) -> list[str]:
    """Whom a decoded transaction concerns: its sender, its co-signers and every address among
    its arguments (a payment's payee, a meter reading's member), in that order, without
    repeats."""
    found = [str(transaction.get("sender", ""))]
    for signer in transaction.get("signers", []):  # a multi-signed transaction's co-signers
        if isinstance(signer, str) and signer not in found:
            found.append(signer)
    args = transaction.get("args")
    if isinstance(args, dict):
        for value in args.values():
            if isinstance(value, str) and is_address(value) and value not in found:
                found.append(value)
    return found


def check_transaction(caller: Caller, transaction: dict[str, Any], what: str) -> list[str]:
    """A transaction is readable by its parties (`parties`) and auditors; its parties."""
    involved = parties(transaction)
    if not any(caller.is_self(party) for party in involved):
        check_own(caller, involved[0], what)
    return involved


# -- redactions -------------------------------------------------------------------------------


def redact_member(caller: Caller, member: MemberReply) -> MemberReply:
    """Another member as a household sees it: address, key, name, role and status (to pay
    it), without registration data or meter keys."""
    if caller.is_auditor or caller.is_self(member.address):
        return member
    return msgspec.structs.replace(member, registration={}, meter_keys=[])


def redact_members(caller: Caller, members: MembersReply) -> MembersReply:
    if caller.is_auditor:
        return members
    return MembersReply(members=[redact_member(caller, m) for m in members.members])


def redact_trade(caller: Caller, trade: TradeReply) -> TradeReply:
    """A trade without the identities of parties other than the caller's own trades (nor
    the order ids, times and sequences that would lead to them)."""
    if caller.is_auditor or caller.is_self(trade.buyer) or caller.is_self(trade.seller):
        return trade
    return msgspec.structs.replace(
        trade,
        buyer=WITHHELD,
        seller=WITHHELD,
        buy_order_id=WITHHELD,
        sell_order_id=WITHHELD,
        buy_order_time_s=None,
        sell_order_time_s=None,
        buy_sequence=None,
        sell_sequence=None,
    )


def redact_trades(caller: Caller, trades: TradesReply) -> TradesReply:
    if caller.is_auditor:
        return trades
    return msgspec.structs.replace(trades, trades=[redact_trade(caller, t) for t in trades.trades])


def redact_orders(caller: Caller, orders: OrdersReply) -> OrdersReply:
    """A household sees its own orders of the period only (depth is in the book)."""
    if caller.is_auditor:
        return orders
    return msgspec.structs.replace(
        orders, orders=[o for o in orders.orders if caller.is_self(o.owner)]
    )


def redact_day_ahead(caller: Caller, auction: DayAheadReply) -> DayAheadReply:
    """A household sees its own day-ahead orders only (the prices are in the trades)."""
    if caller.is_auditor:
        return auction
    return msgspec.structs.replace(
        auction, orders=[o for o in auction.orders if caller.is_self(o.owner)]
    )


def check_order(caller: Caller, order: OrderReply) -> OrderReply:
    check_own(caller, order.owner, f"order {order.order_id}")
    return order


def redact_offer(caller: Caller, offer: OfferReply) -> OfferReply:
    if caller.is_auditor or caller.is_self(offer.seller):
        return offer
    return msgspec.structs.replace(offer, seller=WITHHELD)


def redact_offers(caller: Caller, offers: OffersReply) -> OffersReply:
    if caller.is_auditor:
        return offers
    return msgspec.structs.replace(offers, offers=[redact_offer(caller, o) for o in offers.offers])


def redact_statements(caller: Caller, statements: StatementsReply) -> StatementsReply:
    """Every member's statements (and corrections) for auditors; a household's own only."""
    if caller.is_auditor:
        return statements
    mine = [s for s in statements.statements if caller.is_self(s.member)]
    corrections = [
        c for c in statements.corrections if caller.is_self(c.buyer) or caller.is_self(c.seller)
    ]
    return msgspec.structs.replace(statements, statements=mine, corrections=corrections)


def redact_block(caller: Caller, block: BlockReply) -> BlockReply:
    """A block with the caller's own transactions in full and the others reduced to their
    id and result (what a Merkle proof of its own needs: the header and ids)."""
    if caller.is_auditor or block.transactions is None:
        return block
    shown = [
        tx
        if any(caller.is_self(party) for party in parties(tx.transaction))
        else withheld_transaction(tx)
        for tx in block.transactions
    ]
    return msgspec.structs.replace(block, transactions=shown)


def withheld_transaction(tx: BlockTransactionReply) -> BlockTransactionReply:
    return BlockTransactionReply(
        id=tx.id,
        code=tx.code,
        result=tx.result,
        error=tx.error,
        message="",
        details={},
        events=[],
        transaction={},
    )


def redact_overview(caller: Caller, overview: OverviewReply) -> OverviewReply:
    """Today's aggregates for everyone; balances and debts of the caller's own only."""
    if caller.is_auditor:
        return overview
    members = [
        m
        if caller.is_self(m.address)
        else msgspec.structs.replace(m, balance_micro=None, debt_micro=None)
        for m in overview.members
    ]
    return msgspec.structs.replace(overview, members=members)


def stream_transactions(caller: Caller, transactions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The block stream's transactions a subscriber may see: those it sent or that name it
    in an event (a payment to it, its meter's reading) in full, others as their id and
    result only."""
    if caller.is_auditor:
        return transactions
    return [
        tx
        if caller.is_self(tx["sender"]) or _named_in_events(caller, tx["events"])
        else {"id": tx["id"], "code": tx["code"], "result": tx["result"]}
        for tx in transactions
    ]


def _named_in_events(caller: Caller, events: list[dict[str, Any]]) -> bool:
    return any(caller.address in event["attributes"].values() for event in events)


__all__ = [
    "ANONYMOUS",
    "AUDITOR",
    "NOBODY",
    "OUTSIDER",
    "PEER",
    "PUBLIC",
    "Caller",
    "Forbidden",
    "NotAMember",
    "caller_of_key",
    "check_member",
    "check_order",
    "check_own",
    "check_transaction",
    "parties",
    "redact_block",
    "redact_members",
    "redact_offers",
    "redact_orders",
    "redact_overview",
    "redact_statements",
    "redact_trades",
    "stream_transactions",
]
