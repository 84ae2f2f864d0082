"""Reading and damaging a chain file's rows with plain SQL, as an attacker or a bad disk would.

The chain file stores packed rows (`node.storage_schema`): state rows are keyed by a
namespace number and a packed key, values and blocks carry a format byte. These helpers
read and write them in that form, so tests can change exactly one stored value.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from gridledger.node.stored_forms import pack_key, unpack_key


def state_rows(path: Path) -> list[tuple[str, str, bytes]]:
    """(namespace, key, stored value) of every stored state entry, sorted."""
    with sqlite3.connect(path) as db:
        names = dict(db.execute("SELECT id, name FROM namespaces").fetchall())
        rows = db.execute("SELECT namespace, key, value FROM state").fetchall()
    db.close()
    return sorted((names[ns], unpack_key(bytes(key)), bytes(value)) for ns, key, value in rows)


def namespace_number(path: Path, namespace: str) -> int:
    with sqlite3.connect(path) as db:
        number = db.execute("SELECT id FROM namespaces WHERE name = ?", (namespace,)).fetchone()
    db.close()
    assert number is not None, namespace
    return int(number[0])


def set_state_value(path: Path, namespace: str, key: str, stored: bytes) -> None:
    """Replace the stored (packed) value of one state entry."""
    where = (namespace_number(path, namespace), pack_key(key))
    with sqlite3.connect(path) as db:
        changed = db.execute(
            "UPDATE state SET value = ? WHERE namespace = ? AND key = ?", (stored, *where)
        ).rowcount
    db.close()
    assert changed == 1


def raw_value(value: bytes) -> bytes:
    """`value` in the stored form of an uncompressed value (format byte 0)."""
    return b"\x00" + value


def canonical_block(path: Path, height: int) -> bytes:
    """The canonical bytes of stored block `height` (unpacked)."""
    from gridledger.node import SQLiteStorage

    storage = SQLiteStorage(path)
    try:
        rows = storage.block_rows(height, 1)
    finally:
        storage.close()
    assert rows and rows[0][0] == height
    return rows[0][2]


def set_block(path: Path, height: int, canonical: bytes) -> None:
    """Store `canonical` as block `height`, uncompressed (a valid packed form)."""
    with sqlite3.connect(path) as db:
        changed = db.execute(
            "UPDATE blocks SET block = ? WHERE height = ?", (raw_value(canonical), height)
        ).rowcount
    db.close()
    assert changed == 1
