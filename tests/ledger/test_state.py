"""The world state and its lattice hash: a function of the entries alone, whatever the
order or the path by which they were written; and the overlays that stage writes."""

from __future__ import annotations

import hashlib
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.crypto import sha256
from gridledger.ledger import LatticeHash, Overlay, State, StateKey, encode, state_hash_of
from gridledger.ledger.state import (
    LATTICE_BYTES,
    LATTICE_LANES,
    OFFLOAD_MIN,
    SUM_CHUNK,
    entry_bytes,
    lane_sum,
    lane_sums_remembered,
)

namespaces = st.sampled_from(["ledger", "membership", "tokens", "market"])
state_keys = st.tuples(namespaces, st.text(max_size=12))
values = st.binary(max_size=24)
entry_maps = st.dictionaries(state_keys, values, max_size=25)


def empty_hash() -> bytes:
    return sha256(bytes(LATTICE_BYTES))


def test_the_empty_state_hashes_to_the_hash_of_zero_lanes() -> None:
    assert State().state_hash() == empty_hash()
    assert state_hash_of({}) == empty_hash()
    assert LatticeHash().digest() == empty_hash()
    assert LATTICE_LANES == 1024


@settings(max_examples=60, deadline=None)
@given(entry_maps, st.randoms(use_true_random=False))
def test_hash_is_independent_of_insertion_order(
    entries: dict[StateKey, bytes], rnd: random.Random
) -> None:
    items = list(entries.items())
    rnd.shuffle(items)
    one_by_one = State()
    for state_key, value in items:
        one_by_one.apply_writes({state_key: value})
    reversed_batch = State()
    reversed_batch.apply_writes(dict(reversed(items)))
    expected = state_hash_of(entries)
    assert one_by_one.state_hash() == expected
    assert reversed_batch.state_hash() == expected
    assert State.from_entries(entries).state_hash() == expected
    assert dict(one_by_one.items()) == entries


@settings(max_examples=60, deadline=None)
@given(entry_maps, st.lists(st.dictionaries(state_keys, st.none() | values), max_size=6))
def test_from_entries_matches_incremental_updates(
    initial: dict[StateKey, bytes], batches: list[dict[StateKey, bytes | None]]
) -> None:
    state = State.from_entries(initial)
    model = dict(initial)
    for writes in batches:
        predicted = state.hash_after(writes)
        state.apply_writes(writes)
        for state_key, value in writes.items():
            if value is None:
                model.pop(state_key, None)
            else:
                model[state_key] = value
        assert state.state_hash() == predicted
        assert dict(state.items()) == model
        assert state.state_hash() == State.from_entries(model).state_hash()
        assert state.state_hash() == state_hash_of(model)


@settings(max_examples=40, deadline=None)
@given(entry_maps, state_keys, values)
def test_delete_then_reinsert_returns_to_the_same_hash(
    entries: dict[StateKey, bytes], state_key: StateKey, value: bytes
) -> None:
    state = State.from_entries({**entries, state_key: value})
    original = state.state_hash()
    state.apply_writes({state_key: None})
    assert state.get(*state_key) is None
    assert state.state_hash() == state_hash_of({k: v for k, v in entries.items() if k != state_key})
    state.apply_writes({state_key: value})
    assert state.state_hash() == original


@settings(max_examples=40, deadline=None)
@given(entry_maps)
def test_removing_every_entry_returns_to_the_empty_hash(entries: dict[StateKey, bytes]) -> None:
    state = State.from_entries(entries)
    state.apply_writes(dict.fromkeys(entries))
    assert len(state) == 0
    assert state.state_hash() == empty_hash()
    assert not state._lattice.lanes.any()


