"""SHA-256 hashing helpers.

Every hash in gridledger is SHA-256, 32 bytes. Hashes are shown to people as
lower-case hexadecimal.
"""

from __future__ import annotations

import hashlib

HASH_LENGTH = 32
"""Length of every hash, in bytes."""

ZERO_HASH = bytes(HASH_LENGTH)
"""The all-zero hash: the `previous_hash` of the genesis block."""


def sha256(data: bytes) -> bytes:
    """Return the 32-byte SHA-256 digest of `data`."""
    return hashlib.sha256(data).digest()
