"""The node: mempool, block cutting, execution, storage and queries, without I/O loops.

`Node` is synchronous and thread-safe. It is driven either by the solo
ordering service (``node/service.py``: cuts a block when enough transactions
are pending or a timeout after the first one), or directly, by a simulation
that calls `cut_block` with its own clock so that runs are reproducible.

Committing a block: build it from the oldest pending transactions (executing
them on the current state), store block + receipts + state writes in one
storage transaction, then make the new state current and tell listeners.
"""

from __future__ import annotations

import fcntl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from gridledger.contracts import Registry, default_registry
from gridledger.ledger import (
    Block,
    BlockHeader,
    DuplicateTransaction,
    Ed25519Authorization,
    Genesis,
    LedgerError,
    NonceMismatch,
    Receipt,
    SignedTransaction,
    State,
    TransactionError,
    block_hash,
    build_block,
    commit_execution,
    genesis_block,
    genesis_hash,
    key_address,
    multisig_signers,
    read_nonce,
    transaction_id,
)
from gridledger.node.acknowledged import (
    AcknowledgedHeight,
    Mark,
    acknowledged_path,
    check_acknowledged,
)
from gridledger.node.checkpoints import CHECKPOINT_PAGES
from gridledger.node.errors import CorruptChain, MempoolFull, StorageError
from gridledger.node.integrity import check_chain
from gridledger.node.memory_storage import MemoryStorage
from gridledger.node.mempool import Mempool, PendingTransaction
from gridledger.node.ordering import check_block_limits
from gridledger.node.state_sums import load_checked_state, start_early
from gridledger.node.storage import SQLiteStorage
from gridledger.node.storage_interface import BlockRecord, Storage
from gridledger.node.verifier import Verifier

CHECKED_LIMIT = 200_000
"""Admitted transactions remembered so their commit need not check them again."""


@dataclass(frozen=True, slots=True)
class CutterConfig:
    """When the solo cutter closes a block (Fabric's BatchSize and BatchTimeout)."""

    max_transactions: int = 2000
    max_bytes: int = 4 * 1024 * 1024
    timeout_ms: int = 100
    """Milliseconds after the first pending transaction before a block is cut anyway."""

    def __post_init__(self) -> None:
        check_block_limits(self.max_transactions, self.max_bytes, self.timeout_ms)


@dataclass(frozen=True, slots=True)
class CommittedBlock:
    block: Block
    hash: bytes
    receipts: list[Receipt]
    senders: list[str]


@dataclass(frozen=True, slots=True)
class Admission:
    """The outcome of submitting one transaction: its id, and the error if refused."""

    transaction_id: bytes
    error: TransactionError | MempoolFull | None = None
    """Why it was refused: a `TransactionError`, or `MempoolFull` (retry later)."""
    sender: str = ""
    """The address of a refused transaction's sender, when its signature verified (an
    accepted one's is not looked up: admission is the hot path)."""


Listener = Callable[[CommittedBlock], None]


