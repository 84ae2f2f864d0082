"""Stateless checks of many transactions at once, spread over worker threads or processes.

This module runs the pools; the checks themselves, and the functions the worker processes
run, are in `gridledger.node.stateless_checks`.

Signature verification is the costliest stateless check (about 120 µs per
Ed25519 verification on the 2-core development machine). libsodium releases
Python's GIL while it verifies, so a thread pool can use every core; but the
rest of each check (decoding, re-encoding the signed bytes) holds the GIL, and
in a busy node every thread that wants the GIL back waits behind the block
cutter, which holds it while it executes a block. `benchmarks/verify_bench.py`
measures threads against processes on this machine, alone and inside a loaded
node (see benchmarks/README.md): alone they are about even, inside the node
processes win clearly. So:

- batches of fewer than `PROCESS_BATCH` transactions (single submissions,
  tests, simulations) are checked in a thread pool, as before;
- in a node that serves the API (`SoloService` calls `enable_processes`), larger
  batches go to a pool of worker processes, started in the background the first
  time such a batch arrives (threads serve until it is ready). A
  worker runs every check and answers only ok or not; the node then decodes
  the accepted transactions itself, and runs the checks again for a refused
  one to get its exact error. If the process pool fails, threads take over, the
  failure is logged with its exception, and a new pool is started by the first
  large batch `RESTART_DELAY_S` seconds later (a pool that keeps failing is
  restarted at most that often). Workers exit by themselves when the node
  process ends, however it ends.

The second costliest check is that the sender's key is a canonical point of
prime order (`validate_public_key`, about 100 µs: a scalar multiplication by
the group order). Its answer depends on the 32 key bytes alone, and a
community has few senders who each send many transactions, so each checker
remembers the keys that passed (`KeyCache`) and runs the same checks, in the
same order and with the same errors as `validate_transaction`, without
repeating that one for a key it has already accepted. Every signature is
still verified.

Some contracts check a signature of their own inside a transaction: a meter's
signature over its reading (`metering.record_reading`), about a third of a busy
community's transactions. `embedded_signatures` knows where it is; the checkers verify
it with the envelope's, and the digests of the valid ones go into
`crypto.signature_cache` (from worker processes, only the 32-byte digests come back),
where the contract's own `is_valid_signature` finds them: the block executes without
verifying them again on its single thread. Only valid signatures are remembered; a
forged one is verified, and refused, by the contract as before.

A sealed day-ahead order (`market.place_sealed_day_ahead_order`) carries two range
proofs, about 2.5 ms each to verify (coincurve holds the GIL, so only worker processes
run them in parallel). The checkers verify each for the range it claims, under the
context the contract will bind it to (`market_sealed.sealed_range_proofs`), and the
digests of the valid ones go into `crypto.range_proof_cache`, where the contract looks
them up; it still compares the claimed range with the one it requires, and verifies
anything it does not find. `node.verify` gets the same for a long chain, whose blocks
go to the worker processes.

A second pool of worker processes, started and stopped with the first, expands a
block's state entries for the state hash (`Verifier.lane_sums`, the node's
`ledger.state.LaneSummer`): SHAKE-128 holds the GIL, and a market order adds and
removes about five entries, ~20 µs of the main thread's time per order; the workers
return only the two lane sums. It is a pool of its own because a process pool runs
its tasks first in, first out: behind a client's batch of 3,000 signatures (~80 ms per
worker) the block being committed waited for its sums, and under a load of 16,000
transfers a second that wait was a third of the block cutter's time. In their own
processes the sums start at once and share the cores with the checks. Entries are split between the
workers by their hash, so an entry always goes to the same worker, which remembers the
expansions of the entries it added: an entry a block adds is usually removed by a later
block (a nonce, a balance), and is then not expanded again.

`submit_check` and `submit_lane_sums` start the same work and return at once
(`PendingCheck`, `PendingSums`): `node.verify` replays a long chain while the workers
check blocks ahead of it and sum the lanes of blocks behind it.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor

from gridledger.ledger import decode_checked_transaction
from gridledger.ledger.state import LaneVector, lane_sums_remembered
from gridledger.node.stateless_checks import (
    KeyCache,
    Outcome,
    WorkerAnswer,
    accepted_in_worker,
    add_lane_parts,
    check_chunk,
    exit_with_parent,
    lane_sums_in_worker,
    partition,
    remember_digests,
    worker_ready,
)

log = logging.getLogger("gridledger.verifier")

CHUNK = 64
"""Transactions per thread-pool task."""

PROCESS_BATCH = 32
"""Batches of at least this many transactions are checked in worker processes."""

PROCESS_CHUNK = 64
"""Fewest transactions per worker-process task: a smaller batch is one task.

