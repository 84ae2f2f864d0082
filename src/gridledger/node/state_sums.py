"""The hash of a whole state, summed in worker processes while the caller goes on.

Two moments need the hash of a whole state from scratch: a new peer restoring a snapshot
checks the snapshot's entries against the attested state hash (`node.snapshot`), and a
node that opens its chain checks the stored state against its head's state hash
(`Node.open`). Each expands every entry with SHAKE-128 (`ledger.state`), which holds
Python's GIL: ~1.3 s for the 284,000 entries of the 1,000-household day, on the main
thread, while that thread also has rows to pack, insert, read or unpack.

`StateSummer` hands the entries, a part at a time, to worker processes (``spawn``, like
the verifier's; they exit with the process that started them), which return the lane sum
of each part; the caller adds parts as it reads or writes them and asks for the total
when it has given them all. Sums modulo 2**16 do not depend on the grouping, so the total
is the very lane vector `State.from_entries` computes. If the workers cannot start or a
part fails, the parts not summed are summed here: the check is never skipped, only moved.
A state of fewer than `PARALLEL_MIN_ENTRIES` entries is summed here from the start
(starting processes costs more than it saves).

As with the verifier's workers, ``spawn`` imports the main module again in each worker: a
script that opens a large chain or restores a snapshot keeps its work under
``if __name__ == "__main__":``. One that does not gets no help from the workers (they fail
to start or die), and its state is summed here, after a delay and a warning.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor

import numpy as np

from gridledger.ledger import State, StateKey
from gridledger.ledger.state import LATTICE_LANES, LaneVector, lane_sum_of_items
from gridledger.node.stateless_checks import exit_with_parent
from gridledger.node.storage_interface import Storage

log = logging.getLogger("gridledger.state_sums")

PARALLEL_MIN_ENTRIES = 50_000
"""Fewest entries worth worker processes (starting one costs ~0.4 s of CPU, a second
of wall time on a loaded 2-core machine)."""
PART_ENTRIES = 16_384
"""Entries per task: ~2 MiB through the pipe, ~75 ms of a worker's time."""

Item = tuple[str, str, bytes]
"""(namespace, key, value) of one state entry."""


def default_workers() -> int:
    """One core is left to the caller, who reads or writes rows meanwhile (at least one)."""
    return max(1, min(3, (os.cpu_count() or 2) - 1))


class StateSummer:
    """The lane sum of the entries `add`ed, computed in worker processes when there are many.

    Use as a context manager (the workers are stopped on leaving), or call `close`.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        self._parts: list[tuple[Sequence[Item], Future[LaneVector] | None]] = []
        self._pool: ProcessPoolExecutor | None = None
        self._added = 0
        self._started = False
        """Whether worker processes were started (once `PARALLEL_MIN_ENTRIES` were added)."""

    def start(self) -> None:
        """Start the worker processes now (they start by themselves once
        `PARALLEL_MIN_ENTRIES` entries were added): a caller that knows the state is large
        lets them start while it does other work first. Does nothing the second time."""
        if self._started:
            return
        self._started = True
        try:
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=exit_with_parent,
            )
        except Exception as error:  # no processes here (no semaphores...): sum in this one
            log.warning("state-hash workers could not start (%r); summing here", error)
            return
        self._parts = [(part, self._submit(part)) for part, _ in self._parts]

    def _submit(self, part: Sequence[Item]) -> Future[LaneVector] | None:
        if self._pool is None:
            return None
        try:
            return self._pool.submit(lane_sum_of_items, part)
        except Exception as error:  # a broken pool, or no children allowed: summed here
            self._give_up(error)
            return None

    @property
    def parallel(self) -> bool:
        """Whether worker processes sum the parts (else they are summed in `lanes`)."""
        return self._pool is not None

    def add(self, items: Sequence[Item]) -> None:
        """Count these entries in (each entry once; the order does not matter)."""
        for start in range(0, len(items), PART_ENTRIES):
            part = items[start : start + PART_ENTRIES]
            self._parts.append((part, self._submit(part)))
        self._added += len(items)
        if not self._started and self._added >= PARALLEL_MIN_ENTRIES:
            self.start()

    def lanes(self) -> LaneVector:
        """The lane sum of every entry added.

        This thread sums parts too: from the last one back, each part no worker has taken
        yet is cancelled there and summed here, until it meets the parts the workers are
        summing, which it then waits for.
        """
        total = np.zeros(LATTICE_LANES, dtype=np.uint16)
        for part, future in reversed(self._parts):
            summed = None
            if future is not None and not future.cancel():
                try:
                    summed = future.result()
                except Exception as error:  # a worker died: this part is summed here
                    self._give_up(error)
            if summed is None or summed.shape != (LATTICE_LANES,):
                summed = lane_sum_of_items(part)
            total += summed.astype(np.uint16, copy=False)  # wraps modulo 2**16
        return total

    def _give_up(self, error: Exception) -> None:
        if self._pool is not None:
            log.warning("state-hash workers failed (%r); summing the rest here", error)
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        """Stop the workers (safe to call twice)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> StateSummer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def start_early(storage: Storage) -> StateSummer:
    """A summer for `storage`'s state, its workers already starting if that state is large
    (counting up to `PARALLEL_MIN_ENTRIES` entries costs a few milliseconds)."""
    summer = StateSummer()
    if storage.state_entries(PARALLEL_MIN_ENTRIES) >= PARALLEL_MIN_ENTRIES:
        summer.start()
    return summer


def load_checked_state(storage: Storage, summer: StateSummer | None = None) -> State:
    """The state `storage` holds, with its hash computed from every stored entry.

    The entries are unpacked a part at a time while worker processes (for a large state)
    sum the parts already unpacked; the caller compares the hash with its head's.
    `summer`: one made by `start_early` (this function closes it).
    """
    entries: dict[StateKey, bytes] = {}
    with summer or StateSummer() as summing:
        for part in storage.state_items(PART_ENTRIES):
            summing.add(part)
            entries.update(((ns, key), value) for ns, key, value in part)
        lanes = summing.lanes()
    return State.from_entries(entries, lanes)