def acquire_writer_lock(path: Path) -> IO[bytes]:
    """Take the exclusive lock beside a chain file, or raise `StorageError` if it is taken."""
    lock_path = path.with_name(path.name + ".lock")
    handle = open(lock_path, "wb")  # noqa: SIM115 - held open for the node's lifetime
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as error:
        handle.close()
        raise StorageError(
            str(path),
            "another process (a running node?) has this chain open; "
            "stop it, or talk to it with --url",
        ) from error
    return handle


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class Node:
    storage: Storage
    registry: Registry
    state: State
    head: BlockHeader
    genesis: Genesis
    cutter: CutterConfig = field(default_factory=CutterConfig)
    mempool: Mempool = field(default_factory=Mempool)
    clock_ms: Callable[[], int] = wall_clock_ms
    listeners: list[Listener] = field(default_factory=list)
    writer_lock: IO[bytes] | None = None
    """The open lock file of a chain opened by `open_path` (released by `close`)."""
    acknowledged: AcknowledgedHeight | None = None
    """Where a chain opened by `open_path` records its newest committed block."""

    def __post_init__(self) -> None:
        self.verifier = Verifier(self.genesis.chain_id)
        # a served node expands the state hash's entries in its verify workers too
        self.state.lane_summer = self.verifier.lane_sums
        self._commit_lock = threading.Lock()
        self.state_lock = threading.RLock()
        """Held while a block's writes are applied; hold it to read several keys consistently."""
        self.head_hash = block_hash(self.head)
        self._checked: OrderedDict[bytes, SignedTransaction] = OrderedDict()
        """Transactions that passed the stateless checks at admission (nats ordering), by id."""
        self._checked_lock = threading.Lock()

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def create(
        cls, storage: Storage, genesis: Genesis, registry: Registry | None = None, **options: Any
    ) -> Node:
        """Start a new chain from `genesis` in an empty `storage`."""
        registry = registry or default_registry()
        if storage.head() is not None:
            raise StorageError(getattr(storage, "path", "?"), "already holds a chain")
        block0, state = genesis_block(genesis, registry)
        storage.initialise(genesis, block0, dict(state.items()))
        return cls(storage, registry, state, block0.header, genesis, **options)

    @classmethod
    def open(cls, storage: Storage, registry: Registry | None = None, **options: Any) -> Node:
        """Resume from what `storage` holds: the last committed block and its state."""
        registry = registry or default_registry()
        path = str(getattr(storage, "path", "?"))
        with start_early(storage) as summer:  # its workers start while the chain is checked
            try:
                genesis = storage.genesis()
            except LedgerError as error:
                raise CorruptChain(
                    0, f"the genesis document does not decode ({error})", path
                ) from error
            if genesis is None:
                if storage.block_rows(0, 1):
                    raise CorruptChain(0, "no genesis document is stored", path)
                raise StorageError(path, "holds no chain; run `gridledger init`")
            head = cls.check_stored_chain(storage, genesis)
            state = load_checked_state(storage, summer)
        if state.state_hash() != head.state_hash:
            raise StorageError(
                path,
                f"stored state does not match block {head.height}'s state hash; "
                "run `gridledger verify` to find the damage",
            )
        return cls(storage, registry, state, head, genesis, **options)

    @staticmethod
    def check_stored_chain(storage: Storage, genesis: Genesis) -> BlockHeader:
        """Check the stored blocks' hashes and roots (`node.integrity`); return the head.

        Raises `CorruptChain` naming the chain file and the first bad or missing height.
        """
        try:
            checked = check_chain(storage, genesis.chain_id, genesis_hash(genesis), storage.base())
        except CorruptChain as error:
            path = str(getattr(storage, "path", "?"))
            raise CorruptChain(error.height, error.reason, path) from error
        return checked.head

    @classmethod
    def open_path(
        cls,
        path: str | Path,
        genesis: Genesis | None = None,
        hold_lock: bool = True,
        accept_rollback: bool = False,
        checkpoint_pages: int = CHECKPOINT_PAGES,
        **options: Any,
    ) -> Node:
        """Open the SQLite chain at `path`, creating it from `genesis` if it is empty.

        The node holds ``<path>.lock`` until it is closed: one chain file has one
        writer, so a second process (a node, or an offline CLI command) cannot
        append a competing block while a node runs. A short-lived command passes
        ``hold_lock=False``: it only checks that no node holds the lock.

        The newest committed block is recorded beside the chain (`node.acknowledged`);
        a chain file that lost acknowledged blocks is refused with `ChainBehind`,
        unless `accept_rollback`, which records the loss and serves what is left.
        `checkpoint_pages`: how much write-ahead log SQLite gathers before it copies it
        into the chain file (`gridledger.node.checkpoints.CHECKPOINT_PAGES`).
        """
        accept = accept_rollback
        chain_path = Path(path)
        lock = acquire_writer_lock(chain_path)
        if not hold_lock:
            lock.close()
        acknowledged: AcknowledgedHeight | None = None
        node: Node | None = None
        try:
            try:
                acknowledged = AcknowledgedHeight(acknowledged_path(chain_path))
            except OSError as error:
                reason = f"cannot open its acknowledged height: {error}"
                raise StorageError(str(path), reason) from error
            storage = SQLiteStorage(path, checkpoint_pages)
            if storage.is_empty():
                if genesis is None:
                    raise StorageError(str(path), "holds no chain and no genesis was given")
                check_acknowledged(acknowledged, chain_path, None, storage.stored_hash, accept)
                node = cls.create(storage, genesis, **options)
            else:
                node = cls.open(storage, **options)
                head = Mark(node.head.height, node.head_hash)
                check_acknowledged(acknowledged, chain_path, head, storage.stored_hash, accept)
        except BaseException:
            if node is not None:
                node.close()
            if acknowledged is not None:
                acknowledged.close()
            lock.close()
            raise
        node.acknowledged = acknowledged
        if acknowledged.durable != Mark(node.head.height, node.head_hash):
            acknowledged.record(node.head.height, node.head_hash)
        node.writer_lock = lock if hold_lock else None
        return node

    @classmethod
    def in_memory(cls, genesis: Genesis, **options: Any) -> Node:
        return cls.create(MemoryStorage(), genesis, **options)

    @property
    def chain_id(self) -> str:
        return self.genesis.chain_id

    # -- submission ----------------------------------------------------------------------

    def submit_many(self, raws: Sequence[bytes]) -> list[Admission]:
        """Check and admit transactions (in order); one `Admission` per transaction."""
        outcomes = self.verifier.check(raws)
        ids = [transaction_id(raw) for raw in raws]
        committed = self._committed_among(
            [
                tx_id
                for tx_id, o in zip(ids, outcomes, strict=True)
                if not isinstance(o, TransactionError)
            ]
        )
        admissions: list[Admission] = []
        for tx_id, raw, outcome in zip(ids, raws, outcomes, strict=True):
            if isinstance(outcome, TransactionError):
                admissions.append(Admission(tx_id, outcome))
                continue
            try:
                self._admit(tx_id, raw, outcome, tx_id in committed)
            except (TransactionError, MempoolFull) as error:
                admissions.append(Admission(tx_id, error, key_address(outcome.transaction.sender)))
            else:
                admissions.append(Admission(tx_id))
        return admissions

    def submit(self, raw: bytes) -> bytes:
        """Admit one transaction and return its id; raise its `TransactionError` if refused."""
        admission = self.submit_many([raw])[0]
        if admission.error is not None:
            raise admission.error
        return admission.transaction_id

    def _committed_among(self, ids: list[bytes]) -> set[bytes]:
        """The ids among `ids` already in a stored block (one query for a batch when possible)."""
        if not ids:
            return set()
        among = getattr(self.storage, "committed_among", None)
        if among is not None:
            return set(among(ids))
        return {tx_id for tx_id in ids if self.storage.has_transaction(tx_id)}

    def _admit(
        self, tx_id: bytes, raw: bytes, signed: SignedTransaction, committed: bool | None = None
    ) -> None:
        body = signed.transaction
        sender = key_address(body.sender)
        if committed is None:
            committed = self.storage.has_transaction(tx_id)
        if committed or self.mempool.contains(tx_id):
            raise DuplicateTransaction(tx_id.hex())
        state = self.state
        committed_nonce = read_nonce(state, sender)
        if body.nonce < committed_nonce:
            raise NonceMismatch(sender, expected=committed_nonce, got=body.nonce)
        if type(signed.authorization) is not Ed25519Authorization:
            multisig_signers(state, signed, sender)
        call = (body.contract, body.method, body.args)
        outstanding = self.mempool.outstanding(sender)
        self.registry.admit(state, sender, body.sender, call, outstanding)
        self.mempool.add(
            PendingTransaction(tx_id, raw, signed, sender), lambda: read_nonce(self.state, sender)
        )

    # -- block cutting -------------------------------------------------------------------

    def cut_block(self, timestamp_ms: int | None = None) -> CommittedBlock | None:
        """Cut, execute, store and commit one block of pending transactions (None if none)."""
        with self._commit_lock:
            taken = self.mempool.take(self.cutter.max_transactions, self.cutter.max_bytes)
            if not taken:
                return None
            return self._commit(taken, self.clock_ms() if timestamp_ms is None else timestamp_ms)

    def cut_empty_block(self, timestamp_ms: int) -> CommittedBlock:
        """Commit a block with no transactions: moves block time forward (simulations)."""
        with self._commit_lock:
            return self._commit([], timestamp_ms)

    def _commit(self, taken: list[PendingTransaction], timestamp_ms: int) -> CommittedBlock:
        committed = self._store(
            [p.raw for p in taken],
            [p.signed for p in taken],
            [p.sender for p in taken],
            timestamp_ms,
        )
        self.mempool.committed(taken)
        return self._tell(committed)

    # -- ordered by a log (nats ordering, node/ordering.py) -------------------------------

    def check_for_ordering(self, raws: Sequence[bytes]) -> list[Admission]:
        """Admission before publishing to the ordering log: the stateless checks, and a refusal
        of what can never commit (already committed, or a nonce the sender has used) or must
        not be written (`Registry.admit`: a sender who may not call the method).

        Nonce gaps are allowed: other peers publish too, and the log decides the order.
        """
        outcomes = self.verifier.check(raws)
        ids = [transaction_id(raw) for raw in raws]
        committed = self._committed_among(
            [i for i, o in zip(ids, outcomes, strict=True) if not isinstance(o, TransactionError)]
        )
        admissions: list[Admission] = []
        with self._checked_lock:
            for tx_id, outcome in zip(ids, outcomes, strict=True):
                if not isinstance(outcome, TransactionError):
                    self._checked[tx_id] = outcome
            while len(self._checked) > CHECKED_LIMIT:
                self._checked.popitem(last=False)
        for tx_id, outcome in zip(ids, outcomes, strict=True):
            if isinstance(outcome, TransactionError):
                admissions.append(Admission(tx_id, outcome))
                continue
            sender = key_address(outcome.transaction.sender)
            if tx_id in committed:
                admissions.append(Admission(tx_id, DuplicateTransaction(tx_id.hex()), sender))
                continue
            used = read_nonce(self.state, sender)
            if outcome.transaction.nonce < used:
                error = NonceMismatch(sender, expected=used, got=outcome.transaction.nonce)
                admissions.append(Admission(tx_id, error, sender))
                continue
            body = outcome.transaction
            try:
                multisig_signers(self.state, outcome, sender)
                self.registry.admit(
                    self.state, sender, body.sender, (body.contract, body.method, body.args)
                )
            except TransactionError as error:
                admissions.append(Admission(tx_id, error, sender))
                continue
            admissions.append(Admission(tx_id))
        return admissions

    def commit_ordered(
        self, raws: Sequence[bytes], timestamp_ms: int, log_position: int
    ) -> CommittedBlock:
        """Execute, store and commit the block the ordering log closed at `log_position`."""
        with self._commit_lock:
            # what this peer checked at admission is not checked again (same bytes, same id)
            with self._checked_lock:
                known = [self._checked.pop(transaction_id(raw), None) for raw in raws]
            unknown = [raw for raw, k in zip(raws, known, strict=True) if k is None]
            fresh = iter(self.verifier.check(unknown) if unknown else [])
            outcomes = [next(fresh) if k is None else k for k in known]
            senders = [
                "" if isinstance(o, TransactionError) else key_address(o.transaction.sender)
                for o in outcomes
            ]
            committed = self._store(list(raws), outcomes, senders, timestamp_ms, log_position)
        return self._tell(committed)

    def _store(
        self,
        raws: list[bytes],
        prevalidated: Sequence[SignedTransaction | TransactionError],
        senders: list[str],
        timestamp_ms: int,
        log_position: int | None = None,
    ) -> CommittedBlock:
        block, execution = build_block(
            self.state, self.head, raws, timestamp_ms, self.registry, prevalidated
        )
        new_hash = block_hash(block.header)
        self.storage.append_block(
            BlockRecord(
                block,
                new_hash,
                execution.receipts,
                senders,
                execution.writes,
                log_position,
                execution.receipt_bytes,
            )
        )
        with self.state_lock:  # readers see the state before or after a block, never within
            commit_execution(self.state, execution)
            self.head = block.header
            self.head_hash = new_hash
        if self.acknowledged is not None:  # before any listener acknowledges the block
            self.acknowledged.record(block.header.height, new_hash)
        return CommittedBlock(block, new_hash, execution.receipts, senders)

    def _tell(self, committed: CommittedBlock) -> CommittedBlock:
        for listener in list(self.listeners):
            listener(committed)
        return committed

    def close(self) -> None:
        """Release the verifier, the storage and the writer lock (safe to call twice)."""
        if getattr(self, "_closed", False):
            return
        self._closed = True
        self.verifier.close()
        if self.acknowledged is not None:
            self.acknowledged.close()
        self.storage.close()
        if self.writer_lock is not None:
            self.writer_lock.close()
            self.writer_lock = None
