"""Opening a peer's chain file, and reading it: blocks, receipts, meta entries, state.

`ChainFile` opens (or creates) the SQLite file (WAL mode, ``synchronous=FULL``, the
page cache and checkpoint interval below) and gives back canonical bytes from its
compressed rows (`node.storage_schema`, `node.compression`, `node.stored_forms`); the
state rows and the transaction index are read through `node.state_rows` and
`node.transaction_index`. `SQLiteStorage` (`node.storage`) adds the writes: open a chain
file with it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec

from gridledger.ledger import (
    Block,
    BlockHeader,
    Genesis,
    LedgerError,
    Receipt,
    StateKey,
    decode,
    decode_block,
    load_genesis,
    transaction_id,
)
from gridledger.node.checkpoints import CHECKPOINT_PAGES
from gridledger.node.compression import Codec, Dictionary, UnpackError
from gridledger.node.errors import CorruptChain, StorageError
from gridledger.node.state_rows import StateRows
from gridledger.node.storage_interface import TransactionLocation
from gridledger.node.storage_schema import open_schema, refuse_other_versions
from gridledger.node.stored_forms import prefix_bytes, receipt_bytes
from gridledger.node.transaction_index import TransactionIndex

CACHE_KIB = 64 * 1024
"""SQLite's page cache per connection, in KiB (its default is 2,000 KiB).

