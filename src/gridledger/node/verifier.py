"""Stateless checks of many transactions at once, spread over worker threads.

Signature verification is the costliest stateless check (about 100 µs per
Ed25519 verification here). libsodium releases Python's GIL while it works,
so a thread pool uses every core without the cost of sending transactions to
other processes; `benchmarks/verify_bench.py` measures threads against
processes on this machine (see benchmarks/README.md).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from gridledger.ledger import SignedTransaction, TransactionError, validate_transaction

Outcome = SignedTransaction | TransactionError

CHUNK = 64


def _check_chunk(raws: Sequence[bytes], chain_id: str) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for raw in raws:
        try:
            outcomes.append(validate_transaction(raw, chain_id))
        except TransactionError as error:
            outcomes.append(error)
    return outcomes


class Verifier:
    """Runs `validate_transaction` over batches in a thread pool."""

    def __init__(self, chain_id: str, workers: int | None = None) -> None:
        self.chain_id = chain_id
        self.workers = workers or min(4, os.cpu_count() or 1)
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="verify")

    def check(self, raws: Sequence[bytes]) -> list[Outcome]:
        """The outcome of the stateless checks of each raw transaction, in order."""
        if len(raws) <= CHUNK or self.workers == 1:
            return _check_chunk(raws, self.chain_id)
        chunks = [raws[i : i + CHUNK] for i in range(0, len(raws), CHUNK)]
        results = self._pool.map(_check_chunk, chunks, [self.chain_id] * len(chunks))
        return [outcome for chunk in results for outcome in chunk]

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
