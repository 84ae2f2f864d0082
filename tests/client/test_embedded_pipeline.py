"""`EmbeddedClient.submit_and_commit`: checks of later blocks run while earlier blocks
execute, and the chain is the one `submit_batch` then `commit` builds."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.client import EmbeddedClient
from gridledger.node import CutterConfig
from tests.community import GENESIS_TIME_MS, address, make_genesis, signed_raw

SENDERS = ("alice", "bob", "carol", "dave")
T1 = GENESIS_TIME_MS + 1_000


def transfers(count: int, memo_bytes: int = 0, gap_at: int | None = None) -> list[bytes]:
    """`count` transfers round robin over the senders; `gap_at`: that one skips a nonce."""
    nonces = dict.fromkeys(SENDERS, 0)
    raws = []
    for index in range(count):
        sender = SENDERS[index % len(SENDERS)]
        recipient = SENDERS[(index + 1) % len(SENDERS)]
        nonce = nonces[sender] + (1 if index == gap_at else 0)
        nonces[sender] += 1
        args = {"to": address(recipient), "amount_micro": 10 + index, "memo": "x" * memo_bytes}
        raws.append(signed_raw(sender, nonce, "tokens", "transfer", args))
    return raws


def chains(
    tmp_path: Path, raws: list[bytes], cutter: CutterConfig
) -> tuple[list[list[bytes]], list[list[bytes]], int, int]:
    """The blocks (their transactions) of both ways, and both replies' refusals."""
    genesis = make_genesis()
    plain = EmbeddedClient.open(tmp_path / "plain.sqlite", genesis, cutter=cutter)
    piped = EmbeddedClient.open(tmp_path / "piped.sqlite", genesis, cutter=cutter)
    try:
        reply = plain.submit_batch(raws)
        plain.commit(T1)
        piped_reply = piped.submit_and_commit(raws, T1)
        assert plain.node.head_hash == piped.node.head_hash
        assert len(plain.node.mempool) == len(piped.node.mempool) == 0
        blocks = [[*b.transactions] for b in plain.node.storage.blocks()]
        piped_blocks = [[*b.transactions] for b in piped.node.storage.blocks()]
        assert [r.status for r in reply.results] == [r.status for r in piped_reply.results]
        return blocks, piped_blocks, reply.rejected, piped_reply.rejected
    finally:
        plain.close()
        piped.close()


def test_blocks_are_those_of_submitting_then_committing(tmp_path: Path) -> None:
    blocks, piped, _, _ = chains(tmp_path, transfers(23), CutterConfig(max_transactions=5))
    assert blocks == piped
    assert [len(b) for b in blocks[1:]] == [5, 5, 5, 5, 3]


def test_blocks_cut_short_by_their_byte_limit_are_the_same(tmp_path: Path) -> None:
    """A block full by bytes leaves some of its batch's share to the next block: that one
    must still be cut from the whole next share, as from the whole batch."""
    cutter = CutterConfig(max_transactions=6, max_bytes=1_500)
    blocks, piped, _, _ = chains(tmp_path, transfers(20, memo_bytes=200), cutter)
    assert blocks == piped
    assert any(0 < len(b) < 6 for b in blocks[1:-1]), "no block was cut by bytes"


def test_a_refusal_admits_the_rest_before_cutting_more(tmp_path: Path) -> None:
    raws = transfers(17, gap_at=11)  # a nonce gap in the third block's share
    blocks, piped, refused, piped_refused = chains(tmp_path, raws, CutterConfig(max_transactions=4))
    assert refused == piped_refused > 0
    assert blocks == piped


@settings(max_examples=15, deadline=None)
@given(count=st.integers(min_value=0, max_value=30), limit=st.integers(min_value=1, max_value=7))
def test_any_batch_and_limit_give_the_same_chain(tmp_path_factory, count: int, limit: int) -> None:
    blocks, piped, _, _ = chains(
        tmp_path_factory.mktemp("pipe"), transfers(count), CutterConfig(max_transactions=limit)
    )
    assert blocks == piped
