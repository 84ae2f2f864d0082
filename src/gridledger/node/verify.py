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
    LedgerError,
    Receipt,
    State,
    apply_block,
    block_hash,
    genesis_block,
)
from gridledger.node.archive import Archive, ArchivedBlock
from gridledger.node.errors import CorruptChain, StorageError
from gridledger.node.storage import SQLiteStorage
from gridledger.node.verifier import Outcome, Verifier


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
LOOKAHEAD_BLOCKS = 8
"""Blocks read and checked ahead of the one being replayed (a block holds at most 8 MiB;
the 1,000-household day's blocks hold ~430 transactions, ~150 KiB)."""


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
                state.lane_summer = verifier.lane_sums
            except (TimeoutError, OSError) as error:  # threads check the signatures instead
                log.warning("verify: no worker processes (%s); checking in threads", error)
        return _replay(source, registry, block0, state, verifier, progress)
    finally:
        state.lane_summer = None
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
            execution = apply_block(state, parent, block, registry, outcomes)
        except BlockError as error:
            raise CorruptChain(height, str(error).removeprefix(f"block {height}: ")) from error
        _check_receipts(source, height, execution.receipts, execution.receipt_bytes)
        transactions += len(block.transactions)
        parent = block.header
        if progress is not None:
            progress(height)
    if height < 0:
        raise CorruptChain(0, "no blocks stored")
    _compare_state(source.storage, dict(state.items()), parent.height)
    return VerifyReport(parent.height, transactions, block_hash(parent), state.state_hash())


def _checked_blocks(
    source: ChainSource, verifier: Verifier
) -> Iterator[tuple[Block, list[Outcome]]]:
    """Each stored block in height order with its transactions' stateless outcomes.

    Blocks are read, decompressed and checked `LOOKAHEAD_BLOCKS` ahead in a thread (the
    signatures themselves in the verifier's workers) while the caller replays; an error
    reading a block is raised when its turn comes.
    """

    def read_and_check(height: int) -> tuple[Block, list[Outcome]] | None:
        block = _read_block(source, height)
        if block is None:
            return None
        return block, verifier.check(block.transactions) if block.transactions else []

    ahead: deque[Future[tuple[Block, list[Outcome]] | None]] = deque()
    with ThreadPoolExecutor(1, thread_name_prefix="verify-read") as reader:
        height = 0
        while True:
            while len(ahead) < LOOKAHEAD_BLOCKS:
                ahead.append(reader.submit(read_and_check, height + len(ahead)))
            found = ahead.popleft().result()
            if found is None:
                for pending in ahead:
                    pending.cancel()
                following = source.next_height(height)
                if following is not None:
                    raise CorruptChain(height, f"missing (the next stored block is {following})")
                return
            yield found
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
    """The stored receipts and the transaction index must agree with the replay."""
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
    stored = source.receipt_bytes(height)
    if stored != replayed:
        for position, (mine, theirs) in enumerate(zip(replayed, stored, strict=False)):
            if mine != theirs:
                raise CorruptChain(height, f"stored receipt {position} differs from replay")
        raise CorruptChain(height, f"{len(stored)} receipts stored, {len(replayed)} replayed")
