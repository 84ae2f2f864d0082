"""Snapshot attestations cover the whole snapshot header, the ordering-log position included.

Real SQLite chain files committed as a ``nats`` peer commits them (`ordered_chain`: block h
closed at log sequence 10 * h). A peer attests a snapshot only if its own chain backs every
part of the header; a header changed after the peers attested it (a new resume position,
say) has another hash and no attestations; a format-1 file (whose attestations left the
position out) is refused with what to do instead.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.crypto import generate_keypair
from gridledger.crypto.keys import KeyPair
from gridledger.ledger import Genesis, StateKey
from gridledger.node import SQLiteStorage
from gridledger.node.attestation import sign_attestation
from gridledger.node.snapshot import (
    MAGIC,
    Snapshot,
    SnapshotError,
    attest_snapshot,
    check_snapshot,
    make_snapshot,
    read_snapshot,
    restore_snapshot,
    snapshot_of_chain,
    write_snapshot,
)
from gridledger.node.snapshot_attestation import (
    decode_snapshot_attestation,
    encode_snapshot_attestation,
    sign_snapshot,
)
from tests.node.harness import grow_chain, write_community
from tests.node.snapshots import attested, infos, ordered_chain

BLOCKS = 6
KEYS = generate_keypair()


@pytest.fixture(scope="module")
def peers() -> list[KeyPair]:
    return [generate_keypair() for _ in range(4)]


@pytest.fixture
def chain(tmp_path: Path) -> Path:
    genesis = write_community(tmp_path / "community")
    path = tmp_path / "community" / "chain.sqlite"
    ordered_chain(path, genesis, BLOCKS)
    return path


def _genesis_and_rows(chain: Path) -> tuple[Genesis, dict[StateKey, tuple[bytes, int]]]:
    """The chain's genesis and its state rows ((value, height that wrote it) per key)."""
    storage = SQLiteStorage(chain)
    try:
        genesis, rows = storage.genesis(), storage.state_rows()
    finally:
        storage.close()
    assert genesis is not None
    return genesis, rows


def _with_position(taken: Snapshot, chain: Path, log_position: int) -> Snapshot:
    """`taken` rebuilt with another ordering-log position (a new header, so a new hash)."""
    genesis, rows = _genesis_and_rows(chain)
    return make_snapshot(genesis, taken.header.header, rows, log_position)


def test_the_chain_records_the_log_position_of_each_block(chain: Path, tmp_path: Path) -> None:
    storage = SQLiteStorage(chain)
    try:
        assert [storage.log_position_at(h) for h in range(1, BLOCKS + 1)] == [
            10 * h for h in range(1, BLOCKS + 1)
        ]
        assert storage.log_position_at(BLOCKS + 1) is None
    finally:
        storage.close()
    embedded = tmp_path / "embedded.sqlite"
    grow_chain(embedded, write_community(tmp_path / "other"), 2)
    storage = SQLiteStorage(embedded)
    try:  # a chain never ordered by a log: position 0 at every stored block
        assert [storage.log_position_at(h) for h in range(3)] == [0, 0, 0]
        assert storage.log_position_at(3) is None
    finally:
        storage.close()


def test_a_restored_peer_records_the_snapshot_position_as_its_base(
    chain: Path, tmp_path: Path, peers: list[KeyPair]
) -> None:
    taken = attested(snapshot_of_chain(chain), peers)
    assert taken.header.log_position == 10 * BLOCKS
    restored = tmp_path / "restored.sqlite"
    restore_snapshot(taken, infos(peers), restored)
    storage = SQLiteStorage(restored)
    try:
        assert storage.log_position_at(BLOCKS) == 10 * BLOCKS
        assert storage.log_position() == 10 * BLOCKS
    finally:
        storage.close()


def test_a_position_changed_after_attesting_is_refused(
    chain: Path, tmp_path: Path, peers: list[KeyPair]
) -> None:
    """The attack the old format allowed: keep the peers' signatures, move the position."""
    genuine = attested(snapshot_of_chain(chain), peers)
    moved = _with_position(genuine, chain, 10 * BLOCKS + 7)
    forged = Snapshot(moved.header, moved.header_bytes, moved.body, genuine.attestations)
    with pytest.raises(SnapshotError, match="0 of 4 listed peers attest this snapshot"):
        restore_snapshot(forged, infos(peers), tmp_path / "new.sqlite")


def test_a_peer_does_not_attest_another_position_than_its_own(
    chain: Path, tmp_path: Path, peers: list[KeyPair]
) -> None:
    path = tmp_path / "state.glsnap"
    write_snapshot(_with_position(snapshot_of_chain(chain), chain, 10 * BLOCKS - 1), path)
    with pytest.raises(
        SnapshotError,
        match=r"resumes the ordering log after sequence 59, block 6 closed at sequence 60",
    ):
        attest_snapshot(path, chain, peers[0])
    assert read_snapshot(path).attestations == []


def test_a_peer_without_the_position_of_an_older_block_does_not_attest_it(
    chain: Path, tmp_path: Path, peers: list[KeyPair]
) -> None:
    """A file written before positions were kept per block knows only its head's."""
    path = tmp_path / "state.glsnap"
    write_snapshot(snapshot_of_chain(chain), path)
    ordered_chain_grown = chain.parent / "later.sqlite"
    genesis = write_community(tmp_path / "later")
    ordered_chain(ordered_chain_grown, genesis, BLOCKS + 2)
    as_written_before_rows(ordered_chain_grown)
    with pytest.raises(SnapshotError, match="did not record the ordering-log position of block 6"):
        attest_snapshot(path, ordered_chain_grown, peers[0])
    as_written_before_rows(chain)  # at its head the file knows the position all the same
    assert attest_snapshot(path, chain, peers[0]) == 1


