"""`SQLiteStorage.committed_among`: admission's batched duplicate check."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.ledger import transaction_id
from gridledger.node import Node, SQLiteStorage, transaction_index
from gridledger.node.stored_forms import id_prefix
from tests.community import GENESIS_TIME_MS, address, make_genesis, signed_raw


def _transfer(sender: str, nonce: int) -> bytes:
    return signed_raw(
        sender, nonce, "tokens", "transfer", {"to": address("bob"), "amount_micro": 1}
    )


def _chain(path: Path, count: int) -> tuple[Node, list[bytes]]:
    node = Node.create(SQLiteStorage(path), make_genesis())
    ids = []
    for nonce in range(count):
        ids.append(node.submit(_transfer("alice", nonce)))
        if nonce % 7 == 6:
            node.cut_block(GENESIS_TIME_MS + 1_000 * (nonce + 1))
    node.cut_block(GENESIS_TIME_MS + 1_000_000)
    return node, ids


def test_finds_exactly_the_committed_ids_across_chunks(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(transaction_index, "LOOKUP_CHUNK", 4)  # many chunks, a partial last one
    node, committed = _chain(tmp_path / "chain.sqlite", 23)
    try:
        fresh = [transaction_id(_transfer("carol", nonce)) for nonce in range(9)]
        asked = [*fresh[:4], *committed, *fresh[4:], committed[3]]  # a repeat, too
        assert node.storage.committed_among(asked) == set(committed)
        assert node.storage.committed_among(fresh) == set()
        assert node.storage.committed_among([]) == set()
    finally:
        node.close()


def test_an_id_sharing_a_stored_prefix_is_not_taken_for_the_stored_one(tmp_path: Path) -> None:
    """The index holds 8-byte prefixes: a lying client could send an id (of bytes that are
    not a transaction) whose prefix matches a committed one; it must not count as committed."""
    node, committed = _chain(tmp_path / "chain.sqlite", 3)
    try:
        impostor = committed[1][:8] + bytes(32 - 8)
        assert id_prefix(impostor) == id_prefix(committed[1]) and impostor != committed[1]
        assert node.storage.committed_among([impostor]) == set()
        assert node.storage.committed_among([impostor, committed[1]]) == {committed[1]}
    finally:
        node.close()


@settings(max_examples=25)
@given(picks=st.lists(st.integers(min_value=0, max_value=19), max_size=30))
def test_agrees_with_one_lookup_per_id(tmp_path_factory, picks: list[int]) -> None:
    path = tmp_path_factory.mktemp("among") / "chain.sqlite"
    node, committed = _chain(path, 10)
    try:
        candidates = [*committed, *(transaction_id(_transfer("dave", n)) for n in range(10))]
        asked = [candidates[i] for i in picks]
        expected = {tx_id for tx_id in asked if node.storage.has_transaction(tx_id)}
        assert node.storage.committed_among(asked) == expected
    finally:
        node.close()
