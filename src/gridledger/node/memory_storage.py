"""`MemoryStorage`: the `Storage` interface held in memory, for tests and throw-away runs."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping

from gridledger.ledger import (
    Block,
    BlockHeader,
    Genesis,
    Receipt,
    StateKey,
    block_hash,
    encode_block,
    encode_receipt,
)
from gridledger.node.errors import StorageError
from gridledger.node.storage_interface import BlockRecord, TransactionLocation


class MemoryStorage:
    """Keeps blocks, receipts and state in dictionaries; nothing survives the process."""

    path = ":memory:"

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._genesis: Genesis | None = None
        self._blocks: list[Block] = []
        self._receipts: list[list[Receipt]] = []
        self._senders: list[list[str]] = []
        self._ids: dict[bytes, tuple[int, int]] = {}
        self._state: dict[StateKey, bytes] = {}
        self._heights: dict[StateKey, int] = {}
        self._log_position = 0
        self._log_positions: dict[int, int] = {}

    def initialise(
        self, genesis: Genesis, block0: Block, entries: Mapping[StateKey, bytes]
    ) -> None:
        with self._lock:
            if self._blocks:
                raise StorageError(self.path, "already holds a chain")
            self._genesis = genesis
            self._blocks.append(block0)
            self._receipts.append([])
            self._senders.append([])
            self._state = dict(entries)
            self._heights = dict.fromkeys(entries, 0)

    def base(self) -> BlockHeader | None:
        """Always None: a chain in memory holds every block from 0."""
        return None

    def genesis(self) -> Genesis | None:
        return self._genesis

    def head(self) -> BlockHeader | None:
        with self._lock:
            return self._blocks[-1].header if self._blocks else None

    def load_state(self) -> dict[StateKey, bytes]:
        with self._lock:
            return dict(self._state)

    def state_entries(self, at_most: int) -> int:
        with self._lock:
            return min(len(self._state), max(at_most, 0))

    def state_items(self, part_entries: int) -> Iterator[list[tuple[str, str, bytes]]]:
        with self._lock:
            items = [(ns, key, value) for (ns, key), value in self._state.items()]
        for start in range(0, len(items), part_entries):
            yield items[start : start + part_entries]

    def state_heights(self) -> dict[StateKey, int]:
        with self._lock:
            return dict(self._heights)

    def append_block(self, record: BlockRecord) -> None:
        with self._lock:
            height = record.block.header.height
            if height != len(self._blocks):
                raise StorageError(
                    self.path, f"block {height} does not follow {len(self._blocks) - 1}"
                )
            self._blocks.append(record.block)
            self._receipts.append(list(record.receipts))
            self._senders.append(list(record.senders))
            for position, receipt in enumerate(record.receipts):
                self._ids.setdefault(receipt.transaction_id, (height, position))
            for key, value in record.writes.items():
                if value is None:
                    self._state.pop(key, None)
                    self._heights.pop(key, None)
                else:
                    self._state[key] = value
                    self._heights[key] = height
            if record.log_position is not None:
                self._log_position = record.log_position
                self._log_positions[height] = record.log_position

    def log_position(self) -> int:
        return self._log_position

    def log_position_at(self, height: int) -> int | None:
        with self._lock:
            if height in self._log_positions:
                return self._log_positions[height]
            known = 0 <= height < len(self._blocks)
            return 0 if known and not self._log_positions else None

    def block(self, height: int) -> Block | None:
        with self._lock:
            return self._blocks[height] if 0 <= height < len(self._blocks) else None

    def blocks(self) -> Iterator[Block]:
        yield from list(self._blocks)

    def receipts(self, height: int) -> list[Receipt]:
        with self._lock:
            return list(self._receipts[height]) if 0 <= height < len(self._receipts) else []

    def find_transaction(self, transaction_id: bytes) -> TransactionLocation | None:
        with self._lock:
            found = self._ids.get(transaction_id)
            if found is None:
                return None
            height, position = found
            return TransactionLocation(height, position, self._receipts[height][position])

    def has_transaction(self, transaction_id: bytes) -> bool:
        return transaction_id in self._ids

    def transactions_of(self, sender: str, limit: int) -> list[tuple[int, int, bytes, int]]:
        found: list[tuple[int, int, bytes, int]] = []
        with self._lock:
            for height in range(len(self._blocks) - 1, -1, -1):
                senders = self._senders[height]
                for position in range(len(senders) - 1, -1, -1):
                    if senders[position] == sender:
                        receipt = self._receipts[height][position]
                        found.append((height, position, receipt.transaction_id, receipt.code))
                        if len(found) >= limit:
                            return found
        return found

    def block_rows(self, first: int, limit: int) -> list[tuple[int, bytes, bytes]]:
        with self._lock:
            blocks = self._blocks[max(0, first) : max(0, first) + limit]
            return [
                (block.header.height, block_hash(block.header), encode_block(block))
                for block in blocks
            ]

    def receipt_rows(self, first: int, last: int) -> list[tuple[int, int, bytes, int, bytes]]:
        with self._lock:
            return [
                (height, position, receipt.transaction_id, receipt.code, encode_receipt(receipt))
                for height in range(max(0, first), min(last + 1, len(self._receipts)))
                for position, receipt in enumerate(self._receipts[height])
            ]

    def highest_receipt_height(self) -> int | None:
        with self._lock:
            heights = [h for h, receipts in enumerate(self._receipts) if receipts]
        return max(heights, default=None)

    def close(self) -> None:
        return None
