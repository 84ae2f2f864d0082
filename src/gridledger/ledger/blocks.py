"""Blocks, block headers and receipts.

A block is a header and the raw bytes of its transactions, in execution
order. The raw bytes are kept exactly as they were ordered, even when they do
not decode: a malformed transaction stays in its block, marked by its receipt,
and changes nothing.

The header commits to everything a peer must agree on:

- ``transactions_root``: Merkle root over the transaction ids (SHA-256 of raw bytes);
- ``results_root``: Merkle root over the canonical receipts, one per transaction;
- ``state_hash``: the hash of the whole state after the block (`State.state_hash`).

The block hash is the SHA-256 of the canonical header bytes.
"""

from __future__ import annotations

from typing import Any

import msgspec

from gridledger.crypto import MerkleProof, merkle_proof, merkle_root, sha256
from gridledger.ledger.encoding import decode, encode, omit_empty_last_field
from gridledger.ledger.results import ResultCode


class Event(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """Something a contract reports about a transaction (``tokens.transferred``, ...)."""

    contract: str
    name: str
    attributes: dict[str, Any]


@omit_empty_last_field
class Receipt(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """The outcome of one transaction: its result code, a message, its events and values."""

    transaction_id: bytes
    code: int
    message: str
    events: list[Event]
    details: dict[str, int | str] = {}
    """A refusal's values by name (``expected``, ``energy_wh``, ...; `TransactionError.details`).

    Empty for an accepted transaction. An empty map is left out of the encoding
    (`omit_empty_last_field`), so a receipt without values has the same bytes as
    before receipts had them, and so have the results roots of blocks without
    refusals.
    """

    @property
    def ok(self) -> bool:
        return self.code == ResultCode.OK


class BlockHeader(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    version: int
    chain_id: str
    height: int
    previous_hash: bytes
    """Hash of the parent header; for the genesis block, the hash of the genesis document."""
    timestamp_ms: int
    """Milliseconds since the Unix epoch, written by the ordering service, never a peer's clock."""
    transaction_count: int
    transactions_root: bytes
    results_root: bytes
    state_hash: bytes


class Block(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    header: BlockHeader
    transactions: list[bytes]


def block_hash(header: BlockHeader) -> bytes:
    """The block's hash: SHA-256 of the canonical header bytes."""
    return sha256(encode(header))


def encode_block(block: Block) -> bytes:
    return encode(block)


def decode_block(data: bytes) -> Block:
    return decode(data, Block)


def encode_receipt(receipt: Receipt) -> bytes:
    return encode(receipt)


def transactions_root(raw_transactions: list[bytes]) -> bytes:
    """Merkle root over the ids (SHA-256) of the raw transactions."""
    return merkle_root([sha256(raw) for raw in raw_transactions])


def results_root(receipts: list[Receipt]) -> bytes:
    """Merkle root over the canonical receipts."""
    return merkle_root([encode_receipt(receipt) for receipt in receipts])


def transaction_proof(block: Block, index: int) -> MerkleProof:
    """Proof that the transaction at `index` is in `block` (leaf = transaction id)."""
    return merkle_proof([sha256(raw) for raw in block.transactions], index)


def receipt_proof(receipts: list[Receipt], index: int) -> MerkleProof:
    """Proof that `receipts[index]` is under the block's ``results_root``."""
    return merkle_proof([encode_receipt(receipt) for receipt in receipts], index)
