"""The state table of a chain file: writing, reading and unpacking its rows.

A row is (namespace number, packed key, packed value, height of the block that wrote
it last) (`node.storage_schema`); `StateRows` turns `StateKey` writes into rows and rows
back into canonical values. It shares the connection, the lock and the codec of the
`SQLiteStorage` that owns it, and writes inside that storage's transactions: the block
that writes the state is stored in the same one (``append_block``).
"""

from __future__ import annotations

import operator
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from gridledger.ledger import StateKey
from gridledger.node.compression import Codec, UnpackError, pack_raw
from gridledger.node.errors import CorruptChain
from gridledger.node.storage_schema import number_for
from gridledger.node.stored_forms import FormError, pack_key, unpack_key

_STATE_ROW_KEY = operator.itemgetter(0, 1)
"""A state row's primary key (namespace number, packed key): the order SQLite keeps."""


class StateRows:
    """The state rows of one chain file, and the numbers it gives namespaces.

    `namespaces` (name → number) and `namespace_names` (number → name) mirror the
    ``namespaces`` table; a number added by a transaction that rolls back is forgotten
    with `reload_numbers`.
    """

    def __init__(self, db: sqlite3.Connection, lock: threading.RLock, codec: Codec) -> None:
        self._db = db
        self._lock = lock
        self._codec = codec
        self.namespaces: dict[str, int] = {}
        self.namespace_names: dict[int, str] = {}
        self.reload_numbers()

    def reload_numbers(self) -> None:
        """Read the namespace numbers the file holds (after a rolled-back transaction)."""
        self.namespaces = dict(self._db.execute("SELECT name, id FROM namespaces").fetchall())
        self.namespace_names = {number: name for name, number in self.namespaces.items()}

    # -- writing (inside the caller's transaction) -------------------------------------------

    def write(self, height: int, writes: Mapping[StateKey, bytes | None]) -> None:
        """Store block `height`'s state writes (None: the entry is deleted)."""
        upserts = []
        deletes = []
        db = self._db
        pack = self._codec.pack
        numbers = self.namespaces
        names = self.namespace_names
        for (namespace, key), value in writes.items():
            number = number_for(db, "namespaces", numbers, namespace)
            names[number] = namespace
            if value is None:
                deletes.append((number, pack_key(key)))
            else:
                upserts.append((number, pack_key(key), pack("state", value), height))
        db.executemany("INSERT OR REPLACE INTO state VALUES (?, ?, ?, ?)", upserts)
        db.executemany("DELETE FROM state WHERE namespace = ? AND key = ?", deletes)

    def insert(self, entries: Mapping[StateKey, tuple[bytes, int]]) -> None:
        """Insert `entries` ((value, height that wrote it) per key) into an empty state table.

        The rows are inserted in primary-key order by one statement: SQLite then appends
        to its B-tree rather than inserting all over it. The values are stored raw
        (`pack_raw`): a new file has no dictionary trained on this community's values
        yet, and zstd without one saves ~8 % of them (3 of 36 MB on the 1,000-household
        day) for ~1 s of the restore's CPU and ~0.3 s of every start-up check; a value
        a later block writes is packed as usual.
        """
        for namespace in sorted({namespace for namespace, _ in entries}):
            number = number_for(self._db, "namespaces", self.namespaces, namespace)
            self.namespace_names[number] = namespace
        numbers = self.namespaces
        rows = [
            (numbers[namespace], pack_key(key), pack_raw(value), height)
            for (namespace, key), (value, height) in entries.items()
        ]
        rows.sort(key=_STATE_ROW_KEY)
        self._db.executemany("INSERT INTO state VALUES (?, ?, ?, ?)", rows)

    # -- reading ---------------------------------------------------------------------------

    def rows(self) -> dict[StateKey, tuple[bytes, int]]:
        """Each stored state entry's value and the height of the block that wrote it last."""
        with self._lock:
            rows = self._db.execute("SELECT namespace, key, value, height FROM state").fetchall()
        return {(ns, key): (value, height) for ns, key, value, height in self._unpack(rows)}

    def count(self, at_most: int) -> int:
        """How many state entries are stored, counted up to `at_most` (a cheap bound)."""
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM (SELECT 1 FROM state LIMIT ?)", (max(at_most, 0),)
            ).fetchone()
        return int(row[0])

    def items(self, part_entries: int) -> Iterator[list[tuple[str, str, bytes]]]:
        """Every stored state entry as (namespace, key, value), `part_entries` at a time.

        The rows are read by one query (one version of the state) and unpacked a part at
        a time, so that the caller can work on a part (hash it elsewhere) meanwhile.
        """
        with self._lock:
            rows = self._db.execute("SELECT namespace, key, value, height FROM state").fetchall()
        for start in range(0, len(rows), part_entries):
            part = self._unpack(rows[start : start + part_entries])
            yield [(ns, key, value) for ns, key, value, _ in part]

    def heights(self) -> dict[StateKey, int]:
        """For each stored state entry, the height of the block that last wrote it."""
        with self._lock:
            rows = self._db.execute("SELECT namespace, key, height FROM state").fetchall()
        names = self.namespace_names
        return {(names[ns], unpack_key(bytes(key))): height for ns, key, height in rows}

    def _unpack(self, rows: list[Any]) -> list[tuple[str, str, bytes, int]]:
        """(namespace, key, value, height) of stored state rows; `CorruptChain` names the
        height of a row that does not unpack."""
        names = self.namespace_names
        try:  # the usual case, in bulk
            values = self._codec.unpack_many([value for _, _, value, _ in rows])
            return [
                (names[ns], unpack_key(packed_key), value, height)
                for (ns, packed_key, _, height), value in zip(rows, values, strict=True)
            ]
        except (KeyError, FormError, UnpackError):
            return self._unpack_one_by_one(rows)

    def _unpack_one_by_one(self, rows: list[Any]) -> list[tuple[str, str, bytes, int]]:
        """`_unpack` row by row, to name the height of the row that does not unpack."""
        names = self.namespace_names
        unpack = self._codec.unpack
        unpacked: list[tuple[str, str, bytes, int]] = []
        for ns, packed_key, value, height in rows:
            name = names.get(ns)
            if name is None:
                raise CorruptChain(height, f"a state entry names namespace {ns}, never stored")
            try:
                key = unpack_key(bytes(packed_key))
            except FormError as error:
                raise CorruptChain(
                    height, f"a stored state key does not unpack ({error})"
                ) from error
            try:
                unpacked.append((name, key, unpack(value), height))
            except UnpackError as error:
                reason = f"stored value of state entry {name}/{key} {error}"
                raise CorruptChain(height, reason) from error
        return unpacked
