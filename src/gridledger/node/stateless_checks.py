"""The stateless checks of transactions, and what the verifier's worker processes run.

`check_transaction` is `validate_transaction` with the sender key's prime-order check
remembered (`KeyCache`); `embedded_signatures` and `valid_range_proofs` find the checks a
contract call will make itself (a meter's signature over its reading, a sealed order's
range proofs), whose valid digests go into the node's caches. The functions named
``..._in_worker`` run in a worker process (`gridledger.node.verifier.Verifier` starts
them): they answer only what crosses the pipe cheaply (ok or not, digests, lane sums).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Sequence

import msgspec
import numpy as np

from gridledger.contracts.market_sealed import sealed_range_proofs
from gridledger.contracts.metering import reading_message
from gridledger.crypto import is_valid_signature, range_proof_cache
from gridledger.crypto.signature_cache import remember_valid, signature_digest
from gridledger.ledger import (
    LedgerError,
    SignedTransaction,
    TransactionError,
    WrongChain,
    check_authorization,
    decode_transaction,
    validate_transaction,
)
from gridledger.ledger.state import LATTICE_LANES, LaneVector, lane_sums_remembered

Outcome = SignedTransaction | TransactionError
SignatureCheck = tuple[bytes, bytes, bytes]
"""(public key, message, signature) of one Ed25519 check."""


class KeyCache:
    """Sender keys that `validate_public_key` accepted (a bounded set; cleared when full)."""

    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        self._keys: set[bytes] = set()

    def __contains__(self, key: bytes) -> bool:
        return key in self._keys

    def add(self, key: bytes) -> None:
        if len(self._keys) >= self.limit:
            self._keys.clear()
        self._keys.add(key)


def check_transaction(raw: bytes, chain_id: str, known_keys: KeyCache) -> SignedTransaction:
    """`validate_transaction`, skipping only the key check for a key already accepted."""
    signed = decode_transaction(raw)
    body = signed.transaction
    if body.sender not in known_keys:
        checked = validate_transaction(raw, chain_id)  # every check, the key's included
        known_keys.add(body.sender)
        return checked
    if body.chain_id != chain_id:
        raise WrongChain(expected=chain_id, got=body.chain_id)
    check_authorization(signed)
    return signed


def embedded_signatures(signed: SignedTransaction, chain_id: str) -> list[SignatureCheck]:
    """(key, message, signature) of each signature the transaction's contract call will
    check itself: today a meter's signature over its reading (`metering.record_reading`).

    Malformed arguments give none: the contract then refuses the call as it always did.
    """
    body = signed.transaction
    if (body.contract, body.method) != ("metering", "record_reading"):
        return []
    args = body.args
    try:
        key = bytes.fromhex(str(args["meter_key"]))
        signature = bytes.fromhex(str(args["signature"]))
        message = reading_message(
            chain_id, args["member"], args["period"], args["exported_wh"], args["imported_wh"]
        )
    except (KeyError, ValueError, TypeError, msgspec.EncodeError, LedgerError):
        return []
    return [(key, message, signature)]


def valid_embedded(signed: SignedTransaction, chain_id: str) -> list[bytes]:
    """The `signature_digest` of each embedded signature that is valid (verified here)."""
    return [
        signature_digest(key, message, signature)
        for key, message, signature in embedded_signatures(signed, chain_id)
        if is_valid_signature(key, message, signature)
    ]


def valid_range_proofs(signed: SignedTransaction) -> list[bytes]:
    """The `range_proof_digest` of each range proof in the transaction's contract call
    (a sealed order's two, `market_sealed.sealed_range_proofs`) that is valid for the range
    it claims (verified here)."""
    body = signed.transaction
    if body.contract != "market":
        return []
    found = (
        range_proof_cache.verified_digest(commitment, proof, context)
        for commitment, proof, context in sealed_range_proofs(body.sender, body.method, body.args)
    )
    return [digest for digest in found if digest is not None]


Digests = tuple[list[bytes], list[bytes]]
"""(`signature_digest`s, `range_proof_digest`s) of the valid checks found embedded."""

WorkerAnswer = tuple[list[bool], Digests]
"""What a worker process answers for a chunk (`accepted_in_worker`)."""


def check_and_digest(
    raws: Sequence[bytes], chain_id: str, known_keys: KeyCache
) -> tuple[list[Outcome], Digests]:
    outcomes: list[Outcome] = []
    signatures: list[bytes] = []
    proofs: list[bytes] = []
    for raw in raws:
        try:
            signed = check_transaction(raw, chain_id, known_keys)
        except TransactionError as error:
            outcomes.append(error)
            continue
        outcomes.append(signed)
        signatures.extend(valid_embedded(signed, chain_id))
        proofs.extend(valid_range_proofs(signed))
    return outcomes, (signatures, proofs)


def remember_digests(signatures: list[bytes], proofs: list[bytes]) -> None:
    if signatures:
        remember_valid(signatures)
    if proofs:
        range_proof_cache.remember_valid(proofs)


def check_chunk(raws: Sequence[bytes], chain_id: str, known_keys: KeyCache) -> list[Outcome]:
    """Check each transaction; embedded signatures and range proofs found valid are
    remembered here."""
    outcomes, (signatures, proofs) = check_and_digest(raws, chain_id, known_keys)
    remember_digests(signatures, proofs)
    return outcomes


WORKER_KEYS = KeyCache()
"""The key cache of a worker process."""


def accepted_in_worker(raws: Sequence[bytes], chain_id: str) -> WorkerAnswer:
    """In a worker process: whether each transaction passes every stateless check, and the
    digests of the valid signatures and range proofs its contract call will check (for the
    node's caches)."""
    outcomes, digests = check_and_digest(raws, chain_id, WORKER_KEYS)
    return [not isinstance(outcome, TransactionError) for outcome in outcomes], digests


def lane_sums_in_worker(added: list[bytes], removed: list[bytes]) -> bytes:
    """In a worker process: `lane_sum(added)` then `lane_sum(removed)`, 2,048 bytes each.

    Through the worker's expansion memo (`lane_sums_remembered`): an entry a block adds
    is usually removed by a later one (a nonce, a balance), and the same entry always
    comes to the same worker (`partition`), which then need not expand it again.
    """
    plus, minus = lane_sums_remembered(added, removed)
    return plus.astype("<u2").tobytes() + minus.astype("<u2").tobytes()


def partition(entries: list[bytes], parts: int) -> list[list[bytes]]:
    """`entries` split into `parts` lists, each entry by its hash: within one process the
    same entry always goes to the same part (a sum does not depend on the order)."""
    split: list[list[bytes]] = [[] for _ in range(parts)]
    for entry in entries:
        split[hash(entry) % parts].append(entry)
    return split


def add_lane_parts(parts: Sequence[bytes]) -> tuple[LaneVector, LaneVector]:
    plus = np.zeros(LATTICE_LANES, dtype=np.uint16)
    minus = np.zeros(LATTICE_LANES, dtype=np.uint16)
    for part in parts:  # uint16 arithmetic wraps: the sums stay modulo 2**16
        plus += np.frombuffer(part, dtype="<u2", count=LATTICE_LANES)
        minus += np.frombuffer(part, dtype="<u2", offset=2 * LATTICE_LANES)
    return plus, minus


def worker_ready() -> bool:
    return True


def exit_with_parent() -> None:
    """In a worker process: exit as soon as the node process is gone, however it ended.

    A node stopped by a signal may never shut its pool down (uvicorn re-raises SIGTERM
    once it has stopped serving), and an idle worker would otherwise wait forever.
    """
    parent = multiprocessing.parent_process()
    if parent is None:  # pragma: no cover - always set in a spawned worker
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
