"""The chain's and the members' reads: what a node answers, as reply Structs
(`gridledger.client.replies`): bytes as lower-case hex, result codes with their names.

The HTTP API encodes these, the in-process client hands them over as they are. A record
that does not exist raises `NotFound`; a malformed argument raises `InvalidQuery` naming
the field. The caller holds `Node.state_lock` when a view reads several keys.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from gridledger.client.replies import (
    AccountReply,
    AccountTransactionReply,
    AccountTransactionsReply,
    BlockReply,
    BlocksReply,
    BlockTransactionReply,
    EventReply,
    HeaderReply,
    HeadReply,
    LotReply,
    MemberReply,
    MembersReply,
    NetworkReply,
    PeerReply,
    PendingReply,
    ProofReply,
    TransactionReply,
)
from gridledger.contracts import currency
from gridledger.contracts.membership import Member
from gridledger.crypto import MerkleProof, is_address
from gridledger.ledger import Block, BlockHeader, Event, Receipt, block_hash
from gridledger.node import queries
from gridledger.node.core import CommittedBlock, Node
from gridledger.node.correction_views import transaction_flags
from gridledger.node.errors import InvalidAddress, InvalidQuery, NotFound
from gridledger.node.queries import TransactionRecord, describe_transaction, result_name


def plain(value: Any) -> Any:
    """Turn bytes into hex, recursively, so a value can be sent as JSON."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def check_address(text: str, field: str = "address") -> str:
    if not is_address(text):
        raise InvalidAddress(field, text)
    return text


def check_height(node: Node, height: int) -> int:
    """A stored block's height: not negative (400), not above the head (404)."""
    if height < 0:
        raise InvalidQuery("height", height, f"{height} is negative")
    if height > node.head.height:
        raise NotFound("block", str(height), f"no block {height}; the head is {node.head.height}")
    return height


# -- parts ---------------------------------------------------------------------------------


def header_reply(header: BlockHeader) -> HeaderReply:
    return HeaderReply(
        version=header.version,
        chain_id=header.chain_id,
        height=header.height,
        hash=block_hash(header).hex(),
        previous_hash=header.previous_hash.hex(),
        timestamp_ms=header.timestamp_ms,
        transaction_count=header.transaction_count,
        transactions_root=header.transactions_root.hex(),
        results_root=header.results_root.hex(),
        state_hash=header.state_hash.hex(),
    )


def event_reply(event: Event) -> EventReply:
    return EventReply(contract=event.contract, name=event.name, attributes=plain(event.attributes))


def receipt_fields(receipt: Receipt) -> dict[str, Any]:
    """The fields of a receipt's view (`ReceiptReply`), shared by blocks and transactions;
    a refused one also names its ``error`` and its ``details`` (the refusal's values)."""
    name = result_name(receipt.code)
    return {
        "id": receipt.transaction_id.hex(),
        "code": receipt.code,
        "result": name,
        "error": None if receipt.code == 0 else name,
        "message": receipt.message,
        "details": dict(receipt.details),
        "events": [event_reply(event) for event in receipt.events],
    }


def proof_reply(proof: MerkleProof) -> ProofReply:
    return ProofReply(index=proof.index, size=proof.size, path=[h.hex() for h in proof.path])


def member_reply(member: Member) -> MemberReply:
    return MemberReply(
        address=member.address,
        public_key=member.public_key.hex(),
        name=member.name,
        role=member.role,
        status=member.status,
        registration=plain(member.registration),
        registration_commitments=dict(member.registration_commitments),
        meter_keys=list(member.meter_keys),
        since_height=member.since_height,
        reason=member.reason,
    )


def transaction_reply(record: TransactionRecord) -> TransactionReply:
    return TransactionReply(
        **receipt_fields(record.receipt),
        height=record.height,
        position=record.position,
        transaction=plain(describe_transaction(record.raw)),
        raw=record.raw.hex(),
        block=header_reply(record.block.header),
        proof=proof_reply(record.proof),
        receipt_proof=proof_reply(record.receipt_proof),
    )


def block_reply(block: Block, receipts: list[Receipt], with_transactions: bool) -> BlockReply:
    if not with_transactions:
        return BlockReply(header=header_reply(block.header))
    return BlockReply(
        header=header_reply(block.header),
        transactions=[
            BlockTransactionReply(
                **receipt_fields(receipt), transaction=plain(describe_transaction(raw))
            )
            for raw, receipt in zip(block.transactions, receipts, strict=False)
        ],
    )


