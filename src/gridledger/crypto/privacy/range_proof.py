"""Range proofs for Pedersen commitments: bit decomposition with one-out-of-two proofs.

Sources: R. Cramer, I. Damgård and B. Schoenmakers, "Proofs of partial knowledge
and simplified design of witness hiding protocols", CRYPTO '94 (the OR-composition
of Schnorr proofs: simulate the branch one cannot prove, split the challenge);
C. P. Schnorr, "Efficient signature generation by smart cards", J. Cryptology
1991 (the proof of knowledge of a discrete log); A. Fiat and A. Shamir, CRYPTO '86
(the challenge from a hash of the whole transcript); the bit-decomposition range
proof built from them as in B. Schoenmakers, "Interval proofs revisited" (2005
slides, bit proofs) and "Zero to Monero" 2nd ed. ch. 5 (with CDS OR-proofs in
place of Borromean ring signatures); the decomposition with a last weight for an
interval that is not a power of two is the standard one (e.g. Chaabouni, Lipmaa,
shelat, "Additive combinatorics and discrete logarithm based range protocols",
ACISP 2010, §3: any x in [0, m] is a sum of w_i·b_i with b_i in {0, 1}).

Statement: for a commitment C = v·G + r·H (see `pedersen`), v lies in [low, high].
Let m = high - low >= 1 and k = bit length of m. The weights are w_i = 2^i for
i < k - 1 and w_{k-1} = m - 2^{k-1} + 1, so the sums of subsets of the weights
are exactly [0, m]. The prover writes v - low = sum w_i·b_i with bits b_i and
commits to each bit, C_i = b_i·G + r_i·H, with blindings such that
sum w_i·r_i = r. The verifier checks

1. sum w_i·C_i + low·G = C, so v - low = sum w_i·b_i (mod n) and, if every b_i is a
   bit, v - low is in [0, m] as an integer (m < 2^64, far below n);
2. for each i, an OR-proof that C_i or C_i - G is a multiple of H, i.e. that
   b_i is 0 or 1: a Schnorr proof of log_H C_i OR of log_H (C_i - G).

One OR-proof: the prover picks nonces, simulates the false branch j' with a
random challenge e_j' and response s_j' (a_j' = s_j'·H - e_j'·D_j'), commits to
a_j = t·H for the true branch; after the challenge e it sets
e_j = e - e_j' and s_j = t + e_j·r_i. The verifier recomputes
a_0 = s_0·H - e_0·C_i and a_1 = s_1·H - e_1·(C_i - G) with e_1 = e - e_0.
All k OR-proofs share one Fiat-Shamir challenge e, the hash of a transcript
that binds the context, C, low, high, every C_i and every (a_0, a_1); the
verifier accepts if its recomputed hash equals e.

Encoding: low (8 bytes) || high (8) || e (32) || k times [C_i (33) || e_0 (32) ||
s_0 (32) || s_1 (32)]: 48 + 129·k bytes, 4,176 for a 32-bit range.

Nonces are derived, hedged, from the opening and 32 bytes of randomness (see `lsag`).
"""

from __future__ import annotations

import secrets
import struct
from dataclasses import dataclass

from gridledger.crypto.privacy.errors import (
    InvalidRange,
    InvalidRangeProof,
    PrivacyError,
    RangeMismatch,
    ValueOutOfRange,
    WrongLength,
)
from gridledger.crypto.privacy.group import (
    CURVE_ORDER,
    GENERATOR_G,
    GENERATOR_H,
    POINT_LENGTH,
    SCALAR_LENGTH,
    Point,
    add,
    base_mul,
    decode_point,
    decode_scalar,
    encode_point,
    encode_scalar,
    hash_to_scalar,
    mul,
    negate,
)
from gridledger.crypto.privacy.pedersen import commitment_point

MAX_RANGE_BITS = 64
"""Bounds are unsigned 64-bit integers: high < 2^64."""

RANDOMNESS_LENGTH = 32
"""Bytes of randomness mixed into the derived nonces."""

_HEADER = struct.Struct(">QQ")
_BIT_LENGTH = POINT_LENGTH + 3 * SCALAR_LENGTH


@dataclass(frozen=True, slots=True)
class BitProof:
    """The commitment C_i to one bit and its OR-proof (e_0, s_0, s_1)."""

    commitment: bytes
    challenge_zero: int
    response_zero: int
    response_one: int


@dataclass(frozen=True, slots=True)
class RangeProof:
    """A proof that a commitment opens to a value in [low, high]."""

    low: int
    high: int
    challenge: int
    bits: tuple[BitProof, ...]

    def encode(self) -> bytes:
        """low || high || e || per bit (C_i || e_0 || s_0 || s_1)."""
        parts = [_HEADER.pack(self.low, self.high), encode_scalar(self.challenge)]
        for bit in self.bits:
            parts.append(bit.commitment)
            parts.append(encode_scalar(bit.challenge_zero))
            parts.append(encode_scalar(bit.response_zero))
            parts.append(encode_scalar(bit.response_one))
        return b"".join(parts)


