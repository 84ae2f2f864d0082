"""Range proofs: bit decomposition with one-out-of-two Schnorr proofs."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridledger.crypto.privacy import (
    CURVE_ORDER,
    InvalidRange,
    InvalidRangeProof,
    PointNotOnCurve,
    PrivacyError,
    RangeMismatch,
    ValueOutOfRange,
    WrongLength,
    commit,
    decode_range_proof,
    proof_length,
    prove_range,
    verify_range,
)
from gridledger.crypto.privacy.group import (
    GENERATOR_G,
    GENERATOR_H,
    IdentityPoint,
    Point,
    add,
    base_mul,
    encode_point,
    mul,
)
from gridledger.crypto.privacy.range_proof import _branch_one, range_weights

SLOW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# no per-example deadline: the machine is shared and the timings vary
NO_DEADLINE = settings(deadline=None)


@st.composite
def ranges_and_values(draw: st.DrawFn) -> tuple[int, int, int]:
    low = draw(st.integers(0, 2**40))
    span = draw(st.integers(1, 2**20) | st.integers(1, 300))
    value = draw(st.integers(low, low + span))
    return low, low + span, value


@NO_DEADLINE
@given(st.integers(0, 2**63), st.integers(1, 2**63 - 1))
def test_weights_cover_exactly_the_span(low: int, span: int) -> None:
    weights = range_weights(low, low + span)
    assert sum(weights) == span
    assert len(weights) == span.bit_length()
    assert all(w >= 1 for w in weights)


@pytest.mark.parametrize("span", range(1, 40))
def test_every_offset_in_a_small_span_decomposes_into_bits(span: int) -> None:
    # the subset sums of the weights are exactly [0, span]
    weights = range_weights(0, span)
    sums = {0}
    for weight in weights:
        sums |= {s + weight for s in sums}
    assert sums == set(range(span + 1))


@SLOW
@given(ranges_and_values(), st.binary(max_size=16))
def test_honest_proofs_verify(case: tuple[int, int, int], context: bytes) -> None:
    low, high, value = case
    commitment, opening = commit(value)
    proof = prove_range(value, opening.blinding, low, high, context=context)
    encoded = proof.encode()
    assert len(encoded) == proof_length(low, high)
    assert decode_range_proof(encoded) == proof
    verify_range(commitment, encoded, low, high, context=context)
    verify_range(commitment, proof, low, high, context=context)


@pytest.mark.parametrize("value", [0, 1, 2**63, 2**64 - 1])
def test_the_edges_of_the_widest_range_verify(value: int) -> None:
    commitment, opening = commit(value)
    proof = prove_range(value, opening.blinding, 0, 2**64 - 1)
    verify_range(commitment, proof.encode(), 0, 2**64 - 1)


def test_a_32_bit_range_proof_fits_in_5000_bytes() -> None:
    assert proof_length(1, 2**32) == 48 + 129 * 32 == 4176


@SLOW
@given(st.data())
def test_flipping_any_byte_of_a_proof_fails(data: st.DataObject) -> None:
    commitment, opening = commit(700)
    encoded = prove_range(700, opening.blinding, 100, 1100, context=b"order").encode()
    position = data.draw(st.integers(0, len(encoded) - 1), label="position")
    mask = data.draw(st.integers(1, 255), label="mask")
    tampered = bytearray(encoded)
    tampered[position] ^= mask
    with pytest.raises(PrivacyError):
        verify_range(commitment, bytes(tampered), 100, 1100, context=b"order")


@SLOW
@given(st.data())
def test_flipping_any_byte_of_the_commitment_fails(data: st.DataObject) -> None:
    commitment, opening = commit(9)
    proof = prove_range(9, opening.blinding, 0, 15)
    position = data.draw(st.integers(0, len(commitment) - 1), label="position")
    mask = data.draw(st.integers(1, 255), label="mask")
    tampered = bytearray(commitment)
    tampered[position] ^= mask
    with pytest.raises(PrivacyError):
        verify_range(bytes(tampered), proof, 0, 15)


def test_a_proof_for_another_range_is_refused() -> None:
    commitment, opening = commit(50)
    proof = prove_range(50, opening.blinding, 10, 100)
    with pytest.raises(RangeMismatch) as caught:
        verify_range(commitment, proof, 0, 100)
    assert (caught.value.proven_low, caught.value.proven_high) == (10, 100)
    assert (caught.value.expected_low, caught.value.expected_high) == (0, 100)
    # rewriting the range in the proof's header does not help: the transcript binds it
    encoded = bytearray(proof.encode())
    encoded[:8] = (11).to_bytes(8, "big")
    with pytest.raises(InvalidRangeProof):
        verify_range(commitment, bytes(encoded), 11, 100)


def test_a_proof_for_another_commitment_or_context_is_refused() -> None:
    commitment, opening = commit(50)
    proof = prove_range(50, opening.blinding, 0, 100, context=b"order 1")
    other, _ = commit(50)
    with pytest.raises(InvalidRangeProof):
        verify_range(other, proof, 0, 100, context=b"order 1")
    with pytest.raises(InvalidRangeProof):
        verify_range(commitment, proof, 0, 100, context=b"order 2")


def test_a_value_outside_the_range_cannot_be_proven() -> None:
    _, opening = commit(101)
    with pytest.raises(ValueOutOfRange) as caught:
        prove_range(101, opening.blinding, 0, 100)
    assert (caught.value.value, caught.value.low, caught.value.high) == (101, 0, 100)
    # a proof for an in-range value does not transfer to a commitment to 101
    commitment, _ = commit(101, opening.blinding)
    proof = prove_range(100, opening.blinding, 0, 100)
    with pytest.raises(InvalidRangeProof):
        verify_range(commitment, proof, 0, 100)


@pytest.mark.parametrize(("low", "high"), [(5, 5), (6, 5), (-1, 3), (0, 2**64)])
def test_ranges_that_cannot_be_proven_are_refused(low: int, high: int) -> None:
    with pytest.raises(InvalidRange) as caught:
        range_weights(low, high)
    assert (caught.value.low, caught.value.high) == (low, high)


def test_a_commitment_off_the_curve_is_refused() -> None:
    _, opening = commit(3)
    proof = prove_range(3, opening.blinding, 0, 7)
    bad = b"\x03" + (5).to_bytes(32, "big")  # x = 5 is not on secp256k1
    with pytest.raises(PointNotOnCurve):
        verify_range(bad, proof, 0, 7)


def test_malformed_proofs_are_refused() -> None:
    commitment, opening = commit(3)
    encoded = prove_range(3, opening.blinding, 0, 7).encode()
    with pytest.raises(WrongLength):
        verify_range(commitment, encoded[:-1], 0, 7)
    with pytest.raises(WrongLength):
        verify_range(commitment, encoded[:10], 0, 7)
    # a scalar at the curve order is not canonical
    high = encoded[:16] + CURVE_ORDER.to_bytes(32, "big") + encoded[48:]
    with pytest.raises(PrivacyError):
        verify_range(commitment, high, 0, 7)


def _branch_one_three_terms(point: Point, response: int, challenge: int) -> Point:
    """a_1 = s_1·H + (n - e_1)·C_i + e_1·G as the verifier first computed it."""
    return add(mul(GENERATOR_H, response), mul(point, CURVE_ORDER - challenge), base_mul(challenge))


def _outcome(compute: Callable[[], Point]) -> bytes | str:
    try:
        return encode_point(compute())
    except PrivacyError as error:
        return f"{type(error).__name__}: {error}"


@NO_DEADLINE
@given(
    st.integers(1, CURVE_ORDER - 1) | st.just(1) | st.just(CURVE_ORDER - 1),
    st.integers(0, CURVE_ORDER - 1) | st.just(0),
    st.integers(0, CURVE_ORDER - 1) | st.just(0),
    st.booleans(),
)
def test_the_bit_one_branch_equals_the_three_term_sum(
    secret: int, response: int, challenge: int, generator: bool
) -> None:
    """One multiplication fewer, the same point or the same error, for every input
    (C_i = G included, and the scalars 0 that refuse)."""
    point = GENERATOR_G if generator else base_mul(secret)
    encoded = encode_point(point)
    assert _outcome(lambda: _branch_one(encoded, point, response, challenge)) == _outcome(
        lambda: _branch_one_three_terms(point, response, challenge)
    )


@NO_DEADLINE
@given(st.integers(1, CURVE_ORDER - 1), st.integers(1, CURVE_ORDER - 1))
def test_the_bit_one_branch_refuses_an_identity_sum_alike(response: int, challenge: int) -> None:
    """C_i = G + (s_1 / e_1)·H makes s_1·H - e_1·(C_i - G) the identity."""
    ratio = response * pow(challenge, -1, CURVE_ORDER) % CURVE_ORDER
    point = add(GENERATOR_G, mul(GENERATOR_H, ratio))
    encoded = encode_point(point)
    expected = _outcome(lambda: _branch_one_three_terms(point, response, challenge))
    assert expected == "IdentityPoint: " + str(IdentityPoint("sum"))
    assert _outcome(lambda: _branch_one(encoded, point, response, challenge)) == expected
