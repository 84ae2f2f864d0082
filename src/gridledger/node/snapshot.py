"""State snapshots: a peer writes the state at its head; a new peer starts from one.

A snapshot file holds, in this order:

- ``GLSNAP1\\n`` (8 bytes), then three length-prefixed parts (4-byte big-endian length);
- the header (`SnapshotHeader`, canonical msgpack): chain id, the genesis document's
  hash, the height, the block header at that height, the ordering-log position, the
  number of entries and the SHA-256 of the body;
- the body: zstd-compressed msgpack of the genesis document and every state entry
  (namespace, key, value, height that wrote it), sorted by namespace and key;
- the attestations (`node.snapshot_attestation.SnapshotAttestation`): peers' signatures
  over (chain id, height, snapshot hash).

The snapshot hash is the SHA-256 of the header part; it names the snapshot and, through
the body hash, covers every entry. A snapshot is accepted (`check_snapshot`) only if its
body has the header's hash, its entries give the header's state hash (the state hash
commits to the state alone, see `ledger.state`), the genesis document has the header's
genesis hash, and more than two thirds of the listed peers attest its snapshot hash at
its height. Each peer adds its attestation after checking the snapshot's block hash,
genesis hash, state hash and ordering-log position against its own chain
(`attest_snapshot`); the snapshot hash covers all of them, so no part of the header can
be changed once attested.

A peer started from a snapshot (`restore_snapshot`) stores the state and the snapshot's
block header as its base (`SQLiteStorage.base`) and replays only the blocks after it. It
writes them in one SQLite transaction that commits only once the entries give the
attested state hash, summed meanwhile in worker processes (`node.state_sums`): a refused
snapshot, or a crash before the commit, leaves a file that holds no chain. The node's
start-up check then hashes the stored state again, as at every start: nothing in the
file is trusted in its place.

Format 1 files carried per-commit attestations (block and state hash only), which left
the ordering-log position (where a nats peer resumes reading) unattested; they are
refused with a message that says to write and attest a new snapshot.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec
import zstandard

from gridledger.crypto import sha256
from gridledger.crypto.keys import KeyPair
from gridledger.ledger import (
    BlockHeader,
    Genesis,
    LatticeHash,
    State,
    StateKey,
    block_hash,
    dump_genesis,
    genesis_hash,
    load_genesis,
)
from gridledger.node.attestation import PeerInfo
from gridledger.node.errors import NodeError
from gridledger.node.snapshot_attestation import (
    SnapshotAttestation,
    attesting_peers,
    decode_snapshot_attestation,
    encode_snapshot_attestation,
    needed_attestations,
    sign_snapshot,
)
from gridledger.node.state_sums import StateSummer

MAGIC = b"GLSNAP1\n"
FORMAT_VERSION = 2
"""2: attestations sign the snapshot hash (1: block and state hash only, refused)."""
MAX_PART_BYTES = 4 * 1024**3 - 1


class SnapshotError(NodeError):
    """A snapshot that cannot be written, read or trusted; says which file and why."""

    status = 400
    error = "bad_snapshot"

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"snapshot {path}: {reason}")


class SnapshotHeader(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    format_version: int
    chain_id: str
    genesis_hash: bytes
    height: int
    header: BlockHeader
    """The header of the block at `height`: its state hash is the snapshot's."""
    log_position: int
    entries: int
    body_hash: bytes


