"""Signatures already found valid: checked once, in parallel, then only looked up.

A contract that checks a signature inside a transaction (a meter's signature over its
reading, `contracts.metering`) runs in block order on one thread. The node checks the
same signature ahead of execution in its verifier threads or worker processes, where
the cores are, and remembers that it is valid here; the contract's own
`is_valid_signature` then finds it and does not verify it again. This is Bitcoin Core's
signature cache (``sigcache``, "CSignatureCache"): only signatures that passed are
remembered, keyed by a SHA-256 over the public key, the signature and the message,
so a hit can only ever answer what a verification of the same bytes answered.

The cache holds at most `LIMIT` entries (about 40 bytes each); the oldest go first.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from gridledger.crypto.hashing import sha256

LIMIT = 262_144
_remembered: dict[bytes, None] = {}
_lock = threading.Lock()


def signature_digest(public_key: bytes, message: bytes, signature: bytes) -> bytes:
    """The cache key of one (key, message, signature): SHA-256 with the lengths framed."""
    return sha256(
        len(public_key).to_bytes(2, "big")
        + public_key
        + len(signature).to_bytes(2, "big")
        + signature
        + message
    )


def is_remembered(digest: bytes) -> bool:
    return digest in _remembered


def remember_valid(digests: Iterable[bytes]) -> None:
    """Remember signatures found valid (their `signature_digest`); only valid ones, ever."""
    with _lock:
        for digest in digests:
            _remembered[digest] = None
        while len(_remembered) > LIMIT:
            del _remembered[next(iter(_remembered))]


def forget_all() -> None:
    """Empty the cache (tests)."""
    with _lock:
        _remembered.clear()
