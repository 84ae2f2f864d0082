"""`EmbeddedClient.stored_blocks`: committed blocks as stored (raw transactions, result codes),
the same on SQLite and in memory, and the same as the JSON block view says."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridledger.client import EmbeddedClient
from gridledger.node import Node, SQLiteStorage
from tests.community import GENESIS_TIME_MS, address, make_genesis, signed_raw


def grow(node: Node) -> EmbeddedClient:
    """Three blocks: a transfer, a refused transfer (too much), then two transfers."""
    client = EmbeddedClient(node)
    transfer = {"to": address("bob"), "amount_micro": 10}
    client.submit(signed_raw("alice", 0, "tokens", "transfer", transfer))
    client.commit(GENESIS_TIME_MS + 1_000)
    too_much = {"to": address("bob"), "amount_micro": 10**12}
    client.submit(signed_raw("carol", 0, "tokens", "transfer", too_much))
    client.commit(GENESIS_TIME_MS + 2_000)
    client.submit_batch(
        [
            signed_raw("alice", 1, "tokens", "transfer", transfer),
            signed_raw("dave", 0, "tokens", "transfer", transfer),
        ]
    )
    client.commit(GENESIS_TIME_MS + 3_000)
    return client


@pytest.mark.parametrize("where", ["sqlite", "memory"])
def test_stored_blocks_match_the_block_view(where: str, tmp_path: Path) -> None:
    genesis = make_genesis()
    if where == "sqlite":
        node = Node.create(SQLiteStorage(tmp_path / "chain.sqlite"), genesis)
    else:
        node = Node.in_memory(genesis)
    try:
        client = grow(node)
        stored = list(client.stored_blocks())
        assert [b.header.height for b in stored] == [1, 2, 3]
        for block in stored:
            view = client.block(block.header.height, transactions=True)
            entries = view.transactions or []
            assert [e.code for e in entries] == block.codes
            sizes = [e.transaction["size_bytes"] for e in entries]
            assert sizes == [len(raw) for raw in block.transactions]
            assert view.header.timestamp_ms == block.header.timestamp_ms
        assert stored[0].codes == [0] and stored[1].codes[0] != 0 and stored[2].codes == [0, 0]
        assert [b.header.height for b in client.stored_blocks(3)] == [3]
    finally:
        node.close()