def as_written_before_rows(chain: Path) -> None:
    """Make `chain` a file as written before positions were kept per block: only the
    head's, in ``meta``."""
    with sqlite3.connect(chain) as db:
        (head_position,) = db.execute(
            "SELECT position FROM log_positions ORDER BY height DESC LIMIT 1"
        ).fetchone()
        db.execute("DELETE FROM log_positions")
        db.execute(
            "INSERT INTO meta VALUES ('log_position', ?)", (msgspec.msgpack.encode(head_position),)
        )


def test_a_peer_with_another_block_does_not_attest(
    chain: Path, tmp_path: Path, peers: list[KeyPair]
) -> None:
    path = tmp_path / "state.glsnap"
    write_snapshot(snapshot_of_chain(chain), path)
    other = tmp_path / "other.sqlite"  # the same community, other transactions in its blocks
    ordered_chain(other, write_community(tmp_path / "o"), BLOCKS, per_block=2)
    with pytest.raises(
        SnapshotError, match=r"block 6 is [0-9a-f]{64} in the snapshot.*not attested"
    ):
        attest_snapshot(path, other, peers[0])
    assert attest_snapshot(path, chain, peers[0]) == 1
    assert (
        attest_snapshot(path, chain, peers[0]) == 1
    )  # a peer's second attestation replaces its first


def test_a_format_1_snapshot_is_refused_with_what_to_do(chain: Path, tmp_path: Path) -> None:
    taken = snapshot_of_chain(chain)
    old_header = msgspec.structs.replace(taken.header, format_version=1)
    header_bytes = msgspec.msgpack.encode(old_header)
    header = taken.header.header
    per_commit = sign_attestation(
        generate_keypair(), header.chain_id, header.height, taken.block_hash, header.state_hash
    )
    parts = [header_bytes, taken.body, msgspec.msgpack.encode([per_commit])]
    path = tmp_path / "old.glsnap"
    path.write_bytes(MAGIC + b"".join(len(p).to_bytes(4, "big") + p for p in parts))
    with pytest.raises(SnapshotError, match=r"format version 1: .*gridledger chain attest"):
        read_snapshot(path)


def test_a_per_commit_attestation_is_not_a_snapshot_attestation(chain: Path) -> None:
    """Different structs and domain tags: a peer's per-commit signature cannot be replayed."""
    taken = snapshot_of_chain(chain)
    header = taken.header.header
    per_commit = sign_attestation(
        generate_keypair(), header.chain_id, header.height, taken.block_hash, header.state_hash
    )
    assert decode_snapshot_attestation(msgspec.msgpack.encode(per_commit)) is None


@settings(max_examples=200, deadline=None)
@given(position=st.integers(min_value=0, max_value=200), flip=st.integers(1, 255))
def test_a_changed_byte_of_an_attestation_never_passes_as_another(position: int, flip: int) -> None:
    keys = KEYS
    attestation = sign_snapshot(keys, "gridledger-test", 7, bytes(range(32)))
    encoded = bytearray(encode_snapshot_attestation(attestation))
    index = position % len(encoded)
    encoded[index] ^= flip
    decoded = decode_snapshot_attestation(bytes(encoded))
    assert decoded is None or decoded == attestation


@pytest.mark.parametrize("written", [-1, BLOCKS + 1])
def test_an_entry_written_after_the_snapshot_or_before_genesis_is_refused(
    chain: Path, tmp_path: Path, peers: list[KeyPair], written: int
) -> None:
    """The state hash does not cover the heights, so they are checked for what they can be."""
    taken = snapshot_of_chain(chain)
    genesis, rows = _genesis_and_rows(chain)
    key = min(rows)
    rows[key] = (rows[key][0], written)
    forged = attested(make_snapshot(genesis, taken.header.header, rows, 10 * BLOCKS), peers)
    with pytest.raises(SnapshotError, match=f"written by block {written} "):
        restore_snapshot(forged, infos(peers), tmp_path / "new.sqlite")


@pytest.fixture(scope="module")
def snapshot_bytes(tmp_path_factory: pytest.TempPathFactory, peers: list[KeyPair]) -> bytes:
    directory = tmp_path_factory.mktemp("flips")
    genesis = write_community(directory / "community")
    chain = directory / "community" / "chain.sqlite"
    ordered_chain(chain, genesis, BLOCKS)
    path = directory / "state.glsnap"
    write_snapshot(attested(snapshot_of_chain(chain), peers), path)
    return path.read_bytes()


@settings(max_examples=300, deadline=None)
@given(position=st.integers(min_value=0), flip=st.integers(1, 255))
def test_any_changed_byte_of_an_attested_snapshot_is_refused_with_a_snapshot_error(
    snapshot_bytes: bytes, peers: list[KeyPair], position: int, flip: int
) -> None:
    """Header, body, attestations or a length prefix: a changed byte never passes, and never
    fails with anything but `SnapshotError` (no decoder's exception leaks)."""
    changed = bytearray(snapshot_bytes)
    changed[position % len(changed)] ^= flip
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "changed.glsnap"
        path.write_bytes(bytes(changed))
        with pytest.raises(SnapshotError):
            check_snapshot(read_snapshot(path), infos(peers), str(path))
