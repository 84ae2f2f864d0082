"""LSAG ring signatures with event-scoped key images."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridledger.crypto.privacy import (
    CURVE_ORDER,
    DuplicateRingKey,
    InvalidRingSignature,
    PointNotOnCurve,
    PrivacyError,
    RingSizeError,
    SignerNotInRing,
    WrongLength,
    decode_signature,
    key_image,
    public_key_of,
    ring_sign,
    ring_verify,
    signature_length,
)
from gridledger.crypto.privacy.group import hash_to_scalar

SLOW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def member_secret(number: int) -> int:
    return hash_to_scalar("test-member", number.to_bytes(4, "big"))


def make_ring(size: int, offset: int = 0) -> tuple[list[int], list[bytes]]:
    secrets = [member_secret(offset + i) for i in range(size)]
    return secrets, [public_key_of(s) for s in secrets]


@SLOW
@given(st.integers(2, 16), st.data(), st.binary(max_size=40), st.binary(min_size=1, max_size=16))
def test_honest_signatures_verify_and_return_the_key_image(
    size: int, data: st.DataObject, message: bytes, event: bytes
) -> None:
    secrets, ring = make_ring(size)
    index = data.draw(st.integers(0, size - 1))
    signature = ring_sign(message, ring, index, secrets[index], event)
    encoded = signature.encode()
    assert len(encoded) == signature_length(size)
    assert decode_signature(encoded, size) == signature
    assert ring_verify(message, ring, encoded, event) == key_image(secrets[index], event)


@SLOW
@given(st.data())
def test_flipping_any_byte_of_a_signature_fails(data: st.DataObject) -> None:
    secrets, ring = make_ring(5)
    encoded = ring_sign(b"ballot", ring, 1, secrets[1], b"vote 1").encode()
    position = data.draw(st.integers(0, len(encoded) - 1), label="position")
    mask = data.draw(st.integers(1, 255), label="mask")
    tampered = bytearray(encoded)
    tampered[position] ^= mask
    with pytest.raises(PrivacyError):
        ring_verify(b"ballot", ring, bytes(tampered), b"vote 1")


def test_flipping_bytes_of_the_key_image_fails_with_an_image_error_or_a_broken_loop() -> None:
    secrets, ring = make_ring(3)
    encoded = ring_sign(b"m", ring, 0, secrets[0], b"e").encode()
    for position in range(33):
        tampered = bytearray(encoded)
        tampered[position] ^= 0x01
        with pytest.raises((InvalidRingSignature, PointNotOnCurve)):
            ring_verify(b"m", ring, bytes(tampered), b"e")


def test_the_message_event_and_ring_are_bound() -> None:
    secrets, ring = make_ring(4)
    signature = ring_sign(b"yes", ring, 2, secrets[2], b"vote 1")
    with pytest.raises(InvalidRingSignature):
        ring_verify(b"no", ring, signature, b"vote 1")
    with pytest.raises(InvalidRingSignature):
        ring_verify(b"yes", ring, signature, b"vote 2")
    with pytest.raises(InvalidRingSignature):
        ring_verify(b"yes", [ring[1], ring[0], *ring[2:]], signature, b"vote 1")
    _, other = make_ring(4, offset=100)
    with pytest.raises(InvalidRingSignature):
        ring_verify(b"yes", [*ring[:3], other[0]], signature, b"vote 1")


@SLOW
@given(st.binary(min_size=1, max_size=16), st.binary(min_size=1, max_size=16))
def test_key_images_link_within_an_event_only(event: bytes, other_event: bytes) -> None:
    secrets, ring = make_ring(4)
    first = ring_verify(b"one", ring, ring_sign(b"one", ring, 3, secrets[3], event), event)
    # the same member in another ring of the same event: the same image
    _, others = make_ring(3, offset=50)
    second_ring = [ring[3], *others]
    second = ring_sign(b"two", second_ring, 0, secrets[3], event)
    assert ring_verify(b"two", second_ring, second, event) == first
    # another member in the same event: another image
    assert key_image(secrets[0], event) != first
    if other_event != event:
        assert key_image(secrets[3], other_event) != first


def test_a_ring_with_a_duplicated_key_is_refused() -> None:
    secrets, ring = make_ring(4)
    doubled = [*ring, ring[1]]
    with pytest.raises(DuplicateRingKey) as caught:
        ring_sign(b"m", doubled, 0, secrets[0], b"e")
    assert (caught.value.public_key, caught.value.first, caught.value.second) == (ring[1], 1, 4)
    signature = ring_sign(b"m", ring, 0, secrets[0], b"e")
    with pytest.raises(DuplicateRingKey):
        ring_verify(b"m", doubled, signature, b"e")


def test_ring_sizes_outside_the_limits_are_refused() -> None:
    secrets, ring = make_ring(17)
    with pytest.raises(RingSizeError) as caught:
        ring_sign(b"m", ring[:1], 0, secrets[0], b"e")
    assert (caught.value.size, caught.value.minimum, caught.value.maximum) == (1, 2, 16)
    with pytest.raises(RingSizeError):
        ring_sign(b"m", ring, 0, secrets[0], b"e")
    # a larger maximum may be configured
    signature = ring_sign(b"m", ring, 0, secrets[0], b"e", max_ring_size=17)
    ring_verify(b"m", ring, signature, b"e", max_ring_size=17)
    with pytest.raises(RingSizeError):
        ring_verify(b"m", ring, signature, b"e")


def test_a_ring_key_off_the_curve_is_refused() -> None:
    secrets, ring = make_ring(3)
    bad = b"\x02" + (5).to_bytes(32, "big")  # x = 5: x^3 + 7 = 132 is not a square mod p
    with pytest.raises(PointNotOnCurve):
        ring_sign(b"m", [*ring, bad], 0, secrets[0], b"e")


def test_the_secret_must_match_the_signer_position() -> None:
    secrets, ring = make_ring(3)
    with pytest.raises(SignerNotInRing) as caught:
        ring_sign(b"m", ring, 1, secrets[0], b"e")
    assert (caught.value.index, caught.value.ring_size) == (1, 3)
    with pytest.raises(SignerNotInRing):
        ring_sign(b"m", ring, 3, secrets[0], b"e")


def test_malformed_encodings_are_refused() -> None:
    secrets, ring = make_ring(3)
    encoded = ring_sign(b"m", ring, 0, secrets[0], b"e").encode()
    with pytest.raises(WrongLength):
        ring_verify(b"m", ring, encoded[:-1], b"e")
    with pytest.raises(WrongLength):
        ring_verify(b"m", ring[:2], encoded, b"e")
    high = encoded[:33] + CURVE_ORDER.to_bytes(32, "big") + encoded[65:]
    with pytest.raises(PrivacyError):
        ring_verify(b"m", ring, high, b"e")


def test_nonces_are_deterministic_for_fixed_randomness_and_hedged_otherwise() -> None:
    secrets, ring = make_ring(3)
    fixed = bytes(range(32))
    first = ring_sign(b"m", ring, 0, secrets[0], b"e", randomness=fixed)
    assert ring_sign(b"m", ring, 0, secrets[0], b"e", randomness=fixed) == first
    assert ring_sign(b"m", ring, 0, secrets[0], b"e") != first
    with pytest.raises(WrongLength):
        ring_sign(b"m", ring, 0, secrets[0], b"e", randomness=b"short")


# -- stepping out of a ring: the proof that a key made a key image -------------------------


@SLOW
@given(st.integers(0, 50), st.binary(max_size=40), st.binary(min_size=1, max_size=16), st.data())
def test_an_image_owner_proof_verifies_for_its_key_only_and_any_flip_fails(
    number: int, message: bytes, event: bytes, data: st.DataObject
) -> None:
    from gridledger.crypto.privacy import prove_image_owner, verify_image_owner

    secret = member_secret(number)
    proof = prove_image_owner(message, secret, event)
    assert verify_image_owner(message, public_key_of(secret), proof, event) == key_image(
        secret, event
    )
    # the image equals the one the member's ring signatures carry in the same event
    _, ring = make_ring(3, offset=1000)
    signature = ring_sign(message, [*ring, public_key_of(secret)], 3, secret, event)
    assert signature.key_image == key_image(secret, event)
    with pytest.raises(PrivacyError):
        verify_image_owner(message, public_key_of(member_secret(number + 1)), proof, event)
    with pytest.raises(PrivacyError):
        verify_image_owner(message + b"x", public_key_of(secret), proof, event)
    position = data.draw(st.integers(0, len(proof) - 1))
    flipped = proof[:position] + bytes([proof[position] ^ 0x01]) + proof[position + 1 :]
    with pytest.raises(PrivacyError):
        verify_image_owner(message, public_key_of(secret), flipped, event)
