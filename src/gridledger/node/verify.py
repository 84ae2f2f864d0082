"""Re-verify a stored chain from genesis: `verify_storage`.

Anyone holding a copy of the chain can check it without trusting whoever
wrote it. For every block: the stored hash is the hash of the stored header,
the header follows its parent, every transaction is re-checked (signature,
nonce, membership) and re-executed, and the receipts and state hash it
produces equal the ones recorded. At the end, the stored state tables must
equal the replayed state entry by entry. The first disagreement is reported
with the height of the block it belongs to.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from gridledger.contracts import Registry, default_registry
from gridledger.ledger import (
    Block,
    BlockError,
    BlockHeader,
    LedgerError,
    Receipt,
    State,
    block_hash,
    genesis_block,
)
from gridledger.ledger.execution import Replayed, check_state_hash, replay_block
from gridledger.ledger.state import LaneVector, lane_sums_remembered
from gridledger.node.archive import Archive, ArchivedBlock
from gridledger.node.errors import CorruptChain, StorageError
from gridledger.node.stateless_checks import Outcome
from gridledger.node.storage import SQLiteStorage
from gridledger.node.stored_forms import receipt_tail
from gridledger.node.verifier import PendingCheck, PendingSums, Verifier


@dataclass(frozen=True, slots=True)
class VerifyReport:
    height: int
    """Height of the last verified block."""
    transactions: int
    head_hash: bytes
    state_hash: bytes


log = logging.getLogger("gridledger.verify")

PROCESSES_FROM = 2_000
"""Transactions in a chain from which `verify_storage` checks signatures in worker
processes (starting them takes a second or two; below this, threads check them)."""
LOOKAHEAD_BLOCKS = 12
"""Blocks read and checked ahead of the one being replayed (a block holds at most 8 MiB;
the 1,000-household day's blocks hold ~430 transactions, ~150 KiB)."""
SUMS_PENDING_BLOCKS = 3 * LOOKAHEAD_BLOCKS
"""Replayed blocks whose state hash may wait for its lane sums before the replay waits.

The workers take tasks in the order given: a block's sums come after the signature
checks of the `LOOKAHEAD_BLOCKS` blocks submitted before them, so waiting for them
at once (as the node does) would leave the replay idle that long."""


class ArchiveNeeded(StorageError):
    """A pruned chain (or one started from a snapshot) verified without its archive."""

    def __init__(self, path: str, base: int) -> None:
        self.base = base
        super().__init__(
            path,
            f"blocks 0-{base} are not in this file (archived, or before the snapshot it "
            "started from); pass --archive DIR to verify from genesis",
        )


class ChainSource:
    """The blocks to verify: archived ones (up to the chain file's base) from `archive`,
    the rest from `storage`."""

    def __init__(self, storage: SQLiteStorage, archive: Archive | None) -> None:
        self.storage = storage
        self.archive = archive
        base = storage.base()
        self.base_height = -1 if base is None else base.height
        if base is not None and archive is None:
            raise ArchiveNeeded(storage.path, base.height)

    def _archived(self, height: int) -> ArchivedBlock | None:
        if self.archive is None or height > self.base_height:
            return None
        record = self.archive.record(height)
        if record is None:
            raise CorruptChain(height, f"archived, and missing from {self.archive.directory}")
        return record

    def block(self, height: int) -> Block | None:
        if self._archived(height) is not None:
            assert self.archive is not None
            return self.archive.block(height)
        return self.storage.block(height)

    def stored_hash(self, height: int) -> bytes | None:
        record = self._archived(height)
        return record.hash if record is not None else self.storage.stored_hash(height)

    def receipt_bytes(self, height: int) -> list[bytes]:
        record = self._archived(height)
        return record.receipts if record is not None else self.storage.receipt_bytes(height)

    def receipt_tails(self, height: int) -> list[bytes] | None:
        """The stored receipts of a stored block without ids and codes (None for an
        archived one: its receipts are whole, `receipt_bytes`)."""
        if self._archived(height) is not None:
            return None
        return self.storage.receipt_tails(height)

    def transaction_index(self, height: int) -> list[tuple[int, bytes, int]] | None:
        """The live index of a stored block (None for an archived one: it has none)."""
        if self._archived(height) is not None:
            return None
        return self.storage.transaction_index(height)

    def next_height(self, after: int) -> int | None:
        return self.storage.next_height(after)


def verify_storage(
    storage: SQLiteStorage,
    registry: Registry | None = None,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
    archive: Archive | None = None,
) -> VerifyReport:
    """Replay the stored chain from its genesis; raise `CorruptChain` naming the first bad block.

    As the node does: the stateless checks of each block's transactions (decoding,
    chain, key, Ed25519 signature) run in parallel ahead of the replay, in the node's
    `Verifier` (worker processes for a chain of `PROCESSES_FROM` transactions or more,
    on `workers` cores, default all up to 4), and the state hash's lane sums go to the
    same workers; the replay itself runs in block order, as every peer runs it.

    Nothing waits for a round trip to the workers: blocks' checks are queued
    `LOOKAHEAD_BLOCKS` ahead, and a block's lane sums are settled (its state hash
    checked) up to `SUMS_PENDING_BLOCKS` blocks after it replayed, in block order. A
    block found bad meanwhile is reported only once every earlier block's hash has been
    checked, so the first bad block is still the one named.

    A chain file whose older blocks were archived (or that started from a snapshot)
    needs its `archive`: those blocks are read from there (`ArchiveNeeded` otherwise).
    """
    registry = registry or default_registry()
    source = ChainSource(storage, archive)
    try:
        genesis = storage.genesis()
    except LedgerError as error:
        raise CorruptChain(0, f"genesis document unreadable: {error}") from error
    if genesis is None:
        raise CorruptChain(0, "no genesis document stored")
    block0, state = genesis_block(genesis, registry)
    verifier = Verifier(genesis.chain_id, workers)
    try:
        large = archive is not None or storage.transaction_count() >= PROCESSES_FROM
        if verifier.workers > 1 and large:
            try:
                verifier.start_processes_and_wait()
            except (TimeoutError, OSError) as error:  # threads check the signatures instead
                log.warning("verify: no worker processes (%s); checking in threads", error)
        return _replay(source, registry, block0, state, verifier, progress)
    finally:
        verifier.close()


def _replay(
    source: ChainSource,
    registry: Registry,
    block0: Block,
    state: State,
    verifier: Verifier,
    progress: Callable[[int], None] | None,
) -> VerifyReport:
    parent = block0.header
    transactions = 0
    height = -1
    owed: deque[OwedHash] = deque()
    try:
        for block, outcomes in _checked_blocks(source, verifier):
            height = block.header.height
            stored_hash = source.stored_hash(height)
            if stored_hash != block_hash(block.header):
                raise CorruptChain(height, "stored block hash is not the hash of the stored header")
            if height == 0:
                if block_hash(block.header) != block_hash(block0.header):
                    raise CorruptChain(0, "block 0 does not match the genesis document")
                continue
            if height != parent.height + 1:
                raise CorruptChain(parent.height + 1, f"missing; next stored block is {height}")
            try:
                replayed = replay_block(state, parent, block, registry, outcomes)
            except BlockError as error:
                raise _corrupt(height, error) from error
            owed.append(_sum_lanes(verifier, block.header, replayed))
            _check_receipts(source, height, replayed.receipts, replayed.receipt_bytes)
            _settle(state, owed, SUMS_PENDING_BLOCKS)
            transactions += len(block.transactions)
            parent = block.header
            if progress is not None:
                progress(height)
    except CorruptChain:
        _settle(state, owed, 0)  # a wrong state hash in an earlier block is reported first
        raise
    _settle(state, owed, 0)
    if height < 0:
        raise CorruptChain(0, "no blocks stored")
    _compare_state(source.storage, dict(state.items()), parent.height)
    return VerifyReport(parent.height, transactions, block_hash(parent), state.state_hash())


@dataclass(frozen=True, slots=True)
class OwedHash:
    """A replayed block whose state hash waits for its lane sums."""

    header: BlockHeader
    sums: PendingSums | tuple[LaneVector, LaneVector]
    """Being summed in the worker processes, or summed here already."""


def _sum_lanes(verifier: Verifier, header: BlockHeader, replayed: Replayed) -> OwedHash:
    """Start summing the lanes of what a block added and removed (in the workers, while
    the next blocks replay; here if none run)."""
    pending = verifier.submit_lane_sums(replayed.added, replayed.removed)
    if pending is None:
        return OwedHash(header, lane_sums_remembered(replayed.added, replayed.removed))
    return OwedHash(header, pending)


def _settle(state: State, owed: deque[OwedHash], keep: int) -> None:
    """Settle the owed blocks' lane sums, oldest first, and check each block's state hash:
    every block whose sums are ready, and as many more (waiting) as leave `keep` owed."""
    while owed:
        first = owed[0]
        sums = first.sums
        if isinstance(sums, PendingSums):
            if len(owed) <= keep and not sums.done():
                return
            sums = sums.sums()
        owed.popleft()
        try:
            check_state_hash(first.header, state.settle(*sums))
        except BlockError as error:
            owed.clear()
            raise _corrupt(first.header.height, error) from error


def _corrupt(height: int, error: BlockError) -> CorruptChain:
    return CorruptChain(height, str(error).removeprefix(f"block {height}: "))


def _checked_blocks(
    source: ChainSource, verifier: Verifier
) -> Iterator[tuple[Block, list[Outcome]]]:
    """Each stored block in height order with its transactions' stateless outcomes.

    Blocks are read and decompressed `LOOKAHEAD_BLOCKS` ahead in a thread, which hands
    their transactions to the verifier's worker processes without waiting (or checks
    them itself, in threads, when none run), while the caller replays; the outcomes
    of a block are collected when its turn comes. An error reading a block is raised
    when its turn comes.
    """

    def read_and_submit(height: int) -> tuple[Block, PendingCheck | list[Outcome]] | None:
        block = _read_block(source, height)
        if block is None:
            return None
        return block, verifier.submit_check(block.transactions) if block.transactions else []

    ahead: deque[Future[tuple[Block, PendingCheck | list[Outcome]] | None]] = deque()
    with ThreadPoolExecutor(1, thread_name_prefix="verify-read") as reader:
        height = 0
        while True:
            while len(ahead) < LOOKAHEAD_BLOCKS:
                ahead.append(reader.submit(read_and_submit, height + len(ahead)))
            found = ahead.popleft().result()
            if found is None:
                for pending in ahead:
                    pending.cancel()
                following = source.next_height(height)
                if following is not None:
                    raise CorruptChain(height, f"missing (the next stored block is {following})")
                return
            block, checked = found
            yield block, checked.outcomes() if isinstance(checked, PendingCheck) else checked
            height += 1


def _read_block(source: ChainSource, height: int) -> Block | None:
    try:
        block = source.block(height)
    except LedgerError as error:
        raise CorruptChain(height, f"stored block does not decode: {error}") from error
    if block is not None and block.header.height != height:
        raise CorruptChain(height, f"stored under height {height} but says {block.header.height}")
    return block


def _compare_state(
    storage: SQLiteStorage, replayed: dict[tuple[str, str], bytes], head_height: int
) -> None:
    rows = storage.state_rows()
    stored = {key: value for key, (value, _) in rows.items()}
    if stored == replayed:  # the usual case, in one comparison; else find the first entry
        return
    heights = {key: height for key, (_, height) in rows.items()}
    bad: list[tuple[int, str]] = []
    for key in sorted(set(stored) | set(replayed)):
        if stored.get(key) != replayed.get(key):
            what = (
                "altered"
                if key in stored and key in replayed
                else ("added" if key in stored else "missing")
            )
            height = heights.get(key, head_height)
            bad.append((height, f"state entry {key[0]}/{key[1]} is {what} in the stored state"))
    if bad:
        height, reason = min(bad)
        raise CorruptChain(height, reason)


def _check_receipts(
    source: ChainSource, height: int, receipts: list[Receipt], replayed: list[bytes]
) -> None:
    """The stored receipts and the transaction index must agree with the replay.

    A stored block's receipts are stored without their ids and codes (the block's
    transactions give the ids, the index the codes): once the index agrees with the
    replay, the stored tails equal to the replayed receipts' tails is the stored
    receipts equal to the replayed ones, without rebuilding them (and hashing every
    transaction again) to compare.
    """
    rows = source.transaction_index(height)
    if rows is not None:
        if len(rows) != len(receipts):
            raise CorruptChain(
                height, f"{len(rows)} transactions indexed, {len(receipts)} replayed"
            )
        for (position, tx_id, code), receipt in zip(rows, receipts, strict=True):
            if tx_id != receipt.transaction_id[: len(tx_id)] or code != receipt.code:
                raise CorruptChain(
                    height, f"transaction index entry {position} differs from replay"
                )
        tails = source.receipt_tails(height)
        if tails is not None:
            _compare_receipts(height, tails, [receipt_tail(raw) for raw in replayed])
            return
    _compare_receipts(height, source.receipt_bytes(height), replayed)


def _compare_receipts(height: int, stored: list[bytes], replayed: list[bytes]) -> None:
    if stored != replayed:
        for position, (mine, theirs) in enumerate(zip(replayed, stored, strict=False)):
            if mine != theirs:
                raise CorruptChain(height, f"stored receipt {position} differs from replay")
        raise CorruptChain(height, f"{len(stored)} receipts stored, {len(replayed)} replayed")
