"""`verify_storage` with worker processes: blocks checked ahead, state hashes settled late.

The replay does not wait for a block's lane sums: it settles them up to
`SUMS_PENDING_BLOCKS` blocks later. These tests make a short chain take the path of a
long one (`PROCESSES_FROM` lowered to 0) and check that it reaches the same report as
the threads, and that a wrong state hash is still named at its own block, also when a
later block is found bad first.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import msgspec
import pytest

from gridledger.ledger import Block, block_hash, decode, encode
from gridledger.node import CorruptChain, SQLiteStorage
from gridledger.node import verify as verify_module
from gridledger.node.verifier import PendingCheck, PendingSums, Verifier
from gridledger.node.verify import VerifyReport, verify_storage
from tests.node.harness import grow_chain, write_community
from tests.node.stored_rows import canonical_block, raw_value, set_block

BLOCKS = 6


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pristine")
    genesis = write_community(directory)
    grow_chain(directory / "chain.sqlite", genesis, BLOCKS, per_block=4)
    return directory / "chain.sqlite"


@pytest.fixture
def chain(pristine: Path, tmp_path: Path) -> Path:
    shutil.copy(pristine, tmp_path / "chain.sqlite")
    return tmp_path / "chain.sqlite"


@pytest.fixture
def in_processes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every chain is checked in worker processes; records what went there."""
    monkeypatch.setattr(verify_module, "PROCESSES_FROM", 0)
    went: list[str] = []
    submit_check, submit_sums = Verifier.submit_check, Verifier.submit_lane_sums

    def check(self: Verifier, raws: list[bytes]) -> object:
        checked = submit_check(self, raws)
        went.append("check" if isinstance(checked, PendingCheck) else "check here")
        return checked

    def sums(self: Verifier, added: list[bytes], removed: list[bytes]) -> object:
        pending = submit_sums(self, added, removed)
        went.append("sums" if isinstance(pending, PendingSums) else "sums here")
        return pending

    monkeypatch.setattr(Verifier, "submit_check", check)
    monkeypatch.setattr(Verifier, "submit_lane_sums", sums)
    return went


def verified(path: Path, workers: int) -> VerifyReport:
    storage = SQLiteStorage(path)
    try:
        return verify_storage(storage, workers=workers)
    finally:
        storage.close()


def with_state_hash(path: Path, height: int, state_hash: bytes) -> None:
    """Store block `height` with another state hash in its header, and the hash column to
    match (so only the replay can tell)."""
    block = decode(canonical_block(path, height), Block)
    header = msgspec.structs.replace(block.header, state_hash=state_hash)
    set_block(path, height, encode(Block(header, block.transactions)))
    with sqlite3.connect(path) as db:
        db.execute("UPDATE blocks SET hash = ? WHERE height = ?", (block_hash(header), height))
    db.close()


def test_worker_processes_reach_the_report_threads_reach(
    chain: Path, in_processes: list[str]
) -> None:
    in_threads = verified(chain, workers=1)
    in_workers = verified(chain, workers=2)
    assert in_workers == in_threads and in_workers.height == BLOCKS
    assert in_processes.count("check") == BLOCKS and in_processes.count("sums") == BLOCKS


@pytest.mark.parametrize("workers", [1, 2])
def test_a_wrong_state_hash_is_named_before_the_bad_link_it_causes(
    chain: Path, in_processes: list[str], workers: int
) -> None:
    """Block 2's header claims another state hash (and its hash column matches): block 3's
    previous hash is then wrong too, and is found while block 2's sums may still be owed;
    block 2 is named, for its state hash."""
    with_state_hash(chain, 2, b"\x07" * 32)
    with pytest.raises(CorruptChain) as raised:
        verified(chain, workers)
    assert raised.value.height == 2
    assert "state_hash" in raised.value.reason


@pytest.mark.parametrize("workers", [1, 2])
def test_a_wrong_state_hash_in_the_head_block_is_named(
    chain: Path, in_processes: list[str], workers: int
) -> None:
    with_state_hash(chain, BLOCKS, b"\x07" * 32)
    with pytest.raises(CorruptChain) as raised:
        verified(chain, workers)
    assert raised.value.height == BLOCKS and "state_hash" in raised.value.reason


def test_a_changed_byte_in_a_block_is_named_with_worker_processes(
    chain: Path, in_processes: list[str]
) -> None:
    with sqlite3.connect(chain) as db:
        blob = bytearray(db.execute("SELECT block FROM blocks WHERE height = 4").fetchone()[0])
        blob[len(blob) * 2 // 3] ^= 0x01
        db.execute("UPDATE blocks SET block = ? WHERE height = 4", (bytes(blob),))
    db.close()
    with pytest.raises(CorruptChain) as raised:
        verified(chain, workers=2)
    assert raised.value.height == 4


def test_a_stored_state_that_differs_is_found_after_every_hash_is_settled(
    chain: Path, in_processes: list[str]
) -> None:
    """The last blocks' sums are settled before the stored state is compared: a sound chain
    whose head state hash is right but one stored entry was dropped is still refused."""
    with sqlite3.connect(chain) as db:
        found = db.execute("SELECT namespace, key FROM state ORDER BY height DESC LIMIT 1")
        namespace, key = found.fetchone()
        db.execute("DELETE FROM state WHERE namespace = ? AND key = ?", (namespace, key))
    db.close()
    with pytest.raises(CorruptChain, match="missing in the stored state"):
        verified(chain, workers=2)


@pytest.mark.parametrize("change", ["swapped", "dropped"])
def test_stored_receipts_that_decode_but_differ_are_named(
    chain: Path, in_processes: list[str], change: str
) -> None:
    """The receipts are compared as stored (without ids and codes): two of block 3's
    swapped, or its last one dropped, in a well-formed stored value, name block 3."""
    storage = SQLiteStorage(chain)
    try:
        tails = storage.receipt_tails(3)
    finally:
        storage.close()
    assert len(tails) == 4 and tails[0] != tails[1]
    changed = [tails[1], tails[0], *tails[2:]] if change == "swapped" else tails[:-1]
    with sqlite3.connect(chain) as db:
        db.execute(
            "UPDATE blocks SET receipts = ? WHERE height = 3",
            (raw_value(msgspec.msgpack.encode(changed)),),
        )
    db.close()
    with pytest.raises(CorruptChain) as raised:
        verified(chain, workers=2)
    assert raised.value.height == 3
    assert "receipt" in raised.value.reason
