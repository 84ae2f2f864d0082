"""The verifier's worker processes, and the shortcuts of a served node's hot path."""

from __future__ import annotations

import gc
import logging
import os
import time
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import pytest

from gridledger.contracts.membership import (
    NAMESPACE,
    Member,
    check_active_member,
    member_key,
    standing,
)
from gridledger.crypto import address_of, keypair_from_name
from gridledger.ledger import (
    NotAMember,
    State,
    TooDeeplyNested,
    TransactionError,
    decode_checked_transaction,
    decode_transaction,
    encode,
    encode_transaction,
    key_address,
    make_transaction,
)
from gridledger.ledger.state import lane_sum
from gridledger.node import service
from gridledger.node.stateless_checks import WorkerAnswer, partition
from gridledger.node.verifier import PROCESS_BATCH, PendingCheck, PendingSums, Verifier
from tests.community import CHAIN_ID, nested_raw


def test_worker_processes_sum_lanes_as_the_state_does() -> None:
    """`Verifier.lane_sums` is the state's `LaneSummer`: the same sums, computed elsewhere."""
    verifier = Verifier("chain", workers=2)
    added = [f"added {n}".encode() for n in range(101)]
    removed = [f"removed {n}".encode() for n in range(7)]
    try:
        assert verifier.lane_sums(added, removed) is None  # no worker processes yet
        verifier.start_processes_and_wait()
        sums = verifier.lane_sums(added, removed)
        only_added = verifier.lane_sums(added, [])
    finally:
        verifier.close()
    assert sums is not None and only_added is not None
    assert (sums[0] == lane_sum(added)).all() and (sums[1] == lane_sum(removed)).all()
    assert (only_added[1] == np.zeros_like(only_added[1])).all()


def broken_worker_processes(verifier: Verifier, pool_of: str = "checks") -> None:
    """Start the verifier's worker processes, then break one of their pools (the checks' or
    the lane sums'): one worker dies."""
    pool = verifier.start_processes_and_wait()
    if pool_of == "lanes":
        hashers = verifier.hasher_pool()
        assert hashers is not None
        pool = hashers[0]
    with pytest.raises(BrokenProcessPool):
        pool.submit(os._exit, 1).result(timeout=60)


def fallbacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "gridledger.verifier"]


def test_a_broken_pool_is_logged_once_and_threads_check_the_batch(
    caplog: pytest.LogCaptureFixture,
) -> None:
    keys = keypair_from_name("alice", "test")
    raws = [
        encode_transaction(make_transaction(keys, "chain", n, "tokens", "transfer", {"n": n}))
        for n in range(PROCESS_BATCH)
    ]
    verifier = Verifier("chain", workers=2)
    try:
        broken_worker_processes(verifier)
        with caplog.at_level(logging.WARNING, logger="gridledger.verifier"):
            outcomes = verifier.check(raws)
            again = verifier.check(raws)  # threads until the restart delay: nothing more to say
    finally:
        verifier.close()
    assert outcomes == again == [decode_transaction(raw) for raw in raws]
    [record] = fallbacks(caplog)
    assert record.levelno == logging.WARNING
    assert "failed checking a batch" in record.getMessage()
    assert record.exc_info is not None and isinstance(record.exc_info[1], BrokenProcessPool)


def test_a_broken_pool_while_summing_lanes_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    verifier = Verifier("chain", workers=2)
    try:
        broken_worker_processes(verifier, "lanes")
        with caplog.at_level(logging.WARNING, logger="gridledger.verifier"):
            assert verifier.lane_sums([b"added"], []) is None
            assert verifier.lane_sums([b"added"], []) is None
    finally:
        verifier.close()
    [record] = fallbacks(caplog)
    assert "failed summing lanes" in record.getMessage()
    assert "the state expands entries itself" in record.getMessage()
    assert record.exc_info is not None and isinstance(record.exc_info[1], BrokenProcessPool)


