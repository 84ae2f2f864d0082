"""Range proofs checked ahead by the verifier are looked up, never trusted otherwise.

The verifier verifies a sealed order's two range proofs before the block executes
(threads, or worker processes that send back only the digests of valid ones); the
sealed-order contract then finds them in `crypto.range_proof_cache`. Only proofs that
passed are remembered, keyed by the commitment, the proof, the range and the context,
so a block executes exactly as it would with an empty cache.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.contracts.market_sealed import sealed_range_proofs
from gridledger.crypto import range_proof_cache
from gridledger.crypto.privacy import RangeMismatch, encode_point, prove_range, verify_range
from gridledger.crypto.privacy.pedersen import commitment_point
from gridledger.crypto.privacy.range_proof import claimed_range
from gridledger.crypto.range_proof_cache import (
    forget_all,
    is_remembered,
    range_proof_digest,
    remember_valid,
    verified_digest,
    verify_range_remembered,
)
from gridledger.ledger import ResultCode, decode_transaction
from gridledger.market import SealedOrder, proof_context, seal_order
from gridledger.node.stateless_checks import valid_range_proofs
from gridledger.node.verifier import Verifier
from tests.community import CHAIN_ID, Community, address, make_genesis, signed_raw

DAY = 19_677
GATE = DAY * 86_400 - 43_200
PERIOD = DAY * 24
FEED_IN, CAP = 770_000, 850_000


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    forget_all()
    yield
    forget_all()


def sealed_community() -> Community:
    market = {
        "mechanism": "continuous",
        "day_ahead_gate_seconds": 43_200,
        "sealed_reveal_window_seconds": 600,
    }
    return Community.create(make_genesis(parameters={"market": market}))


def seal(name: str, side: str = "buy", price: int = 800_000, energy: int = 500) -> SealedOrder:
    return seal_order(address(name), side, PERIOD, price, energy, 1_000, FEED_IN, CAP)[0]


def place_raw(name: str, nonce: int, args: dict[str, Any]) -> bytes:
    return signed_raw(name, nonce, "market", "place_sealed_day_ahead_order", args)


def flipped(text: str, index: int) -> str:
    data = bytearray(bytes.fromhex(text))
    data[index % len(data)] ^= 0x01
    return data.hex()


def mixed_block() -> list[bytes]:
    """Valid sealed orders beside every kind of bad proof the contract refuses."""
    carol, alice = seal("carol").place_args(), seal("alice", "sell", 790_000, 300).place_args()
    context = proof_context(address("carol"), "buy", PERIOD, "price")
    wider = prove_range(810_000, 1, FEED_IN - 1, CAP, context=context).encode().hex()
    return [
        place_raw("carol", 0, carol),
        place_raw("alice", 0, alice),
        place_raw("dave", 0, carol),  # carol's proofs: another owner's context
        place_raw("carol", 1, {**carol, "price_proof": flipped(carol["price_proof"], 90)}),
        place_raw(
            "carol",
            2,
            {
                **carol,
                "price_commitment": encode_point(commitment_point(810_000, 1)).hex(),
                "price_proof": wider,
            },
        ),
        place_raw("carol", 3, {**carol, "energy_proof": "00"}),
    ]


def test_valid_proofs_are_checked_ahead_and_found_by_the_contract() -> None:
    order = seal("carol")
    raw = place_raw("carol", 0, order.place_args())
    checks = sealed_range_proofs(decode_transaction(raw).transaction.sender, *_call(raw))
    assert len(checks) == 2
    verifier = Verifier(CHAIN_ID, workers=2)
    try:
        verifier.check([raw])
    finally:
        verifier.close()
    for commitment, proof, context in checks:
        digest = verified_digest(commitment, proof, context)
        assert digest is not None and is_remembered(digest)
    _, execution = sealed_community().commit([raw], (GATE - 100) * 1000)
    assert execution.receipts[0].ok, execution.receipts[0].message


def _call(raw: bytes) -> tuple[str, Any]:
    body = decode_transaction(raw).transaction
    return body.method, body.args


def test_a_block_executes_identically_with_and_without_the_cache() -> None:
    raws = mixed_block()
    _, cold = sealed_community().commit(raws, (GATE - 100) * 1000)
    verifier = Verifier(CHAIN_ID, workers=2)
    try:
        verifier.check(raws)
    finally:
        verifier.close()
    # carol's and alice's two each, and the wider proof (valid for the range it claims)
    assert len(range_proof_cache._remembered) == 5
    warm_community = sealed_community()
    warm_block, warm = warm_community.commit(raws, (GATE - 100) * 1000)
    assert warm.receipts == cold.receipts
    assert [r.code for r in warm.receipts] == [
        ResultCode.OK,
        ResultCode.OK,
        ResultCode.INVALID_RANGE_PROOF,
        ResultCode.INVALID_RANGE_PROOF,
        ResultCode.RANGE_PROOF_RANGE_MISMATCH,
        ResultCode.INVALID_RANGE_PROOF,
    ]
    cold_community = sealed_community()
    forget_all()
    cold_block, _ = cold_community.commit(raws, (GATE - 100) * 1000)
    assert cold_block.header == warm_block.header


def test_invalid_proofs_are_never_remembered() -> None:
    raws = mixed_block()[2:]
    verifier = Verifier(CHAIN_ID, workers=2)
    try:
        verifier.check(raws)
    finally:
        verifier.close()
    # valid for the range they claim: the flipped order's energy proof and the last
    # order's price proof (carol's own), and the wider proof (the contract refuses its range)
    assert len(range_proof_cache._remembered) == 3
    assert [len(valid_range_proofs(decode_transaction(raw))) for raw in raws] == [0, 1, 2, 1]
    invalid = [
        (0, 0),  # carol's price proof under dave
        (0, 1),  # carol's energy proof under dave
        (1, 0),  # a flipped byte
        (3, 1),  # "00": not a proof
    ]
    for index, which in invalid:
        body = decode_transaction(raws[index]).transaction
        commitment, proof, context = sealed_range_proofs(body.sender, body.method, body.args)[which]
        claimed = claimed_range(proof) or (0, 0)
        assert not is_remembered(range_proof_digest(commitment, proof, *claimed, context))


def test_worker_processes_send_back_the_digests_of_valid_proofs() -> None:
    good = [place_raw("carol", n, seal("carol").place_args()) for n in range(32)]
    bad = place_raw("dave", 0, seal("carol").place_args())  # carol's proofs under dave
    verifier = Verifier(CHAIN_ID, workers=2)
    try:
        processes = verifier.start_processes_and_wait()
        outcomes = verifier._check_in_processes(processes, [*good, bad])
    finally:
        verifier.close()
    assert len(outcomes) == 33
    assert len(range_proof_cache._remembered) == 64
    body = decode_transaction(bad).transaction
    for commitment, proof, context in sealed_range_proofs(body.sender, body.method, body.args):
        assert verified_digest(commitment, proof, context) is None


def test_other_calls_and_malformed_orders_give_no_proofs() -> None:
    sender = decode_transaction(place_raw("carol", 0, seal("carol").place_args())).transaction
    args = seal("carol").place_args()
    assert sealed_range_proofs(sender.sender, "reveal_day_ahead_order", args) == []
    assert sealed_range_proofs(sender.sender, "place_sealed_day_ahead_order", [1]) == []
    for broken in ({**args, "price_proof": "zz"}, {k: v for k, v in args.items() if k != "side"}):
        assert sealed_range_proofs(sender.sender, "place_sealed_day_ahead_order", broken) == []


PROOF = prove_range(800_000, 12_345, FEED_IN, CAP, context=b"ctx").encode()


def _commitment() -> bytes:
    return encode_point(commitment_point(800_000, 12_345))


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0), st.sampled_from(["proof", "commitment", "context"]))
def test_a_flipped_byte_is_never_remembered_and_a_hit_needs_the_same_inputs(
    index: int, part: str
) -> None:
    forget_all()
    commitment = _commitment()
    digest = verified_digest(commitment, PROOF, b"ctx")
    assert digest is not None
    remember_valid([digest])
    inputs = {"proof": PROOF, "commitment": commitment, "context": b"ctx"}
    data = bytearray(inputs[part])
    data[index % len(data)] ^= 0x01
    inputs[part] = bytes(data)
    assert verified_digest(inputs["commitment"], inputs["proof"], inputs["context"]) is None
    changed = range_proof_digest(
        inputs["commitment"], inputs["proof"], FEED_IN, CAP, inputs["context"]
    )
    assert not is_remembered(changed)
    with pytest.raises(Exception) as remembered_error:
        verify_range_remembered(
            inputs["commitment"], inputs["proof"], FEED_IN, CAP, context=inputs["context"]
        )
    with pytest.raises(Exception) as full_error:
        verify_range(inputs["commitment"], inputs["proof"], FEED_IN, CAP, context=inputs["context"])
    assert type(remembered_error.value) is type(full_error.value)
    assert str(remembered_error.value) == str(full_error.value)


def test_a_hit_for_another_required_range_raises_what_the_full_check_raises() -> None:
    commitment = _commitment()
    digest = verified_digest(commitment, PROOF, b"ctx")
    assert digest is not None
    remember_valid([digest])
    verify_range_remembered(commitment, PROOF, FEED_IN, CAP, context=b"ctx")  # a hit
    with pytest.raises(RangeMismatch) as remembered_error:
        verify_range_remembered(commitment, PROOF, FEED_IN, CAP + 1, context=b"ctx")
    with pytest.raises(RangeMismatch) as full_error:
        verify_range(commitment, PROOF, FEED_IN, CAP + 1, context=b"ctx")
    assert str(remembered_error.value) == str(full_error.value)


def test_the_cache_keeps_at_most_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(range_proof_cache, "LIMIT", 3)
    remember_valid([bytes([i]) * 32 for i in range(5)])
    assert not is_remembered(b"\x00" * 32) and is_remembered(b"\x04" * 32)
    assert len(range_proof_cache._remembered) == 3
