"""Ed25519 identities and addresses.

One signature library on every peer: libsodium through PyNaCl. Libraries
disagree on Ed25519 edge cases (small-order keys, non-canonical encodings), and
a disagreement would split the chain, so every verification goes through
`verify_signature` here and every key is checked by `validate_public_key` when
it is enrolled.

An address is ``"gl"`` followed by the hex of the first 20 bytes of the
SHA-256 of the 32-byte public key: 42 characters, readable and easy to paste.
"""

from __future__ import annotations

from dataclasses import dataclass

import nacl.bindings
import nacl.exceptions
import nacl.signing

from gridledger.crypto.errors import InvalidPublicKey, InvalidSignature
from gridledger.crypto.hashing import sha256
from gridledger.crypto.signature_cache import _remembered, is_remembered, signature_digest

PUBLIC_KEY_LENGTH = 32
"""Length of an Ed25519 public key, in bytes."""

SIGNATURE_LENGTH = 64
"""Length of an Ed25519 signature, in bytes."""

SEED_LENGTH = 32
"""Length of an Ed25519 private seed, in bytes."""

ADDRESS_PREFIX = "gl"
ADDRESS_LENGTH = len(ADDRESS_PREFIX) + 40


def validate_public_key(public_key: bytes) -> None:
    """Raise `InvalidPublicKey` unless `public_key` is a canonical, prime-order Ed25519 point.

    Small-order points are rejected: a signature under such a key can be forged
    for many messages, and some libraries accept it while others refuse it.
    """
    if len(public_key) != PUBLIC_KEY_LENGTH:
        raise InvalidPublicKey(
            public_key, f"length {len(public_key)}, expected {PUBLIC_KEY_LENGTH}"
        )
    if not nacl.bindings.crypto_core_ed25519_is_valid_point(public_key):
        raise InvalidPublicKey(public_key, "not a canonical point of prime order (small order?)")


def is_valid_public_key(public_key: bytes) -> bool:
    """Return whether `validate_public_key` would accept `public_key`."""
    try:
        validate_public_key(public_key)
    except InvalidPublicKey:
        return False
    return True


def address_of(public_key: bytes) -> str:
    """Return the address of a public key: ``gl`` + hex of SHA-256(key)[:20]."""
    return ADDRESS_PREFIX + sha256(public_key)[:20].hex()


def is_address(text: str) -> bool:
    """Return whether `text` has the shape of an address (``gl`` and 40 lower-case hex digits)."""
    if len(text) != ADDRESS_LENGTH or not text.startswith(ADDRESS_PREFIX):
        return False
    digits = text[len(ADDRESS_PREFIX) :]
    return all(c in "0123456789abcdef" for c in digits)


def verify_signature(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Raise `InvalidSignature` unless `signature` is a valid Ed25519 signature of `message`."""
    if len(signature) != SIGNATURE_LENGTH or len(public_key) != PUBLIC_KEY_LENGTH:
        raise InvalidSignature(public_key)
    try:
        nacl.bindings.crypto_sign_open(signature + message, public_key)
    except (nacl.exceptions.BadSignatureError, ValueError) as error:
        raise InvalidSignature(public_key) from error


def is_valid_signature(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Return whether `verify_signature` would accept the signature.

    A signature the node's verifier already checked and found valid is only looked up
    (`crypto.signature_cache`); any other is verified.
    """
    if _remembered and is_remembered(signature_digest(public_key, message, signature)):
        return True
    try:
        verify_signature(public_key, message, signature)
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True, slots=True)
class KeyPair:
    """An Ed25519 key pair, kept as its 32-byte seed and the derived public key."""

    seed: bytes
    public_key: bytes

    @property
    def address(self) -> str:
        """The address derived from the public key."""
        return address_of(self.public_key)

    def sign(self, message: bytes) -> bytes:
        """Return the 64-byte Ed25519 signature of `message`.

        libsodium's ``crypto_sign`` takes the 64-byte secret (seed + public key),
        so the key is not re-derived per message (that would cost a second scalar
        multiplication, half the time of a signature). Ed25519 is deterministic:
        the signature is the one ``SigningKey(seed).sign`` gives.
        """
        signed = nacl.bindings.crypto_sign(message, self.seed + self.public_key)
        return signed[:SIGNATURE_LENGTH]

    def __repr__(self) -> str:
        return f"KeyPair(address={self.address!r})"


def keypair_from_seed(seed: bytes) -> KeyPair:
    """Derive a key pair from a 32-byte seed (deterministic: same seed, same keys)."""
    if len(seed) != SEED_LENGTH:
        raise ValueError(f"seed must be {SEED_LENGTH} bytes, got {len(seed)}")
    signing_key = nacl.signing.SigningKey(seed)
    return KeyPair(seed=seed, public_key=bytes(signing_key.verify_key))


def generate_keypair() -> KeyPair:
    """Generate a fresh key pair from the operating system's randomness."""
    signing_key = nacl.signing.SigningKey.generate()
    return KeyPair(seed=bytes(signing_key), public_key=bytes(signing_key.verify_key))


def keypair_from_name(name: str, namespace: str = "gridledger-demo") -> KeyPair:
    """Derive a reproducible key pair from a name, for demos, tests and simulations only.

    The seed is SHA-256(namespace + "/" + name): anyone who knows the name has
    the key, so never use it for a real community.
    """
    return keypair_from_seed(sha256(f"{namespace}/{name}".encode()))