Each task costs the node's process about 0.15 ms of pickling, pipe traffic and
waking threads, whatever its size; the ~35-transaction batches of a client that
sends every 25 ms are checked in ~2 ms by one worker, so splitting them only
doubles that cost.
"""


RESTART_DELAY_S = 5.0
"""Seconds after a failure of the worker processes before a new pool may be started."""


class PendingCheck:
    """The stateless checks of a batch, running in the worker processes
    (`Verifier.submit_check`); `outcomes` waits for them."""

    def __init__(
        self, verifier: Verifier, raws: Sequence[bytes], parts: list[Future[WorkerAnswer]]
    ) -> None:
        self.verifier = verifier
        self.raws = raws
        self.parts = parts

    def outcomes(self) -> list[Outcome]:
        """The outcome of each transaction, in order (as `Verifier.check` gives it)."""
        verifier = self.verifier
        try:
            answers = [part.result() for part in self.parts]
        except Exception as error:  # a broken pool: threads check this batch
            verifier._give_up_processes("checking a batch", "threads check batches", error)
            return verifier._check_in_threads(self.raws)
        return verifier._outcomes_from(self.raws, answers)


class PendingSums:
    """A block's lane sums, computed in the worker processes (`Verifier.submit_lane_sums`);
    `sums` waits for them."""

    def __init__(
        self,
        verifier: Verifier,
        added: list[bytes],
        removed: list[bytes],
        parts: list[Future[bytes]],
    ) -> None:
        self.verifier = verifier
        self.added = added
        self.removed = removed
        self.parts = parts

    def done(self) -> bool:
        return all(part.done() for part in self.parts)

    def sums(self) -> tuple[LaneVector, LaneVector]:
        """(`lane_sum(added)`, `lane_sum(removed)`)."""
        try:
            return add_lane_parts([part.result() for part in self.parts])
        except Exception as error:  # a broken pool: expand here
            self.verifier._give_up_processes(
                "summing lanes", "the state expands entries itself", error
            )
            return lane_sums_remembered(self.added, self.removed)


class Verifier:
    """Runs the stateless checks of `validate_transaction` over batches, in parallel."""

    def __init__(self, chain_id: str, workers: int | None = None) -> None:
        self.chain_id = chain_id
        self.workers = workers or min(4, os.cpu_count() or 1)
        self.known_keys = KeyCache()
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="verify")
        self.use_processes = False
        """Whether large batches may go to worker processes (`enable_processes`)."""
        self._processes: Executor | None = None
        self._hashers: list[Executor] | None = None
        """The processes that compute lane sums (`lane_sums`), one pool of one process
        each, so that an entry always goes to the same process (`partition`); started
        and stopped with `_processes`, as one unit."""
        self._starting = False
        """A pool is being started (or runs): no second one is started meanwhile."""
        self._closed = False
        self._lock = threading.Lock()
        self.restart_delay_s = RESTART_DELAY_S
        self._restart_after = 0.0
        """`time.monotonic()` before which no new pool is started (set by a failure)."""
        self.failures = 0
        """How many times the worker processes failed or could not start."""

    def check(self, raws: Sequence[bytes]) -> list[Outcome]:
        """The outcome of the stateless checks of each raw transaction, in order."""
        if self.use_processes and len(raws) >= PROCESS_BATCH and self.workers > 1:
            processes = self._processes
            if processes is None:
                self._start_processes()
            else:
                try:
                    return self._check_in_processes(processes, raws)
                except Exception as error:  # a broken pool: threads take over for a while
                    self._give_up_processes("checking a batch", "threads check batches", error)
        return self._check_in_threads(raws)

    def _check_in_threads(self, raws: Sequence[bytes]) -> list[Outcome]:
        if len(raws) <= CHUNK or self.workers == 1:
            return check_chunk(raws, self.chain_id, self.known_keys)
        chunks = [raws[i : i + CHUNK] for i in range(0, len(raws), CHUNK)]
        results = self._pool.map(
            check_chunk,
            chunks,
            [self.chain_id] * len(chunks),
            [self.known_keys] * len(chunks),
        )
        return [outcome for chunk in results for outcome in chunk]

    def _check_in_processes(self, processes: Executor, raws: Sequence[bytes]) -> list[Outcome]:
        size = max(PROCESS_CHUNK, -(-len(raws) // self.workers))
        chunks = [list(raws[i : i + size]) for i in range(0, len(raws), size)]
        parts = list(processes.map(accepted_in_worker, chunks, [self.chain_id] * len(chunks)))
        return self._outcomes_from(raws, parts)

    def submit_check(self, raws: Sequence[bytes]) -> PendingCheck | list[Outcome]:
        """Start the stateless checks of `raws` and return at once: a `PendingCheck` when
        they run in the worker processes (for a replay that checks blocks ahead while it
        executes: `node.verify`), else the outcomes, checked here (as `check`)."""
        processes = self._processes
        if processes is None or not raws or self.workers <= 1:
            return self.check(raws)
        size = -(-len(raws) // self.workers)
        try:
            parts = [
                processes.submit(accepted_in_worker, list(raws[i : i + size]), self.chain_id)
                for i in range(0, len(raws), size)
            ]
        except Exception as error:  # a broken pool: threads take over for a while
            self._give_up_processes("checking a batch", "threads check batches", error)
            return self._check_in_threads(raws)
        return PendingCheck(self, raws, parts)

    def _outcomes_from(self, raws: Sequence[bytes], parts: list[WorkerAnswer]) -> list[Outcome]:
        """The outcomes of `raws` from the workers' answers (in order): an accepted
        transaction decoded here, a refused one checked again here for its exact error."""
        accepted = [ok for oks, _ in parts for ok in oks]
        remember_digests(
            [digest for _, (signatures, _) in parts for digest in signatures],
            [digest for _, (_, proofs) in parts for digest in proofs],
        )
        outcomes: list[Outcome] = []
        for raw, ok in zip(raws, accepted, strict=True):
            if ok:
                outcomes.append(decode_checked_transaction(raw))  # the worker ran every check
            else:
                outcomes.extend(check_chunk([raw], self.chain_id, self.known_keys))
        return outcomes

    def lane_sums(
        self, added: list[bytes], removed: list[bytes]
    ) -> tuple[LaneVector, LaneVector] | None:
        """(`lane_sum(added)`, `lane_sum(removed)`) computed by the worker processes.

        The node's `State` calls it (a `ledger.state.LaneSummer`) for the entries a
        block adds and removes: SHAKE-128 holds the GIL for ~4 µs per entry, about 5
        entries per market order, so a served node moves that work off its main thread;
        only the entries (~100 bytes each) and two 2 KiB sums per worker cross the
        pipes, in one task per worker. None while no worker processes run: the state
        then expands the entries itself.
        """
        pending = self.submit_lane_sums(added, removed)
        if pending is None:
            return None
        try:
            return add_lane_parts([part.result() for part in pending.parts])
        except Exception as error:  # a broken pool: the state expands locally for a while
            self._give_up_processes("summing lanes", "the state expands entries itself", error)
            return None

    def submit_lane_sums(self, added: list[bytes], removed: list[bytes]) -> PendingSums | None:
        """Start `lane_sums` in the worker processes and return at once (None while none
        run: the caller then sums the lanes itself)."""
        hashers = self._hashers
        if hashers is None:
            return None
        count = len(hashers)
        try:
            parts = [
                hasher.submit(lane_sums_in_worker, adds, removes)
                for hasher, adds, removes in zip(
                    hashers, partition(added, count), partition(removed, count), strict=True
                )
            ]
        except Exception as error:  # a broken pool: the caller expands locally
            self._give_up_processes("summing lanes", "the state expands entries itself", error)
            return None
        return PendingSums(self, added, removed, parts)

    def enable_processes(self) -> None:
        """Let large batches go to worker processes, started on first use.

        The node's API server turns this on. Worker processes are started with the
        ``spawn`` method, which imports the main module again in each worker: a script
        that enables them must keep its work under ``if __name__ == "__main__":``.
        """
        self.use_processes = True

    def start_processes_and_wait(self, timeout_s: float = 60.0) -> Executor:
        """Start the worker processes now and return their pool (for benchmarks and tests)."""
        self.use_processes = True
        self._start_processes()
        deadline = time.monotonic() + timeout_s
        while self._processes is None:
            if time.monotonic() > deadline:
                raise TimeoutError("the verify worker processes did not start")
            time.sleep(0.01)
        return self._processes

    def _start_processes(self) -> None:
        """Start a pool in the background, unless one runs or starts, or a failure is recent."""
        with self._lock:
            if self._starting or self._closed or time.monotonic() < self._restart_after:
                return
            self._starting = True
        threading.Thread(target=self._spawn, name="verify-spawn", daemon=True).start()

    def hasher_pool(self) -> list[Executor] | None:
        """The worker processes that compute lane sums, if they run (for tests)."""
        return self._hashers

    def _spawn(self) -> None:
        pools: list[ProcessPoolExecutor] = []
        try:
            # the checks' pool, then the lane sums': one pool of one process per worker
            for size in [self.workers] + [1] * self.workers:
                pools.append(
                    ProcessPoolExecutor(
                        size,
                        mp_context=multiprocessing.get_context("spawn"),
                        initializer=exit_with_parent,
                    )
                )
            ready = [pool.submit(worker_ready) for pool in pools for _ in range(self.workers)]
            for future in ready:
                future.result(timeout=60)
        except Exception as error:  # no processes here: threads go on serving
            for pool in pools:
                pool.shutdown(wait=False, cancel_futures=True)
            self._failed()
            log.warning(
                "verify worker processes could not start (%r); threads go on serving, "
                "a new start in %.0f s",
                error,
                self.restart_delay_s,
                exc_info=error,
            )
            return
        with self._lock:
            if self._closed:
                for pool in pools:
                    pool.shutdown(wait=False, cancel_futures=True)
                return
            self._processes, self._hashers = pools[0], list(pools[1:])
        if self.failures:
            log.warning("verify worker processes restarted after %d failure(s)", self.failures)

    def _failed(self) -> None:
        """Count a failure; a new pool may start `restart_delay_s` from now."""
        with self._lock:
            self.failures += 1
            self._restart_after = time.monotonic() + self.restart_delay_s
            self._starting = False

    def _give_up_processes(self, doing: str, instead: str, error: Exception) -> None:
        """Stop using the worker processes after `error`, and say why, once.

        Concurrent callers may all see the same broken pool: only the one that takes
        it out of service logs, with the exception (a bug in worker code shows here).
        A new pool is started by the first large batch `restart_delay_s` later.
        """
        if self._stop_processes():
            self._failed()
            log.warning(
                "verify worker processes failed %s (%r); %s until they restart, "
                "in %.0f s at the earliest",
                doing,
                error,
                instead,
                self.restart_delay_s,
                exc_info=error,
            )

    def _stop_processes(self) -> bool:
        """Shut the worker processes down; whether there were any to shut down."""
        with self._lock:
            processes, self._processes = self._processes, None
            hashers, self._hashers = self._hashers, None
        for hasher in hashers or []:
            hasher.shutdown(wait=False, cancel_futures=True)
        if processes is None:
            return False
        processes.shutdown(wait=False, cancel_futures=True)
        return True

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._stop_processes()
        self._pool.shutdown(wait=False, cancel_futures=True)
