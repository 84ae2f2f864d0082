"""`gridledger archive` gives the pruned blocks' pages back: the chain file shrinks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gridledger.ledger import BlockHeader
from gridledger.node import Node, SQLiteStorage
from gridledger.node.archive import Archive, archive_chain
from gridledger.node.errors import StorageError
from gridledger.node.verify import verify_storage
from tests.community import make_genesis
from tests.node.harness import grow_chain

BLOCKS = 40


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("compaction") / "chain.sqlite"
    grow_chain(path, make_genesis(), BLOCKS, per_block=30)
    return path


@pytest.fixture
def chain(pristine: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "chain.sqlite"
    source = sqlite3.connect(pristine)
    target = sqlite3.connect(copy)
    with target:
        source.backup(target)
    source.close()
    target.close()
    return copy


def test_archiving_shrinks_the_chain_file_and_keeps_it_whole(chain: Path, tmp_path: Path) -> None:
    before = verify_storage(SQLiteStorage(chain))
    size = chain.stat().st_size
    report = archive_chain(chain, tmp_path / "archive", keep=5)
    assert report.chain_bytes_before == size
    assert report.chain_bytes_after < report.chain_bytes_before * 0.5, report
    assert chain.stat().st_size == report.chain_bytes_after
    assert not chain.with_name(chain.name + "-wal").exists() or (
        chain.with_name(chain.name + "-wal").stat().st_size == 0
    )
    storage = SQLiteStorage(chain)
    try:
        after = verify_storage(storage, archive=Archive(tmp_path / "archive"))
        assert (after.head_hash, after.transactions) == (before.head_hash, before.transactions)
    finally:
        storage.close()
    node = Node.open_path(chain)  # and a node serves it
    try:
        assert node.head.height == BLOCKS
    finally:
        node.close()


def test_without_compaction_the_file_keeps_its_size(chain: Path, tmp_path: Path) -> None:
    size = chain.stat().st_size
    report = archive_chain(chain, tmp_path / "archive", keep=5, compact=False)
    assert report.chain_bytes_before == size
    assert report.chain_bytes_after >= size  # free pages stay inside the file
    storage = SQLiteStorage(chain)
    try:
        assert verify_storage(storage, archive=Archive(tmp_path / "archive")).height == BLOCKS
    finally:
        storage.close()


def test_a_reader_holding_the_log_makes_compaction_fail_with_a_clear_error(
    chain: Path, tmp_path: Path
) -> None:
    """Another connection in a read transaction pins the write-ahead log: compaction says
    so and loses nothing (the pruning before it has committed; a later run compacts)."""
    storage = SQLiteStorage(chain)
    storage.prune_through(storage_block_header(storage, 10))
    reader = sqlite3.connect(chain)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM blocks").fetchone()
    try:
        with pytest.raises(StorageError, match=str(chain)):
            storage.compact()
    finally:
        reader.execute("COMMIT")
        reader.close()
    try:
        storage.compact()  # now it can
        head = storage.head()
        assert head is not None and head.height == BLOCKS
    finally:
        storage.close()


def storage_block_header(storage: SQLiteStorage, height: int) -> BlockHeader:
    block = storage.block(height)
    assert block is not None
    return block.header