def committed_view(committed: CommittedBlock) -> dict[str, Any]:
    """A committed block as the block stream sends it (``api.stream`` builds the same
    text faster)."""
    return {
        "type": "block",
        "header": header_reply(committed.block.header),
        "transactions": [
            {**receipt_fields(receipt), "sender": sender}
            for receipt, sender in zip(committed.receipts, committed.senders, strict=False)
        ],
    }


# -- reads ---------------------------------------------------------------------------------


def head_view(node: Node) -> HeadReply:
    return HeadReply(**queries.head_summary(node), header=header_reply(node.head))


def transaction_view(
    node: Node, transaction_id: str, is_pending: Callable[[bytes], bool] | None = None
) -> TransactionReply | PendingReply:
    """A transaction this node committed, or has admitted and not committed yet
    (`is_pending`: the ordering service's answer; default: in this node's mempool)."""
    try:
        tx_id = bytes.fromhex(transaction_id)
    except ValueError as error:
        raise InvalidQuery("transaction_id", transaction_id, "not hexadecimal") from error
    if len(tx_id) != 32:
        raise InvalidQuery("transaction_id", transaction_id, "must be 64 hex digits")
    if (node.mempool.contains if is_pending is None else is_pending)(tx_id):
        return PendingReply(id=transaction_id)
    found = transaction_reply(queries.find_transaction(node, tx_id))
    flags = transaction_flags(node, tx_id.hex())
    return msgspec.structs.replace(found, flags=flags) if flags else found


def block_view(node: Node, height: int, transactions: bool = True) -> BlockReply:
    block = queries.get_block(node, check_height(node, height))
    return block_reply(block, node.storage.receipts(height), transactions)


def blocks_view(node: Node, limit: int = 20, before: int | None = None) -> BlocksReply:
    """Up to `limit` block headers below `before` (default: from the head), newest first."""
    top = node.head.height if before is None else min(before - 1, node.head.height)
    headers = []
    for height in range(top, max(-1, top - limit), -1):
        block = node.storage.block(height)
        if block is not None:
            headers.append(header_reply(block.header))
    return BlocksReply(blocks=headers)


def member_view(node: Node, address: str) -> MemberReply:
    return member_reply(queries.member(node, check_address(address)))


def members_view(node: Node) -> MembersReply:
    return MembersReply(members=[member_reply(m) for m in queries.members(node)])


def lots_view(node: Node, account: str) -> list[LotReply]:
    """The account's lots, oldest first, each marked expired at the head's block time."""
    now_s = node.head.timestamp_ms // 1000
    return [
        LotReply(
            issued_at_s=lot.issued_at_s,
            expires_at_s=lot.expires_at_s,
            amount_micro=lot.amount_micro,
            expired=lot.expires_at_s <= now_s,
        )
        for lot in currency.lots_of(node.state, account)
    ]


def account_view(node: Node, address: str) -> AccountReply:
    check_address(address)
    return AccountReply(
        address=address,
        balance_micro=queries.balance(node, address),
        nonce=queries.nonce(node, address),
        lifetime_days=currency.lifetime_days(node.state),
        lots=lots_view(node, address),
    )


def account_transactions_view(
    node: Node, address: str, limit: int = 50
) -> AccountTransactionsReply:
    """An account's latest transactions, newest first."""
    rows = node.storage.transactions_of(check_address(address), limit)
    return AccountTransactionsReply(
        transactions=[
            AccountTransactionReply(height=h, position=p, id=i.hex(), code=c, result=result_name(c))
            for h, p, i, c in rows
        ]
    )


def contracts_view(node: Node) -> dict[str, dict[str, dict[str, Any]]]:
    """Every contract's methods with their access rule, documentation and argument schema."""
    return plain(node.registry.describe())  # type: ignore[no-any-return]


def solo_network_view(node: Node) -> NetworkReply:
    """``GET /v1/network`` in solo mode: one peer, every committed block final."""
    height = node.head.height
    return NetworkReply(
        mode="solo",
        peer="solo",
        public_key=None,
        head_height=height,
        finalized_height=height,
        peers=[
            PeerReply(
                name="solo",
                public_key=None,
                api_url=None,
                attested_height=height,
                agreed_height=height,
                agrees=True,
                conflict=None,
            )
        ],
        alarm=None,
    )
