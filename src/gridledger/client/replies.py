"""What a node answers to every read: one msgspec Struct per reply shape.

The node's views (`gridledger.node.views` and its siblings) build these, the HTTP API
encodes them and publishes their JSON Schema in its OpenAPI document, `HttpClient`
decodes them and `EmbeddedClient` hands them over as they are, so the served JSON, the
documented schema and what a client sees are one definition.

Field names are the JSON keys; bytes are lower-case hex text; energy is in ``*_wh``, money
in ``*_micro``, prices in ``*_micro_per_kwh``, times in ``*_s`` (seconds since the epoch)
or ``*_ms``. Mirrors of contract records (orders, trades, statements, ...) keep the
contract's field names (a test compares them).
"""

from __future__ import annotations

from typing import Any

import msgspec


class Reply(msgspec.Struct, kw_only=True):
    """Base of every reply (built with keywords)."""


# -- chain -------------------------------------------------------------------------------------


class HeaderReply(Reply):
    """A block header, with its hash."""

    version: int
    chain_id: str
    height: int
    hash: str
    previous_hash: str
    timestamp_ms: int
    transaction_count: int
    transactions_root: str
    results_root: str
    state_hash: str


class HeadReply(Reply):
    """The chain head: its hash and state hash, the mempool size and the money in existence."""

    chain_id: str
    height: int
    hash: str
    timestamp_ms: int
    state_hash: str
    pending_transactions: int
    total_supply_micro: int
    header: HeaderReply


class EventReply(Reply):
    contract: str
    name: str
    attributes: dict[str, Any]


class ProofReply(Reply):
    """A Merkle proof: leaf index, tree size and the sibling hashes from leaf to root."""

    index: int
    size: int
    path: list[str]


class ReceiptReply(Reply):
    """A transaction's receipt: result code and name, the contract's message, its events.

    A refused one also says ``error`` (the result's name; None when accepted) and
    ``details``, the refusal's values by name (``{"expected": 3, "got": 5}``; empty when
    accepted): with them the receipt can be re-encoded and checked against its block's
    ``results_root``.
    """

    id: str
    code: int
    result: str
    error: str | None
    message: str
    details: dict[str, int | str]
    events: list[EventReply]


class BlockTransactionReply(ReceiptReply):
    """A transaction of a block: its receipt and its decoded fields."""

    transaction: dict[str, Any]


class BlockReply(Reply, omit_defaults=True):
    """A block's header and, when asked for, its transactions with their receipts."""

    header: HeaderReply
    transactions: list[BlockTransactionReply] | None = None


class BlocksReply(Reply):
    """Recent block headers, newest first."""

    blocks: list[HeaderReply]


class FlagReply(Reply):
    """The regulator's audit flag on a trade or a transaction (it changes nothing)."""

    kind: str
    subject: str
    reason: str
    flagged_by: str
    height: int
    timestamp_ms: int
    transaction_id: str


class TransactionReply(ReceiptReply, tag_field="status", tag="committed", omit_defaults=True):
    """A committed transaction: receipt, decoded fields, raw bytes, block and Merkle proofs,
    and the regulator's audit flags on it (``flags``; it stays as it was)."""

    height: int
    position: int
    transaction: dict[str, Any]
    raw: str
    block: HeaderReply
    proof: ProofReply
    receipt_proof: ProofReply
    flags: list[FlagReply] = msgspec.field(default_factory=list)

    @property
    def status(self) -> str:
        """``committed`` (the JSON's ``status``, which tells the two replies apart)."""
        return "committed"


class PendingReply(Reply, tag_field="status", tag="pending", omit_defaults=True):
    """A transaction admitted but not committed yet (``message`` when a wait timed out)."""

    id: str
    message: str | None = None

    @property
    def status(self) -> str:
        """``pending`` (the JSON's ``status``, which tells the two replies apart)."""
        return "pending"


TransactionStatus = TransactionReply | PendingReply
"""What a node says about a transaction it knows: committed, or still pending."""


class AdmissionReply(Reply, omit_defaults=True):
    """One transaction of a batch: ``pending`` (admitted) or ``rejected`` with the reason.

    A rejection's JSON also carries the error's values (``expected``, ``got``, ...), as the
    body of a refused single submission does; this type keeps its code and sentence.
    """

    id: str
    status: str
    error: str | None = None
    code: int | None = None
    message: str | None = None


