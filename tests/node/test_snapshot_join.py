"""A new peer joins from a snapshot: the restore's hash check, its one transaction, a crash.

The restore sums the entries' state hash in worker processes while it writes the rows, in
one SQLite transaction committed only once the hash is the attested one (lowered
thresholds make the test states use the workers). A refused snapshot, or a restore killed
before its commit, leaves a file that no node opens and that a good snapshot can still
start; a value changed in a restored file is refused by the node's start-up check.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from gridledger.crypto import generate_keypair
from gridledger.crypto.keys import KeyPair
from gridledger.ledger import Genesis, encode
from gridledger.node import CorruptChain, Node, SQLiteStorage, StorageError, state_sums
from gridledger.node.compression import RAW, pack_raw
from gridledger.node.snapshot import (
    Snapshot,
    SnapshotError,
    make_snapshot,
    read_snapshot,
    restore_snapshot,
    snapshot_of_chain,
    write_snapshot,
)
from gridledger.node.stored_forms import pack_key
from tests.node.snapshots import attested, copied_chain, grown_community, infos

BLOCKS = 5


@pytest.fixture(scope="module")
def peers() -> list[KeyPair]:
    return [generate_keypair() for _ in range(4)]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Genesis]:
    return grown_community(tmp_path_factory.mktemp("pristine"), BLOCKS)


@pytest.fixture
def chain(pristine: tuple[Path, Genesis], tmp_path: Path) -> Path:
    return copied_chain(pristine[0], tmp_path)


@pytest.fixture(autouse=True)
def workers_for_small_states(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(state_sums, "PARALLEL_MIN_ENTRIES", 1)
    monkeypatch.setattr(state_sums, "PART_ENTRIES", 4)


def forged_snapshot(chain: Path, peers: list[KeyPair]) -> Snapshot:
    """The chain's snapshot with one balance raised and the body hash made to fit, attested
    by every peer (as if they were fooled): only the state hash can tell."""
    taken = snapshot_of_chain(chain)
    storage = SQLiteStorage(chain)
    try:
        genesis, state, heights = storage.genesis(), storage.load_state(), storage.state_heights()
        log_position = storage.log_position()
    finally:
        storage.close()
    assert genesis is not None
    key = next(k for k in sorted(state) if k[0] == "tokens")
    entries = {k: (v, heights[k]) for k, v in state.items()}
    entries[key] = (encode(10**12), entries[key][1])
    return attested(make_snapshot(genesis, taken.header.header, entries, log_position), peers)


def test_a_restored_peer_holds_the_state_raw_and_opens_on_it(
    chain: Path, tmp_path: Path, peers: list[KeyPair]
) -> None:
    snapshot_file = tmp_path / "state.glsnap"
    write_snapshot(attested(snapshot_of_chain(chain), peers[:3]), snapshot_file)
    new = tmp_path / "new.sqlite"
    head = restore_snapshot(read_snapshot(snapshot_file), infos(peers), new)
    with sqlite3.connect(new) as db:
        forms = {bytes(value)[0] for (value,) in db.execute("SELECT value FROM state")}
    db.close()
    assert forms == {RAW}
    source = SQLiteStorage(chain)
    try:
        expected = source.load_state()
    finally:
        source.close()
    joined = Node.open_path(new)
    try:
        assert joined.head == head
        assert dict(joined.state.items()) == expected
        assert joined.state.state_hash() == head.state_hash
    finally:
        joined.close()


def test_a_forged_entry_is_refused_and_leaves_a_file_no_node_opens(
    chain: Path, tmp_path: Path, peers: list[KeyPair]
) -> None:
    new = tmp_path / "new.sqlite"
    with pytest.raises(SnapshotError, match=f"entries do not give block {BLOCKS}'s state hash"):
        restore_snapshot(forged_snapshot(chain, peers), infos(peers), new)
    storage = SQLiteStorage(new)
    try:
        assert storage.is_empty()
        assert storage.load_state() == {}
    finally:
        storage.close()
    with pytest.raises(StorageError, match="holds no chain"):
        Node.open_path(new)
    head = restore_snapshot(attested(snapshot_of_chain(chain), peers), infos(peers), new)
    reopened = Node.open_path(new)  # the refused attempt left nothing behind
    try:
        assert reopened.head == head
    finally:
        reopened.close()


KILLED_RESTORE = """
import os, signal, sys
from pathlib import Path
from gridledger.node import snapshot, state_sums
from gridledger.node.attestation import PeerInfo

state_sums.PARALLEL_MIN_ENTRIES = 1
state_sums.PART_ENTRIES = 4


def killed(summer, snapshot_, path):
    summer.lanes()  # every row is written, the hash summed: now, before the commit
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    snapshot._check_state_hash = killed
    peers = [PeerInfo(f"peer{i}", bytes.fromhex(key)) for i, key in enumerate(sys.argv[3:])]
    snapshot.restore_snapshot(snapshot.read_snapshot(Path(sys.argv[1])), peers, Path(sys.argv[2]))
"""


def test_a_restore_killed_before_its_commit_leaves_a_file_no_node_opens(
    chain: Path, tmp_path: Path, peers: list[KeyPair]
) -> None:
    snapshot_file = tmp_path / "state.glsnap"
    write_snapshot(attested(snapshot_of_chain(chain), peers), snapshot_file)
    script = tmp_path / "killed_restore.py"
    script.write_text(KILLED_RESTORE)
    new = tmp_path / "new.sqlite"
    keys = [k.public_key.hex() for k in peers]
    done = subprocess.run(
        [sys.executable, str(script), str(snapshot_file), str(new), *keys],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == -9, done.stderr
    assert Path(f"{new}-wal").stat().st_size > 0  # the rows reached the log, uncommitted
    with pytest.raises(StorageError, match="holds no chain"):
        Node.open_path(new)
    head = restore_snapshot(read_snapshot(snapshot_file), infos(peers), new)
    reopened = Node.open_path(new)
    try:
        assert reopened.head == head
        assert reopened.state.state_hash() == head.state_hash
    finally:
        reopened.close()


@pytest.mark.parametrize(
    ("stored", "refusal"),
    [
        (lambda value: pack_raw(value + b"\x00"), "stored state does not match block"),
        (lambda value: b"\x63" + value, "names dictionary 98, which is not stored"),
    ],
)
def test_a_value_changed_in_a_restored_file_is_refused_at_start_up(
    chain: Path, tmp_path: Path, peers: list[KeyPair], stored: object, refusal: str
) -> None:
    new = tmp_path / "new.sqlite"
    restore_snapshot(attested(snapshot_of_chain(chain), peers), infos(peers), new)
    storage = SQLiteStorage(new)
    try:
        (namespace, key), value = next(
            (k, v) for k, v in sorted(storage.load_state().items()) if k[0] == "tokens"
        )
        number = storage._state.namespaces[namespace]
    finally:
        storage.close()
    assert callable(stored)
    with sqlite3.connect(new) as db:
        changed = db.execute(
            "UPDATE state SET value = ? WHERE namespace = ? AND key = ?",
            (stored(value), number, pack_key(key)),
        )
        assert changed.rowcount == 1
    db.close()
    with pytest.raises((StorageError, CorruptChain), match=refusal):
        Node.open_path(new)
