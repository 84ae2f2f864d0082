"""The highest block a node acknowledged as committed, kept in a file beside its chain.

A block is acknowledged once SQLite has committed it (``synchronous=FULL``: the
write-ahead log is synced). It stays in the log until a checkpoint copies it
into the database file, every ~40 MiB of log (`checkpoints.CHECKPOINT_PAGES`, ~20 s
at 2,800 transactions/s). If the log is truncated or lost after a crash, or an
older copy of the database file is put back, SQLite opens the older chain
without a word, and the blocks the node acknowledged are gone.

So the node also writes (height, block hash) of its newest committed block to
``<chain>.acknowledged`` (for ``chain.sqlite``: ``chain.acknowledged``), and at
start compares it with what the chain file holds (`check_acknowledged`): a
chain that ends below the acknowledged height, or holds another block there,
is refused (`ChainBehind`) until the loss is accepted explicitly, which is
recorded in ``<chain>.rollbacks``.

Cost: the file is written by a background thread, at most every
`WRITE_INTERVAL_S` and only after new blocks: one 60-byte ``pwrite`` and one
``fdatasync`` (~3 ms of waiting on this machine's disk, no CPU to speak of),
while the committing thread only stores the newest (height, hash) in memory.
The price is a window: blocks acknowledged in the last `WRITE_INTERVAL_S`
before a crash may be rolled back unnoticed. Writing before each
acknowledgement would close it, at one more sync per block on the commit path.

The record is written alternately into two slots in different disk sectors,
each with a sequence number and a CRC-32, so a torn write spoils at most the
slot being written and the other still holds the previous record.
"""

from __future__ import annotations

import logging
import os
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gridledger.node.errors import ChainBehind

log = logging.getLogger("gridledger.node")

WRITE_INTERVAL_S = 0.05
"""Least time between two writes of the acknowledged height, in seconds."""

MAGIC = b"GLACK\x00\x00\x01"
SLOT_OFFSETS = (0, 512)
"""Byte offsets of the two slots: different 512-byte sectors."""
RECORD_BYTES = 8 + 8 + 8 + 32 + 4
"""Magic, sequence, height, block hash, CRC-32 of what precedes it."""


@dataclass(frozen=True, slots=True)
class Mark:
    """A block the node acknowledged as committed."""

    height: int
    block_hash: bytes


def acknowledged_path(chain_path: Path) -> Path:
    """``chain.sqlite`` -> ``chain.acknowledged``."""
    return chain_path.with_suffix(".acknowledged")


def rollbacks_path(chain_path: Path) -> Path:
    """``chain.sqlite`` -> ``chain.rollbacks``: one line per accepted loss."""
    return chain_path.with_suffix(".rollbacks")


def _encode(sequence: int, mark: Mark) -> bytes:
    body = MAGIC + sequence.to_bytes(8, "big") + mark.height.to_bytes(8, "big") + mark.block_hash
    return body + zlib.crc32(body).to_bytes(4, "big")


def _decode(record: bytes) -> tuple[int, Mark] | None:
    """(sequence, mark) of a slot, or None if it is empty or spoiled."""
    if len(record) < RECORD_BYTES or not record.startswith(MAGIC):
        return None
    body, crc = record[: RECORD_BYTES - 4], record[RECORD_BYTES - 4 : RECORD_BYTES]
    if zlib.crc32(body).to_bytes(4, "big") != crc:
        return None
    sequence = int.from_bytes(body[8:16], "big")
    return sequence, Mark(int.from_bytes(body[16:24], "big"), body[24:56])


class AcknowledgedHeight:
    """The file holding the newest acknowledged block, and its background writer."""

    def __init__(self, path: Path, interval_s: float = WRITE_INTERVAL_S) -> None:
        self.path = path
        self.interval_s = interval_s
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        slots = [_decode(os.pread(self._fd, RECORD_BYTES, offset)) for offset in SLOT_OFFSETS]
        newest = max((slot for slot in slots if slot is not None), default=None)
        self._sequence = 0 if newest is None else newest[0]
        self.durable: Mark | None = None if newest is None else newest[1]
        """The mark on disk (what was read at open, then each one written)."""
        self._pending: Mark | None = None
        self._condition = threading.Condition()
        self._write_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def record(self, height: int, block_hash: bytes) -> None:
        """Note a committed block; the writer thread makes it durable shortly."""
        with self._condition:
            if self._closed:
                return
            self._pending = Mark(height, block_hash)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="acknowledged-height", daemon=True
                )
                self._thread.start()
            self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                while self._pending is None and not self._closed:
                    self._condition.wait()
                if self._closed:
                    return  # `close` writes what is pending
            self.flush()
            with self._condition:  # at most one write per interval; `close` cuts the wait
                self._condition.wait_for(lambda: self._closed, timeout=self.interval_s)

    def flush(self) -> None:
        """Write the pending mark now, if there is one."""
        with self._condition:
            mark, self._pending = self._pending, None
        if mark is not None:
            self.write(mark)

    def write(self, mark: Mark) -> None:
        """Write `mark` into the older slot and sync it (the newer one keeps the last mark)."""
        with self._write_lock:
            sequence = self._sequence + 1
            try:
                os.pwrite(self._fd, _encode(sequence, mark), SLOT_OFFSETS[sequence % 2])
                os.fdatasync(self._fd)
            except OSError as error:  # the chain is fine; only the rollback check is weaker
                log.error("could not record block %d in %s: %s", mark.height, self.path, error)
                return
            self._sequence = sequence
            self.durable = mark

    def close(self) -> None:
        with self._condition:
            if self._closed:
                return
            self._closed = True
            self._condition.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join()
        self.flush()
        os.close(self._fd)


def record_rollback(chain_path: Path, acknowledged: Mark, head: Mark) -> str:
    """Append the accepted loss to ``<chain>.rollbacks`` (synced); return the line."""
    when = datetime.now(UTC).isoformat(timespec="seconds")
    line = (
        f"{when} accepted rollback: block {acknowledged.height} "
        f"({acknowledged.block_hash.hex()}) was acknowledged, the chain file ends at block "
        f"{head.height} ({head.block_hash.hex()})"
    )
    with rollbacks_path(chain_path).open("a") as file:
        file.write(line + "\n")
        file.flush()
        os.fsync(file.fileno())
    return line


def check_acknowledged(
    acknowledged: AcknowledgedHeight,
    chain_path: Path,
    head: Mark | None,
    hash_at: Callable[[int], bytes | None],
    accept_rollback: bool = False,
) -> None:
    """Refuse a chain that lost acknowledged blocks, or record that the loss is accepted.

    `head` is the stored head (None for an empty chain file); `hash_at(height)` the
    stored hash at a height. Raises `ChainBehind` when the chain ends below the
    acknowledged block or holds another block at its height, unless
    `accept_rollback`: then the loss is appended to ``<chain>.rollbacks``, logged,
    and the stored head becomes the acknowledged block.
    """
    mark = acknowledged.durable
    if mark is None:
        return
    stored = hash_at(mark.height) if head is not None and mark.height <= head.height else None
    if stored == mark.block_hash:
        return
    if not accept_rollback:
        raise ChainBehind(
            str(chain_path), mark.height, None if head is None else head.height, stored is not None
        )
    line = record_rollback(chain_path, mark, head or Mark(-1, b""))
    log.warning("%s: %s", chain_path, line)
    if head is not None:
        acknowledged.write(head)
