"""Snapshot attestations: a peer's signature over a whole snapshot header.

A peer that attests a snapshot signs (chain id, height, snapshot hash) with its Ed25519
peer key, under its own domain tag. The snapshot hash is the SHA-256 of the snapshot's
header part (`node.snapshot.SnapshotHeader`), which holds the block header at the
snapshot's height (so its block hash and state hash), the genesis document's hash, the
hash of the body and the ordering-log position where a ``nats`` peer resumes reading. So
more than two thirds of the listed peers attesting the snapshot hash vouch for every one
of these, the resume position included: a snapshot whose position was altered after they
attested it has another hash and none of their attestations.

The per-commit attestation (`node.attestation`) signs only (block hash, state hash) at a
height; a signature of one kind cannot pass for the other, because the signed bytes start
with different domain tags (``gridledger-attestation-v1``,
``gridledger-snapshot-attestation-v1``): the separation RFC 8032 section 8.3 ("Use of
Contexts") asks for when one key signs for several uses; pure Ed25519 takes no context,
so the tag is a prefix of the signed message.

Before attesting, a peer checks the snapshot against its own chain
(`node.snapshot.attest_snapshot`): the block hash at the height, the genesis hash, the
state hash of the entries, and the log position it recorded for that block
(`SQLiteStorage.log_position_at`).
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from gridledger.crypto import is_valid_signature
from gridledger.crypto.keys import KeyPair
from gridledger.node.attestation import PeerInfo, quorum

SNAPSHOT_ATTESTATION_DOMAIN = b"gridledger-snapshot-attestation-v1"


class SnapshotAttestation(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """A peer's signed statement that a snapshot matches its own chain at `height`."""

    chain_id: str
    height: int
    snapshot_hash: bytes
    """SHA-256 of the snapshot's header part (32 bytes)."""
    peer_key: bytes
    """The peer's Ed25519 public key (32 bytes)."""
    signature: bytes = b""


def snapshot_attestation_signing_bytes(attestation: SnapshotAttestation) -> bytes:
    unsigned = msgspec.structs.replace(attestation, signature=b"")
    return SNAPSHOT_ATTESTATION_DOMAIN + msgspec.msgpack.encode(unsigned)


def sign_snapshot(
    keys: KeyPair, chain_id: str, height: int, snapshot_hash: bytes
) -> SnapshotAttestation:
    """This peer's signed attestation of the snapshot with hash `snapshot_hash`."""
    unsigned = SnapshotAttestation(chain_id, height, snapshot_hash, keys.public_key)
    signature = keys.sign(snapshot_attestation_signing_bytes(unsigned))
    return msgspec.structs.replace(unsigned, signature=signature)


def encode_snapshot_attestation(attestation: SnapshotAttestation) -> bytes:
    return msgspec.msgpack.encode(attestation)


def decode_snapshot_attestation(payload: bytes) -> SnapshotAttestation | None:
    """The attestation in `payload`, or None if it does not decode or its signature is bad."""
    try:
        attestation = msgspec.msgpack.decode(payload, type=SnapshotAttestation)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if len(attestation.peer_key) != 32 or not is_valid_signature(
        attestation.peer_key,
        snapshot_attestation_signing_bytes(attestation),
        attestation.signature,
    ):
        return None
    return attestation


def attesting_peers(
    attestations: Sequence[SnapshotAttestation],
    peers: Sequence[PeerInfo],
    chain_id: str,
    height: int,
    snapshot_hash: bytes,
) -> set[bytes]:
    """The keys of the listed `peers` whose attestation names this very snapshot."""
    listed = {peer.public_key for peer in peers}
    named = (chain_id, height, snapshot_hash)
    return {
        a.peer_key
        for a in attestations
        if a.peer_key in listed and (a.chain_id, a.height, a.snapshot_hash) == named
    }


def needed_attestations(peers: Sequence[PeerInfo]) -> int:
    """More than two thirds of the listed peers (distinct keys)."""
    return quorum(len({peer.public_key for peer in peers}))