class BatchReply(Reply):
    """The outcome of submitting a batch, one entry per transaction in order."""

    accepted: int
    rejected: int
    results: list[AdmissionReply]


class PeerReply(Reply):
    name: str
    public_key: str | None
    api_url: str | None
    attested_height: int
    agreed_height: int
    agrees: bool
    conflict: str | None


class NetworkReply(Reply, omit_defaults=True, kw_only=True):
    """Ordering mode, this peer, the peers' attestations, finality and any alarm.

    ``log_position``, ``pending`` and ``halted`` are given in nats mode only.
    """

    mode: str
    peer: str
    public_key: str | None
    head_height: int
    finalized_height: int
    log_position: int | None = None
    pending: int | None = None
    halted: bool | None = None
    peers: list[PeerReply]
    alarm: str | None


ContractsReply = dict[str, dict[str, dict[str, Any]]]
"""Per contract, per method: its access rule (``access``), documentation (``doc``) and
argument schema (``arguments``)."""


# -- members -----------------------------------------------------------------------------------


class MemberReply(Reply):
    """A member. `name` is the label it chose, not its legal name; `registration` holds the
    technical fields, and of the personal ones only their salted digests are on the chain
    (`registration_commitments`, SD-JWT disclosure digests; docs/security.md)."""

    address: str
    public_key: str
    name: str
    role: str
    status: str
    registration: dict[str, Any]
    registration_commitments: dict[str, str]
    meter_keys: list[str]
    since_height: int
    reason: str


class MembersReply(Reply):
    members: list[MemberReply]


class RegistrationReceivedReply(Reply):
    """The regulator's node kept an applicant's personal data (``POST
    /v1/registry/applications``): which fields, and when (ms)."""

    address: str
    fields: list[str]
    received_ms: int


class LotReply(Reply):
    """Units of a time-attributed currency issued the same day (seed 004 §3.4): when they
    were issued and expire (seconds), how many (micro-units), and whether they are past
    their life at the head's time (then returned to the issuer at the next settlement)."""

    issued_at_s: int
    expires_at_s: int
    amount_micro: int
    expired: bool


class AccountReply(Reply, omit_defaults=True):
    """An account's balance (micro-units) and the next nonce it must use; with expiry on
    (``lifetime_days`` > 0), its lots, oldest first: what expires when (both fields are
    left out with expiry off, so a plain currency's reply is what it always was)."""

    address: str
    balance_micro: int
    nonce: int
    lifetime_days: int = 0
    lots: list[LotReply] = []


class AccountTransactionReply(Reply):
    height: int
    position: int
    id: str
    code: int
    result: str


class AccountTransactionsReply(Reply):
    transactions: list[AccountTransactionReply]


# -- authentication and the access log ------------------------------------------------------------


class ChallengeReply(Reply):
    """A single-use login challenge (64 hex digits) and when it expires."""

    challenge: str
    expires_at_ms: int


class SessionReply(Reply):
    """A session token (``Authorization: Bearer``, or ``?token=`` on the stream), whose it is
    and when it expires."""

    token: str
    address: str
    role: str
    expires_at_ms: int


class LoginCodeReply(Reply):
    """A one-time login code (for a link to the dashboard) and when it expires."""

    login_code: str
    expires_at_ms: int


class AccessLogEntryReply(Reply):
    """One read of a household's data by an auditor: who, which route and resource, whose
    data (an address, or ``*`` for every member's at once) and when (ms)."""

    at_ms: int
    reader: str
    reader_role: str
    route: str
    resource: str
    household: str


class AccessLogReply(Reply):
    """The newest reads of a household's data (``household`` None: every read)."""

    household: str | None
    entries: list[AccessLogEntryReply]


__all__ = [
    "AccessLogEntryReply",
    "AccessLogReply",
    "AccountReply",
    "AccountTransactionReply",
    "AccountTransactionsReply",
    "AdmissionReply",
    "BatchReply",
    "BlockReply",
    "BlockTransactionReply",
    "BlocksReply",
    "ChallengeReply",
    "ContractsReply",
    "EventReply",
    "FlagReply",
    "HeadReply",
    "HeaderReply",
    "LoginCodeReply",
    "LotReply",
    "MemberReply",
    "MembersReply",
    "NetworkReply",
    "PeerReply",
    "PendingReply",
    "ProofReply",
    "ReceiptReply",
    "RegistrationReceivedReply",
    "Reply",
    "SessionReply",
    "TransactionReply",
    "TransactionStatus",
]
