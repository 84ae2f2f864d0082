"""Linkable spontaneous anonymous group (LSAG) signatures with event-scoped key images.

Sources: J. K. Liu, V. K. Wei and D. S. Wong, "Linkable spontaneous anonymous
group signature for ad hoc groups", ACISP 2004, §4, in the compact form of
A. Back (bLSAG) as written in "Zero to Monero" 2nd ed. (Koe, Alonso, Noether,
2020) §3.4, whose notation this follows: one challenge and m responses, and a
key image over a hash of the signer's own key.

A ring is a list of public keys K_1..K_m (2 <= m <= `MAX_RING_SIZE` by default).
The signer knows k_pi with K_pi = k_pi·G. Its key image is scoped to an event e
(one ballot, one delivery period's offers):

    I = k_pi · H_p(K_pi || e)

so two signatures by one member in one event carry the same I (the second can be
refused), while its images in two events are unrelated points (Liu-Wei-Wong's
linkability restricted to an event; their I = k·H_p(L) with the ring L in place
of e). Signing (Zero to Monero §3.4, indices mod m):

1. draw alpha and r_i for i != pi;
2. c_{pi+1} = H_n(T, alpha·G, alpha·H_p(K_pi || e));
3. for i = pi+1, ..., pi-1: c_{i+1} = H_n(T, r_i·G + c_i·K_i, r_i·H_p(K_i || e) + c_i·I);
4. r_pi = alpha - c_pi·k_pi.

T, the transcript prefix, binds the message, the event, the ring in order and I
(Liu-Wei-Wong hash L and the key image with the message; Zero to Monero §3.4
notes the ring must be hashed in). The signature is (c_1, r_1..r_m) and I;
verifying recomputes c_2, ..., c_{m+1} and accepts if c_{m+1} = c_1.

Nonces are derived, hedged, from the secret, the transcript and 32 bytes of
randomness (fresh by default; fixed only for known-answer vectors), as BIP 340
derives its nonce with auxiliary randomness: a broken random generator then
cannot reveal the secret key by repeating a nonce across different messages.

Encoding: key image (33 bytes) || c_1 (32) || r_1..r_m (32 each): 65 + 32·m bytes.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from gridledger.crypto.privacy.errors import (
    DuplicateRingKey,
    InvalidRingSignature,
    PrivacyError,
    RingSizeError,
    SignerNotInRing,
    WrongLength,
)
from gridledger.crypto.privacy.group import (
    CURVE_ORDER,
    POINT_LENGTH,
    SCALAR_LENGTH,
    Point,
    add,
    base_mul,
    decode_point,
    decode_scalar,
    encode_point,
    encode_scalar,
    hash_to_point,
    hash_to_scalar,
    mul,
    public_key_of,
)

MIN_RING_SIZE = 2
"""A ring of one would name its signer."""

MAX_RING_SIZE = 16
"""Default largest ring: the issue's ring of all active members, up to 16."""

RANDOMNESS_LENGTH = 32
"""Bytes of randomness mixed into the derived nonces."""


@dataclass(frozen=True, slots=True)
class RingSignature:
    """An LSAG: the key image I, the first challenge c_1 and the responses r_1..r_m."""

    key_image: bytes
    challenge: int
    responses: tuple[int, ...]

    def encode(self) -> bytes:
        """key image || c_1 || r_1 .. r_m."""
        parts = [self.key_image, encode_scalar(self.challenge)]
        parts.extend(encode_scalar(r) for r in self.responses)
        return b"".join(parts)


def signature_length(ring_size: int) -> int:
    """Bytes in an encoded signature over a ring of `ring_size` keys."""
    return POINT_LENGTH + SCALAR_LENGTH * (1 + ring_size)


def decode_signature(data: bytes, ring_size: int) -> RingSignature:
    """Decode a signature over a ring of `ring_size` keys; refuse a malformed one.

    Raises `WrongLength`, or `PointNotOnCurve` / `IdentityPoint` for the key image,
    or `ScalarOutOfRange` for a scalar.
    """
    expected = signature_length(ring_size)
    if len(data) != expected:
        raise WrongLength("ring signature", expected, len(data))
    key_image = data[:POINT_LENGTH]
    decode_point(key_image)
    scalars = [
        decode_scalar(data[offset : offset + SCALAR_LENGTH])
        for offset in range(POINT_LENGTH, expected, SCALAR_LENGTH)
    ]
    return RingSignature(key_image, scalars[0], tuple(scalars[1:]))


def check_ring(
    ring: Sequence[bytes], max_ring_size: int = MAX_RING_SIZE, min_ring_size: int = MIN_RING_SIZE
) -> list[Point]:
    """Decode a ring: size in [min_ring_size, max_ring_size], no key twice, keys on the curve."""
    if not min_ring_size <= len(ring) <= max_ring_size:
        raise RingSizeError(len(ring), min_ring_size, max_ring_size)
    seen: dict[bytes, int] = {}
    for position, key in enumerate(ring):
        if key in seen:
            raise DuplicateRingKey(key, seen[key], position)
        seen[key] = position
    return [decode_point(key) for key in ring]


def _event_point(public_key: bytes, event: bytes) -> Point:
    return hash_to_point("lsag-key-image", public_key, event)


def key_image(secret: int, event: bytes) -> bytes:
    """The key image k·H_p(K || event) of the key with secret k in `event`."""
    return encode_point(mul(_event_point(public_key_of(secret), event), secret))