def test_the_pool_restarts_after_a_failure_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A failure takes the pool out of service; a new one starts after the delay (before,
    the verifier stayed "starting" for good and never started another)."""
    verifier = Verifier("chain", workers=2)
    verifier.restart_delay_s = 0.0
    added = [f"added {n}".encode() for n in range(9)]
    try:
        broken = verifier.start_processes_and_wait()
        hashers = verifier.hasher_pool()
        assert hashers is not None
        with pytest.raises(BrokenProcessPool):
            hashers[0].submit(os._exit, 1).result(timeout=60)
        with caplog.at_level(logging.WARNING, logger="gridledger.verifier"):
            assert verifier.lane_sums(added, []) is None  # the failure, logged
            restarted = verifier.start_processes_and_wait()
            sums = verifier.lane_sums(added, [])
    finally:
        verifier.close()
    assert restarted is not broken and verifier.failures == 1
    assert sums is not None and (sums[0] == lane_sum(added)).all()
    failed, back = fallbacks(caplog)
    assert "failed summing lanes" in failed.getMessage()
    assert "restarted after 1 failure(s)" in back.getMessage()


def test_no_new_pool_within_the_delay_after_a_failure() -> None:
    verifier = Verifier("chain", workers=2)
    verifier.restart_delay_s = 3_600.0
    try:
        broken_worker_processes(verifier, "lanes")
        assert verifier.lane_sums([b"added"], []) is None
        with pytest.raises(TimeoutError):
            verifier.start_processes_and_wait(timeout_s=1.0)
    finally:
        verifier.close()
    assert verifier.failures == 1


def test_a_batch_of_deeply_nested_transactions_leaves_the_pool_working(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """40 transactions nested 1,500 and 950 deep used to raise RecursionError in the workers."""
    raws = [nested_raw(f"fresh{n}", 1_500) for n in range(20)]
    raws += [nested_raw(f"fresh{n}", 950) for n in range(20)]
    verifier = Verifier(CHAIN_ID, workers=2)
    try:
        pool = verifier.start_processes_and_wait()
        with caplog.at_level(logging.WARNING, logger="gridledger.verifier"):
            outcomes = verifier.check(raws)
            sums = verifier.lane_sums([b"added"], [])
        assert verifier.start_processes_and_wait() is pool  # still the same pool, in service
    finally:
        verifier.close()
    assert [type(outcome) for outcome in outcomes] == [TooDeeplyNested] * 40
    assert sums is not None
    assert fallbacks(caplog) == []


def test_a_checked_transaction_decodes_to_what_decode_transaction_gives() -> None:
    keys = keypair_from_name("alice", "test")
    raw = encode_transaction(
        make_transaction(keys, "chain", 3, "market", "place_order", {"side": "buy", "n": [1]})
    )
    assert decode_checked_transaction(raw) == decode_transaction(raw)


def test_key_address_remembers_address_of() -> None:
    keys = [keypair_from_name(f"k{n}", "test").public_key for n in range(3)]
    assert [key_address(k) for k in keys * 2] == [address_of(k) for k in keys * 2]


def test_standing_follows_the_stored_member_record() -> None:
    """The memo is keyed by the record's bytes: a changed record is decoded anew."""
    keys = keypair_from_name("bob", "test")
    address = address_of(keys.public_key)
    member = Member(address, keys.public_key, "bob", "consumer", "active", {}, {}, [], 0, "")
    state = State()
    assert standing(state, address) is None
    state.apply_writes({(NAMESPACE, member_key(address)): encode(member)})
    assert standing(state, address) == ("active", "consumer")
    revoked = Member(address, keys.public_key, "bob", "consumer", "revoked", {}, {}, [], 5, "x")
    state.apply_writes({(NAMESPACE, member_key(address)): encode(revoked)})
    assert standing(state, address) == ("revoked", "consumer")
    with pytest.raises(NotAMember):
        check_active_member(state, address)


def test_settle_heap_freezes_and_raises_the_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    called: list[object] = []
    monkeypatch.setattr(gc, "collect", lambda *a: called.append("collect") or 0)
    monkeypatch.setattr(gc, "freeze", lambda: called.append("freeze"))
    monkeypatch.setattr(gc, "set_threshold", lambda *t: called.append(t))
    service.settle_heap()
    assert called == ["collect", "freeze", service.GC_THRESHOLDS]


# -- submitted ahead: `submit_check`, `submit_lane_sums` (what `node.verify` uses) -------------


def test_partition_sends_the_same_entry_to_the_same_part() -> None:
    entries = [f"entry {n}".encode() for n in range(200)]
    parts = partition(entries, 3)
    again = partition(list(reversed(entries)), 3)
    assert sorted(e for part in parts for e in part) == sorted(entries)  # each once
    assert [set(part) for part in parts] == [set(part) for part in again]
    assert all(parts)  # 200 entries: each part gets some


def test_checks_and_sums_submitted_ahead_equal_those_waited_for() -> None:
    keys = keypair_from_name("alice", "test")
    raws = [
        encode_transaction(make_transaction(keys, "chain", n, "tokens", "transfer", {"n": n}))
        for n in range(100)
    ]
    forged = raws[7][:-1] + bytes([raws[7][-1] ^ 1])  # the signature's last byte
    batch = [*raws[:7], forged, *raws[8:]]
    added = [f"added {n}".encode() for n in range(100)]
    verifier = Verifier("chain", workers=2)
    try:
        assert verifier.submit_lane_sums(added, []) is None  # no worker processes yet
        verifier.start_processes_and_wait()
        pending = verifier.submit_check(batch)
        sums = verifier.submit_lane_sums(added, added[:40])
        assert isinstance(pending, PendingCheck) and sums is not None
        outcomes = pending.outcomes()
        plus, minus = sums.sums()
        assert sums.done()
    finally:
        verifier.close()
    assert [type(o) for o in outcomes] == [type(o) for o in Verifier("chain", 1).check(batch)]
    assert isinstance(outcomes[7], TransactionError)
    assert outcomes[8] == decode_checked_transaction(raws[8])
    assert (plus == lane_sum(added)).all() and (minus == lane_sum(added[:40])).all()