def test_the_hash_distinguishes_values_keys_and_namespaces() -> None:
    base = State.from_entries({("tokens", "balance/a"): b"\x01"}).state_hash()
    others = [
        {("tokens", "balance/a"): b"\x02"},
        {("tokens", "balance/b"): b"\x01"},
        {("market", "balance/a"): b"\x01"},
        {("tokens", "balance/a"): b"\x01", ("tokens", "balance/b"): b"\x01"},
        # the entry encoding keeps namespace and key apart: no concatenation ambiguity
        {("tokensb", "alance/a"): b"\x01"},
        {("tokens", "balance/a\x01"): b""},
    ]
    hashes = {base} | {State.from_entries(o).state_hash() for o in others}
    assert len(hashes) == len(others) + 1


def test_two_copies_of_an_entry_do_not_cancel_or_collapse() -> None:
    """A multiset hash: adding the same entry twice is not the same as adding it once."""
    entry = entry_bytes("tokens", "supply", b"\x05")
    once, twice = LatticeHash(), LatticeHash()
    once.update([entry], [])
    twice.update([entry, entry], [])
    assert once.digest() != twice.digest()
    twice.update([], [entry])
    assert twice.digest() == once.digest()


def expansion(entry: bytes) -> np.ndarray:
    """The lanes one entry adds: SHAKE-128 of the entry bytes, read as little-endian uint16."""
    return np.frombuffer(hashlib.shake_128(entry).digest(LATTICE_BYTES), dtype="<u2")


def test_one_entry_adds_its_shake_128_expansion() -> None:
    entry = entry_bytes("a", "b", b"c")
    assert entry == b"gridledger/state-entry/v1\x00" + encode(["a", "b", b"c"])
    lattice = LatticeHash()
    lattice.update([entry], [])
    assert np.array_equal(lattice.lanes, expansion(entry))
    assert lattice.digest() == sha256(expansion(entry).astype("<u2").tobytes())


def test_lattice_lanes_wrap_modulo_2_16() -> None:
    entry = entry_bytes("a", "b", b"c")
    full = LatticeHash(np.full(LATTICE_LANES, 0xFFFF, dtype=np.uint16))
    full.update([entry], [])
    expected = ((expansion(entry).astype(np.int64) - 1) % 65536).astype(np.uint16)
    assert np.array_equal(full.lanes, expected)
    assert full.lanes.dtype == np.uint16
    empty = LatticeHash()
    empty.update([], [entry])  # removing from zero wraps below zero
    expected = ((-expansion(entry).astype(np.int64)) % 65536).astype(np.uint16)
    assert np.array_equal(empty.lanes, expected)
    empty.update([entry], [])
    assert empty.digest() == empty_hash()


def test_lattice_copy_is_independent() -> None:
    lattice = LatticeHash()
    copy = lattice.copy()
    copy.update([entry_bytes("a", "b", b"c")], [])
    assert lattice.digest() == empty_hash()
    assert copy.digest() != empty_hash()


def test_writing_the_same_value_again_changes_nothing() -> None:
    state = State.from_entries({("tokens", "supply"): b"\x05"})
    before = state.state_hash()
    assert state.hash_after({("tokens", "supply"): b"\x05"}) == before
    state.apply_writes({("tokens", "supply"): b"\x05", ("tokens", "absent"): None})
    assert state.state_hash() == before
    assert len(state) == 1


def test_hash_after_predicts_without_applying() -> None:
    state = State.from_entries({("a", "x"): b"1"})
    before = state.state_hash()
    predicted = state.hash_after({("a", "x"): None, ("a", "y"): b"2"})
    assert state.state_hash() == before
    assert state.get("a", "x") == b"1"
    assert predicted == state_hash_of({("a", "y"): b"2"})


def test_apply_writes_after_predicting_other_writes_uses_the_right_hash() -> None:
    state = State.from_entries({("a", "x"): b"1"})
    state.hash_after({("a", "x"): b"predicted but never applied"})
    state.apply_writes({("a", "z"): b"3"})
    assert state.state_hash() == state_hash_of({("a", "x"): b"1", ("a", "z"): b"3"})


