"""Read-only questions a node answers: transactions with proofs, blocks, members, balances."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gridledger.contracts import membership, tokens
from gridledger.crypto import MerkleProof, address_of
from gridledger.ledger import (
    Block,
    DecodingError,
    LedgerError,
    MultisigAuthorization,
    Receipt,
    ResultCode,
    SignedTransaction,
    block_hash,
    decode_transaction,
    read_nonce,
    receipt_proof,
    transaction_proof,
)
from gridledger.node.core import Node
from gridledger.node.errors import NotFound


@dataclass(frozen=True, slots=True)
class TransactionRecord:
    transaction_id: bytes
    height: int
    position: int
    receipt: Receipt
    raw: bytes
    block: Block
    proof: MerkleProof
    receipt_proof: MerkleProof


def find_transaction(node: Node, transaction_id: bytes) -> TransactionRecord:
    location = node.storage.find_transaction(transaction_id)
    if location is None:
        raise NotFound("transaction", transaction_id.hex())
    block = node.storage.block(location.height)
    if block is None:  # pragma: no cover - storage holds receipts only with their blocks
        raise NotFound("block", str(location.height))
    receipts = node.storage.receipts(location.height)
    return TransactionRecord(
        transaction_id,
        location.height,
        location.position,
        location.receipt,
        block.transactions[location.position],
        block,
        transaction_proof(block, location.position),
        receipt_proof(receipts, location.position),
    )


def get_block(node: Node, height: int) -> Block:
    block = node.storage.block(height)
    if block is None:
        raise NotFound("block", str(height))
    return block


def describe_transaction(raw: bytes) -> dict[str, Any]:
    """The decoded fields of a raw transaction, for people (or the reason it does not decode)."""
    try:
        signed = decode_transaction(raw)
    except (LedgerError, DecodingError) as error:
        return {"decodable": False, "error": str(error), "size_bytes": len(raw)}
    body = signed.transaction
    return {
        "decodable": True,
        "chain_id": body.chain_id,
        "sender": address_of(body.sender),
        "sender_key": body.sender.hex(),
        "nonce": body.nonce,
        "contract": body.contract,
        "method": body.method,
        "args": body.args,
        **authorization_fields(signed),
        "size_bytes": len(raw),
    }


def authorization_fields(signed: SignedTransaction) -> dict[str, Any]:
    """How a transaction is signed: ``signature`` (one Ed25519 signature), or ``signers`` and
    ``signatures`` (a multi-signature, by signer address)."""
    authorization = signed.authorization
    if isinstance(authorization, MultisigAuthorization):
        return {
            "authorization": "multisig",
            "signers": [address_of(c.signer) for c in authorization.signatures],
            "signatures": {
                address_of(c.signer): c.signature.hex() for c in authorization.signatures
            },
        }
    return {"signature": authorization.signature.hex()}


def member(node: Node, address: str) -> membership.Member:
    found = membership.read_member(node.state, address)
    if found is None:
        raise NotFound("member", address)
    return found


def members(node: Node) -> list[membership.Member]:
    result = []
    for address in membership.roster(node.state):
        found = membership.read_member(node.state, address)
        if found is not None:
            result.append(found)
    return result


def balance(node: Node, account: str) -> int:
    return tokens.balance_of(node.state, account)


def nonce(node: Node, address: str) -> int:
    return read_nonce(node.state, address)


def head_summary(node: Node) -> dict[str, Any]:
    head = node.head
    return {
        "chain_id": node.chain_id,
        "height": head.height,
        "hash": block_hash(head).hex(),
        "timestamp_ms": head.timestamp_ms,
        "state_hash": head.state_hash.hex(),
        "pending_transactions": len(node.mempool),
        "total_supply_micro": tokens.total_supply(node.state),
    }


def result_name(code: int) -> str:
    try:
        return ResultCode(code).slug
    except ValueError:
        return f"unknown_{code}"
