"""Check a stored chain before a node serves it: `check_chain`.

`gridledger verify` replays every block from genesis, which takes minutes for a
busy community's day. A node must not serve a damaged chain, yet must start in
seconds, so at start it checks hashes only, and nothing is executed:

- the stored blocks have every height from 0 to the head, none missing;
- each stored block decodes, says the height it is stored under, and is stored
  under the hash of its header;
- each header's ``previous_hash`` is the hash of the header before it, and
  block 0's is the hash of the stored genesis document (block 0's state hash is
  what this code's contracts make of that document: `verify` checks it);
- each block's transactions give its ``transactions_root``, and its stored
  receipts, one per transaction, give its ``results_root``;
- each receipt names its transaction's id, and the index columns beside it (id
  and result code, which the API and the offline commands read) agree with it;
- no receipts are stored above the head.

Together with `Node.open`'s comparison of the stored state with the head's state
hash, every stored byte a node serves is then tied to the head hash. Whether the
receipts are what executing the transactions gives is `verify`'s question.

The first bad or missing height is reported as a `CorruptChain`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import msgspec

from gridledger.crypto import merkle_root, sha256
from gridledger.ledger import BlockHeader, LedgerError, Receipt, block_hash, decode_block
from gridledger.node.errors import CorruptChain

PAGE_BLOCKS = 64
"""Blocks read per query (a block holds at most 8 MiB, in practice a few hundred KiB)."""

BlockRow = tuple[int, bytes, bytes]
"""(height, stored hash, stored block bytes)."""
ReceiptRow = tuple[int, int, bytes, int, bytes]
"""(height, position, transaction id or its stored prefix, result code, receipt bytes)."""

_RECEIPT = msgspec.msgpack.Decoder(Receipt)


class ChainRows(Protocol):
    """What `check_chain` reads from a storage: its rows, as stored."""

    def block_rows(self, first: int, limit: int) -> list[BlockRow]:
        """Up to `limit` stored blocks from height `first` on, in height order."""

    def receipt_rows(self, first: int, last: int) -> list[ReceiptRow]:
        """The receipts stored for blocks `first` to `last`, by height and position."""

    def highest_receipt_height(self) -> int | None:
        """The greatest height any stored receipt names (None if none is stored)."""


@dataclass(frozen=True, slots=True)
class CheckedChain:
    head: BlockHeader
    head_hash: bytes
    transactions: int


def check_chain(
    storage: ChainRows, chain_id: str, genesis_hash: bytes, base: BlockHeader | None = None
) -> CheckedChain:
    """Check every stored block's hashes and roots; raise `CorruptChain` at the first fault.

    `genesis_hash` is the hash of the genesis document: block 0's previous hash. A chain
    whose older blocks were archived, or which started from a snapshot, stores the
    header of the newest block it no longer holds (`base`): the check starts above it,
    the first stored block must name its hash, and with no block above it, it is the head.
    """
    expected = 0
    parent_hash = genesis_hash
    head: BlockHeader | None = None
    if base is not None:
        if base.chain_id != chain_id:
            raise CorruptChain(base.height, f"base chain id is {base.chain_id!r}, not {chain_id!r}")
        expected = base.height + 1
        parent_hash = block_hash(base)
        head = base
    transactions = 0
    while True:
        rows = storage.block_rows(expected, PAGE_BLOCKS)
        if not rows:
            break
        receipts = _by_height(storage.receipt_rows(rows[0][0], rows[-1][0]))
        for height, stored_hash, raw in rows:
            if height != expected:
                raise CorruptChain(expected, f"missing (the next stored block is {height})")
            head = _check_block(height, stored_hash, raw, parent_hash, receipts.get(height, []))
            if head.chain_id != chain_id:
                raise CorruptChain(height, f"chain id is {head.chain_id!r}, not {chain_id!r}")
            parent_hash = stored_hash
            transactions += head.transaction_count
            expected += 1
    if head is None:
        raise CorruptChain(0, "missing (no blocks are stored)")
    above = storage.highest_receipt_height()
    if above is not None and above > head.height:
        raise CorruptChain(
            head.height + 1, f"missing, yet receipts are stored for blocks up to {above}"
        )
    return CheckedChain(head, parent_hash, transactions)


def _by_height(rows: list[ReceiptRow]) -> dict[int, list[ReceiptRow]]:
    grouped: dict[int, list[ReceiptRow]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row)
    return grouped


def _check_block(
    height: int,
    stored_hash: bytes,
    raw: bytes,
    parent_hash: bytes,
    receipts: Sequence[ReceiptRow],
) -> BlockHeader:
    """Check one stored block against its parent's hash and its stored receipts."""
    try:
        block = decode_block(raw)
    except LedgerError as error:
        raise CorruptChain(height, f"stored block does not decode ({error})") from error
    header = block.header
    if header.height != height:
        raise CorruptChain(height, f"stored under height {height} but says {header.height}")
    if block_hash(header) != stored_hash:
        raise CorruptChain(height, "stored block hash is not the hash of the stored header")
    if header.previous_hash != parent_hash:
        parent = f"block {height - 1}" if height else "the genesis document"
        raise CorruptChain(height, f"previous hash is not the hash of {parent}")
    if header.transaction_count != len(block.transactions):
        raise CorruptChain(
            height,
            f"header counts {header.transaction_count} transactions, "
            f"the block holds {len(block.transactions)}",
        )
    ids = [sha256(raw_transaction) for raw_transaction in block.transactions]
    if merkle_root(ids) != header.transactions_root:
        raise CorruptChain(height, "transactions do not give the header's transactions root")
    if len(receipts) != len(ids):
        raise CorruptChain(height, f"{len(receipts)} receipts stored for {len(ids)} transactions")
    if merkle_root([row[4] for row in receipts]) != header.results_root:
        raise CorruptChain(height, "stored receipts do not give the header's results root")
    for expected_position, (_, position, tx_id, code, receipt_bytes) in enumerate(receipts):
        try:
            receipt = _RECEIPT.decode(receipt_bytes)
        except msgspec.DecodeError as error:  # pragma: no cover - the results root covers it
            raise CorruptChain(height, f"receipt {position} does not decode ({error})") from error
        if (
            position != expected_position
            or not tx_id
            or ids[position][: len(tx_id)] != tx_id
            or receipt.transaction_id != ids[position]
            or code != receipt.code
        ):
            raise CorruptChain(
                height, f"index entry of transaction {expected_position} differs from its receipt"
            )
    return header