def test_apply_writes_is_not_fooled_by_a_dict_changed_after_hash_after() -> None:
    state = State()
    writes: dict[StateKey, bytes | None] = {("a", "x"): b"1"}
    state.hash_after(writes)
    writes[("a", "y")] = b"2"
    state.apply_writes(writes)
    assert state.state_hash() == state_hash_of({("a", "x"): b"1", ("a", "y"): b"2"})


def test_copy_is_independent() -> None:
    state = State.from_entries({("a", "x"): b"1"})
    copy = state.copy()
    copy.apply_writes({("a", "x"): None, ("a", "y"): b"2"})
    assert dict(state.items()) == {("a", "x"): b"1"}
    assert state.state_hash() == state_hash_of({("a", "x"): b"1"})
    assert copy.state_hash() == state_hash_of({("a", "y"): b"2"})


def test_items_are_sorted_and_prefix_queries_stay_in_their_namespace() -> None:
    state = State()
    state.apply_writes(
        {
            ("tokens", "balance/b"): b"2",
            ("market", "balance/z"): b"9",
            ("tokens", "supply"): b"3",
            ("tokens", "balance/a"): b"1",
        }
    )
    assert [k for k, _ in state.items()] == sorted(k for k, _ in state.items())
    assert next(state.items())[0] == ("market", "balance/z")
    assert state.keys_with_prefix("tokens", "balance/") == ["balance/a", "balance/b"]
    assert state.keys_with_prefix("ledger", "") == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.dictionaries(state_keys, st.none() | values, max_size=12), max_size=6))
def test_a_state_answers_what_a_flat_map_of_its_entries_would(
    blocks: list[dict[StateKey, bytes | None]],
) -> None:
    """Entries are kept per namespace; reads, order, counts and prefixes are the flat map's."""
    state, flat = State(), {}
    for writes in blocks:
        state.apply_writes(writes)
        for state_key, value in writes.items():
            if value is None:
                flat.pop(state_key, None)
            else:
                flat[state_key] = value
        assert list(state.items()) == sorted(flat.items())
        assert len(state) == len(flat)
        assert state.state_hash() == state_hash_of(flat)
        for namespace, key in [*writes, ("nowhere", "x")]:
            assert state.get(namespace, key) == flat.get((namespace, key))
            assert state.lookup((namespace, key)) == flat.get((namespace, key))
            assert state.keys_with_prefix(namespace, key[:1]) == sorted(
                k for (ns, k) in flat if ns == namespace and k.startswith(key[:1])
            )
    assert dict(state.copy().items()) == flat


# --- overlays ---------------------------------------------------------------------------------


def test_overlay_reads_through_shadows_and_deletes() -> None:
    state = State.from_entries({("a", "x"): b"1", ("a", "y"): b"2"})
    overlay = Overlay(state)
    assert overlay.get("a", "x") == b"1"
    overlay.put("a", "x", b"10")
    overlay.delete("a", "y")
    overlay.put("a", "z", b"3")
    assert (overlay.get("a", "x"), overlay.get("a", "y"), overlay.get("a", "z")) == (
        b"10",
        None,
        b"3",
    )
    assert overlay.writes == {("a", "x"): b"10", ("a", "y"): None, ("a", "z"): b"3"}
    # the state underneath is untouched until the writes are applied
    assert dict(state.items()) == {("a", "x"): b"1", ("a", "y"): b"2"}
    state.apply_writes(overlay.writes)
    assert dict(state.items()) == {("a", "x"): b"10", ("a", "z"): b"3"}


def test_nested_overlays_merge_down_one_level_at_a_time() -> None:
    state = State.from_entries({("a", "x"): b"1"})
    block = Overlay(state)
    block.put("a", "b", b"block")
    tx = Overlay(block)
    assert tx.get("a", "b") == b"block"
    assert tx.get("a", "x") == b"1"
    tx.delete("a", "x")
    tx.put("a", "b", b"tx")
    assert block.get("a", "x") == b"1" and block.get("a", "b") == b"block"
    tx.merge_into_parent()
    assert tx.writes == {}
    assert block.writes == {("a", "b"): b"tx", ("a", "x"): None}
    assert state.get("a", "x") == b"1"


