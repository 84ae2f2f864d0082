"""The in-process `Node`: admission, block cutting, restart from disk and determinism.

Every test that does not depend on the storage runs twice, on `SQLiteStorage` (a real
file in tmp_path) and on `MemoryStorage`. Blocks are cut with explicit timestamps, so
every run builds the same chain.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gridledger.client import ClientError, EmbeddedClient
from gridledger.contracts import Registry, default_registry
from gridledger.contracts.membership import check_active_member
from gridledger.contracts.membership_errors import PersonalDataOnChain
from gridledger.contracts.tokens import balance_of
from gridledger.ledger import (
    BadSignature,
    Block,
    DuplicateTransaction,
    Genesis,
    NonceMismatch,
    NotAMember,
    ResultCode,
    State,
    UnknownContract,
    UnknownMethod,
    WrongChain,
    apply_block,
    block_hash,
    genesis_block,
    read_nonce,
    replay,
    transaction_id,
)
from gridledger.ledger.execution import Context
from gridledger.node import (
    CommittedBlock,
    CutterConfig,
    MemoryStorage,
    MempoolFull,
    Node,
    SQLiteStorage,
    StorageError,
)
from gridledger.node.mempool import Mempool
from tests.community import GENESIS_TIME_MS, address, application_of, make_genesis, signed_raw
from tests.node.stored_rows import raw_value, set_state_value

T1 = GENESIS_TIME_MS + 1_000


def transfer(sender: str, nonce: int, to: str = "bob", amount: int = 10, **extra: Any) -> bytes:
    return signed_raw(
        sender, nonce, "tokens", "transfer", {"to": address(to), "amount_micro": amount, **extra}
    )


@pytest.fixture(params=["sqlite", "memory"])
def storage_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def new_node(kind: str, directory: Path, genesis: Genesis | None = None, **options: Any) -> Node:
    genesis = genesis or make_genesis()
    if kind == "sqlite":
        return Node.create(SQLiteStorage(directory / "chain.sqlite"), genesis, **options)
    return Node.create(MemoryStorage(), genesis, **options)


@pytest.fixture
def node(storage_kind: str, tmp_path: Path) -> Iterator[Node]:
    opened = new_node(storage_kind, tmp_path)
    yield opened
    opened.close()


# -- admission ---------------------------------------------------------------------------------


def test_admitted_transactions_commit_in_arrival_order(node: Node) -> None:
    seen: list[CommittedBlock] = []
    node.listeners.append(seen.append)
    raws = [transfer("alice", 0), transfer("alice", 1), transfer("carol", 0, to="dave")]
    ids = [node.submit(raw) for raw in raws]
    assert ids == [transaction_id(raw) for raw in raws]
    assert len(node.mempool) == 3

    committed = node.cut_block(T1)

    assert committed is not None and seen == [committed]
    assert committed.block.transactions == raws
    assert [r.transaction_id for r in committed.receipts] == ids
    assert all(r.code == ResultCode.OK for r in committed.receipts)
    assert committed.senders == [address("alice"), address("alice"), address("carol")]
    assert node.head == committed.block.header and node.head_hash == committed.hash
    assert node.head.height == 1 and node.head.timestamp_ms == T1
    assert len(node.mempool) == 0
    assert read_nonce(node.state, address("alice")) == 2
    assert balance_of(node.state, address("alice")) == 1_000_000 - 20
    assert node.cut_block(T1 + 1) is None, "no block without pending transactions"
    location = node.storage.find_transaction(ids[2])
    assert location is not None and (location.height, location.position) == (1, 2)


def test_duplicate_is_refused_while_pending_and_after_commit(node: Node) -> None:
    raw = transfer("alice", 0)
    node.submit(raw)
    with pytest.raises(DuplicateTransaction) as pending:
        node.submit(raw)
    assert transaction_id(raw).hex() in str(pending.value)
    node.cut_block(T1)
    with pytest.raises(DuplicateTransaction):
        node.submit(raw)
    assert len(node.mempool) == 0


def test_nonce_gap_and_replayed_nonce_are_refused(node: Node) -> None:
    with pytest.raises(NonceMismatch) as gap:
        node.submit(transfer("alice", 1))
    assert (gap.value.expected, gap.value.got) == (0, 1)

    node.submit(transfer("alice", 0))
    with pytest.raises(NonceMismatch) as pipelined_gap:
        node.submit(transfer("alice", 2))
    assert (pipelined_gap.value.expected, pipelined_gap.value.got) == (1, 2)
    node.submit(transfer("alice", 1))  # the next nonce is still welcome while 0 is pending

    node.cut_block(T1)
    with pytest.raises(NonceMismatch) as replayed:
        node.submit(transfer("alice", 0, amount=999))  # a different transaction, a used nonce
    assert (replayed.value.expected, replayed.value.got) == (2, 0)
    assert "replay" in str(replayed.value)
    node.submit(transfer("alice", 2))


def test_non_member_may_only_call_open_methods(node: Node) -> None:
    with pytest.raises(NotAMember) as refused:
        node.submit(signed_raw("erin", 0, "tokens", "transfer", {"to": address("bob")}))
    assert address("erin") in str(refused.value)
    application, _ = application_of("erin", "consumer")
    node.submit(signed_raw("erin", 0, "membership", "apply", application))
    assert len(node.mempool) == 1


def test_stateless_and_routing_errors_are_reported_per_transaction(node: Node) -> None:
    good = transfer("alice", 0)
    forged = bytearray(transfer("bob", 0))
    forged[-1] ^= 0x01
    other_chain = signed_raw("carol", 0, "tokens", "transfer", {}, chain_id="another-chain")
    no_contract = signed_raw("dave", 0, "casino", "bet", {})
    no_method = signed_raw("dave", 0, "tokens", "steal", {})
    raws = [good, bytes(forged), other_chain, no_contract, no_method, b"\x00garbage"]

    admissions = node.submit_many(raws)

    assert [a.transaction_id for a in admissions] == [transaction_id(r) for r in raws]
    errors = [a.error for a in admissions]
    assert errors[0] is None
    assert isinstance(errors[1], BadSignature)
    assert isinstance(errors[2], WrongChain)
    assert isinstance(errors[3], UnknownContract)
    assert isinstance(errors[4], UnknownMethod)
    assert errors[5] is not None and errors[5].code == ResultCode.MALFORMED
    assert len(node.mempool) == 1


@pytest.mark.parametrize("limit", ["transactions", "bytes"])
def test_full_mempool_refuses_until_a_block_is_cut(
    storage_kind: str, tmp_path: Path, limit: str
) -> None:
    one = len(transfer("alice", 0))
    mempool = Mempool(max_transactions=3) if limit == "transactions" else Mempool(max_bytes=3 * one)
    node = new_node(storage_kind, tmp_path, mempool=mempool)
    try:
        for nonce in range(3):
            node.submit(transfer("alice", nonce))
        with pytest.raises(MempoolFull) as full:
            node.submit(transfer("bob", 0))
        assert full.value.what == limit and "retry" in str(full.value)
        assert len(node.mempool) == 3
        committed = node.cut_block(T1)
        assert committed is not None and len(committed.receipts) == 3
        node.submit(transfer("bob", 0))  # room again
    finally:
        node.close()


# -- block cutting -----------------------------------------------------------------------------


def test_cut_block_takes_at_most_max_transactions(storage_kind: str, tmp_path: Path) -> None:
    node = new_node(storage_kind, tmp_path, cutter=CutterConfig(max_transactions=3))
    try:
        raws = [transfer("alice", n) for n in range(7)]
        for raw in raws:
            node.submit(raw)
        blocks: list[Block] = []
        while (committed := node.cut_block(T1 + len(blocks))) is not None:
            blocks.append(committed.block)
        assert [len(b.transactions) for b in blocks] == [3, 3, 1]
        assert [raw for b in blocks for raw in b.transactions] == raws
        assert [b.header.height for b in blocks] == [1, 2, 3]
    finally:
        node.close()


def test_cut_block_keeps_blocks_under_max_bytes(storage_kind: str, tmp_path: Path) -> None:
    node = new_node(storage_kind, tmp_path, cutter=CutterConfig(max_bytes=1024))
    try:
        raws = [transfer("alice", n, memo="x" * (20 * n)) for n in range(10)]
        big = transfer("bob", 0, memo="y" * 200, note="z" * 1200)  # alone it exceeds the limit
        assert len(big) > 1024
        for raw in [*raws[:6], big, *raws[6:]]:
            node.submit(raw)
        blocks: list[list[bytes]] = []
        while (committed := node.cut_block(T1 + len(blocks))) is not None:
            blocks.append(committed.block.transactions)
        assert [raw for block in blocks for raw in block] == [*raws[:6], big, *raws[6:]]
        for block in blocks:
            if block == [big]:
                continue  # a transaction larger than the limit still gets a block of its own
            assert sum(map(len, block)) <= 1024
        assert [big] in blocks
        for block, following in itertools.pairwise(blocks):
            if block != [big]:  # each block is as full as the limit allows
                assert sum(map(len, block)) + len(following[0]) > 1024
    finally:
        node.close()


@pytest.mark.parametrize(
    "options",
    [
        {"max_transactions": 0},
        {"max_bytes": 1023},
        {"max_bytes": 9 * 1024 * 1024},
        {"timeout_ms": 0},
    ],
)
def test_cutter_config_rejects_nonsense(options: dict[str, int]) -> None:
    with pytest.raises(ValueError, match=next(iter(options))):
        CutterConfig(**options)


def test_block_time_never_goes_backwards(node: Node) -> None:
    node.submit(transfer("alice", 0))
    first = node.cut_block(T1 + 5_000)
    node.submit(transfer("alice", 1))
    second = node.cut_block(T1)  # a clock that went backwards
    assert first is not None and second is not None
    assert second.block.header.timestamp_ms == first.block.header.timestamp_ms
    empty = node.cut_empty_block(T1 + 9_000)
    assert empty.block.transactions == [] and empty.block.header.height == 3


def test_refused_transactions_stay_in_the_block_marked(node: Node) -> None:
    broke = transfer("dave", 0, amount=10**9)  # dave has 250_000
    to_outsider = transfer("carol", 0, to="erin")
    node.submit_many([broke, to_outsider, transfer("alice", 0)])
    committed = node.cut_block(T1)
    assert committed is not None
    codes = [r.code for r in committed.receipts]
    assert codes == [ResultCode.INSUFFICIENT_FUNDS, ResultCode.MEMBER_NOT_ACTIVE, ResultCode.OK]
    assert balance_of(node.state, address("dave")) == 250_000
    assert read_nonce(node.state, address("dave")) == 1, "a contract refusal uses the nonce"


# -- restart and determinism -------------------------------------------------------------------


def grow(node: Node, blocks: int, first_height: int = 1) -> None:
    names = ["alice", "bob", "carol", "dave"]
    for height in range(first_height, first_height + blocks):
        for i, sender in enumerate(names):
            nonce = read_nonce(node.state, address(sender))
            node.submit(transfer(sender, nonce, to=names[(i + 1) % 4], amount=height + i))
        node.submit(transfer("dave", read_nonce(node.state, address("dave")) + 1, amount=10**9))
        assert node.cut_block(T1 + 1_000 * height) is not None


def test_restart_from_disk_resumes_at_the_same_head_and_state(tmp_path: Path) -> None:
    path = tmp_path / "chain.sqlite"
    node = Node.create(SQLiteStorage(path), make_genesis())
    grow(node, 4)
    head, head_hash, state_hash = node.head, node.head_hash, node.state.state_hash()
    entries = dict(node.state.items())
    node.submit(transfer("alice", read_nonce(node.state, address("alice"))))  # never committed
    node.close()

    reopened = Node.open(SQLiteStorage(path))
    try:
        assert reopened.head == head and reopened.head_hash == head_hash
        assert reopened.state.state_hash() == state_hash == head.state_hash
        assert dict(reopened.state.items()) == entries
        assert len(reopened.mempool) == 0
        assert reopened.genesis == make_genesis()
        grow(reopened, 1, first_height=5)  # and it carries on
        assert reopened.head.height == 5
    finally:
        reopened.close()
    again = Node.open_path(path)
    try:
        assert again.head.height == 5
    finally:
        again.close()


def test_opening_refuses_an_empty_store_a_second_genesis_and_a_damaged_state(
    tmp_path: Path,
) -> None:
    path = tmp_path / "chain.sqlite"
    with pytest.raises(StorageError, match="init"):
        Node.open(SQLiteStorage(path))
    with pytest.raises(StorageError, match="no genesis"):
        Node.open_path(tmp_path / "other.sqlite")
    node = Node.create(SQLiteStorage(path), make_genesis())
    grow(node, 2)
    node.close()
    with pytest.raises(StorageError, match="already holds a chain"):
        Node.create(SQLiteStorage(path), make_genesis())

    storage = SQLiteStorage(path)
    (namespace, key), value = min(
        (entry for entry in storage.load_state().items() if entry[0][0] == "tokens"),
    )
    storage.close()
    set_state_value(path, namespace, key, raw_value(value + b"\x00"))
    with pytest.raises(StorageError, match="verify"):
        Node.open(SQLiteStorage(path))


def test_nodes_fed_the_same_transactions_build_identical_chains(tmp_path: Path) -> None:
    on_disk = Node.create(SQLiteStorage(tmp_path / "chain.sqlite"), make_genesis())
    in_memory = Node.in_memory(make_genesis())
    try:
        for node in (on_disk, in_memory):
            grow(node, 5)
        assert on_disk.head_hash == in_memory.head_hash
        assert on_disk.state.state_hash() == in_memory.state.state_hash()
        for height in range(6):
            a, b = on_disk.storage.block(height), in_memory.storage.block(height)
            assert a == b and a is not None
            assert on_disk.storage.receipts(height) == in_memory.storage.receipts(height)
        assert on_disk.storage.state_heights() == in_memory.storage.state_heights()
        assert on_disk.storage.load_state() == in_memory.storage.load_state()
        for name in ("alice", "dave"):
            assert on_disk.storage.transactions_of(address(name), 7) == (
                in_memory.storage.transactions_of(address(name), 7)
            )
    finally:
        on_disk.close()
        in_memory.close()


def test_a_follower_applying_the_blocks_reaches_the_same_state(node: Node) -> None:
    grow(node, 5)
    blocks = [node.storage.block(h) for h in range(node.head.height + 1)]
    registry = default_registry()
    block0, follower = genesis_block(node.genesis, registry)
    assert blocks[0] is not None and block_hash(blocks[0].header) == block_hash(block0.header)
    parent = block0.header
    for block in blocks[1:]:
        assert block is not None
        apply_block(follower, parent, block, registry)
        assert follower.state_hash() == block.header.state_hash
        parent = block.header
    assert follower.state_hash() == node.state.state_hash()
    replayed, head = replay(node.genesis, [b for b in blocks if b is not None], registry)
    assert head == node.head and replayed.state_hash() == node.state.state_hash()
    assert State.from_entries(node.storage.load_state()).state_hash() == node.head.state_hash


# -- races between admission and commit (found by these tests) ---------------------------------


class PausingRegistry(Registry):
    """The standard contracts, with a hook that runs inside admission or execution."""

    def __init__(self) -> None:
        standard = default_registry()
        super().__init__(list(standard.contracts.values()), check_active_member)
        self.on_admit: Any = None
        self.on_dispatch: Any = None

    def admit(self, *args: Any, **options: Any) -> None:
        super().admit(*args, **options)
        if self.on_admit is not None:
            hook, self.on_admit = self.on_admit, None
            hook()

    def dispatch(self, context: Context, contract: str, method: str, args: dict[str, Any]) -> None:
        if self.on_dispatch is not None:
            hook, self.on_dispatch = self.on_dispatch, None
            hook(context)
        super().dispatch(context, contract, method, args)


def test_pipelined_transaction_admitted_while_its_predecessor_commits(tmp_path: Path) -> None:
    registry = PausingRegistry()
    node = Node.create(SQLiteStorage(tmp_path / "chain.sqlite"), make_genesis(), registry)
    try:
        node.submit(transfer("alice", 0))
        in_admission = threading.Event()
        committed = threading.Event()

        def pause() -> None:  # inside Node._admit, between reading the nonce and the mempool
            in_admission.set()
            assert committed.wait(10)

        registry.on_admit = pause
        outcome: list[BaseException | bytes] = []

        def submit_next() -> None:
            try:
                outcome.append(node.submit(transfer("alice", 1)))
            except BaseException as error:
                outcome.append(error)

        submitter = threading.Thread(target=submit_next)
        submitter.start()
        assert in_admission.wait(10)
        assert node.cut_block(T1) is not None  # commits nonce 0 meanwhile
        committed.set()
        submitter.join(10)
        assert outcome == [transaction_id(transfer("alice", 1))], outcome
    finally:
        node.close()


def test_transaction_being_committed_is_not_reported_unknown(tmp_path: Path) -> None:
    registry = PausingRegistry()
    node = Node.create(SQLiteStorage(tmp_path / "chain.sqlite"), make_genesis(), registry)
    client = EmbeddedClient(node)
    try:
        tx_id = client.submit(transfer("alice", 0)).id
        assert client.transaction(tx_id).status == "pending"
        seen: list[Any] = []

        def look(_: Context) -> None:  # while the block holding it executes
            try:
                seen.append(client.transaction(tx_id).status)
            except ClientError as error:
                seen.append(error)

        registry.on_dispatch = look
        client.commit(T1)
        assert client.transaction(tx_id).status == "committed"
        assert seen == ["pending"], seen
    finally:
        node.close()


def test_one_writer_per_chain_file(tmp_path: Path) -> None:
    """A chain opened with open_path is locked until closed; a second writer is refused."""
    path = tmp_path / "chain.sqlite"
    first = Node.open_path(path, make_genesis())
    with pytest.raises(StorageError, match="another process"):
        Node.open_path(path)
    first.close()
    second = Node.open_path(path)
    assert second.head.height == 0
    second.close()


def test_personal_data_in_the_clear_is_refused_at_admission_and_never_stored(
    node: Node,
) -> None:
    application = {
        "name": "erin",
        "role": "consumer",
        "registration": {"customer_type": "home", "basic_information": "Erin, 12 Mill Lane"},
    }
    raw = signed_raw("erin", 0, "membership", "apply", application)
    with pytest.raises(PersonalDataOnChain) as refused:
        node.submit(raw)
    assert refused.value.field == "basic_information"
    assert len(node.mempool) == 0
    [admission] = node.check_for_ordering([raw])
    assert isinstance(admission.error, PersonalDataOnChain)
