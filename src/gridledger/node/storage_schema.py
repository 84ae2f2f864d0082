"""The chain file's tables, its schema version, and the refusal of other versions.

Schema version 2 (this one) stores compressed, deduplicated rows (`node.compression`,
`node.stored_forms`):

- ``blocks``: per height, the header hash, the packed canonical block, and the packed
  receipt tails of its transactions (ids and codes are not repeated);
- ``transactions``: the index the API and the commands read: per (height, position) the
  id's first 8 bytes, the sender (a number from ``senders``) and the result code;
- ``state``: per (namespace number, packed key) the packed value and the height that
  wrote it last;
- ``archived``: the hashes of blocks moved to archive files (`node.archive`); the meta
  entry ``base`` holds the header of the newest block the file no longer holds
  (archived, or before the snapshot the chain started from, `node.snapshot`);
- ``log_positions``: per height, the ordering-log sequence of the entry that closed the
  block (``nats`` ordering only), so that a peer can vouch for a snapshot's resume
  position (`node.snapshot_attestation`); added to version 2 files as they are opened
  (a file written before it has none for its older blocks);
- ``dictionaries``: the zstd dictionaries the packed values name, never changed once
  stored; ``senders`` and ``namespaces``: the numbers the other tables use.

Version 1 (before compression) stored every row as canonical bytes. A version-1 file
is refused with `SchemaMismatch`, before anything in it is touched, naming the command
that converts it (`gridledger chain migrate`, `node.storage_migrate`); a file of a newer
version is refused as well, never misread.
"""

from __future__ import annotations

import sqlite3

import msgspec

from gridledger.node.errors import StorageError

SCHEMA_VERSION = 2

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS dictionaries (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    transactions INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS senders (id INTEGER PRIMARY KEY, address TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS namespaces (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS blocks (
    height INTEGER PRIMARY KEY,
    hash BLOB NOT NULL UNIQUE,
    block BLOB NOT NULL,
    receipts BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS archived (height INTEGER PRIMARY KEY, hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS log_positions (height INTEGER PRIMARY KEY, position INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS transactions (
    height INTEGER NOT NULL,
    position INTEGER NOT NULL,
    id INTEGER NOT NULL,
    sender INTEGER NOT NULL,
    code INTEGER NOT NULL,
    PRIMARY KEY (height, position)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS transactions_by_id ON transactions (id);
CREATE INDEX IF NOT EXISTS transactions_by_sender ON transactions (sender, height);
CREATE TABLE IF NOT EXISTS state (
    namespace INTEGER NOT NULL,
    key BLOB NOT NULL,
    value BLOB NOT NULL,
    height INTEGER NOT NULL,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID;
"""


class SchemaMismatch(StorageError):
    """A chain file written in another schema version than this code reads."""

    def __init__(self, path: str, found: int) -> None:
        self.found = found
        if found < SCHEMA_VERSION:
            advice = (
                f"it was written by an older gridledger (uncompressed rows); convert it with "
                f"`gridledger chain migrate --db {path}` (the original is kept beside it)"
            )
        else:
            advice = "it was written by a newer gridledger; use that version"
        super().__init__(
            path,
            f"schema version {found}, this gridledger reads version {SCHEMA_VERSION}: {advice}",
        )


def stored_version(db: sqlite3.Connection) -> int | None:
    """The schema version a chain file records (None for a file without a chain table)."""
    has_meta = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
    ).fetchone()
    if has_meta is None:
        return None
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is not None:
        return int(msgspec.msgpack.decode(bytes(row[0]), type=int))
    columns = {column[1] for column in db.execute("PRAGMA table_info(blocks)")}
    return 1 if columns and "receipts" not in columns else None


def refuse_other_versions(db: sqlite3.Connection, path: str) -> int | None:
    """The file's schema version; `SchemaMismatch` if it is not this code's."""
    version = stored_version(db)
    if version is not None and version != SCHEMA_VERSION:
        raise SchemaMismatch(path, version)
    return version


def open_schema(db: sqlite3.Connection, path: str) -> None:
    """Create the tables in an empty file; refuse a file of another schema version."""
    version = refuse_other_versions(db, path)
    db.executescript(SCHEMA)
    if version is None:
        db.execute(
            "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
            (msgspec.msgpack.encode(SCHEMA_VERSION),),
        )


def number_for(db: sqlite3.Connection, table: str, known: dict[str, int], name: str) -> int:
    """The number `table` (``senders`` or ``namespaces``) gives `name`.

    `known` is the caller's copy of the table; a name not in it is given the next number,
    inserted inside the caller's transaction (the caller reloads `known` if that rolls back).
    """
    number = known.get(name)
    if number is None:
        number = len(known) + 1
        db.execute(f"INSERT INTO {table} VALUES (?, ?)", (number, name))
        known[name] = number
    return number


def table_bytes(db: sqlite3.Connection) -> dict[str, int]:
    """Bytes of database pages each table and index occupies (SQLite's ``dbstat``)."""
    try:
        rows = db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
    except sqlite3.OperationalError as error:
        raise StorageError("?", f"this SQLite has no dbstat table ({error})") from error
    return {name: int(size) for name, size in rows}


def storage_report(path: str) -> dict[str, object]:
    """What a chain file holds, in bytes: per table and index, per stored column, per transaction.

    Read-only; works on a file a node is serving.
    """
    try:
        return _report(path)
    except sqlite3.DatabaseError as error:
        raise StorageError(path, f"not a usable SQLite database ({error})") from error


def _report(path: str) -> dict[str, object]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        version = stored_version(db)
        if version != SCHEMA_VERSION:
            raise SchemaMismatch(path, version or 0)
        tables = table_bytes(db)
        transactions = int(db.execute("SELECT COUNT(*) FROM transactions").fetchone()[0])
        blocks, block_bytes, receipt_bytes = db.execute(
            "SELECT COUNT(*), SUM(LENGTH(block)), SUM(LENGTH(receipts)) FROM blocks"
        ).fetchone()
        state_entries, state_values = db.execute(
            "SELECT COUNT(*), SUM(LENGTH(value)) FROM state"
        ).fetchone()
        dictionaries = db.execute(
            "SELECT id, kind, transactions, LENGTH(data) FROM dictionaries ORDER BY id"
        ).fetchall()
        page_size = int(db.execute("PRAGMA page_size").fetchone()[0])
        pages = int(db.execute("PRAGMA page_count").fetchone()[0])
    finally:
        db.close()
    per = max(transactions, 1)
    return {
        "path": path,
        "schema_version": SCHEMA_VERSION,
        "file_bytes": page_size * pages,
        "transactions": transactions,
        "blocks": int(blocks),
        "bytes_per_transaction": round(page_size * pages / per, 1),
        "tables": {
            name: {"bytes": size, "per_transaction": round(size / per, 1)}
            for name, size in sorted(tables.items(), key=lambda item: -item[1])
        },
        "columns": {
            "blocks.block": int(block_bytes or 0),
            "blocks.receipts": int(receipt_bytes or 0),
            "state.value": int(state_values or 0),
        },
        "state_entries": int(state_entries),
        "dictionaries": [
            {"id": i, "kind": kind, "trained_at_transactions": n, "bytes": size}
            for i, kind, n, size in dictionaries
        ],
    }
