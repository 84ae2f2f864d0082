"""Range proofs already found valid: checked once, in parallel, then only looked up.

A sealed day-ahead order (`contracts.market_sealed`) carries two range proofs, and
verifying them is almost all of its cost (about 2.5-3 ms each on the 2-core
development machine, holding the GIL: coincurve does not release it). The contract
runs in block order on one thread. As for a meter's signature
(`crypto.signature_cache`), the node verifies each proof ahead of execution in its
verifier worker processes and remembers here that it passed; the contract then
finds it and does not verify it again. Only proofs that passed are remembered,
keyed by a SHA-256 over everything the check covers: the commitment, the encoded
proof, the range [low, high] it was checked for, and the context bound into its
challenge (owner, side, period and field). A hit therefore answers exactly what
`verify_range` over the same inputs answered; a miss verifies in full, so a block's
result never depends on what is cached. The contract still checks, itself, that the
range is the one it requires (that depends on state).

The cache holds at most `LIMIT` entries (about 40 bytes each); the oldest go first.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from gridledger.crypto.hashing import sha256
from gridledger.crypto.privacy.errors import PrivacyError, RangeMismatch
from gridledger.crypto.privacy.range_proof import claimed_range, verify_range

LIMIT = 65_536
_DOMAIN = b"gridledger/range-proof-cache/v1"
_remembered: dict[bytes, None] = {}
_lock = threading.Lock()


def range_proof_digest(
    commitment: bytes, proof: bytes, low: int, high: int, context: bytes
) -> bytes:
    """The cache key of one range check: SHA-256 over the domain and the framed inputs."""
    parts = [_DOMAIN, commitment, proof, context]
    framed = b"".join(len(part).to_bytes(4, "big") + part for part in parts)
    return sha256(framed + low.to_bytes(8, "big") + high.to_bytes(8, "big"))


def is_remembered(digest: bytes) -> bool:
    return digest in _remembered


def remember_valid(digests: Iterable[bytes]) -> None:
    """Remember range checks found valid (their `range_proof_digest`); only valid ones, ever."""
    with _lock:
        for digest in digests:
            _remembered[digest] = None
        while len(_remembered) > LIMIT:
            del _remembered[next(iter(_remembered))]


def verified_digest(commitment: bytes, proof: bytes, context: bytes) -> bytes | None:
    """Verify `proof` for the range it claims (its header); its digest if valid, else None.

    What the node's verifier runs ahead of execution: the contract will require a
    range that depends on state, so the proof is checked for the one it states, and
    the contract compares the two itself (`verify_range_remembered`).
    """
    claimed = claimed_range(proof)
    if claimed is None:
        return None
    try:
        verify_range(commitment, proof, *claimed, context=context)
    except PrivacyError:
        return None
    return range_proof_digest(commitment, proof, *claimed, context)


def verify_range_remembered(
    commitment: bytes, proof: bytes, low: int, high: int, *, context: bytes
) -> None:
    """`verify_range(commitment, proof, low, high, context=context)`, looked up if remembered.

    Raises exactly what `verify_range` raises. A remembered digest means the same
    commitment, proof and context passed for the range the proof claims, so both
    decoded; `verify_range` would then raise `RangeMismatch` for another required
    range, and pass for that one. Anything not remembered is verified in full.
    """
    claimed = claimed_range(proof)
    if (
        _remembered
        and claimed is not None
        and is_remembered(range_proof_digest(commitment, proof, *claimed, context))
    ):
        if claimed != (low, high):
            raise RangeMismatch(claimed[0], claimed[1], low, high)
        return
    verify_range(commitment, proof, low, high, context=context)


def forget_all() -> None:
    """Empty the cache (tests)."""
    with _lock:
        _remembered.clear()
