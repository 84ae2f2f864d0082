"""The transaction index of a chain file: where each committed transaction is, by id or sender.

The ``transactions`` table holds per (height, position) the first 8 bytes of the id
(`stored_forms.id_prefix`), the sender's number (``senders``) and the result code. A
prefix that matches is confirmed against the whole id of the transaction in its block,
so two ids sharing a prefix are told apart. `TransactionIndex` shares the connection and
the lock of the `SQLiteStorage` that owns it, and indexes a block inside that storage's
transaction (``append_block``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence

from gridledger.ledger import Receipt, transaction_id
from gridledger.node.storage_schema import number_for
from gridledger.node.stored_forms import id_prefix, prefix_bytes

LOOKUP_CHUNK = 500
"""Transaction ids looked up per query by `TransactionIndex.committed_among` (SQLite allows
32,766 parameters a statement; smaller lists keep each statement's plan cheap)."""


class TransactionIndex:
    """The ``transactions`` and ``senders`` tables of one chain file.

    `block_transactions(height, cached)` gives the raw transactions of a stored block
    (None if it is not stored); lookups ask it with ``cached=True``. `senders` (address
    → number) mirrors the ``senders`` table; a number added by a transaction that rolls
    back is forgotten with `reload_numbers`.
    """

    def __init__(
        self,
        db: sqlite3.Connection,
        lock: threading.RLock,
        block_transactions: Callable[[int, bool], list[bytes] | None],
    ) -> None:
        self._db = db
        self._lock = lock
        self._block_transactions = block_transactions
        self.senders: dict[str, int] = {}
        self.reload_numbers()

    def reload_numbers(self) -> None:
        """Read the sender numbers the file holds (after a rolled-back transaction)."""
        self.senders = dict(self._db.execute("SELECT address, id FROM senders").fetchall())

    def add_block(self, height: int, receipts: Sequence[Receipt], senders: Sequence[str]) -> None:
        """Index block `height`'s transactions (inside the caller's transaction)."""
        db = self._db
        db.executemany(
            "INSERT INTO transactions VALUES (?, ?, ?, ?, ?)",
            [
                (
                    height,
                    position,
                    id_prefix(receipt.transaction_id),
                    number_for(db, "senders", self.senders, senders[position]),
                    receipt.code,
                )
                for position, receipt in enumerate(receipts)
            ],
        )

    def count(self) -> int:
        """How many transactions the stored blocks hold."""
        with self._lock:
            row = self._db.execute("SELECT COUNT(*) FROM transactions").fetchone()
        return int(row[0])

    def highest_height(self) -> int | None:
        """The greatest height an indexed transaction names (None if there is none)."""
        with self._lock:
            row = self._db.execute("SELECT MAX(height) FROM transactions").fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def locate(self, transaction_id_: bytes) -> tuple[int, int] | None:
        """(height, position) of the transaction with this id, confirmed in its block."""
        with self._lock:
            rows = self._db.execute(
                "SELECT height, position FROM transactions WHERE id = ? ORDER BY height, position",
                (id_prefix(transaction_id_),),
            ).fetchall()
        for height, position in rows:
            transactions = self._block_transactions(height, True) or []
            if position < len(transactions) and transaction_id(transactions[position]) == (
                transaction_id_
            ):
                return height, position
        return None

    def committed_among(self, transaction_ids: Sequence[bytes]) -> set[bytes]:
        """The ids among `transaction_ids` that are stored.

        Admission asks this of every batch a client sends. One query per
        `LOOKUP_CHUNK` ids (an ``IN`` list on the id-prefix index) instead of one per id:
        a fresh id, nearly every one, costs an index probe inside SQLite and no Python.
        A prefix that matches is confirmed against the whole id in its block.
        """
        wanted: dict[int, list[bytes]] = {}
        for tx_id in transaction_ids:
            wanted.setdefault(id_prefix(tx_id), []).append(tx_id)
        prefixes = list(wanted)
        rows: list[tuple[int, int, int]] = []
        with self._lock:
            for start in range(0, len(prefixes), LOOKUP_CHUNK):
                chunk = prefixes[start : start + LOOKUP_CHUNK]
                marks = ",".join("?" * len(chunk))
                rows += self._db.execute(
                    f"SELECT id, height, position FROM transactions WHERE id IN ({marks})",
                    chunk,
                ).fetchall()
        found: set[bytes] = set()
        for prefix, height, position in rows:
            transactions = self._block_transactions(height, True) or []
            if position < len(transactions):
                stored_id = transaction_id(transactions[position])
                if stored_id in wanted[prefix]:
                    found.add(stored_id)
        return found

    def of_block(self, height: int) -> list[tuple[int, bytes, int]]:
        """(position, id prefix (8 bytes), code) of each indexed transaction of block `height`."""
        with self._lock:
            rows = self._db.execute(
                "SELECT position, id, code FROM transactions WHERE height = ? ORDER BY position",
                (height,),
            ).fetchall()
        return [(p, prefix_bytes(i), c) for p, i, c in rows]

    def of_sender(self, sender: str, limit: int) -> list[tuple[int, int, bytes, int]]:
        """(height, position, id, code) of the sender's latest transactions, newest first."""
        number = self.senders.get(sender)
        if number is None:
            return []
        with self._lock:
            rows = self._db.execute(
                "SELECT height, position, code FROM transactions WHERE sender = ? "
                "ORDER BY height DESC, position DESC LIMIT ?",
                (number, limit),
            ).fetchall()
        found = []
        for height, position, code in rows:
            transactions = self._block_transactions(height, True) or []
            if position < len(transactions):
                found.append((height, position, transaction_id(transactions[position]), code))
        return found