class SnapshotBody(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    genesis: bytes
    """The genesis document (`dump_genesis`)."""
    entries: list[tuple[str, str, bytes, int]]
    """(namespace, key, value, height of the block that wrote it), sorted."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    header: SnapshotHeader
    header_bytes: bytes
    body: bytes
    attestations: list[SnapshotAttestation]

    @property
    def hash(self) -> bytes:
        """The snapshot hash: SHA-256 of the header, which holds the body's hash."""
        return sha256(self.header_bytes)

    @property
    def block_hash(self) -> bytes:
        return block_hash(self.header.header)


# -- writing -----------------------------------------------------------------------------------


def make_snapshot(
    genesis: Genesis,
    header: BlockHeader,
    entries: dict[StateKey, tuple[bytes, int]],
    log_position: int,
) -> Snapshot:
    """The snapshot of `entries` (the state after block `header`), without attestations."""
    body = SnapshotBody(
        dump_genesis(genesis),
        [(ns, key, value, height) for (ns, key), (value, height) in sorted(entries.items())],
    )
    packed = zstandard.ZstdCompressor(level=3).compress(msgspec.msgpack.encode(body))
    snapshot_header = SnapshotHeader(
        FORMAT_VERSION,
        header.chain_id,
        genesis_hash(genesis),
        header.height,
        header,
        log_position,
        len(body.entries),
        sha256(packed),
    )
    return Snapshot(snapshot_header, msgspec.msgpack.encode(snapshot_header), packed, [])


def snapshot_of_chain(path: Path) -> Snapshot:
    """The snapshot of the chain file at `path`, at its head, read in one read transaction.

    Safe while a node serves the file: SQLite's WAL gives a consistent view of the head
    block and the state it produced.
    """
    from gridledger.node.storage import SQLiteStorage

    storage = SQLiteStorage(path)
    try:
        with storage.read_transaction():
            genesis = storage.genesis()
            head = storage.head()
            if genesis is None or head is None:
                raise SnapshotError(str(path), "the chain file holds no chain")
            rows = storage.state_rows()
            log_position = storage.log_position()
    finally:
        storage.close()
    state = State.from_entries({key: value for key, (value, _) in rows.items()})
    if state.state_hash() != head.state_hash:
        raise SnapshotError(str(path), f"the stored state is not block {head.height}'s state")
    return make_snapshot(genesis, head, rows, log_position)


def with_attestation(snapshot: Snapshot, keys: KeyPair) -> Snapshot:
    """`snapshot` with this peer's signed attestation of its snapshot hash added (replacing
    an earlier one of the same peer). The caller has checked it against this peer's chain."""
    header = snapshot.header
    attestation = sign_snapshot(keys, header.chain_id, header.height, snapshot.hash)
    kept = [a for a in snapshot.attestations if a.peer_key != keys.public_key]
    return Snapshot(snapshot.header, snapshot.header_bytes, snapshot.body, [*kept, attestation])


def write_snapshot(snapshot: Snapshot, path: Path) -> None:
    """Write `snapshot` to `path` atomically (a temporary file, synced, then renamed)."""
    attestations = msgspec.msgpack.encode(
        [msgspec.msgpack.decode(encode_snapshot_attestation(a)) for a in snapshot.attestations]
    )
    parts = [snapshot.header_bytes, snapshot.body, attestations]
    if any(len(part) > MAX_PART_BYTES for part in parts):
        raise SnapshotError(str(path), "a part is larger than 4 GiB")
    temporary = path.with_name(path.name + ".partial")
    with open(temporary, "wb") as out:
        out.write(MAGIC)
        for part in parts:
            out.write(len(part).to_bytes(4, "big"))
            out.write(part)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


# -- reading and checking ----------------------------------------------------------------------


def read_snapshot(path: Path) -> Snapshot:
    """The snapshot in `path`; `SnapshotError` if the file is not one or its body is altered."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SnapshotError(str(path), f"cannot be read ({error.strerror})") from error
    if not data.startswith(MAGIC):
        raise SnapshotError(str(path), "is not a gridledger snapshot (no GLSNAP1 magic)")
    parts: list[bytes] = []
    at = len(MAGIC)
    for name in ("header", "body", "attestations"):
        if at + 4 > len(data):
            raise SnapshotError(str(path), f"ends before its {name}")
        length = int.from_bytes(data[at : at + 4], "big")
        at += 4
        if at + length > len(data):
            raise SnapshotError(str(path), f"ends inside its {name}")
        parts.append(data[at : at + length])
        at += length
    if at != len(data):
        raise SnapshotError(str(path), f"has {len(data) - at} bytes after its attestations")
    try:
        header = msgspec.msgpack.decode(parts[0], type=SnapshotHeader)
        raw_attestations = msgspec.msgpack.decode(parts[2], type=list[msgspec.Raw])
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise SnapshotError(str(path), f"header does not decode ({error})") from error
    if header.format_version == 1:
        raise SnapshotError(
            str(path),
            "format version 1: its attestations do not cover the ordering-log position; "
            "write a new snapshot (`gridledger chain snapshot`) and have the peers attest it "
            "(`gridledger chain attest`)",
        )
    if header.format_version != FORMAT_VERSION:
        raise SnapshotError(str(path), f"format version {header.format_version} is not supported")
    if sha256(parts[1]) != header.body_hash:
        raise SnapshotError(str(path), "its body does not have the hash its header names")
    attestations = []
    for raw in raw_attestations:
        attestation = decode_snapshot_attestation(bytes(raw))
        if attestation is None:
            raise SnapshotError(str(path), "holds an attestation with a bad signature")
        attestations.append(attestation)
    return Snapshot(header, parts[0], parts[1], attestations)


def snapshot_body(snapshot: Snapshot, path: str = "?") -> SnapshotBody:
    try:
        raw = zstandard.ZstdDecompressor().decompress(snapshot.body)
        return msgspec.msgpack.decode(raw, type=SnapshotBody)
    except (zstandard.ZstdError, msgspec.DecodeError, msgspec.ValidationError) as error:
        raise SnapshotError(path, f"body does not decode ({error})") from error


def check_attestations(snapshot: Snapshot, peers: Sequence[PeerInfo], path: str = "?") -> int:
    """How many listed peers attest this snapshot (its hash, at its height); `SnapshotError`
    if not more than two thirds of them."""
    header = snapshot.header
    listed = {peer.public_key for peer in peers}
    agreeing = attesting_peers(
        snapshot.attestations, peers, header.chain_id, header.height, snapshot.hash
    )
    needed = needed_attestations(peers)
    if not listed or len(agreeing) < needed:
        raise SnapshotError(
            path,
            f"{len(agreeing)} of {len(listed)} listed peers attest this snapshot of block "
            f"{header.height} (hash {snapshot.hash.hex()}); more than two thirds ({needed}) must",
        )
    return len(agreeing)


def _checked_body(
    snapshot: Snapshot, peers: Sequence[PeerInfo], path: str
) -> tuple[Genesis, SnapshotBody]:
    """The snapshot's genesis and body, once its attestations, genesis and count are checked."""
    check_attestations(snapshot, peers, path)
    return _consistent_body(snapshot, path)


def _consistent_body(snapshot: Snapshot, path: str) -> tuple[Genesis, SnapshotBody]:
    """The snapshot's genesis and body, once its header, genesis and count agree."""
    header = snapshot.header
    if header.header.chain_id != header.chain_id or header.header.height != header.height:
        raise SnapshotError(path, "its header and its block header disagree")
    body = snapshot_body(snapshot, path)
    genesis = load_genesis(body.genesis)
    if genesis_hash(genesis) != header.genesis_hash or genesis.chain_id != header.chain_id:
        raise SnapshotError(path, "its genesis document is not the one its header names")
    if len(body.entries) != header.entries:
        raise SnapshotError(
            path, f"holds {len(body.entries)} entries, its header says {header.entries}"
        )
    return genesis, body


def _entries(body: SnapshotBody, path: str, height: int) -> dict[StateKey, tuple[bytes, int]]:
    """The entries by key; `SnapshotError` for a key given twice, or an entry said to be
    written by a block after the snapshot's (`height`) or before genesis."""
    entries = {(ns, key): (value, written) for ns, key, value, written in body.entries}
    if len(entries) != len(body.entries):
        raise SnapshotError(path, "holds an entry twice")
    for (ns, key), (_, written) in entries.items():
        if not 0 <= written <= height:
            raise SnapshotError(
                path, f"entry {ns}/{key} is said to be written by block {written} (0..{height})"
            )
    return entries


def _sum_entries(summer: StateSummer, body: SnapshotBody) -> None:
    summer.add([(ns, key, value) for ns, key, value, _ in body.entries])


def _check_state_hash(summer: StateSummer, snapshot: Snapshot, path: str) -> None:
    """`SnapshotError` unless the entries summed give the snapshot's attested state hash."""
    header = snapshot.header.header
    if LatticeHash(summer.lanes()).digest() != header.state_hash:
        raise SnapshotError(path, f"its entries do not give block {header.height}'s state hash")


def check_snapshot(
    snapshot: Snapshot, peers: Sequence[PeerInfo], path: str = "?"
) -> tuple[Genesis, dict[StateKey, tuple[bytes, int]]]:
    """Everything `restore_snapshot` trusts, checked: attestations, genesis, entries, state hash."""
    genesis, body = _checked_body(snapshot, peers, path)
    with StateSummer() as summer:
        _sum_entries(summer, body)
        entries = _entries(body, path, snapshot.header.height)
        _check_state_hash(summer, snapshot, path)
    return genesis, entries


def restore_snapshot(
    snapshot: Snapshot, peers: Sequence[PeerInfo], chain_path: Path, path: str = "?"
) -> BlockHeader:
    """Start the chain file `chain_path` (new or empty) from a checked snapshot; its head.

    Everything `check_snapshot` checks is checked. The state hash of the entries is
    summed in worker processes while this process packs and writes the rows, in one
    SQLite transaction that commits only once the hash is the attested one: a snapshot
    whose entries do not give it, or a crash before the commit, leaves the file empty
    (a node refuses to open it: it holds no chain).
    """
    from gridledger.node.storage import SQLiteStorage

    genesis, body = _checked_body(snapshot, peers, path)
    storage = SQLiteStorage(chain_path)
    try:
        if not storage.is_empty():
            raise SnapshotError(
                path, f"{chain_path} holds a chain already; start from an empty one"
            )
        with StateSummer() as summer:
            _sum_entries(summer, body)
            entries = _entries(body, path, snapshot.header.height)
            storage.start_from(
                genesis,
                snapshot.header.header,
                entries,
                snapshot.header.log_position,
                before_commit=lambda: _check_state_hash(summer, snapshot, path),
            )
        head = storage.head()
    except sqlite3.DatabaseError as error:
        raise SnapshotError(path, f"cannot write {chain_path} ({error})") from error
    finally:
        storage.close()
    assert head is not None
    return head


def attest_snapshot(path: Path, chain_path: Path, keys: KeyPair) -> int:
    """Add this peer's attestation to the snapshot in `path`, after checking it against this
    peer's chain (`chain_path`): the same genesis document, the snapshot's block at its
    height, the ordering-log position this peer recorded for that block, and entries that
    give the block's state hash. Returns how many attestations it then carries."""
    from gridledger.node.storage import SQLiteStorage

    snapshot = read_snapshot(path)
    _, body = _consistent_body(snapshot, str(path))
    height = snapshot.header.height
    storage = SQLiteStorage(chain_path)
    try:
        ours = storage.stored_hash(height)
        our_genesis = storage.genesis()
        our_position = storage.log_position_at(height)
    finally:
        storage.close()
    refuse = _refusal(snapshot, chain_path, ours, our_genesis, our_position)
    if refuse is not None:
        raise SnapshotError(str(path), refuse + "; not attested")
    state = State.from_entries({(ns, key): value for ns, key, value, _ in body.entries})
    if state.state_hash() != snapshot.header.header.state_hash:
        raise SnapshotError(str(path), f"its entries do not give block {height}'s state hash")
    attested = with_attestation(snapshot, keys)
    write_snapshot(attested, path)
    return len(attested.attestations)


def _refusal(
    snapshot: Snapshot,
    chain_path: Path,
    ours: bytes | None,
    our_genesis: Genesis | None,
    our_position: int | None,
) -> str | None:
    """Why this peer's chain does not back the snapshot's header, or None if it does."""
    header = snapshot.header
    height = header.height
    if our_genesis is None or ours is None:
        return f"{chain_path} has not committed block {height}"
    if genesis_hash(our_genesis) != header.genesis_hash:
        return f"its genesis document is not the one of {chain_path}"
    if ours != snapshot.block_hash:
        return (
            f"block {height} is {snapshot.block_hash.hex()} in the snapshot, "
            f"{ours.hex()} in {chain_path}"
        )
    if our_position is None:
        return (
            f"{chain_path} did not record the ordering-log position of block {height} "
            f"(committed before positions were kept per block); attest a snapshot of a "
            f"later block"
        )
    if our_position != header.log_position:
        return (
            f"it resumes the ordering log after sequence {header.log_position}, "
            f"block {height} closed at sequence {our_position} in {chain_path}"
        )
    return None
