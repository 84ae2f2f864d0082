"""Replaying a chain from genesis reproduces the state byte for byte, and a block whose
header disagrees with its parent or with its own execution is refused, naming the field,
with the state left untouched."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridledger.contracts import default_registry
from gridledger.contracts.tokens import total_supply
from gridledger.ledger import (
    Block,
    BlockHeader,
    InvalidBlock,
    ResultCode,
    State,
    apply_block,
    block_hash,
    decode_block,
    encode_block,
    genesis_block,
    replay,
    state_hash_of,
    transactions_root,
)
from tests.community import (
    Community,
    address,
    application_of,
    balances,
    make_genesis,
    meter_key_hex,
    signed_raw,
)


def grow_chain() -> Community:
    """A community with a few blocks of every kind: payments, admissions, meters, refusals."""
    c = Community.create()
    c.commit(
        [
            c.tx("alice", "tokens", "transfer", {"to": address("bob"), "amount_micro": 1_500}),
            c.tx("carol", "tokens", "transfer", {"to": address("dave"), "amount_micro": 70_000}),
            c.tx("operator", "tokens", "mint", {"to": address("dave"), "amount_micro": 5_000}),
        ]
    )
    c.commit(
        [
            c.tx(
                "erin",
                "membership",
                "apply",
                application_of("Erin", "storage")[0],
            ),
            c.tx("dave", "tokens", "transfer", {"to": address("alice"), "amount_micro": 10**9}),
            b"\x93garbage",
            signed_raw("frank", 0, "tokens", "transfer", {"to": address("bob"), "amount_micro": 1}),
        ]
    )
    c.commit([])  # an empty block
    c.commit(
        [
            c.tx("regulator", "membership", "approve", {"address": address("erin")}),
            c.tx(
                "operator",
                "membership",
                "bind_meter",
                {"member": address("erin"), "meter_key": meter_key_hex("erin-meter")},
            ),
            c.tx("operator", "tokens", "burn", {"amount_micro": 1_000_000}),
            c.tx("bob", "tokens", "transfer", {"to": address("erin"), "amount_micro": 9_999}),
        ]
    )
    c.commit(
        [
            c.tx("erin", "tokens", "transfer", {"to": address("carol"), "amount_micro": 9_999}),
            c.tx("bob", "membership", "exit", {"reason": "moving away"}),
        ]
    )
    return c


@pytest.fixture(scope="module")
def chain() -> Community:
    return grow_chain()


def entries(state: State) -> list[tuple[tuple[str, str], bytes]]:
    return list(state.items())


def test_the_chain_has_a_bit_of_everything(chain: Community) -> None:
    registry = default_registry()
    _, state = genesis_block(chain.genesis, registry)
    codes: set[int] = set()
    for parent, block in zip(chain.chain, chain.blocks, strict=False):
        codes |= {r.code for r in apply_block(state, parent.header, block, registry).receipts}
    assert codes == {
        ResultCode.OK,
        ResultCode.INSUFFICIENT_FUNDS,
        ResultCode.MALFORMED,
        ResultCode.NOT_A_MEMBER,
    }


def test_two_independent_replays_give_identical_states(chain: Community) -> None:
    first, head1 = replay(chain.genesis, chain.blocks, default_registry())
    decoded = [decode_block(encode_block(block)) for block in chain.blocks]
    second, head2 = replay(chain.genesis, decoded, default_registry())
    assert first.state_hash() == second.state_hash() == chain.state.state_hash()
    assert entries(first) == entries(second) == entries(chain.state)
    assert head1 == head2 == chain.head
    assert chain.head.state_hash == first.state_hash()
    assert state_hash_of(dict(first.items())) == first.state_hash()


def test_replay_accepts_the_genesis_block_at_the_front(chain: Community) -> None:
    state, head = replay(chain.genesis, chain.chain, default_registry())
    assert state.state_hash() == chain.state.state_hash()
    assert head == chain.head


def test_replay_refuses_a_genesis_block_of_another_genesis(chain: Community) -> None:
    other = make_genesis(chain_id="another-community")
    other_block0, _ = genesis_block(other, default_registry())
    with pytest.raises(InvalidBlock) as raised:
        replay(chain.genesis, [other_block0, *chain.blocks], default_registry())
    assert raised.value.field == "genesis header"
    assert raised.value.height == 0


def test_genesis_block_is_deterministic_and_commits_to_the_document() -> None:
    block_a, state_a = genesis_block(make_genesis(), default_registry())
    block_b, state_b = genesis_block(make_genesis(), default_registry())
    assert block_hash(block_a.header) == block_hash(block_b.header)
    assert entries(state_a) == entries(state_b)
    other, _ = genesis_block(
        make_genesis(founders={"regulator": ("regulator", 0), "alice": ("prosumer", 1)}),
        default_registry(),
    )
    assert other.header.previous_hash != block_a.header.previous_hash
    assert block_a.header.state_hash == state_a.state_hash()


def flip(data: bytes) -> bytes:
    return bytes([data[0] ^ 0x80]) + data[1:]


TAMPERS: dict[str, Any] = {
    "state_hash": lambda h, p: {"state_hash": flip(h.state_hash)},
    "results_root": lambda h, p: {"results_root": flip(h.results_root)},
    "transactions_root": lambda h, p: {"transactions_root": flip(h.transactions_root)},
    "previous_hash": lambda h, p: {"previous_hash": flip(h.previous_hash)},
    "height": lambda h, p: {"height": h.height + 1},
    "timestamp_ms": lambda h, p: {"timestamp_ms": p.timestamp_ms - 1},
    "transaction_count": lambda h, p: {"transaction_count": h.transaction_count + 1},
    "chain_id": lambda h, p: {"chain_id": "someone-elses-chain"},
    "version": lambda h, p: {"version": h.version + 1},
}


def state_before_last(chain: Community) -> tuple[State, BlockHeader, Block]:
    state, parent = replay(chain.genesis, chain.blocks[:-1], default_registry())
    return state, parent, chain.blocks[-1]


@pytest.mark.parametrize("field", list(TAMPERS))
def test_apply_block_refuses_a_tampered_header_and_changes_nothing(
    chain: Community, field: str
) -> None:
    state, parent, block = state_before_last(chain)
    before_hash, before = state.state_hash(), entries(state)
    changes = TAMPERS[field](block.header, parent)
    tampered = Block(msgspec.structs.replace(block.header, **changes), block.transactions)
    registry = default_registry()
    with pytest.raises(InvalidBlock) as raised:
        apply_block(state, parent, tampered, registry)
    error = raised.value
    assert error.field == field
    assert field in str(error)
    assert str(error.got) in str(error) and str(error.expected) in str(error)
    if isinstance(changes[field], bytes):
        assert error.got == changes[field].hex()
    assert state.state_hash() == before_hash
    assert entries(state) == before
    # the untampered block still applies on the untouched state
    apply_block(state, parent, block, registry)
    assert state.state_hash() == block.header.state_hash == chain.state.state_hash()


def test_a_timestamp_going_backwards_names_both_times(chain: Community) -> None:
    state, parent, block = state_before_last(chain)
    header = msgspec.structs.replace(block.header, timestamp_ms=parent.timestamp_ms - 1)
    with pytest.raises(InvalidBlock) as raised:
        apply_block(state, parent, Block(header, block.transactions), default_registry())
    assert str(parent.timestamp_ms) in str(raised.value)
    assert str(parent.timestamp_ms - 1) in str(raised.value)


def test_an_equal_timestamp_is_accepted_and_build_block_never_goes_backwards() -> None:
    community = Community.create()
    parent = community.head
    block, _ = community.commit([], timestamp_ms=parent.timestamp_ms - 5_000)
    assert block.header.timestamp_ms == parent.timestamp_ms
    state, _ = replay(community.genesis, community.blocks, default_registry())
    assert state.state_hash() == community.state.state_hash()


def test_reordered_transactions_are_refused_on_the_transactions_root(chain: Community) -> None:
    state, parent, block = state_before_last(chain)
    assert len(block.transactions) >= 2
    before = entries(state)
    swapped = Block(block.header, list(reversed(block.transactions)))
    with pytest.raises(InvalidBlock) as raised:
        apply_block(state, parent, swapped, default_registry())
    assert raised.value.field == "transactions_root"
    assert entries(state) == before


def test_other_transactions_under_a_consistent_root_are_refused_on_the_results(
    chain: Community,
) -> None:
    """Someone swaps in other transactions and fixes up the transaction root and count:
    the execution no longer matches the recorded results."""
    state, parent, block = state_before_last(chain)
    before = entries(state)
    forged_txs = block.transactions[:1]
    header = msgspec.structs.replace(
        block.header,
        transaction_count=len(forged_txs),
        transactions_root=transactions_root(forged_txs),
    )
    with pytest.raises(InvalidBlock) as raised:
        apply_block(state, parent, Block(header, forged_txs), default_registry())
    assert raised.value.field in ("results_root", "state_hash")
    assert entries(state) == before


def test_a_block_applied_to_the_wrong_parent_is_refused(chain: Community) -> None:
    state, parent = replay(chain.genesis, chain.blocks[:1], default_registry())
    with pytest.raises(InvalidBlock) as raised:
        apply_block(state, parent, chain.blocks[2], default_registry())  # skips block 2
    assert raised.value.field == "height"


def test_replay_stops_at_the_first_bad_block(chain: Community) -> None:
    blocks = list(chain.blocks)
    bad = blocks[2]
    blocks[2] = Block(
        msgspec.structs.replace(bad.header, state_hash=flip(bad.header.state_hash)),
        bad.transactions,
    )
    with pytest.raises(InvalidBlock) as raised:
        replay(chain.genesis, blocks, default_registry())
    assert raised.value.height == bad.header.height
    assert raised.value.field == "state_hash"


# --- property: replay reproduces the live state; supply is conserved -----------------------

PEOPLE = ["operator", "alice", "bob", "carol", "dave"]

operations = st.tuples(
    st.sampled_from(["transfer", "transfer", "mint", "burn"]),
    st.sampled_from(PEOPLE),
    st.sampled_from(PEOPLE),
    st.one_of(st.integers(0, 3_000_000), st.sampled_from([1, 250_000, 500_000, 1_000_000])),
)


def model_step(model: dict[str, int], op: tuple[str, str, str, int]) -> ResultCode:
    """What the tokens contract must do with one operation (the operator is the issuer)."""
    kind, sender, recipient, amount = op
    if kind == "transfer":
        if amount <= 0:
            return ResultCode.AMOUNT_OUT_OF_RANGE
        if sender == recipient:
            return ResultCode.SELF_TRANSFER
        if model[sender] < amount:
            return ResultCode.INSUFFICIENT_FUNDS
        model[sender] -= amount
        model[recipient] += amount
    elif kind == "mint":
        if sender != "operator":
            return ResultCode.NOT_AUTHORISED
        if amount <= 0:
            return ResultCode.AMOUNT_OUT_OF_RANGE
        model[recipient] += amount
    else:
        if sender != "operator":
            return ResultCode.NOT_AUTHORISED
        if amount <= 0:
            return ResultCode.AMOUNT_OUT_OF_RANGE
        if model[sender] < amount:
            return ResultCode.INSUFFICIENT_FUNDS
        model[sender] -= amount
    return ResultCode.OK


def op_args(op: tuple[str, str, str, int]) -> dict[str, Any]:
    kind, _, recipient, amount = op
    if kind == "burn":
        return {"amount_micro": amount}
    return {"to": address(recipient), "amount_micro": amount}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(st.lists(operations, max_size=6), min_size=1, max_size=5))
def test_replay_reproduces_random_histories_and_supply_is_conserved(
    blocks_of_ops: list[list[tuple[str, str, str, int]]],
) -> None:
    community = Community.create()
    model = {name: community.balance(name) for name in PEOPLE}
    for ops in blocks_of_ops:
        raws = [community.tx(op[1], "tokens", op[0], op_args(op)) for op in ops]
        expected = [model_step(model, op) for op in ops]
        _, execution = community.commit(raws)
        assert [r.code for r in execution.receipts] == expected
        held = balances(community.state)
        assert all(amount > 0 for amount in held.values())
        assert total_supply(community.state) == sum(held.values())
        assert {name: community.balance(name) for name in PEOPLE} == model
    state, head = replay(community.genesis, community.blocks, default_registry())
    assert state.state_hash() == community.state.state_hash() == head.state_hash
    assert entries(state) == entries(community.state)
