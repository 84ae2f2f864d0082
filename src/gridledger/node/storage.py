"""`SQLiteStorage`: a peer's chain and state in one SQLite file, and every write to it.

Opening and reading the file are `ChainFile`'s (`node.chain_file`); the state rows and
the transaction index are kept by `node.state_rows` and `node.transaction_index`.
`Storage` (`node.storage_interface`) is the small interface the node uses;
`MemoryStorage` implements it in memory for tests and throw-away simulations.

A block, its receipts and the state writes it produces are stored in one
SQLite transaction (``append_block``): after a crash at any point the file
holds either all of them or none, so a restarted peer resumes at the last
committed block and loses nothing that was reported as committed.
``synchronous=FULL`` makes the commit durable before it is acknowledged.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import msgspec

from gridledger.ledger import (
    Block,
    BlockHeader,
    Genesis,
    StateKey,
    dump_genesis,
    encode,
    encode_block,
)
from gridledger.node.chain_file import ChainFile
from gridledger.node.checkpoints import CHECKPOINT_PAGES
from gridledger.node.compression import Dictionary, Trainer
from gridledger.node.errors import StorageError
from gridledger.node.storage_interface import BlockRecord
from gridledger.node.stored_forms import receipt_tail


class SQLiteStorage(ChainFile):
    """A peer's chain and state in one SQLite file (WAL mode, synchronous=FULL).

    Reads are `ChainFile`'s; this class writes, each write in one SQLite transaction,
    and trains the compression dictionaries on what it stores (`compression.Trainer`).
    """

    def __init__(self, path: str | Path, checkpoint_pages: int = CHECKPOINT_PAGES) -> None:
        """Open (or create) the chain file at `path`; `checkpoint_pages`: see
        `CHECKPOINT_PAGES` (a smaller value checkpoints more often, a larger one less)."""
        super().__init__(path, checkpoint_pages)
        self._trainer = Trainer(self._codec, self._first("SELECT COUNT(*) FROM transactions"))

    # -- writing ---------------------------------------------------------------------

    def initialise(
        self, genesis: Genesis, block0: Block, entries: Mapping[StateKey, bytes]
    ) -> None:
        with self._lock:
            if self.head() is not None:
                raise StorageError(self.path, "already holds a chain")
            from gridledger.ledger import block_hash

            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("INSERT INTO meta VALUES ('genesis', ?)", (dump_genesis(genesis),))
                db.execute(
                    "INSERT INTO blocks VALUES (0, ?, ?, ?)",
                    (
                        block_hash(block0.header),
                        self._codec.pack("block", encode_block(block0)),
                        self._codec.pack("receipts", _TAILS_ENCODE([])),
                    ),
                )
                self._state.write(0, dict(entries))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def append_block(self, record: BlockRecord) -> None:
        height = record.block.header.height
        receipts, senders = record.receipts, record.senders
        encoded = record.receipt_bytes
        if encoded is None:
            encoded = [encode(r) for r in receipts]
        tails = [receipt_tail(raw) for raw in encoded]
        block_bytes = encode_block(record.block)
        self._trainer.sample(record.block.transactions, tails, record.writes.values())
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            trained = self._trainer.take_trained()
            try:
                for dictionary in trained:
                    db.execute(
                        "INSERT INTO dictionaries VALUES (?, ?, ?, ?)",
                        (dictionary.id, dictionary.kind, self._trainer.seen, dictionary.data),
                    )
                    self._codec.add(dictionary)
                pack = self._codec.pack
                db.execute(
                    "INSERT INTO blocks VALUES (?, ?, ?, ?)",
                    (
                        height,
                        record.block_hash,
                        pack("block", block_bytes),
                        pack("receipts", _TAILS_ENCODE(tails)),
                    ),
                )
                self._index.add_block(height, receipts, senders)
                self._state.write(height, record.writes)
                if record.log_position is not None:
                    db.execute(
                        "INSERT OR REPLACE INTO log_positions VALUES (?, ?)",
                        (height, record.log_position),
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                for dictionary in trained:
                    self._codec.remove(dictionary.id)
                self._trainer.give_back(trained)
                self._index.reload_numbers()
                self._state.reload_numbers()
                raise
        self._trainer.counted(len(receipts))

    def restore_state(self, entries: Mapping[StateKey, tuple[bytes, int]]) -> None:
        """Replace the stored state by `entries` ((value, height that wrote it) per key).

        For a chain converted from an old file or started from a snapshot; the caller
        checks the result against a header's state hash.
        """
        by_height: dict[int, dict[StateKey, bytes | None]] = {}
        for key, (value, height) in entries.items():
            by_height.setdefault(height, {})[key] = value
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("DELETE FROM state")
                for height, writes in sorted(by_height.items()):
                    self._state.write(height, writes)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def start_from(
        self,
        genesis: Genesis,
        base: BlockHeader,
        entries: Mapping[StateKey, tuple[bytes, int]],
        log_position: int,
        before_commit: Callable[[], None] | None = None,
    ) -> None:
        """Start an empty file at block `base` with its state (a checked snapshot's).

        The blocks up to `base` are not stored; `base()` returns its header, the next
        block must name its hash, and `verify` needs them from an archive.
        `before_commit` runs once every row is written, inside the same transaction: if
        it raises (the caller's last check of the state failed), nothing is stored.
        """
        from gridledger.ledger import block_hash

        with self._lock:
            if not self.is_empty():
                raise StorageError(self.path, "already holds a chain")
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("INSERT INTO meta VALUES ('genesis', ?)", (dump_genesis(genesis),))
                db.execute("INSERT INTO meta VALUES ('base', ?)", (encode(base),))
                db.execute("INSERT INTO archived VALUES (?, ?)", (base.height, block_hash(base)))
                if log_position > 0:  # 0: a chain never ordered by a log records none
                    db.execute(
                        "INSERT INTO log_positions VALUES (?, ?)", (base.height, log_position)
                    )
                self._state.insert(entries)
                if before_commit is not None:
                    before_commit()
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                self._state.reload_numbers()
                raise

    def prune_through(self, newest: BlockHeader) -> None:
        """Remove every stored block up to `newest` (archived already) and make it the base."""
        from gridledger.ledger import block_hash

        with self._lock:
            head = self.head()
            if head is None or head.height <= newest.height:
                raise StorageError(self.path, f"block {newest.height} is the head; keep it")
            if self.stored_hash(newest.height) != block_hash(newest):
                raise StorageError(self.path, f"block {newest.height} is not the stored one")
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(
                    "INSERT OR REPLACE INTO archived SELECT height, hash FROM blocks "
                    "WHERE height <= ?",
                    (newest.height,),
                )
                db.execute("DELETE FROM blocks WHERE height <= ?", (newest.height,))
                db.execute("DELETE FROM transactions WHERE height <= ?", (newest.height,))
                db.execute("INSERT OR REPLACE INTO meta VALUES ('base', ?)", (encode(newest),))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            self._recent.clear()

    def compact(self) -> None:
        """Give the pages that pruning freed back to the file system (SQLite's ``VACUUM``).

        Deleting rows only marks their pages free inside the file; ``VACUUM`` rewrites the
        database without them. The write-ahead log is checkpointed first and emptied after
        (the rewrite passes through it). Needs free disk space about the size of the file,
        and the writer lock: `gridledger archive` runs it with the node stopped.
        """
        with self._lock:
            db = self._db
            try:
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                db.execute("VACUUM")
                busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            except sqlite3.Error as error:
                raise StorageError(self.path, f"cannot be compacted ({error})") from error
        if busy:
            raise StorageError(
                self.path, "another connection holds the write-ahead log; compact it later"
            )

    def set_log_position(self, position: int) -> None:
        """Record the ordering-log position of the last stored block, as files did before
        they kept one per block (`log_position_at`); for a file converted from version 1."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('log_position', ?)", (encode(position),)
            )

    def prime_dictionaries(
        self,
        transactions: Sequence[bytes],
        receipt_tails: Sequence[bytes],
        values: Sequence[bytes],
        covering: int,
    ) -> list[Dictionary]:
        """Train dictionaries now on these samples of a chain of `covering` transactions."""
        self._trainer.sample(transactions, receipt_tails, values)
        return self._trainer.train_now(covering)

    def train_dictionaries(self) -> list[Dictionary]:
        """Train dictionaries on the samples seen so far, now; the next block stores them."""
        return self._trainer.train_now()

    def close(self) -> None:
        self._trainer.close()
        super().close()


_TAILS_ENCODE = msgspec.msgpack.Encoder().encode
