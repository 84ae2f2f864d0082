"""Convert a schema-1 chain file (uncompressed rows) to the current schema: `migrate_chain`.

The old file is read, never written: every block, receipt and state entry is copied into
a new file beside it (``<name>.migrating``), the new file is checked as a node checks a
chain at start (hashes and roots of every block, and the stored state against the head's
state hash), and only then is the old file renamed to ``<name>.v1`` and the new one put
in its place. A crash at any point leaves the old file where it was, whole.

The dictionaries are trained first, on samples of the whole old chain, so every block of
the converted file is stored with them.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from gridledger.ledger import LedgerError, Receipt, State, decode, decode_block, load_genesis
from gridledger.node.core import acquire_writer_lock
from gridledger.node.errors import CorruptChain, StorageError
from gridledger.node.integrity import check_chain
from gridledger.node.storage import SQLiteStorage
from gridledger.node.storage_interface import BlockRecord
from gridledger.node.storage_schema import stored_version
from gridledger.node.stored_forms import receipt_tail

SAMPLE_EVERY = 8
"""Every eighth transaction, receipt and state value of the old file is a training sample."""


@dataclass(frozen=True, slots=True)
class Migration:
    path: Path
    backup: Path
    blocks: int
    transactions: int
    bytes_before: int
    bytes_after: int


def migrate_chain(path: Path) -> Migration:
    """Convert the schema-1 chain at `path`; the original is kept as ``<path>.v1``."""
    path = Path(path)
    if not path.exists():
        raise StorageError(str(path), "not found")
    backup = path.with_name(path.name + ".v1")
    if backup.exists():
        raise StorageError(str(path), f"{backup} exists already; move it away first")
    lock = acquire_writer_lock(path)
    try:
        return _migrate(path, backup)
    except sqlite3.DatabaseError as error:
        raise StorageError(str(path), f"not a usable SQLite database ({error})") from error
    finally:
        lock.close()


def _migrate(path: Path, backup: Path) -> Migration:
    """Copy, check and swap; the caller holds the writer lock."""
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        version = stored_version(source)
        if version != 1:
            found = "no chain" if version is None else f"schema version {version}"
            raise StorageError(str(path), f"holds {found}; only version 1 is migrated")
        target = path.with_name(path.name + ".migrating")
        for leftover in (target, *_sidecars(target)):
            leftover.unlink(missing_ok=True)
        blocks, transactions = _copy(source, target)
    finally:
        source.close()
    bytes_before = _size(path)
    _check(target)
    os.replace(path, backup)
    for sidecar in _sidecars(path):
        if sidecar.exists():
            os.replace(sidecar, backup.with_name(backup.name + sidecar.name[len(path.name) :]))
    os.replace(target, path)
    return Migration(path, backup, blocks, transactions, bytes_before, _size(path))


def _sidecars(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, *_sidecars(path)) if p.exists())


def _copy(source: sqlite3.Connection, target_path: Path) -> tuple[int, int]:
    meta = dict(source.execute("SELECT key, value FROM meta").fetchall())
    genesis = load_genesis(bytes(meta["genesis"]))
    target = SQLiteStorage(target_path)
    try:
        _prime(source, target)
        block0 = decode_block(bytes(_one(source, "SELECT block FROM blocks WHERE height = 0")))
        target.initialise(genesis, block0, {})
        blocks = transactions = 0
        rows = source.execute(
            "SELECT height, hash, block FROM blocks WHERE height > 0 ORDER BY height"
        )
        receipts = source.cursor()
        for height, hash_, raw in rows:
            stored = receipts.execute(
                "SELECT receipt, sender, id, code FROM transactions WHERE height = ? "
                "ORDER BY position",
                (height,),
            ).fetchall()
            encoded = [bytes(row[0]) for row in stored]
            try:
                decoded = [decode(r, Receipt) for r in encoded]
            except LedgerError as error:
                raise CorruptChain(height, f"a stored receipt does not decode ({error})") from error
            for position, (receipt, (_, _, tx_id, code)) in enumerate(
                zip(decoded, stored, strict=True)
            ):
                if receipt.transaction_id != bytes(tx_id) or receipt.code != code:
                    raise CorruptChain(
                        height, f"index entry of transaction {position} differs from its receipt"
                    )
            target.append_block(
                BlockRecord(
                    decode_block(bytes(raw)),
                    bytes(hash_),
                    decoded,
                    [row[1] for row in stored],
                    {},
                    receipt_bytes=encoded,
                )
            )
            blocks += 1
            transactions += len(encoded)
        state = source.execute("SELECT namespace, key, value, height FROM state")
        target.restore_state(
            {(ns, key): (bytes(value), height) for ns, key, value, height in state}
        )
        if "log_position" in meta:
            target.set_log_position(msgspec.msgpack.decode(bytes(meta["log_position"]), type=int))
    finally:
        target.close()
    return blocks, transactions


def _one(db: sqlite3.Connection, sql: str) -> Any:
    row = db.execute(sql).fetchone()
    if row is None:
        raise StorageError("?", f"old chain file has no row for {sql!r}")
    return row[0]


def _prime(source: sqlite3.Connection, target: SQLiteStorage) -> None:
    """Train the target's dictionaries on samples of the whole old chain."""
    transactions: list[bytes] = []
    for (raw,) in source.execute("SELECT block FROM blocks ORDER BY height"):
        transactions.extend(decode_block(bytes(raw)).transactions[::SAMPLE_EVERY])
    tails = [
        receipt_tail(bytes(receipt))
        for (receipt,) in source.execute(
            "SELECT receipt FROM transactions WHERE position % ? = 0", (SAMPLE_EVERY,)
        )
    ]
    values = [bytes(v) for (v,) in source.execute("SELECT value FROM state")][::SAMPLE_EVERY]
    covering = int(_one(source, "SELECT COUNT(*) FROM transactions"))
    target.prime_dictionaries(transactions, tails, values, covering)


def _check(target: Path) -> None:
    """The converted file, checked as a node checks it at start."""
    from gridledger.ledger import genesis_hash

    storage = SQLiteStorage(target)
    try:
        genesis = storage.genesis()
        assert genesis is not None
        head = check_chain(storage, genesis.chain_id, genesis_hash(genesis)).head
        if State.from_entries(storage.load_state()).state_hash() != head.state_hash:
            raise StorageError(str(target), "converted state does not give the head's state hash")
    finally:
        storage.close()