def range_weights(low: int, high: int) -> list[int]:
    """The weights w_0..w_{k-1} whose subset sums are exactly [0, high - low]."""
    if not 0 <= low < high < 2**MAX_RANGE_BITS:
        raise InvalidRange(low, high, f"need 0 <= low < high < 2^{MAX_RANGE_BITS}")
    span = high - low
    bits = span.bit_length()
    weights = [1 << i for i in range(bits - 1)]
    weights.append(span - (1 << (bits - 1)) + 1)
    return weights


def proof_length(low: int, high: int) -> int:
    """Bytes in an encoded proof for [low, high]."""
    return _HEADER.size + SCALAR_LENGTH + _BIT_LENGTH * len(range_weights(low, high))


def decode_range_proof(data: bytes) -> RangeProof:
    """Decode a proof; raise `InvalidRange`, `WrongLength` or a point or scalar error."""
    return _decode(data)[0]


def _decode(data: bytes) -> tuple[RangeProof, list[Point]]:
    if len(data) < _HEADER.size:
        raise WrongLength("range proof header", _HEADER.size, len(data))
    low, high = _HEADER.unpack_from(data)
    expected = proof_length(low, high)
    if len(data) != expected:
        raise WrongLength("range proof", expected, len(data))
    challenge = decode_scalar(data[_HEADER.size : _HEADER.size + SCALAR_LENGTH])
    bits = []
    points = []
    for offset in range(_HEADER.size + SCALAR_LENGTH, expected, _BIT_LENGTH):
        commitment = data[offset : offset + POINT_LENGTH]
        points.append(decode_point(commitment))
        scalars = [
            decode_scalar(data[start : start + SCALAR_LENGTH])
            for start in range(offset + POINT_LENGTH, offset + _BIT_LENGTH, SCALAR_LENGTH)
        ]
        bits.append(BitProof(commitment, scalars[0], scalars[1], scalars[2]))
    return RangeProof(low, high, challenge, tuple(bits)), points


def claimed_range(data: bytes) -> tuple[int, int] | None:
    """The (low, high) an encoded proof states in its header; None if too short for one."""
    if len(data) < _HEADER.size:
        return None
    low, high = _HEADER.unpack_from(data)
    return low, high


def _decompose(offset: int, weights: list[int]) -> list[int]:
    last = weights[-1]
    top = 1 if offset >= 1 << (len(weights) - 1) else 0
    rest = offset - top * last
    return [(rest >> i) & 1 for i in range(len(weights) - 1)] + [top]


def _challenge(
    context: bytes, commitment: bytes, low: int, high: int, bit_points: list[bytes]
) -> int:
    return hash_to_scalar(
        "range-challenge", context, commitment, _HEADER.pack(low, high), b"".join(bit_points)
    )


def prove_range(
    value: int,
    blinding: int,
    low: int,
    high: int,
    *,
    context: bytes = b"",
    randomness: bytes | None = None,
) -> RangeProof:
    """Prove that v·G + r·H (v = `value`, r = `blinding`) opens to a value in [low, high].

    `context` is bound into the challenge (an order id and its owner, say), so the
    proof does not verify under another context. Raises `InvalidRange` and
    `ValueOutOfRange`.
    """
    weights = range_weights(low, high)
    if not low <= value <= high:
        raise ValueOutOfRange(value, low, high)
    if randomness is None:
        randomness = secrets.token_bytes(RANDOMNESS_LENGTH)
    if len(randomness) != RANDOMNESS_LENGTH:
        raise WrongLength("randomness", RANDOMNESS_LENGTH, len(randomness))
    commitment = encode_point(commitment_point(value, blinding))
    seed = b"".join(
        [encode_scalar(blinding), value.to_bytes(8, "big"), commitment, randomness, context]
    )

    def nonce(label: bytes, index: int) -> int:
        return hash_to_scalar("range-nonce", seed, label, index.to_bytes(2, "big"))

    bits = _decompose(value - low, weights)
    count = len(weights)
    blindings = [nonce(b"r", i) for i in range(count - 1)]
    remainder = (
        blinding - sum(w * r for w, r in zip(weights, blindings, strict=False))
    ) % CURVE_ORDER
    last = remainder * pow(weights[-1], -1, CURVE_ORDER) % CURVE_ORDER
    if last == 0:  # probability 2^-256
        raise InvalidRangeProof("zero blinding while proving; prove again")
    blindings.append(last)

    bit_points: list[Point] = []
    real_nonces: list[int] = []
    fake_challenges: list[int] = []
    fake_responses: list[int] = []
    transcript: list[bytes] = []
    for i, (bit, r) in enumerate(zip(bits, blindings, strict=True)):
        point = commitment_point(bit, r)
        bit_points.append(point)
        fake_challenge, fake_response, real_nonce = nonce(b"e", i), nonce(b"s", i), nonce(b"t", i)
        fake_challenges.append(fake_challenge)
        fake_responses.append(fake_response)
        real_nonces.append(real_nonce)
        real_commit = mul(GENERATOR_H, real_nonce)
        # the simulated branch's a = s·H - e·D, with D = C_i - G (bit 0) or C_i (bit 1),
        # computed from the prover's r_i: D = r_i·H - G or r_i·H + G respectively
        hidden = mul(GENERATOR_H, (fake_response - fake_challenge * r) % CURVE_ORDER)
        if bit == 0:
            fake_commit = add(hidden, base_mul(fake_challenge))
            pair = (real_commit, fake_commit)
        else:
            fake_commit = add(hidden, base_mul(CURVE_ORDER - fake_challenge))
            pair = (fake_commit, real_commit)
        transcript.append(encode_point(point) + encode_point(pair[0]) + encode_point(pair[1]))
    challenge = _challenge(context, commitment, low, high, transcript)

    proofs = []
    for i, (bit, r) in enumerate(zip(bits, blindings, strict=True)):
        real_challenge = (challenge - fake_challenges[i]) % CURVE_ORDER
        real_response = (real_nonces[i] + real_challenge * r) % CURVE_ORDER
        if bit == 0:
            e0, s0, s1 = real_challenge, real_response, fake_responses[i]
        else:
            e0, s0, s1 = fake_challenges[i], fake_responses[i], real_response
        proofs.append(BitProof(encode_point(bit_points[i]), e0, s0, s1))
    return RangeProof(low, high, challenge, tuple(proofs))


