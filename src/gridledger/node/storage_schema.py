"""The chain file's tables, its schema version, and the refusal of other versions.

Schema version 2 (this one) stores compressed, deduplicated rows (`node.compression`,
`node.stored_forms`):

- ``blocks``: per height, the header hash, the packed canonical block, and the packed
  receipt tails of its transactions (ids and codes are not repeated);
- ``transactions``: the index the API and the commands read: per (height, position) the
  id's first 8 bytes, the sender (a number from ``senders``) and the result code;
- ``state``: per (namespace number, packed key) the packed value and the height that
  wrote it last;
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


def open_schema(db: sqlite3.Connection, path: str) -> None:
    """Create the tables in an empty file; refuse a file of another schema version."""
    version = stored_version(db)
    if version is not None and version != SCHEMA_VERSION:
        raise SchemaMismatch(path, version)
    db.executescript(SCHEMA)
    if version is None:
        db.execute(
            "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
            (msgspec.msgpack.encode(SCHEMA_VERSION),),
        )