def test_a_dropped_overlay_leaves_no_trace() -> None:
    state = State.from_entries({("a", "x"): b"1"})
    block = Overlay(state)
    refused = Overlay(block)
    refused.put("a", "x", b"2")
    del refused
    assert block.writes == {}
    assert block.get("a", "x") == b"1"


def test_a_block_overlay_cannot_be_merged_into_a_state() -> None:
    with pytest.raises(TypeError, match="apply_writes"):
        Overlay(State()).merge_into_parent()


def test_overlay_delete_then_put_keeps_the_last_write() -> None:
    state = State.from_entries({("a", "x"): b"1"})
    overlay = Overlay(state)
    overlay.delete("a", "x")
    overlay.put("a", "x", b"1")
    assert state.hash_after(overlay.writes) == state.state_hash()


def _block_of_writes(rng: random.Random, state: State, count: int) -> dict[StateKey, bytes | None]:
    """Replacements, deletions and insertions of `count` keys of `state` or new ones."""
    keys = [key for key, _ in state.items()]
    writes: dict[StateKey, bytes | None] = {}
    for n in range(count):
        if keys and rng.random() < 0.6:
            key = rng.choice(keys)
            writes[key] = None if rng.random() < 0.2 else rng.randbytes(8)
        else:
            writes[("ns", f"new/{rng.random()}/{n}")] = rng.randbytes(8)
    return writes


