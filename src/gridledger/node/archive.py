"""Archive files: old blocks moved out of the live chain file, still verifiable from genesis.

`archive_chain` writes the blocks from the oldest stored one up to ``head - keep`` into
archive files in a directory (``blocks-<first>-<last>.glarc``, at most
`FILE_BLOCKS` blocks or about `FILE_BYTES` of canonical bytes each), syncs them, and only
then removes those blocks, their receipts and their index rows from the chain file, in
one SQLite transaction; the file keeps each archived block's hash (``archived``) and the
newest archived header as its base. The state is untouched: a pruned peer serves,
commits and starts as before; reads of an archived block or transaction answer "not
found". A crash at any point leaves either the rows (and perhaps an archive file, which
the next run writes again) or the rows removed with the file synced.

An archive file is ``GLARC1\\n\\0`` followed by one zstd frame of a msgpack list of
`ArchivedBlock`: the canonical block bytes, its receipts' canonical bytes and the
senders, so `gridledger verify --archive DIR` replays from genesis and checks every hash
and receipt, exactly as for stored blocks. Nothing in an archive is trusted: a changed
byte is named by the replay, at its height.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
import zstandard

from gridledger.ledger import Block, BlockHeader, LedgerError, decode_block
from gridledger.node.errors import CorruptChain, StorageError

if TYPE_CHECKING:
    from gridledger.node.storage import SQLiteStorage

MAGIC = b"GLARC1\n\x00"
FILE_BLOCKS = 1_000
FILE_BYTES = 64 * 1024 * 1024
"""About this many canonical bytes per archive file (a file is read whole to verify it)."""
NAME = re.compile(r"^blocks-(\d{12})-(\d{12})\.glarc$")


class ArchivedBlock(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    height: int
    hash: bytes
    block: bytes
    """The block's canonical bytes."""
    receipts: list[bytes]
    """Its receipts' canonical bytes."""
    senders: list[str]


@dataclass(frozen=True, slots=True)
class ArchiveReport:
    files: list[Path]
    first: int
    last: int
    transactions: int
    chain_bytes_before: int = 0
    """The chain file's size before archiving, in bytes."""
    chain_bytes_after: int = 0
    """Its size after pruning (and compacting, unless that was turned off), in bytes."""


def archive_name(first: int, last: int) -> str:
    return f"blocks-{first:012d}-{last:012d}.glarc"


def write_archive_file(path: Path, blocks: list[ArchivedBlock]) -> None:
    """Write one archive file atomically (temporary file, synced, renamed, directory synced)."""
    payload = zstandard.ZstdCompressor(level=9).compress(msgspec.msgpack.encode(blocks))
    temporary = path.with_name(path.name + ".partial")
    with open(temporary, "wb") as out:
        out.write(MAGIC + payload)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def read_archive_file(path: Path) -> list[ArchivedBlock]:
    """The blocks of one archive file; `CorruptChain` naming its first height if unreadable."""
    found = NAME.match(path.name)
    first = int(found.group(1)) if found else 0
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CorruptChain(first, f"archive {path} cannot be read ({error.strerror})") from error
    if not data.startswith(MAGIC):
        raise CorruptChain(first, f"archive {path} is not a gridledger archive file")
    try:
        raw = zstandard.ZstdDecompressor().decompress(data[len(MAGIC) :])
        return msgspec.msgpack.decode(raw, type=list[ArchivedBlock])
    except (zstandard.ZstdError, msgspec.DecodeError, msgspec.ValidationError) as error:
        raise CorruptChain(first, f"archive {path} does not decode ({error})") from error


def archive_files(directory: Path) -> list[tuple[int, int, Path]]:
    """(first, last, path) of the archive files in `directory`, by first height, contiguous."""
    if not directory.is_dir():
        raise StorageError(str(directory), "is not an archive directory")
    files = sorted(
        (int(m.group(1)), int(m.group(2)), directory / name)
        for name in os.listdir(directory)
        if (m := NAME.match(name))
    )
    expected = 0
    for first, last, path in files:
        if first != expected:
            raise CorruptChain(expected, f"missing from the archive (the next file is {path.name})")
        if last < first:
            raise CorruptChain(first, f"archive {path.name} names an empty range")
        expected = last + 1
    return files


class Archive:
    """The blocks of an archive directory, read file by file in height order."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.files = archive_files(directory)
        self._loaded: tuple[int, list[ArchivedBlock]] | None = None

    @property
    def last_height(self) -> int:
        return self.files[-1][1] if self.files else -1

    def record(self, height: int) -> ArchivedBlock | None:
        for index, (first, last, path) in enumerate(self.files):
            if first <= height <= last:
                if self._loaded is None or self._loaded[0] != index:
                    self._loaded = (index, read_archive_file(path))
                blocks = self._loaded[1]
                position = height - first
                if position >= len(blocks) or blocks[position].height != height:
                    raise CorruptChain(height, f"archive {path.name} does not hold it in place")
                return blocks[position]
        return None

    def block(self, height: int) -> Block | None:
        record = self.record(height)
        if record is None:
            return None
        try:
            return decode_block(record.block)
        except LedgerError as error:
            raise CorruptChain(height, f"archived block does not decode ({error})") from error


def archive_chain(
    chain_path: Path, directory: Path, keep: int, compact: bool = True
) -> ArchiveReport:
    """Move every stored block below the newest `keep` ones to archive files in `directory`.

    With `compact` (the default) the chain file is then rewritten without the pages the
    pruned blocks held (`SQLiteStorage.compact`): without it, the file keeps its size and
    SQLite reuses the free pages for new blocks.
    """
    from gridledger.node.core import acquire_writer_lock
    from gridledger.node.storage import SQLiteStorage

    if keep < 1:
        raise StorageError(str(chain_path), f"--keep must be at least 1 (the head), not {keep}")
    lock = acquire_writer_lock(chain_path)
    before = chain_path.stat().st_size if chain_path.exists() else 0
    storage = SQLiteStorage(chain_path)
    try:
        head = storage.head()
        if head is None:
            raise StorageError(str(chain_path), "holds no chain")
        base = storage.base()
        first = 0 if base is None else base.height + 1
        last = head.height - keep
        directory.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        transactions = 0
        for records in _chunks(storage, first, last):
            path = directory / archive_name(records[0].height, records[-1].height)
            write_archive_file(path, records)
            written.append(path)
            transactions += sum(len(r.receipts) for r in records)
        newest: BlockHeader | None = None
        if last >= first:
            block = storage.block(last)
            assert block is not None
            newest = block.header
            storage.prune_through(newest)
            if compact:
                storage.compact()
    finally:
        storage.close()
        lock.close()
    after = chain_path.stat().st_size
    return ArchiveReport(written, first, last if newest else first - 1, transactions, before, after)


def _chunks(storage: SQLiteStorage, first: int, last: int) -> Iterator[list[ArchivedBlock]]:
    records: list[ArchivedBlock] = []
    size = 0
    for height in range(first, last + 1):
        record = ArchivedBlock(*storage.block_with_receipts(height))
        records.append(record)
        size += len(record.block) + sum(map(len, record.receipts))
        if len(records) >= FILE_BLOCKS or size >= FILE_BYTES:
            yield records
            records, size = [], 0
    if records:
        yield records
