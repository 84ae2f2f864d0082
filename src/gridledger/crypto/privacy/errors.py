"""Errors raised by `gridledger.crypto.privacy`. Each carries the values involved.

Every class derives from `PrivacyError`, itself a `gridledger.crypto.CryptoError`,
so a caller can catch one specific failure (a duplicated ring key) or all of them.
Byte values are shown in messages as hexadecimal.
"""

from __future__ import annotations

from gridledger.crypto.errors import CryptoError


class PrivacyError(CryptoError):
    """Base of every error raised by the privacy primitives."""


class WrongLength(PrivacyError):
    """An encoded point, scalar or proof has the wrong number of bytes."""

    def __init__(self, what: str, expected: int, got: int) -> None:
        self.what = what
        self.expected = expected
        self.got = got
        super().__init__(f"{what} must be {expected} bytes, got {got}")


class PointNotOnCurve(PrivacyError):
    """An encoding is not the compressed SEC1 form of a secp256k1 point.

    Either its first byte is not 0x02 or 0x03, its x coordinate is not below the
    field prime, or x^3 + 7 has no square root (no point has that x).
    """

    def __init__(self, encoding: bytes) -> None:
        self.encoding = encoding
        super().__init__(f"not a point on secp256k1: {encoding.hex()}")


class IdentityPoint(PrivacyError):
    """The point at infinity was given or produced where a proper point is required.

    `where` names the input or the computation (``"decode"``, ``"sum"``, ``"product"``).
    """

    def __init__(self, where: str) -> None:
        self.where = where
        super().__init__(f"the identity point is not allowed here: {where}")


class ScalarOutOfRange(PrivacyError):
    """A scalar is not in [1, n - 1], n the order of secp256k1."""

    def __init__(self, value: int) -> None:
        self.value = value
        super().__init__(f"scalar out of range [1, n - 1]: {value:#x}")


class HashToCurveFailed(PrivacyError):
    """Try-and-increment found no point in its 256 attempts (probability about 2^-256)."""

    def __init__(self, domain: bytes) -> None:
        self.domain = domain
        super().__init__(f"no curve point found for domain {domain!r}")


class RingSizeError(PrivacyError):
    """A ring has fewer than 2 members or more than the allowed maximum."""

    def __init__(self, size: int, minimum: int, maximum: int) -> None:
        self.size = size
        self.minimum = minimum
        self.maximum = maximum
        super().__init__(f"ring of {size} keys: must hold {minimum} to {maximum}")


class DuplicateRingKey(PrivacyError):
    """The same public key appears twice in a ring."""

    def __init__(self, public_key: bytes, first: int, second: int) -> None:
        self.public_key = public_key
        self.first = first
        self.second = second
        super().__init__(f"ring key {public_key.hex()} appears at positions {first} and {second}")


class SignerNotInRing(PrivacyError):
    """The secret key given to `sign` is not the key at the signer's ring position."""

    def __init__(self, index: int, ring_size: int) -> None:
        self.index = index
        self.ring_size = ring_size
        super().__init__(
            f"the secret key does not match ring position {index} (ring of {ring_size})"
        )


class InvalidRingSignature(PrivacyError):
    """An LSAG does not verify: malformed, or its challenge loop does not close."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"invalid ring signature: {reason}")


class InvalidRange(PrivacyError):
    """A range [low, high] cannot be proven: empty, a single value, or too wide."""

    def __init__(self, low: int, high: int, reason: str) -> None:
        self.low = low
        self.high = high
        self.reason = reason
        super().__init__(f"invalid range [{low}, {high}]: {reason}")


class ValueOutOfRange(PrivacyError):
    """The prover's value is not in the range it was asked to prove."""

    def __init__(self, value: int, low: int, high: int) -> None:
        self.value = value
        self.low = low
        self.high = high
        super().__init__(f"value {value} is not in [{low}, {high}]")


class RangeMismatch(PrivacyError):
    """A range proof is for another range than the one the verifier expects."""

    def __init__(
        self, proven_low: int, proven_high: int, expected_low: int, expected_high: int
    ) -> None:
        self.proven_low = proven_low
        self.proven_high = proven_high
        self.expected_low = expected_low
        self.expected_high = expected_high
        super().__init__(
            f"proof is for [{proven_low}, {proven_high}], "
            f"expected [{expected_low}, {expected_high}]"
        )


class InvalidRangeProof(PrivacyError):
    """A range proof does not verify: malformed, or an equation fails."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"invalid range proof: {reason}")


class OpeningMismatch(PrivacyError):
    """A revealed (value, blinding) does not open the commitment."""

    def __init__(self, commitment: bytes, value: int) -> None:
        self.commitment = commitment
        self.value = value
        super().__init__(f"value {value} with its blinding does not open {commitment.hex()}")


class InvalidOutputIndex(PrivacyError):
    """A stealth output index is not an unsigned 32-bit integer."""

    def __init__(self, output_index: int) -> None:
        self.output_index = output_index
        super().__init__(f"output index {output_index} is not in [0, 2^32)")


class NotOurOutput(PrivacyError):
    """A stealth output was not sent to the keys asked to spend it."""

    def __init__(self, one_time_key: bytes) -> None:
        self.one_time_key = one_time_key
        super().__init__(f"stealth output {one_time_key.hex()} does not belong to these keys")