def test_a_lane_summer_gives_the_hash_computed_here() -> None:
    """A state that sums its entries elsewhere (a served node's workers) reaches the same
    hashes, block after block, as one that expands them itself; a summer that cannot
    (returns None) leaves the work to the state."""
    calls: list[tuple[int, int]] = []

    def summer(added: list[bytes], removed: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
        calls.append((len(added), len(removed)))
        return lane_sum(added), lane_sum(removed)

    rng = random.Random(7)
    here, elsewhere, unable = State(), State(), State()
    elsewhere.lane_summer = summer
    unable.lane_summer = lambda added, removed: None
    for size in (200, 5, 150, 300, 10):
        writes = _block_of_writes(rng, here, size)
        expected = here.hash_after(writes)
        assert elsewhere.hash_after(writes) == expected
        assert unable.hash_after(writes) == expected
        for state in (here, elsewhere, unable):
            state.apply_writes(writes)
        assert elsewhere.state_hash() == here.state_hash() == state_hash_of(dict(here.items()))
    assert calls and all(added + removed >= OFFLOAD_MIN for added, removed in calls)


def test_lane_sum_is_the_sum_of_the_expansions_modulo_2_16() -> None:
    entries = [f"entry {n}".encode() for n in range(5)]
    lanes = [
        np.frombuffer(hashlib.shake_128(e).digest(LATTICE_BYTES), dtype="<u2") for e in entries
    ]
    expected = (np.sum(lanes, axis=0, dtype=np.uint64) % (1 << 16)).astype(np.uint16)
    assert (lane_sum(entries) == expected).all()
    assert (lane_sum([]) == np.zeros(LATTICE_LANES, dtype=np.uint16)).all()


def test_a_lane_sum_over_many_chunks_is_the_sum_of_all_expansions() -> None:
    entries = [f"entry {n}".encode() for n in range(2 * SUM_CHUNK + 7)]
    lanes = [
        np.frombuffer(hashlib.shake_128(e).digest(LATTICE_BYTES), dtype="<u2") for e in entries
    ]
    expected = (np.sum(lanes, axis=0, dtype=np.uint64) % (1 << 16)).astype(np.uint16)
    assert (lane_sum(entries) == expected).all()
    state = State.from_entries({("ns", e.decode()): e for e in entries})
    by_entry = [entry_bytes("ns", e.decode(), e) for e in entries]
    lanes_of_state = lane_sum(by_entry[:5]) + lane_sum(by_entry[5:])
    assert state.state_hash() == sha256(lanes_of_state.astype("<u2").tobytes())


def test_state_lookup_is_get_by_pair() -> None:
    state = State.from_entries({("a", "k"): b"v"})
    assert state.lookup(("a", "k")) == state.get("a", "k") == b"v"
    assert state.lookup(("a", "missing")) is None


# -- a replay that owes the hash its lane sums (`commit_unhashed`, `settle`) -------------------


def test_commit_unhashed_then_settle_gives_the_hash_apply_writes_gives() -> None:
    """Two blocks committed unhashed, their sums settled in order: each hash is the one
    `apply_writes` reaches, and the removed entries are the replaced and deleted ones."""
    first = {("tokens", "a"): b"1", ("tokens", "b"): b"2"}
    second = {("tokens", "a"): b"3", ("tokens", "b"): None, ("tokens", "c"): b"2"}
    plain, owing = State(), State()
    plain.apply_writes(first)
    after_first = plain.state_hash()
    plain.apply_writes(second)
    owed = [owing.commit_unhashed(first), owing.commit_unhashed(second)]
    assert owing.get("tokens", "a") == b"3" and owing.get("tokens", "b") is None  # reads: merged
    added, removed = owed[1]
    assert sorted(removed) == sorted(
        [entry_bytes("tokens", "a", b"1"), entry_bytes("tokens", "b", b"2")]
    )
    assert sorted(added) == sorted(
        [entry_bytes("tokens", "a", b"3"), entry_bytes("tokens", "c", b"2")]
    )
    hashes = [owing.settle(lane_sum(a), lane_sum(r)) for a, r in owed]
    assert hashes == [after_first, plain.state_hash()] == [after_first, owing.state_hash()]


def test_a_write_of_the_same_value_changes_no_entry() -> None:
    state = State()
    state.apply_writes({("tokens", "a"): b"1"})
    assert state.commit_unhashed({("tokens", "a"): b"1", ("tokens", "z"): None}) == ([], [])


def test_the_hash_of_a_state_that_owes_lane_sums_is_refused() -> None:
    """Until every block committed unhashed is settled, nothing that needs the lattice runs:
    the hash would silently be wrong."""
    state = State()
    state.commit_unhashed({("tokens", "a"): b"1"})
    for needs_the_lattice in (
        state.state_hash,
        state.copy,
        lambda: state.hash_after({("tokens", "b"): b"2"}),
        lambda: state.apply_writes({("tokens", "b"): b"2"}),
    ):
        with pytest.raises(RuntimeError, match="owes the lane sums of 1 block"):
            needs_the_lattice()
    state.settle(lane_sum([entry_bytes("tokens", "a", b"1")]), lane_sum([]))
    assert state.state_hash() == state_hash_of({("tokens", "a"): b"1"})


def test_settling_what_is_not_owed_is_refused() -> None:
    state = State()
    with pytest.raises(RuntimeError, match="no block committed by commit_unhashed"):
        state.settle(lane_sum([]), lane_sum([]))
    assert state.state_hash() == State().state_hash()


def test_remembered_lane_sums_equal_plain_ones_added_again_and_removed() -> None:
    """`lane_sums_remembered` (what a worker runs) is `lane_sum`, however often an entry
    is added and removed through the memo."""
    entries = [f"entry {n}".encode() for n in range(50)]
    plus, minus = lane_sums_remembered(entries, [])
    assert (plus == lane_sum(entries)).all() and (minus == lane_sum([])).all()
    again_plus, again_minus = lane_sums_remembered(entries[:10], entries)  # removed: remembered
    assert (again_plus == lane_sum(entries[:10])).all()
    assert (again_minus == lane_sum(entries)).all()
    _, fresh = lane_sums_remembered([], entries)  # removed again: no longer remembered
    assert (fresh == lane_sum(entries)).all()