def _weighted_sum(points: list[Point], weights: list[int]) -> Point:
    """sum w_i·P_i: Horner's rule (doubling by addition) on the powers of two, then the last."""
    *powers, last_point = points
    last = mul(last_point, weights[-1])
    if not powers:
        return last
    total = powers[-1]
    for point in reversed(powers[:-1]):
        total = add(total, total, point)
    return add(total, last)


_NEGATED_G = negate(GENERATOR_G)
_ENCODED_G = encode_point(GENERATOR_G)


def _branch_one(encoded: bytes, point: Point, response: int, challenge: int) -> Point:
    """a_1 = s_1·H - e_1·(C_i - G), the bit-one branch's recomputed commitment.

    Computed as s_1·H + (n - e_1)·(C_i - G): one scalar multiplication fewer than
    s_1·H + (n - e_1)·C_i + e_1·G, the same point, and the same errors in the same
    order (s_1 = 0 or e_1 = 0 raise `ScalarOutOfRange` from the same multiplication,
    an identity sum `IdentityPoint`). C_i - G is the identity only for C_i = G, which
    coincurve cannot hold: that one point takes the three-term sum (encodings are
    canonical, so comparing the 33 bytes finds it).
    """
    if encoded == _ENCODED_G:
        return add(
            mul(GENERATOR_H, response), mul(point, CURVE_ORDER - challenge), base_mul(challenge)
        )
    hidden = mul(GENERATOR_H, response)
    return add(hidden, mul(add(point, _NEGATED_G), CURVE_ORDER - challenge))


def verify_range(
    commitment: bytes,
    proof: RangeProof | bytes,
    low: int,
    high: int,
    *,
    context: bytes = b"",
) -> None:
    """Check that `proof` shows `commitment` opens to a value in [low, high].

    Raises `RangeMismatch` if the proof is for another range, the decoding errors
    for a malformed commitment or encoded proof, and `InvalidRangeProof` if the
    sum or an OR-proof fails.
    """
    point = decode_point(commitment)
    bit_points: list[Point] | None = None
    if isinstance(proof, bytes):
        proof, bit_points = _decode(proof)
    if (proof.low, proof.high) != (low, high):
        raise RangeMismatch(proof.low, proof.high, low, high)
    weights = range_weights(low, high)
    if len(proof.bits) != len(weights):
        raise InvalidRangeProof(f"{len(proof.bits)} bit proofs for {len(weights)} bits")
    try:
        if bit_points is None:
            bit_points = [decode_point(bit.commitment) for bit in proof.bits]
        total = _weighted_sum(bit_points, weights)
        if low > 0:
            total = add(total, base_mul(low))
        if total != point:
            raise InvalidRangeProof("the bit commitments do not sum to the commitment")
        transcript = []
        for bit, bit_point in zip(proof.bits, bit_points, strict=True):
            e0 = bit.challenge_zero
            e1 = (proof.challenge - e0) % CURVE_ORDER
            zero = add(mul(GENERATOR_H, bit.response_zero), mul(bit_point, CURVE_ORDER - e0))
            one = _branch_one(bit.commitment, bit_point, bit.response_one, e1)
            transcript.append(bit.commitment + encode_point(zero) + encode_point(one))
    except InvalidRangeProof:
        raise
    except PrivacyError as error:
        raise InvalidRangeProof(f"degenerate equation: {error}") from None
    if _challenge(context, commitment, low, high, transcript) != proof.challenge:
        raise InvalidRangeProof("the challenge does not match the transcript")
