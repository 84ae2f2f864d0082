"""Blocks as the ordering log dictates them: the rule every peer applies the same way.

In ``nats`` ordering mode the ordering service is a replicated log (a
JetStream stream). Peers publish two kinds of entries to it:

- a transaction: the raw signed bytes, with message id = transaction id, so a
  resubmission within JetStream's duplicate window is stored once;
- a cut marker "close block h", which any peer may publish when its open block
  has waited `OrderingRules.timeout_ms`; its message id ``cut-<chain>-<h>``
  collapses the markers of several peers into one.

Every peer reads the same log from the same place and folds it through
`BlockAssembler`, so block boundaries are a function of the log alone and any
number of cutters cannot fork the chain. The rule, per entry in log order:

1. A transaction already committed, or already in the open block, is skipped
   (a resubmission past the duplicate window is never applied twice).
2. A transaction that would take the open block past `max_bytes` first closes
   the open block; its timestamp is that of the block's last entry.
3. The transaction joins the open block; at `max_transactions` the block closes,
   with this entry's timestamp.
4. A marker for the open block's height closes it (if it holds anything) with
   the marker's timestamp; a marker for any other height is stale and ignored.

A block's timestamp is the log's (the stream leader's) store time of its
closing entry, in milliseconds, made monotonic by `build_block`. A closed block
carries the log sequence of its closing entry: the peer stores it with the
block, in the same database transaction, and after a restart reads the log
from the next sequence: every entry after it belongs to the next block, so a
peer that was down, or joins late, rebuilds exactly the same blocks.

`MemoryLog` is an in-memory `OrderingLog` for tests and single-process runs;
`gridledger.node.nats_ordering.NatsLog` is the JetStream one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from gridledger.crypto import sha256
from gridledger.ledger.encoding import MAX_BLOCK_BYTES
from gridledger.node.errors import NodeError

TRANSACTION = "tx"
CUT = "cut"


class OrderingUnavailable(NodeError):
    """The ordering service did not acknowledge a publish in time; retry later."""

    def __init__(self, what: str, reason: str) -> None:
        self.what = what
        self.reason = reason
        super().__init__(f"ordering service unavailable for {what}: {reason}; retry later")


@dataclass(frozen=True, slots=True)
class OrderingRules:
    """When a block closes; every peer of a network must use the same values."""

    max_transactions: int = 2000
    max_bytes: int = 4 * 1024 * 1024
    """Sum of the raw transaction bytes of one block."""
    timeout_ms: int = 100
    """Milliseconds a peer lets its open block wait before it publishes a cut marker."""

    def __post_init__(self) -> None:
        check_block_limits(self.max_transactions, self.max_bytes, self.timeout_ms)


def check_block_limits(max_transactions: int, max_bytes: int, timeout_ms: int) -> None:
    """Raise `ValueError` naming the first block limit out of range.

    Shared by the solo cutter and the log's cut rule: a block of more than
    `MAX_BLOCK_BYTES` could be cut but never decoded, by any peer.
    """
    if max_transactions < 1:
        raise ValueError(f"max_transactions must be at least 1, got {max_transactions}")
    if not 1024 <= max_bytes <= MAX_BLOCK_BYTES:
        raise ValueError(f"max_bytes must be 1024..{MAX_BLOCK_BYTES}, got {max_bytes}")
    if timeout_ms < 1:
        raise ValueError(f"timeout_ms must be at least 1, got {timeout_ms}")


class LogEntry(NamedTuple):
    """One entry of the ordering log as a peer reads it (a tuple: a peer makes one per entry)."""

    sequence: int
    """Position in the log, from 1."""
    timestamp_ms: int
    """When the log stored it (the stream leader's clock), ms since the Unix epoch."""
    kind: str
    """`TRANSACTION` or `CUT`."""
    payload: bytes
    """The raw transaction, or the ASCII height a marker closes."""


@dataclass(frozen=True, slots=True)
class BlockCut:
    """A block the log has closed: its transactions, timestamp and closing log position."""

    height: int
    transactions: list[bytes]
    timestamp_ms: int
    last_sequence: int


def cut_message_id(chain_id: str, height: int) -> str:
    """The message id of a marker: one stored marker per height within the duplicate window."""
    return f"cut-{chain_id}-{height}"


def marker_payload(height: int) -> bytes:
    return str(height).encode("ascii")


def marker_height(payload: bytes) -> int | None:
    """The height a marker closes, or None for a payload that is not one (ignored)."""
    text = payload.decode("ascii", errors="replace")
    return int(text) if text.isdigit() and len(text) < 20 else None


@dataclass
class BlockAssembler:
    """Folds log entries into blocks by the rule in this module's docstring."""

    rules: OrderingRules
    height: int
    """The height of the open block (the head's height + 1)."""
    is_committed: Callable[[bytes], bool]
    """Whether a transaction id is in a committed block."""
    transactions: list[bytes] = field(default_factory=list)
    ids: set[bytes] = field(default_factory=set)
    size: int = 0
    last_sequence: int = 0
    last_timestamp_ms: int = 0

    def apply(self, entry: LogEntry) -> list[BlockCut]:
        """Apply one entry; return the blocks it closes (none, one, or two)."""
        if entry.kind == CUT:
            if marker_height(entry.payload) == self.height and self.transactions:
                return [self._close(entry.sequence, entry.timestamp_ms)]
            return []
        if entry.kind != TRANSACTION:
            return []
        raw = entry.payload
        tx_id = sha256(raw)
        if tx_id in self.ids or self.is_committed(tx_id):
            return []
        cuts: list[BlockCut] = []
        if self.transactions and self.size + len(raw) > self.rules.max_bytes:
            cuts.append(self._close(self.last_sequence, self.last_timestamp_ms))
        self.transactions.append(raw)
        self.ids.add(tx_id)
        self.size += len(raw)
        self.last_sequence = entry.sequence
        self.last_timestamp_ms = entry.timestamp_ms
        if len(self.transactions) >= self.rules.max_transactions:
            cuts.append(self._close(entry.sequence, entry.timestamp_ms))
        return cuts

    def apply_all(
        self,
        entries: Sequence[LogEntry],
        committed_among: Callable[[list[bytes]], set[bytes]] | None = None,
    ) -> list[BlockCut]:
        """Apply `entries` in order; return the blocks they close.

        The same blocks as `apply` entry by entry with every closed block committed before
        the next entry: `committed_among(ids)` (the ids among them already committed) is
        asked once for the whole list, and a block closed within the list counts as
        committed for the entries after it.
        """
        ids = [sha256(e.payload) if e.kind == TRANSACTION else b"" for e in entries]
        if committed_among is not None:
            committed = committed_among([i for i in ids if i])
        else:
            committed = {i for i in ids if i and self.is_committed(i)}
        cuts: list[BlockCut] = []
        max_bytes = self.rules.max_bytes
        max_transactions = self.rules.max_transactions
        for entry, tx_id in zip(entries, ids, strict=True):
            if not tx_id:
                closes = entry.kind == CUT and marker_height(entry.payload) == self.height
                if closes and self.transactions:
                    committed.update(self.ids)
                    cuts.append(self._close(entry.sequence, entry.timestamp_ms))
                continue
            if tx_id in self.ids or tx_id in committed:
                continue
            raw = entry.payload
            if self.transactions and self.size + len(raw) > max_bytes:
                committed.update(self.ids)
                cuts.append(self._close(self.last_sequence, self.last_timestamp_ms))
            self.transactions.append(raw)
            self.ids.add(tx_id)
            self.size += len(raw)
            self.last_sequence = entry.sequence
            self.last_timestamp_ms = entry.timestamp_ms
            if len(self.transactions) >= max_transactions:
                committed.update(self.ids)
                cuts.append(self._close(entry.sequence, entry.timestamp_ms))
        return cuts

    @property
    def pending(self) -> int:
        return len(self.transactions)

    def _close(self, sequence: int, timestamp_ms: int) -> BlockCut:
        cut = BlockCut(self.height, self.transactions, timestamp_ms, sequence)
        self.height += 1
        self.transactions = []
        self.ids = set()
        self.size = 0
        return cut


class OrderingLog(Protocol):
    """The ordering service as a peer uses it (JetStream, or `MemoryLog`)."""

    async def connect(self) -> None:
        """Connect, and create the log if it does not exist yet."""

    async def publish_transactions(
        self, raws: Sequence[bytes], timeout_s: float | None = None
    ) -> None:
        """Append transactions in order; return once all are acknowledged.

        Raises `OrderingUnavailable` when the log does not acknowledge them in time (within
        `timeout_s` when given), or at once while it is known to be unavailable.
        """

    async def publish_cut(self, height: int) -> None:
        """Append a cut marker for `height` (collapsed with other peers' markers)."""

    def entries(self, start_sequence: int) -> AsyncIterator[LogEntry]:
        """Every entry from `start_sequence` on, in order, waiting for new ones forever."""
        ...

    def entry_batches(self, start_sequence: int) -> AsyncIterator[list[LogEntry]]:
        """`entries` as lists of consecutive entries (whatever has arrived; none empty)."""
        ...

    async def publish_attestation(self, peer: str, payload: bytes) -> None:
        """Publish a signed attestation of `peer` (best effort: a newer one supersedes it)."""

    def attestations(self) -> AsyncIterator[bytes]:
        """Recent attestations of every peer, then new ones as they come."""
        ...

    async def close(self) -> None: ...


class MemoryLog:
    """An `OrderingLog` in memory: one shared log, with duplicate suppression by message id."""

    def __init__(self, chain_id: str, clock_ms: Callable[[], int]) -> None:
        self.chain_id = chain_id
        self.clock_ms = clock_ms
        self.log: list[LogEntry] = []
        self.message_ids: set[str] = set()
        self.attestation_log: list[bytes] = []
        self._changed = asyncio.Condition()

    async def connect(self) -> None:
        return None

    async def _append(self, message_id: str, kind: str, payload: bytes) -> None:
        async with self._changed:
            if message_id in self.message_ids:
                return
            self.message_ids.add(message_id)
            self.log.append(LogEntry(len(self.log) + 1, self.clock_ms(), kind, payload))
            self._changed.notify_all()

    async def publish_transactions(
        self, raws: Sequence[bytes], timeout_s: float | None = None
    ) -> None:
        for raw in raws:
            await self._append(sha256(raw).hex(), TRANSACTION, raw)

    async def publish_cut(self, height: int) -> None:
        await self._append(cut_message_id(self.chain_id, height), CUT, marker_payload(height))

    async def entries(self, start_sequence: int) -> AsyncIterator[LogEntry]:
        async for batch in self.entry_batches(start_sequence):
            for entry in batch:
                yield entry

    async def entry_batches(self, start_sequence: int) -> AsyncIterator[list[LogEntry]]:
        position = max(start_sequence, 1)
        while True:
            async with self._changed:
                await self._changed.wait_for(lambda p=position: len(self.log) >= p)  # type: ignore[misc]
                batch = self.log[position - 1 :]
            yield batch
            position += len(batch)

    async def publish_attestation(self, peer: str, payload: bytes) -> None:
        async with self._changed:
            self.attestation_log.append(payload)
            self._changed.notify_all()

    async def attestations(self) -> AsyncIterator[bytes]:
        position = 0
        while True:
            async with self._changed:
                await self._changed.wait_for(
                    lambda p=position: len(self.attestation_log) > p  # type: ignore[misc]
                )
                batch = self.attestation_log[position:]
            for payload in batch:
                yield payload
            position += len(batch)

    async def close(self) -> None:
        return None