def test_a_check_submitted_to_a_pool_that_broke_is_done_in_threads(
    caplog: pytest.LogCaptureFixture,
) -> None:
    keys = keypair_from_name("alice", "test")
    raws = [
        encode_transaction(make_transaction(keys, "chain", n, "tokens", "transfer", {"n": n}))
        for n in range(3)
    ]
    broken: Future[WorkerAnswer] = Future()
    broken.set_exception(BrokenProcessPool("a worker died"))
    verifier = Verifier("chain", workers=2)
    try:
        verifier.start_processes_and_wait()
        with caplog.at_level(logging.WARNING, logger="gridledger.verifier"):
            outcomes = PendingCheck(verifier, raws, [broken]).outcomes()
        assert verifier.submit_lane_sums([b"added"], []) is None  # the pool is out of service
    finally:
        verifier.close()
    assert outcomes == [decode_checked_transaction(raw) for raw in raws]
    [record] = fallbacks(caplog)
    assert "failed checking a batch" in record.getMessage()


def test_sums_submitted_to_a_pool_that_broke_are_computed_here(
    caplog: pytest.LogCaptureFixture,
) -> None:
    added, removed = [b"added"], [b"removed"]
    broken: Future[bytes] = Future()
    broken.set_exception(BrokenProcessPool("a worker died"))
    verifier = Verifier("chain", workers=2)
    try:
        verifier.start_processes_and_wait()
        with caplog.at_level(logging.WARNING, logger="gridledger.verifier"):
            plus, minus = PendingSums(verifier, added, removed, [broken]).sums()
        assert verifier.submit_lane_sums(added, []) is None  # the pool is out of service
    finally:
        verifier.close()
    assert (plus == lane_sum(added)).all() and (minus == lane_sum(removed)).all()
    [record] = fallbacks(caplog)
    assert "failed summing lanes" in record.getMessage()


def test_a_check_submitted_to_a_broken_pool_is_done_in_threads(
    caplog: pytest.LogCaptureFixture,
) -> None:
    keys = keypair_from_name("alice", "test")
    raws = [
        encode_transaction(make_transaction(keys, "chain", n, "tokens", "transfer", {"n": n}))
        for n in range(3)
    ]
    verifier = Verifier("chain", workers=2)
    try:
        broken_worker_processes(verifier)
        with caplog.at_level(logging.WARNING, logger="gridledger.verifier"):
            checked = verifier.submit_check(raws)
            if isinstance(checked, PendingCheck):  # the pool may notice at the result
                checked = checked.outcomes()
            assert verifier.submit_lane_sums([b"added"], []) is None  # out of service now
    finally:
        verifier.close()
    assert checked == [decode_checked_transaction(raw) for raw in raws]
    [record] = fallbacks(caplog)
    assert "failed checking a batch" in record.getMessage()


def test_lane_sums_do_not_wait_behind_a_batch_of_checks() -> None:
    """The lane sums have worker processes of their own: a block's state hash is not
    queued behind the signature checks of a client's batch (a process pool runs its tasks
    first in, first out)."""
    verifier = Verifier("chain", workers=2)
    added = [f"added {n}".encode() for n in range(50)]
    try:
        checks = verifier.start_processes_and_wait()
        hashers = verifier.hasher_pool()
        assert hashers is not None and checks not in hashers
        busy = [checks.submit(time.sleep, 5) for _ in range(verifier.workers)]
        sums = verifier.lane_sums(added, [])
        assert not any(future.done() for future in busy), "the sums came before the checks"
        assert sums is not None and (sums[0] == lane_sum(added)).all()
        for future in busy:
            future.result(timeout=60)
    finally:
        verifier.close()


def test_a_broken_checks_pool_takes_the_lane_sums_pool_out_with_it() -> None:
    verifier = Verifier("chain", workers=2)
    added = [f"added {n}".encode() for n in range(5)]
    try:
        broken_worker_processes(verifier)
        verifier.check([b"not a transaction"] * PROCESS_BATCH)  # finds the pool broken
        assert verifier.hasher_pool() is None
        assert verifier.lane_sums(added, []) is None  # the state expands entries itself
    finally:
        verifier.close()


def test_each_part_of_the_lane_sums_goes_to_a_process_of_its_own() -> None:
    """An entry always goes to the same process (`partition`), so the process that
    remembered its expansion when a block added it is the one that subtracts it."""
    verifier = Verifier("chain", workers=2)
    try:
        verifier.start_processes_and_wait()
        hashers = verifier.hasher_pool()
        assert hashers is not None and len(hashers) == verifier.workers
        first = [hasher.submit(os.getpid).result(timeout=60) for hasher in hashers]
        again = [
            hasher.submit(os.getpid).result(timeout=60) for _ in range(3) for hasher in hashers
        ]
    finally:
        verifier.close()
    assert len(set(first)) == len(hashers) and again == first * 3
