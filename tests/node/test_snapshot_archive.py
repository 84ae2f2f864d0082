"""Snapshots and archives: a new peer starts from an attested snapshot; old blocks move to files.

Real SQLite files throughout. Four listed peers (Ed25519 keys made per module), so more
than two thirds is three. A snapshot is refused when fewer listed peers attest it, when
an attestation names another block, when a byte of it changes; an archived chain still
verifies from genesis with its archive, and a changed byte there is named by height.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
import zstandard
from typer.testing import CliRunner

from gridledger.cli import app
from gridledger.crypto import generate_keypair
from gridledger.crypto.keys import KeyPair
from gridledger.ledger import Genesis, encode
from gridledger.node import CorruptChain, Node, SQLiteStorage, StorageError
from gridledger.node.archive import (
    MAGIC,
    Archive,
    archive_chain,
    read_archive_file,
    write_archive_file,
)
from gridledger.node.snapshot import (
    Snapshot,
    SnapshotError,
    attest_snapshot,
    make_snapshot,
    read_snapshot,
    restore_snapshot,
    snapshot_body,
    snapshot_of_chain,
    write_snapshot,
)
from gridledger.node.snapshot_attestation import sign_snapshot
from gridledger.node.verify import ArchiveNeeded, verify_storage
from tests.community import GENESIS_TIME_MS, make_genesis
from tests.node.harness import grow_chain, one_line, write_community
from tests.node.snapshots import attested, copied_chain, grown_community, infos
from tests.node.test_compact_storage import grow

BLOCKS = 8
runner = CliRunner()


@pytest.fixture(scope="module")
def peers() -> list[KeyPair]:
    return [generate_keypair() for _ in range(4)]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Genesis]:
    return grown_community(tmp_path_factory.mktemp("pristine"), BLOCKS)


@pytest.fixture
def chain(pristine: tuple[Path, Genesis], tmp_path: Path) -> Path:
    return copied_chain(pristine[0], tmp_path)


# -- snapshots ---------------------------------------------------------------------------------


def test_a_new_peer_starts_from_an_attested_snapshot_and_replays_later_blocks(
    tmp_path: Path, peers: list[KeyPair]
) -> None:
    genesis = make_genesis()
    source = Node.open_path(tmp_path / "old.sqlite", genesis)
    grow(source, 4)
    snapshot_file = tmp_path / "state.glsnap"
    write_snapshot(attested(snapshot_of_chain(tmp_path / "old.sqlite"), peers[:3]), snapshot_file)
    head = restore_snapshot(read_snapshot(snapshot_file), infos(peers), tmp_path / "new.sqlite")
    assert head == source.head
    grow(source, 3)
    joined = Node.open_path(tmp_path / "new.sqlite")
    try:
        assert joined.head_hash == source.storage.stored_hash(4)
        assert joined.state.state_hash() == head.state_hash
        for height in range(5, 8):
            block = source.storage.block(height)
            assert block is not None
            joined.commit_ordered(block.transactions, block.header.timestamp_ms, height)
        assert joined.head_hash == source.head_hash
        assert joined.state.state_hash() == source.state.state_hash()
        assert joined.storage.block(2) is None  # before the snapshot: not held
    finally:
        joined.close()
        source.close()
    reopened = Node.open_path(tmp_path / "new.sqlite")  # the start-up check passes from the base
    try:
        assert reopened.head.height == 7
    finally:
        reopened.close()


def test_a_snapshot_attested_by_two_thirds_or_fewer_is_refused(
    chain: Path, tmp_path: Path, peers: list[KeyPair]
) -> None:
    taken = snapshot_of_chain(chain)
    stranger = generate_keypair()
    for signers, counted in ([], 0), (peers[:2], 2), ([*peers[:2], stranger], 2):
        with pytest.raises(SnapshotError, match=f"{counted} of 4 listed peers attest") as raised:
            restore_snapshot(attested(taken, signers), infos(peers), tmp_path / "new.sqlite")
        assert "more than two thirds (3) must" in str(raised.value)
    assert (
        not (tmp_path / "new.sqlite").exists() or SQLiteStorage(tmp_path / "new.sqlite").is_empty()
    )


def test_attestations_of_another_snapshot_height_or_chain_do_not_count(
    chain: Path, tmp_path: Path, peers: list[KeyPair]
) -> None:
    taken = snapshot_of_chain(chain)
    header = taken.header
    wrong = [
        sign_snapshot(peers[1], header.chain_id, header.height, b"\x01" * 32),
        sign_snapshot(peers[2], header.chain_id, header.height - 1, taken.hash),
        sign_snapshot(peers[3], "another-chain", header.height, taken.hash),
    ]
    forged = Snapshot(
        taken.header,
        taken.header_bytes,
        taken.body,
        [*attested(taken, peers[:1]).attestations, *wrong],
    )
    with pytest.raises(SnapshotError, match="1 of 4 listed peers attest"):
        restore_snapshot(forged, infos(peers), tmp_path / "new.sqlite")


def test_a_snapshot_whose_entries_do_not_give_the_state_hash_is_refused(
    chain: Path, tmp_path: Path, peers: list[KeyPair]
) -> None:
    """A forger who rewrites an entry and the body hash: the attested state hash does not match."""
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
    forged = make_snapshot(genesis, taken.header.header, entries, log_position)
    forged = attested(forged, peers)
    with pytest.raises(SnapshotError, match="entries do not give block 8's state hash"):
        restore_snapshot(forged, infos(peers), tmp_path / "new.sqlite")


def test_a_changed_byte_of_a_snapshot_file_is_refused(
    chain: Path, tmp_path: Path, peers: list[KeyPair]
) -> None:
    path = tmp_path / "state.glsnap"
    write_snapshot(attested(snapshot_of_chain(chain), peers), path)
    data = path.read_bytes()
    header_length = int.from_bytes(data[8:12], "big")
    body_at = 12 + header_length + 4
    reasons: list[tuple[int, str | None]] = [
        (0, "not a gridledger snapshot"),
        (body_at + 10, "body does not have the hash"),
        (len(data) - 5, "attestation with a bad signature"),
        (20, None),  # inside the header: it no longer decodes, or names another body/block
    ]
    for position, reason in reasons:
        changed = bytearray(data)
        changed[position] ^= 0x01
        path.write_bytes(bytes(changed))
        with pytest.raises(SnapshotError, match=reason):
            restore_snapshot(read_snapshot(path), infos(peers), tmp_path / "new.sqlite")
    path.write_bytes(data[:-3])
    with pytest.raises(SnapshotError, match="ends inside its attestations"):
        read_snapshot(path)
    path.write_bytes(data + b"x")
    with pytest.raises(SnapshotError, match="1 bytes after its attestations"):
        read_snapshot(path)


def test_a_snapshot_is_not_restored_over_a_chain(chain: Path, peers: list[KeyPair]) -> None:
    with pytest.raises(SnapshotError, match="holds a chain already"):
        restore_snapshot(attested(snapshot_of_chain(chain), peers), infos(peers), chain)


def test_a_peer_attests_only_a_snapshot_of_its_own_chain(
    chain: Path, tmp_path: Path, peers: list[KeyPair]
) -> None:
    path = tmp_path / "state.glsnap"
    write_snapshot(snapshot_of_chain(chain), path)
    assert attest_snapshot(path, chain, peers[0]) == 1
    assert attest_snapshot(path, chain, peers[1]) == 2
    assert attest_snapshot(path, chain, peers[1]) == 2  # once per peer
    other = tmp_path / "other"
    genesis = write_community(other)
    grow_chain(other / "chain.sqlite", genesis, 3, 2)
    with pytest.raises(SnapshotError, match="has not committed block 8"):
        attest_snapshot(path, other / "chain.sqlite", peers[2])
    grow_chain(tmp_path / "longer.sqlite", make_genesis(), BLOCKS, 1)
    with pytest.raises(SnapshotError, match="not attested"):
        attest_snapshot(path, tmp_path / "longer.sqlite", peers[2])
    assert len(read_snapshot(path).attestations) == 2
    assert snapshot_body(read_snapshot(path)).entries


# -- archives ----------------------------------------------------------------------------------


def test_an_archived_chain_serves_and_verifies_from_genesis_with_its_archive(
    chain: Path, tmp_path: Path
) -> None:
    before = verify_storage(SQLiteStorage(chain))
    report = archive_chain(chain, tmp_path / "archive", keep=3)
    assert (report.first, report.last, report.transactions) == (0, 5, 15)
    assert [p.name for p in report.files] == ["blocks-000000000000-000000000005.glarc"]
    storage = SQLiteStorage(chain)
    try:
        assert storage.block(5) is None and storage.block(6) is not None
        assert storage.stored_hash(3) is not None  # archived blocks keep their hash
        with pytest.raises(ArchiveNeeded, match="blocks 0-5 are not in this file"):
            verify_storage(storage)
        after = verify_storage(storage, archive=Archive(tmp_path / "archive"))
        assert (after.head_hash, after.transactions) == (before.head_hash, before.transactions)
    finally:
        storage.close()
    node = Node.open_path(chain)
    try:
        assert node.head.height == BLOCKS
    finally:
        node.close()
    again = archive_chain(chain, tmp_path / "archive", keep=1)
    assert [p.name for p in again.files] == ["blocks-000000000006-000000000007.glarc"]
    storage = SQLiteStorage(chain)
    try:
        assert verify_storage(storage, archive=Archive(tmp_path / "archive")).height == BLOCKS
    finally:
        storage.close()


def test_a_changed_archive_is_named_by_height(chain: Path, tmp_path: Path) -> None:
    archive_chain(chain, tmp_path / "archive", keep=2)
    path = tmp_path / "archive" / "blocks-000000000000-000000000006.glarc"
    records = read_archive_file(path)
    data = path.read_bytes()
    changed = bytearray(data)
    changed[len(MAGIC) + len(changed) // 2] ^= 0x01
    path.write_bytes(bytes(changed))
    storage = SQLiteStorage(chain)
    try:
        with pytest.raises(CorruptChain) as raised:
            verify_storage(storage, archive=Archive(tmp_path / "archive"))
        assert 0 <= raised.value.height <= 6
        block = bytearray(records[4].block)
        block[-3] ^= 0x01  # the last transaction's signature
        records[4] = msgspec.structs.replace(records[4], block=bytes(block))
        write_archive_file(path, records)
        with pytest.raises(CorruptChain) as raised:
            verify_storage(storage, archive=Archive(tmp_path / "archive"))
        assert raised.value.height == 4, str(raised.value)
        path.unlink()
        with pytest.raises(CorruptChain, match="archived, and missing"):
            verify_storage(storage, archive=Archive(tmp_path / "archive"))
    finally:
        storage.close()


def test_an_archive_file_that_is_not_one_is_named(tmp_path: Path) -> None:
    (tmp_path / "archive").mkdir()
    path = tmp_path / "archive" / "blocks-000000000000-000000000003.glarc"
    path.write_bytes(b"not an archive")
    with pytest.raises(CorruptChain, match="not a gridledger archive"):
        read_archive_file(path)
    path.write_bytes(MAGIC + zstandard.ZstdCompressor().compress(b"\x93\x01\x02"))
    with pytest.raises(CorruptChain, match="does not decode"):
        read_archive_file(path)
    (tmp_path / "archive" / "blocks-000000000005-000000000006.glarc").write_bytes(b"")
    with pytest.raises(CorruptChain, match="block 4: missing from the archive"):
        Archive(tmp_path / "archive")


def test_a_peer_started_from_a_snapshot_verifies_from_genesis_with_an_archive(
    chain: Path, tmp_path: Path, peers: list[KeyPair]
) -> None:
    snapshot = attested(snapshot_of_chain(chain), peers[1:])
    restore_snapshot(snapshot, infos(peers), tmp_path / "joined.sqlite")
    node = Node.open_path(chain)
    try:
        grow(node, 2, 2)
    finally:
        node.close()
    archive_chain(chain, tmp_path / "archive", keep=1)  # blocks 0-9, by another peer
    storage = SQLiteStorage(tmp_path / "joined.sqlite")
    try:
        with pytest.raises(ArchiveNeeded):
            verify_storage(storage)
        assert verify_storage(storage, archive=Archive(tmp_path / "archive")).height == BLOCKS
    finally:
        storage.close()


def test_the_archive_and_snapshot_commands(chain: Path, tmp_path: Path) -> None:
    directory = chain.parent
    result = runner.invoke(app, ["archive", "--dir", str(directory), "--keep", "4"])
    assert result.exit_code == 0, result.output
    assert "archived blocks 0-4 (12 transactions)" in one_line(result.output)
    result = runner.invoke(app, ["verify", "--dir", str(directory)])
    assert result.exit_code == 1 and "pass --archive DIR" in one_line(result.output)
    result = runner.invoke(
        app, ["verify", "--dir", str(directory), "--archive", str(directory / "archive")]
    )
    assert result.exit_code == 0 and "chain is sound: 9 blocks, 24 transactions" in one_line(
        result.output
    )
    result = runner.invoke(app, ["archive", "--dir", str(directory), "--keep", "4"])
    assert result.exit_code == 0 and "nothing to archive" in one_line(result.output)
    out = tmp_path / "state.glsnap"
    result = runner.invoke(app, ["chain", "snapshot", str(out), "--dir", str(directory)])
    assert result.exit_code == 0 and "block 8" in one_line(result.output)
    result = runner.invoke(
        app, ["chain", "snapshot", str(out), "--dir", str(directory), "--peer", "x"]
    )
    assert result.exit_code == 1 and "--peer needs --network" in one_line(result.output)
    assert GENESIS_TIME_MS > 0


def test_peers_attest_and_a_new_peer_restores_through_the_commands(
    chain: Path, tmp_path: Path
) -> None:
    """network.json as `gridledger network` writes it (4 peers, their key files): three
    peers attest with `chain attest`, the new peer restores with `chain restore`."""
    from gridledger.node.network_config import NETWORK_FILE, NetworkSpec, dump_network
    from gridledger.node.supervisor import resolve_network

    spec = NetworkSpec(
        chain_id="gridledger-test",
        servers=1,
        peers=["p1", "p2", "p3", "p4"],
        insecure=True,
        community=str(chain.parent),
    )
    network = tmp_path / "net"
    dump_network(resolve_network(network, spec), network / NETWORK_FILE)
    network_file = str(network / NETWORK_FILE)
    out = tmp_path / "state.glsnap"
    directory = str(chain.parent)
    result = runner.invoke(
        app,
        [
            "chain",
            "snapshot",
            str(out),
            "--dir",
            directory,
            "--network",
            network_file,
            "--peer",
            "p1",
        ],
    )
    assert result.exit_code == 0 and "1 attestation(s)" in one_line(result.output), result.output
    restore = ["chain", "restore", str(out), "--network", network_file, "--dir"]
    refused = runner.invoke(app, [*restore, str(tmp_path / "new")])
    assert refused.exit_code == 1
    assert "1 of 4 listed peers attest this snapshot of block 8" in one_line(refused.output)
    for peer in ("p2", "p3"):
        attest = ["chain", "attest", str(out), "--network", network_file, "--peer", peer]
        result = runner.invoke(app, [*attest, "--dir", directory])
        assert result.exit_code == 0, result.output
    assert "3 attestation(s)" in one_line(result.output)
    assert not (tmp_path / "new" / "chain.sqlite").exists()  # nothing written when refused
    result = runner.invoke(app, [*restore, str(tmp_path / "new")])
    assert result.exit_code == 0 and "starts at block 8" in one_line(result.output), result.output
    node = Node.open_path(tmp_path / "new" / "chain.sqlite")
    try:
        assert node.head_hash == SQLiteStorage(chain).stored_hash(BLOCKS)
    finally:
        node.close()
    again = runner.invoke(app, [*restore, str(tmp_path / "new")])
    assert again.exit_code == 1 and "holds a chain already" in one_line(again.output)
    unknown = runner.invoke(
        app,
        [
            "chain",
            "attest",
            str(out),
            "--network",
            network_file,
            "--peer",
            "p9",
            "--dir",
            directory,
        ],
    )
    assert unknown.exit_code == 1 and "no such peer" in one_line(unknown.output)
    fresh = runner.invoke(app, [*restore, str(tmp_path / "a" / "new" / "directory")])
    assert fresh.exit_code == 0, fresh.output
    with pytest.raises(StorageError, match="cannot be opened"):
        SQLiteStorage(tmp_path / "missing" / "chain.sqlite")
