"""Errors raised by the crypto package. Each carries the values involved."""

from __future__ import annotations


class CryptoError(Exception):
    """Base of every error raised by `gridledger.crypto`."""


class InvalidPublicKey(CryptoError):
    """A public key is not a usable Ed25519 key (wrong length, off-curve or small order)."""

    def __init__(self, public_key: bytes, reason: str) -> None:
        self.public_key = public_key
        self.reason = reason
        super().__init__(f"invalid public key {public_key.hex()}: {reason}")


class InvalidSignature(CryptoError):
    """A signature does not verify for the given public key and message."""

    def __init__(self, public_key: bytes) -> None:
        self.public_key = public_key
        super().__init__(f"signature does not verify for public key {public_key.hex()}")


class InvalidProof(CryptoError):
    """A Merkle inclusion proof is malformed or does not lead to the expected root."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"invalid Merkle proof: {reason}")
