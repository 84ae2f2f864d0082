"""A whole state's lane sum computed in worker processes is the one computed here.

`StateSummer` starts worker processes once `PARALLEL_MIN_ENTRIES` entries were added
(lowered here, so that a test state of a few entries uses them); workers that die
leave the parts they did not sum to this process, never a wrong or missing sum. The
node's start-up check (`load_checked_state`) goes through it: a changed stored value is
refused whether the workers or this process summed it.
"""

from __future__ import annotations

import os
import signal
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from gridledger.ledger import Block, Genesis, LatticeHash, State
from gridledger.ledger.state import lane_sum_of_items
from gridledger.node import MemoryStorage, Node, SQLiteStorage, StorageError, state_sums
from gridledger.node.compression import pack_raw
from gridledger.node.state_sums import StateSummer, load_checked_state, start_early
from gridledger.node.stored_forms import pack_key
from tests.node.harness import grow_chain, write_community

ITEMS = [("ns", f"key {n}", f"value {n}".encode()) for n in range(700)]


@pytest.fixture
def few_make_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers for any state of 10 entries or more, given 4 entries at a time."""
    monkeypatch.setattr(state_sums, "PARALLEL_MIN_ENTRIES", 10)
    monkeypatch.setattr(state_sums, "PART_ENTRIES", 4)


@pytest.mark.usefixtures("few_make_workers")
def test_workers_sum_a_large_state_to_the_lanes_summed_here() -> None:
    with StateSummer(workers=2) as summer:
        summer.add(ITEMS[:5])
        assert not summer.parallel  # not yet worth processes
        summer.add(ITEMS[5:400])
        assert summer.parallel
        summer.add(ITEMS[400:])
        lanes = summer.lanes()
    assert (lanes == lane_sum_of_items(ITEMS)).all()
    entries = {(ns, key): value for ns, key, value in ITEMS}
    assert LatticeHash(lanes).digest() == State.from_entries(entries).state_hash()


def test_a_small_state_is_summed_here_without_processes() -> None:
    with StateSummer() as summer:
        summer.add(ITEMS)
        assert not summer.parallel
        assert (summer.lanes() == lane_sum_of_items(ITEMS)).all()
    with StateSummer() as summer:
        assert (summer.lanes() == np.zeros(1024, dtype=np.uint16)).all()


@pytest.mark.usefixtures("few_make_workers")
# CPython 3.11's pool thread then fails the futures this process cancelled meanwhile too,
# and says so (InvalidStateError) in that thread: noise, the sum is checked below
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_workers_that_die_leave_their_parts_to_this_process() -> None:
    with StateSummer(workers=1) as summer:
        summer.add(ITEMS)
        assert summer.parallel
        pool = summer._pool
        assert pool is not None
        for process in list(pool._processes.values()):  # before it has started (~0.3 s)
            os.kill(process.pid, signal.SIGKILL)
        assert (summer.lanes() == lane_sum_of_items(ITEMS)).all()
        assert not summer.parallel  # given up: a broken pool is not used again


@pytest.mark.usefixtures("few_make_workers")
def test_a_process_that_may_not_have_children_sums_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("daemonic processes are not allowed to have children")

    monkeypatch.setattr(state_sums.ProcessPoolExecutor, "submit", refuse)
    with StateSummer() as summer:
        summer.add(ITEMS)
        assert not summer.parallel
        assert (summer.lanes() == lane_sum_of_items(ITEMS)).all()


def chain_with_state(directory: Path) -> Path:
    genesis: Genesis = write_community(directory)
    grow_chain(directory / "chain.sqlite", genesis, 4, 3)
    return directory / "chain.sqlite"


@pytest.mark.usefixtures("few_make_workers")
def test_the_start_up_check_with_workers_gives_the_stored_state_and_its_hash(
    tmp_path: Path,
) -> None:
    path = chain_with_state(tmp_path)
    storage = SQLiteStorage(path)
    try:
        stored = storage.load_state()
        assert len(stored) >= 10  # the workers are used
        state = load_checked_state(storage)
        assert dict(state.items()) == stored
        assert state.state_hash() == State.from_entries(stored).state_hash()
    finally:
        storage.close()


@pytest.mark.parametrize("workers", [True, False])
def test_a_changed_stored_value_is_refused_at_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: bool
) -> None:
    if workers:
        monkeypatch.setattr(state_sums, "PARALLEL_MIN_ENTRIES", 1)
    path = chain_with_state(tmp_path)
    storage = SQLiteStorage(path)
    try:
        (namespace, key), value = next(
            (k, v) for k, v in sorted(storage.load_state().items()) if k[0] == "tokens"
        )
        number = storage._state.namespaces[namespace]
    finally:
        storage.close()
    with sqlite3.connect(path) as db:
        changed = db.execute(
            "UPDATE state SET value = ? WHERE namespace = ? AND key = ?",
            (pack_raw(value[:-1] + bytes([value[-1] ^ 1])), number, pack_key(key)),
        )
        assert changed.rowcount == 1
    db.close()
    with pytest.raises(StorageError, match="stored state does not match block 4's state hash"):
        Node.open_path(path)


def test_the_start_up_check_starts_its_workers_early_only_for_a_large_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = chain_with_state(tmp_path)
    storage = SQLiteStorage(path)
    memory = MemoryStorage()
    try:
        entries = len(storage.load_state())
        memory.initialise(*genesis_of(storage), storage.load_state())
        for counted in (storage, memory):
            assert counted.state_entries(5) == 5
            assert counted.state_entries(10**6) == entries
            assert counted.state_entries(0) == 0
        for threshold, early in ((entries, True), (entries + 1, False)):
            monkeypatch.setattr(state_sums, "PARALLEL_MIN_ENTRIES", threshold)
            with start_early(storage) as summer:
                assert summer.parallel == early
                state = load_checked_state(storage, summer)
            assert dict(state.items()) == storage.load_state()
    finally:
        storage.close()


def genesis_of(storage: SQLiteStorage) -> tuple[Genesis, Block]:
    genesis = storage.genesis()
    block0 = storage.block(0)
    assert genesis is not None and block0 is not None
    return genesis, block0
