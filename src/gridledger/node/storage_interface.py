"""`Storage`: what the node asks of wherever a peer keeps its chain and its state.

`SQLiteStorage` (`node.storage`) and `MemoryStorage` (`node.memory_storage`) implement
it; `BlockRecord` is what one block brings to be stored, atomically, and
`TransactionLocation` where a committed transaction was found.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from gridledger.ledger import Block, BlockHeader, Genesis, Receipt, StateKey


@dataclass(frozen=True, slots=True)
class TransactionLocation:
    height: int
    position: int
    receipt: Receipt


@dataclass(frozen=True, slots=True)
class BlockRecord:
    """A block and everything `Storage.append_block` stores with it, atomically.

    `log_position` (nats ordering) is the ordering-log sequence of the entry that
    closed the block (see `node/ordering.py`); `receipt_bytes` are the receipts'
    canonical bytes if the caller has them already.
    """

    block: Block
    block_hash: bytes
    receipts: list[Receipt]
    senders: list[str]
    writes: Mapping[StateKey, bytes | None]
    log_position: int | None = None
    receipt_bytes: Sequence[bytes] | None = None


class Storage(Protocol):
    def initialise(
        self, genesis: Genesis, block0: Block, entries: Mapping[StateKey, bytes]
    ) -> None:
        """Store the genesis document, block 0 and the genesis state. Only on an empty store."""

    def genesis(self) -> Genesis | None: ...

    def base(self) -> BlockHeader | None:
        """The header of the newest block no longer stored (archived, or before a snapshot)."""

    def head(self) -> BlockHeader | None: ...

    def load_state(self) -> dict[StateKey, bytes]: ...

    def state_items(self, part_entries: int) -> Iterator[list[tuple[str, str, bytes]]]:
        """Every stored state entry as (namespace, key, value), `part_entries` at a time,
        all from one consistent version of the state."""

    def state_entries(self, at_most: int) -> int:
        """How many state entries are stored, counted up to `at_most` (a cheap bound)."""

    def state_heights(self) -> dict[StateKey, int]:
        """For each stored state entry, the height of the block that last wrote it."""

    def append_block(self, record: BlockRecord) -> None:
        """Store a block with its receipts, its state writes and its log position, atomically."""

    def log_position(self) -> int:
        """The ordering-log sequence stored with the last block (0 if none)."""

    def log_position_at(self, height: int) -> int | None:
        """The ordering-log sequence stored with block `height` (0: no log; None: unknown)."""

    def block(self, height: int) -> Block | None: ...

    def receipts(self, height: int) -> list[Receipt]: ...

    def find_transaction(self, transaction_id: bytes) -> TransactionLocation | None: ...

    def has_transaction(self, transaction_id: bytes) -> bool: ...

    def blocks(self) -> Iterator[Block]:
        """Every stored block, in height order."""

    def transactions_of(self, sender: str, limit: int) -> list[tuple[int, int, bytes, int]]:
        """(height, position, id, code) of the sender's latest transactions, newest first."""

    def block_rows(self, first: int, limit: int) -> list[tuple[int, bytes, bytes]]:
        """(height, hash, block bytes) of up to `limit` stored blocks from `first` on, in order."""

    def receipt_rows(self, first: int, last: int) -> list[tuple[int, int, bytes, int, bytes]]:
        """(height, position, id, code, receipt bytes) of blocks `first` to `last`, in order."""

    def highest_receipt_height(self) -> int | None:
        """The greatest height a stored receipt names (None if there is none)."""

    def close(self) -> None: ...