def _transcript(message: bytes, ring: Sequence[bytes], event: bytes, image: bytes) -> bytes:
    return hash_to_scalar("lsag-transcript", message, event, b"".join(ring), image).to_bytes(
        SCALAR_LENGTH, "big"
    )


def _challenge(transcript: bytes, left: Point, right: Point) -> int:
    return hash_to_scalar("lsag-challenge", transcript, encode_point(left), encode_point(right))


def sign(
    message: bytes,
    ring: Sequence[bytes],
    signer_index: int,
    secret: int,
    event: bytes,
    *,
    max_ring_size: int = MAX_RING_SIZE,
    randomness: bytes | None = None,
    min_ring_size: int = MIN_RING_SIZE,
) -> RingSignature:
    """Sign `message` for `event` as the member at `signer_index` of `ring`.

    Raises `RingSizeError`, `DuplicateRingKey`, `PointNotOnCurve` for a bad ring and
    `SignerNotInRing` if `secret` is not the key at `signer_index`.
    """
    points = check_ring(ring, max_ring_size, min_ring_size)
    size = len(points)
    if not 0 <= signer_index < size or public_key_of(secret) != ring[signer_index]:
        raise SignerNotInRing(signer_index, size)
    if randomness is None:
        randomness = secrets.token_bytes(RANDOMNESS_LENGTH)
    if len(randomness) != RANDOMNESS_LENGTH:
        raise WrongLength("randomness", RANDOMNESS_LENGTH, len(randomness))

    signer_point = _event_point(ring[signer_index], event)
    image_point = mul(signer_point, secret)
    image = encode_point(image_point)
    transcript = _transcript(message, ring, event, image)
    secret_bytes = encode_scalar(secret)

    def nonce(index: int) -> int:
        return hash_to_scalar(
            "lsag-nonce", secret_bytes, transcript, randomness, index.to_bytes(2, "big")
        )

    alpha = nonce(size)
    responses = [0] * size
    challenges = [0] * size
    following = (signer_index + 1) % size
    challenges[following] = _challenge(transcript, base_mul(alpha), mul(signer_point, alpha))
    index = following
    while index != signer_index:
        response = nonce(index)
        responses[index] = response
        left = add(base_mul(response), mul(points[index], challenges[index]))
        right = add(
            mul(_event_point(ring[index], event), response), mul(image_point, challenges[index])
        )
        challenges[(index + 1) % size] = _challenge(transcript, left, right)
        index = (index + 1) % size
    responses[signer_index] = (alpha - challenges[signer_index] * secret) % CURVE_ORDER
    if responses[signer_index] == 0:  # probability 2^-256; a zero would not encode
        raise InvalidRingSignature("zero response while signing; sign again")
    return RingSignature(image, challenges[0], tuple(responses))


def verify(
    message: bytes,
    ring: Sequence[bytes],
    signature: RingSignature | bytes,
    event: bytes,
    *,
    max_ring_size: int = MAX_RING_SIZE,
    min_ring_size: int = MIN_RING_SIZE,
) -> bytes:
    """Verify an LSAG over `ring` for `event`; return its key image (33 bytes).

    The caller refuses a second signature whose key image it has already seen in
    the same event. Raises `RingSizeError`, `DuplicateRingKey`, `PointNotOnCurve`
    for a bad ring, the decoding errors for a malformed encoded signature, and
    `InvalidRingSignature` if the challenge loop does not close.
    """
    points = check_ring(ring, max_ring_size, min_ring_size)
    if isinstance(signature, bytes):
        signature = decode_signature(signature, len(points))
    if len(signature.responses) != len(points):
        raise InvalidRingSignature(
            f"{len(signature.responses)} responses for a ring of {len(points)}"
        )
    image_point = decode_point(signature.key_image)
    transcript = _transcript(message, ring, event, signature.key_image)
    challenge = signature.challenge
    try:
        for index, point in enumerate(points):
            response = signature.responses[index]
            left = add(base_mul(response), mul(point, challenge))
            right = add(
                mul(_event_point(ring[index], event), response), mul(image_point, challenge)
            )
            challenge = _challenge(transcript, left, right)
    except PrivacyError as error:
        raise InvalidRingSignature(f"degenerate equation: {error}") from None
    if challenge != signature.challenge:
        raise InvalidRingSignature("the challenge loop does not close")
    return signature.key_image


def prove_image_owner(message: bytes, secret: int, event: bytes) -> bytes:
    """Prove that the key K = secret·G made the key image I = secret·H_p(K || event).

    An LSAG over the ring {K} alone: with m = 1 the challenge loop is Chaum and
    Pedersen's proof that log_G K = log_{H_p(K || event)} I ("Wallet databases with
    observers", CRYPTO '92, §3), made non-interactive by Fiat-Shamir over the
    message. Used to step out of a ring: the author of an anonymous offer names
    itself to its buyer. Encoded as a signature over a ring of one (97 bytes).
    """
    ring = [public_key_of(secret)]
    return sign(message, ring, 0, secret, event, min_ring_size=1).encode()


def verify_image_owner(message: bytes, public_key: bytes, proof: bytes, event: bytes) -> bytes:
    """Check a `prove_image_owner` proof by `public_key`; return the key image it proves.

    Raises what `verify` raises for a malformed or false proof.
    """
    return verify(message, [public_key], proof, event, min_ring_size=1)