Every block inserts its transactions into two indexes keyed by random ids and
senders, and replaces balances and nonces all over the state table: with the
default cache those pages are read back from the OS at every commit.
"""


class ChainFile:
    """A peer's chain and state in one SQLite file (WAL mode, synchronous=FULL), read.

    Rows are stored compressed and without repetition (`node.storage_schema`); every
    read gives back the canonical bytes. A packed row that does not unpack is reported
    as a `CorruptChain` naming its height. The state rows and the transaction index are
    read through `StateRows` and `TransactionIndex`, which share the connection and lock.
    """

    def __init__(self, path: str | Path, checkpoint_pages: int = CHECKPOINT_PAGES) -> None:
        """Open (or create) the chain file at `path`; `checkpoint_pages`: see
        `CHECKPOINT_PAGES` (a smaller value checkpoints more often, a larger one less)."""
        if checkpoint_pages < 1:
            raise StorageError(
                str(path), f"checkpoint_pages must be at least 1, got {checkpoint_pages}"
            )
        self.path = str(path)
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as error:
            raise StorageError(self.path, f"cannot be opened ({error})") from error
        try:
            refuse_other_versions(self._db, self.path)  # before WAL mode changes the file
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            self._db.execute(f"PRAGMA wal_autocheckpoint={int(checkpoint_pages)}")
            open_schema(self._db, self.path)
        except sqlite3.DatabaseError as error:
            self._db.close()
            raise StorageError(self.path, f"not a usable SQLite database ({error})") from error
        except StorageError:
            self._db.close()
            raise
        self._lock = threading.RLock()
        self._codec = Codec(self._stored_dictionaries())
        self._index = TransactionIndex(self._db, self._lock, self._transactions)
        self._state = StateRows(self._db, self._lock, self._codec)
        self._recent: OrderedDict[int, list[bytes]] = OrderedDict()

    # -- rows ------------------------------------------------------------------------

    def _first(self, sql: str, *params: object) -> Any:
        """The first column of the first row `sql` returns, or None when there is no row."""
        with self._lock:
            row = self._db.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def _meta(self, key: str) -> bytes | None:
        value = self._first("SELECT value FROM meta WHERE key = ?", key)
        return None if value is None else bytes(value)

    def _stored_dictionaries(self) -> list[Dictionary]:
        rows = self._db.execute("SELECT id, kind, data FROM dictionaries ORDER BY id").fetchall()
        return [Dictionary(number, kind, bytes(data)) for number, kind, data in rows]

    def _unpack(self, height: int, what: str, stored: bytes) -> bytes:
        try:
            return self._codec.unpack(stored)
        except UnpackError as error:
            raise CorruptChain(height, f"stored {what} {error}") from error

    def _block_bytes(self, height: int, stored: bytes) -> bytes:
        return self._unpack(height, "block", bytes(stored))

    def _transactions(self, height: int, cached: bool = False) -> list[bytes] | None:
        """The raw transactions of block `height`.

        Lookups by id or sender (`cached`) keep a few recent blocks decoded; checks and
        reads of whole blocks always read the stored row.
        """
        with self._lock:
            found = self._recent.get(height) if cached else None
            if found is not None:
                return found
            row = self._db.execute(
                "SELECT block FROM blocks WHERE height = ?", (height,)
            ).fetchone()
        if row is None:
            return None
        transactions = _decode_block(height, self._block_bytes(height, row[0])).transactions
        with self._lock:
            self._recent[height] = transactions
            while len(self._recent) > RECENT_BLOCKS:
                self._recent.popitem(last=False)
        return transactions

    def _tails(self, height: int, stored: bytes) -> list[bytes]:
        raw = self._unpack(height, "receipts", bytes(stored))
        try:
            return _TAILS.decode(raw)
        except msgspec.DecodeError as error:
            raise CorruptChain(height, f"stored receipts do not decode ({error})") from error

    # -- reading ---------------------------------------------------------------------

    def block_with_receipts(self, height: int) -> tuple[int, bytes, bytes, list[bytes], list[str]]:
        """(height, hash, canonical block, canonical receipts, senders) of a stored block."""
        with self._lock:
            row = self._db.execute(
                "SELECT hash, block FROM blocks WHERE height = ?", (height,)
            ).fetchone()
            senders = self._db.execute(
                "SELECT senders.address FROM transactions JOIN senders "
                "ON senders.id = transactions.sender WHERE height = ? ORDER BY position",
                (height,),
            ).fetchall()
        if row is None:
            raise StorageError(self.path, f"block {height} is not stored")
        receipts = self.receipt_bytes(height)
        return (
            height,
            bytes(row[0]),
            self._block_bytes(height, row[1]),
            receipts,
            [address for (address,) in senders],
        )

    @contextmanager
    def read_transaction(self) -> Iterator[None]:
        """Reads inside see one consistent version of the file (a writer may go on)."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                yield
            finally:
                self._db.execute("COMMIT")

    def is_empty(self) -> bool:
        """Whether nothing of a chain is stored: no genesis document and no block."""
        return not self._first(
            "SELECT EXISTS (SELECT 1 FROM blocks) OR EXISTS (SELECT 1 FROM meta WHERE key = ?)",
            "genesis",
        )

    def genesis(self) -> Genesis | None:
        raw = self._meta("genesis")
        return None if raw is None else load_genesis(raw)

    def base(self) -> BlockHeader | None:
        raw = self._meta("base")
        if raw is None:
            return None
        try:
            return decode(raw, BlockHeader)
        except LedgerError as error:
            raise CorruptChain(0, f"the stored base header does not decode ({error})") from error

    def head(self) -> BlockHeader | None:
        with self._lock:
            row = self._db.execute(
                "SELECT height, block FROM blocks ORDER BY height DESC LIMIT 1"
            ).fetchone()
        if row is None:
            return self.base()
        return _decode_block(row[0], self._block_bytes(row[0], row[1])).header

    def load_state(self) -> dict[StateKey, bytes]:
        return {key: value for key, (value, _) in self.state_rows().items()}

    def state_rows(self) -> dict[StateKey, tuple[bytes, int]]:
        """Each stored state entry's value and the height of the block that wrote it last."""
        return self._state.rows()

    def state_entries(self, at_most: int) -> int:
        return self._state.count(at_most)

    def state_items(self, part_entries: int) -> Iterator[list[tuple[str, str, bytes]]]:
        """Every stored state entry as (namespace, key, value), `part_entries` at a time,
        read by one query (one version of the state) and unpacked a part at a time."""
        return self._state.items(part_entries)

    def state_heights(self) -> dict[StateKey, int]:
        return self._state.heights()

    def log_position(self) -> int:
        """The ordering-log sequence of the newest block that recorded one; a file written
        before positions were kept per block has it in ``meta``; 0 if neither."""
        value = self._first("SELECT position FROM log_positions ORDER BY height DESC LIMIT 1")
        if value is not None:
            return int(value)
        raw = self._meta("log_position")
        return 0 if raw is None else decode(raw, int)

    def log_position_at(self, height: int) -> int | None:
        """The ordering-log sequence of the entry that closed block `height`.

        0 for every block of a chain never ordered by a log (solo and embedded nodes);
        None where this file did not record it: a block committed before the file kept
        positions per block (the head's is known all the same), or one it never stored.
        """
        value = self._first("SELECT position FROM log_positions WHERE height = ?", height)
        if value is not None:
            return int(value)
        before_rows = self._meta("log_position")  # the head's, in a file from before
        if before_rows is None:
            if self._first("SELECT EXISTS (SELECT 1 FROM log_positions)"):
                return None
            return 0 if self.stored_hash(height) is not None else None
        head = self.head()
        return decode(before_rows, int) if head is not None and head.height == height else None

    def block(self, height: int) -> Block | None:
        raw = self._first("SELECT block FROM blocks WHERE height = ?", height)
        return None if raw is None else decode_block(self._block_bytes(height, raw))

    def blocks(self) -> Iterator[Block]:
        """Every stored block in height order (read in pages, for verification)."""
        height = 0
        while True:
            rows = self.block_rows(height, 64)
            if not rows:
                return
            for row_height, _, raw in rows:
                yield decode_block(raw)
                height = row_height + 1

    def block_rows(self, first: int, limit: int) -> list[tuple[int, bytes, bytes]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT height, hash, block FROM blocks WHERE height >= ? ORDER BY height LIMIT ?",
                (first, limit),
            ).fetchall()
        return [(h, bytes(hash_), self._block_bytes(h, block)) for h, hash_, block in rows]

    def receipt_rows(self, first: int, last: int) -> list[tuple[int, int, bytes, int, bytes]]:
        """Receipts of blocks `first` to `last` as canonical bytes; the id column is the
        stored 8-byte prefix (the receipt bytes carry the full id of the block's transaction)."""
        with self._lock:
            index = self._db.execute(
                "SELECT height, position, id, code FROM transactions "
                "WHERE height BETWEEN ? AND ? ORDER BY height, position",
                (first, last),
            ).fetchall()
            stored = dict(
                self._db.execute(
                    "SELECT height, receipts FROM blocks WHERE height BETWEEN ? AND ?",
                    (first, last),
                ).fetchall()
            )
        rows: list[tuple[int, int, bytes, int, bytes]] = []
        tails: dict[int, list[bytes]] = {}
        ids: dict[int, list[bytes]] = {}
        for height, position, prefix, code in index:
            if height not in tails:
                tails[height] = self._tails(height, stored[height]) if height in stored else []
                ids[height] = [transaction_id(raw) for raw in self._transactions(height) or []]
                if len(tails[height]) != len(ids[height]):
                    raise CorruptChain(
                        height,
                        f"{len(tails[height])} receipts stored for {len(ids[height])} transactions",
                    )
            if position >= len(ids[height]):
                receipt = b""  # indexed beyond the block: the counts name the block
            else:
                receipt = receipt_bytes(tails[height][position], ids[height][position], code)
            rows.append((height, position, prefix_bytes(prefix), code, receipt))
        return rows

    def highest_receipt_height(self) -> int | None:
        return self._index.highest_height()

    def next_height(self, after: int) -> int | None:
        """The lowest stored height above `after` (None if there is none)."""
        value = self._first("SELECT MIN(height) FROM blocks WHERE height > ?", after)
        return None if value is None else int(value)

    def stored_hash(self, height: int) -> bytes | None:
        """The hash of block `height`, also of an archived block (None if unknown)."""
        value = self._first(
            "SELECT hash FROM blocks WHERE height = ? UNION ALL "
            "SELECT hash FROM archived WHERE height = ? LIMIT 1",
            height,
            height,
        )
        return None if value is None else bytes(value)

    def receipts(self, height: int) -> list[Receipt]:
        return [decode(raw, Receipt) for raw in self.receipt_bytes(height)]

    def receipt_bytes(self, height: int) -> list[bytes]:
        """The canonical bytes of block `height`'s receipts (what its results root covers)."""
        with self._lock:
            row = self._db.execute(
                "SELECT receipts FROM blocks WHERE height = ?", (height,)
            ).fetchone()
            codes = self._db.execute(
                "SELECT code FROM transactions WHERE height = ? ORDER BY position", (height,)
            ).fetchall()
        if row is None:
            return []
        tails = self._tails(height, row[0])
        ids = [transaction_id(raw) for raw in self._transactions(height) or []]
        if not len(tails) == len(ids) == len(codes):
            raise CorruptChain(
                height,
                f"{len(tails)} receipts and {len(codes)} codes stored for {len(ids)} transactions",
            )
        return [
            receipt_bytes(tail, tx_id, code)
            for tail, tx_id, (code,) in zip(tails, ids, codes, strict=True)
        ]

    def receipt_tails(self, height: int) -> list[bytes]:
        """Block `height`'s receipts as stored: each without its transaction id and code
        (`stored_forms.receipt_tail`); the ids are the block's transactions', the codes the
        transaction index's. Empty for a block not stored."""
        with self._lock:
            row = self._db.execute(
                "SELECT receipts FROM blocks WHERE height = ?", (height,)
            ).fetchone()
        return [] if row is None else self._tails(height, row[0])

    def transaction_count(self) -> int:
        """How many transactions the stored blocks hold."""
        return self._index.count()

    def find_transaction(self, transaction_id: bytes) -> TransactionLocation | None:
        found = self._index.locate(transaction_id)
        if found is None:
            return None
        height, position = found
        return TransactionLocation(height, position, self.receipts(height)[position])

    def has_transaction(self, transaction_id: bytes) -> bool:
        return self._index.locate(transaction_id) is not None

    def committed_among(self, transaction_ids: Sequence[bytes]) -> set[bytes]:
        """The ids among `transaction_ids` that are stored (admission's batched check;
        see `TransactionIndex.committed_among`)."""
        return self._index.committed_among(transaction_ids)

    def transaction_index(self, height: int) -> list[tuple[int, bytes, int]]:
        """(position, id prefix (8 bytes), code) of each indexed transaction of block `height`."""
        return self._index.of_block(height)

    def transactions_of(self, sender: str, limit: int) -> list[tuple[int, int, bytes, int]]:
        return self._index.of_sender(sender, limit)

    def close(self) -> None:
        with self._lock:
            self._db.close()


RECENT_BLOCKS = 8
"""Decoded blocks kept for lookups by id or sender (each a few hundred KiB at most)."""

_TAILS = msgspec.msgpack.Decoder(list[bytes])


def _decode_block(height: int, raw: bytes) -> Block:
    try:
        return decode_block(raw)
    except LedgerError as error:
        raise CorruptChain(height, f"stored block does not decode ({error})") from error
