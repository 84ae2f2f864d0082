"""Pedersen commitments on secp256k1: C = v·G + r·H.

Source: T. P. Pedersen, "Non-interactive and information-theoretic secure
verifiable secret sharing", CRYPTO '91, §3 (the commitment scheme E(s, t) =
g^s h^t), written additively as in "Zero to Monero" 2nd ed. (Koe, Alonso,
Noether, 2020) ch. 5. G is secp256k1's base point and H = `GENERATOR_H`, hashed to
the curve so that nobody knows log_G H.

- Hiding, perfectly: for any v, a uniformly random blinding r makes C uniform.
- Binding, computationally: two openings (v, r) != (v', r') of one C would give
  log_G H = (v - v') / (r' - r), a discrete logarithm on secp256k1.

A value is an integer in [0, n - 1] (a price or an energy, far below n); the
blinding is a scalar in [1, n - 1]. An opening is checked by recomputing C.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridledger.crypto.privacy.errors import OpeningMismatch, ScalarOutOfRange
from gridledger.crypto.privacy.group import (
    CURVE_ORDER,
    GENERATOR_H,
    Point,
    add,
    base_mul,
    decode_point,
    encode_point,
    mul,
    random_scalar,
)


@dataclass(frozen=True, slots=True)
class Opening:
    """What opens a commitment: the committed value and its blinding scalar."""

    value: int
    blinding: int


def commitment_point(value: int, blinding: int) -> Point:
    """The point v·G + r·H (v in [0, n - 1], r in [1, n - 1])."""
    if not 0 <= value < CURVE_ORDER:
        raise ScalarOutOfRange(value)
    hidden = mul(GENERATOR_H, blinding)
    if value == 0:
        return hidden
    return add(base_mul(value), hidden)


def commit(value: int, blinding: int | None = None) -> tuple[bytes, Opening]:
    """Commit to `value`: the 33-byte commitment and the opening to keep secret.

    Without `blinding`, a fresh random scalar is drawn.
    """
    r = random_scalar() if blinding is None else blinding
    return encode_point(commitment_point(value, r)), Opening(value, r)


def verify_opening(commitment: bytes, opening: Opening) -> None:
    """Check that `opening` opens `commitment`; raise `OpeningMismatch` if not.

    The commitment is decoded first, so a malformed one raises its own error
    (`WrongLength`, `PointNotOnCurve`, `IdentityPoint`).
    """
    point = decode_point(commitment)
    try:
        expected = commitment_point(opening.value, opening.blinding)
    except ScalarOutOfRange:
        raise OpeningMismatch(commitment, opening.value) from None
    if expected != point:
        raise OpeningMismatch(commitment, opening.value)
