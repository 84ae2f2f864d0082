"""Attestations are signed and checked; finality needs more than two thirds; a conflict halts."""

from __future__ import annotations

import msgspec

from gridledger.crypto import keypair_from_name
from gridledger.node.attestation import (
    Attestation,
    FinalityTracker,
    PeerInfo,
    decode_attestation,
    encode_attestation,
    quorum,
    sign_attestation,
)

CHAIN = "chain"
KEYS = [keypair_from_name(f"peer{i}", "gridledger-tests") for i in range(4)]
PEERS = [PeerInfo(f"peer{i}", k.public_key) for i, k in enumerate(KEYS)]


def ours(height: int) -> tuple[bytes, bytes]:
    return bytes([height]) * 32, bytes([100 + height]) * 32


def tracker(peer_count: int = 4, head: int = 0) -> FinalityTracker:
    heights = {"head": head}

    def hashes(height: int) -> tuple[bytes, bytes] | None:
        return ours(height) if height <= heights["head"] else None

    found = FinalityTracker(CHAIN, PEERS[:peer_count], KEYS[0].public_key, hashes)
    found.committed(head)
    found._test_heights = heights  # type: ignore[attr-defined]
    return found


def attest(i: int, height: int, hashes: tuple[bytes, bytes] | None = None) -> Attestation:
    block, state = hashes or ours(height)
    return sign_attestation(KEYS[i], CHAIN, height, block, state)


def test_quorum_is_more_than_two_thirds() -> None:
    assert [quorum(n) for n in (1, 2, 3, 4, 5, 7)] == [1, 2, 3, 3, 4, 5]


def test_an_attestation_round_trips_and_a_forged_one_is_refused() -> None:
    attestation = attest(1, 5)
    assert decode_attestation(encode_attestation(attestation)) == attestation
    forged = msgspec.structs.replace(attestation, height=6)
    assert decode_attestation(encode_attestation(forged)) is None
    assert decode_attestation(b"\x01garbage") is None


def test_finality_needs_three_of_four_and_agreement_implies_lower_heights() -> None:
    t = tracker(head=5)
    assert t.finalized_height == -1  # nothing is final until others attest
    t.receive(attest(1, 5))
    assert t.finalized_height == -1  # we and peer1 only: 2 of 4
    t.receive(attest(2, 3))
    assert t.finalized_height == 3  # peer2 agrees up to 3
    t.receive(attest(3, 5))
    assert t.finalized_height == 5 and t.alarm is None


def test_an_attestation_ahead_of_us_is_checked_once_we_commit_that_height() -> None:
    t = tracker(peer_count=2, head=2)
    t.receive(attest(1, 4))
    assert t.finalized_height == -1 and t.views[KEYS[1].public_key].attested_height == 4
    t._test_heights["head"] = 4  # type: ignore[attr-defined]
    t.committed(4)
    assert t.finalized_height == 4


def test_a_lone_dissenter_is_reported_but_does_not_stop_a_backed_majority() -> None:
    t = tracker(head=3)
    t.receive(attest(1, 3, (b"x" * 32, b"y" * 32)))
    assert t.halted_by is not None and "peer1 attested block 3" in (t.alarm or "")
    t.receive(attest(2, 3))
    t.receive(attest(3, 3))
    assert t.finalized_height == 3 and t.halted_by is None
    assert t.alarm is not None and "peer1" in t.alarm


def test_a_peer_outvoted_by_the_others_stops_for_good() -> None:
    t = tracker(head=3)
    theirs = (b"x" * 32, b"y" * 32)
    for i in (1, 2, 3):
        t.receive(attest(i, 3, theirs))
    assert t.finalized_height == -1
    halted = t.halted_by
    assert halted is not None and halted.height == 3
    assert t.alarm is not None and t.alarm.startswith("stopped committing at block 3")


def test_strangers_and_other_chains_are_ignored() -> None:
    t = tracker(peer_count=2, head=3)
    stranger = keypair_from_name("stranger", "gridledger-tests")
    t.receive(sign_attestation(stranger, CHAIN, 3, b"x" * 32, b"y" * 32))
    t.receive(sign_attestation(KEYS[1], "other", 3, b"x" * 32, b"y" * 32))
    assert t.alarm is None and t.finalized_height == -1
