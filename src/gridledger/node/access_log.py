"""The access log: every read of a household's data by an auditor (operator, regulator,
consortium peer, or an anonymous reader under ``--public-reads``), kept where the
household can see it.

An SQLite file beside the chain (``access-log.sqlite``), never in the chain: reads are
not transactions, and a peer's log says what *this* node answered. One row per read:
who read (address and role), the route, the resource, whose data (an address, or ``*``
for a read of every member's data at once, such as the roster or all statements of a
period) and when (the node's clock, ms). A household reads its own rows and the ``*``
rows (``GET /v1/access-log``, ``gridledger show access-log``).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gridledger.client.replies import AccessLogEntryReply, AccessLogReply

FILE_NAME = "access-log.sqlite"
EVERYONE = "*"
"""The household of a read that covers every member's data."""
MAX_ENTRIES = 1000

SCHEMA = """
CREATE TABLE IF NOT EXISTS reads (
    id INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    reader TEXT NOT NULL,
    reader_role TEXT NOT NULL,
    route TEXT NOT NULL,
    resource TEXT NOT NULL,
    household TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reads_by_household ON reads (household, id);
"""


@dataclass(frozen=True, slots=True)
class AccessRecord:
    reader: str
    reader_role: str
    route: str
    resource: str
    household: str


class AccessLog:
    """An append-only log of auditors' reads in one SQLite database."""

    def __init__(self, path: str | Path, clock_ms: Callable[[], int] | None = None) -> None:
        self.path = str(path)
        self.clock_ms = clock_ms or (lambda: time.time_ns() // 1_000_000)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    @classmethod
    def beside(cls, chain_path: str | Path | None) -> AccessLog:
        """The log beside a chain file (in memory for a chain in memory)."""
        if chain_path is None or str(chain_path) == ":memory:":
            return cls(":memory:")
        return cls(Path(chain_path).parent / FILE_NAME)

    def record(self, entry: AccessRecord) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO reads (at_ms, reader, reader_role, route, resource, household)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    self.clock_ms(),
                    entry.reader,
                    entry.reader_role,
                    entry.route,
                    entry.resource,
                    entry.household,
                ),
            )

    def entries(self, household: str | None, limit: int = 100) -> AccessLogReply:
        """The newest `limit` reads of `household`'s data (with the reads of everyone's);
        every read when `household` is None (for an auditor)."""
        limit = max(1, min(limit, MAX_ENTRIES))
        query = "SELECT at_ms, reader, reader_role, route, resource, household FROM reads"
        values: tuple[object, ...] = (limit,)
        if household is not None:
            query += " WHERE household IN (?, ?)"
            values = (household, EVERYONE, limit)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY id DESC LIMIT ?", values).fetchall()
        return AccessLogReply(
            household=household,
            entries=[
                AccessLogEntryReply(
                    at_ms=r[0],
                    reader=r[1],
                    reader_role=r[2],
                    route=r[3],
                    resource=r[4],
                    household=r[5],
                )
                for r in rows
            ],
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()


__all__ = ["EVERYONE", "FILE_NAME", "AccessLog", "AccessRecord"]
