"""JSON views of ledger objects: bytes as lower-case hex, codes with their names."""

from __future__ import annotations

from typing import Any

from gridledger.contracts.membership import Member
from gridledger.crypto import MerkleProof
from gridledger.ledger import Block, BlockHeader, Event, Receipt, block_hash
from gridledger.node import CommittedBlock
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


def header_view(header: BlockHeader) -> dict[str, Any]:
    return {
        "version": header.version,
        "chain_id": header.chain_id,
        "height": header.height,
        "hash": block_hash(header).hex(),
        "previous_hash": header.previous_hash.hex(),
        "timestamp_ms": header.timestamp_ms,
        "transaction_count": header.transaction_count,
        "transactions_root": header.transactions_root.hex(),
        "results_root": header.results_root.hex(),
        "state_hash": header.state_hash.hex(),
    }


def event_view(event: Event) -> dict[str, Any]:
    return {"contract": event.contract, "name": event.name, "attributes": plain(event.attributes)}


def receipt_view(receipt: Receipt) -> dict[str, Any]:
    """A receipt; a refused one also as ``{"error": <slug>, "message": ..., "details": {values}}``.

    ``details`` holds the refusal's values by name (``{"expected": 3, "got": 5}``),
    empty for an accepted transaction; with it the receipt can be re-encoded and
    checked against its block's ``results_root``.
    """
    name = result_name(receipt.code)
    return {
        "id": receipt.transaction_id.hex(),
        "code": receipt.code,
        "result": name,
        "error": None if receipt.code == 0 else name,
        "message": receipt.message,
        "details": dict(receipt.details),
        "events": [event_view(event) for event in receipt.events],
    }


def proof_view(proof: MerkleProof) -> dict[str, Any]:
    return {"index": proof.index, "size": proof.size, "path": [h.hex() for h in proof.path]}


def block_view(block: Block, receipts: list[Receipt], with_transactions: bool) -> dict[str, Any]:
    view: dict[str, Any] = {"header": header_view(block.header)}
    if with_transactions:
        view["transactions"] = [
            {**receipt_view(receipt), "transaction": plain(describe_transaction(raw))}
            for raw, receipt in zip(block.transactions, receipts, strict=False)
        ]
    return view


def transaction_view(record: TransactionRecord) -> dict[str, Any]:
    return {
        **receipt_view(record.receipt),
        "status": "committed",
        "height": record.height,
        "position": record.position,
        "transaction": plain(describe_transaction(record.raw)),
        "raw": record.raw.hex(),
        "block": header_view(record.block.header),
        "proof": proof_view(record.proof),
        "receipt_proof": proof_view(record.receipt_proof),
    }


def member_view(member: Member) -> dict[str, Any]:
    """A member: `name` is its chosen label; `registration` the technical fields; of personal
    fields only the digests (`registration_commitments`), the data being off the chain."""
    return {
        "address": member.address,
        "public_key": member.public_key.hex(),
        "name": member.name,
        "role": member.role,
        "status": member.status,
        "registration": plain(member.registration),
        "registration_commitments": dict(member.registration_commitments),
        "meter_keys": list(member.meter_keys),
        "since_height": member.since_height,
        "reason": member.reason,
    }


def committed_view(committed: CommittedBlock) -> dict[str, Any]:
    return {
        "type": "block",
        "header": header_view(committed.block.header),
        "transactions": [
            {**receipt_view(receipt), "sender": sender}
            for receipt, sender in zip(committed.receipts, committed.senders, strict=False)
        ],
    }
