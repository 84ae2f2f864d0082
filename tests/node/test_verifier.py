"""The verifier's worker processes, and the shortcuts of a served node's hot path."""

from __future__ import annotations

import gc

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
    decode_checked_transaction,
    decode_transaction,
    encode,
    encode_transaction,
    key_address,
    make_transaction,
)
from gridledger.ledger.state import lane_sum
from gridledger.node import service
from gridledger.node.verifier import Verifier


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
    member = Member(address, keys.public_key, "bob", "consumer", "active", {}, [], 0, "")
    state = State()
    assert standing(state, address) is None
    state.apply_writes({(NAMESPACE, member_key(address)): encode(member)})
    assert standing(state, address) == ("active", "consumer")
    revoked = Member(address, keys.public_key, "bob", "consumer", "revoked", {}, [], 5, "x")
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
