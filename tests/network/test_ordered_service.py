"""Peers in nats ordering mode, in one process on the in-memory log: same blocks, once each."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest

from gridledger.crypto import sha256
from gridledger.ledger import DuplicateTransaction, NonceMismatch
from gridledger.node import Node
from gridledger.node.ordered_service import OrderedService, PeerHalted
from gridledger.node.ordering import MemoryLog
from tests.community import CHAIN_ID, FOUNDERS, address, make_genesis, signed_raw
from tests.network.peers import RULES, Peer, peer_keys, same_head, wait_for

NAMES = ["p1", "p2", "p3", "p4"]


def transfers(sender: str, count: int, start: int = 0) -> list[bytes]:
    return [
        signed_raw(
            sender, start + i, "tokens", "transfer", {"to": address("bob"), "amount_micro": 1}
        )
        for i in range(count)
    ]


def clock_ms() -> int:
    return time.time_ns() // 1_000_000


def run(coroutine: Coroutine[Any, Any, None]) -> None:
    asyncio.run(asyncio.wait_for(coroutine, 60))


def block_sizes(peer: Peer) -> list[int]:
    """The transaction count of each block after genesis on `peer`."""
    sizes = []
    for height in range(1, peer.node.head.height + 1):
        block = peer.node.storage.block(height)
        assert block is not None
        sizes.append(block.header.transaction_count)
    return sizes


def test_two_peers_fed_by_both_sides_build_the_same_chain_and_finalize_it() -> None:
    async def scenario() -> None:
        log = MemoryLog(CHAIN_ID, clock_ms)
        genesis = make_genesis()
        peers = [await Peer.start(n, genesis, log, NAMES[:2]) for n in NAMES[:2]]
        try:
            a, b = peers
            admissions = await a.service.submit_many(transfers("alice", 120))
            assert all(x.error is None for x in admissions)
            await b.service.submit_many(transfers("carol", 30))
            await wait_for(lambda: same_head(peers, 3) and a.service.assembler.pending == 0)
            await wait_for(lambda: b.service.network_view().finalized_height == b.node.head.height)
            assert a.node.state.state_hash() == b.node.state.state_hash()
            view = a.service.network_view()
            assert view.mode == "nats" and view.alarm is None
            assert [p.agrees for p in view.peers] == [True, True]
            # at most 50 transactions a block (the rule), all 150 committed once
            counts = block_sizes(a)
            assert max(counts) <= 50 and sum(counts) == 150
        finally:
            for peer in peers:
                await peer.stop()

    run(scenario())


def test_the_same_transaction_submitted_to_two_peers_is_committed_once() -> None:
    async def scenario() -> None:
        log = MemoryLog(CHAIN_ID, clock_ms)
        genesis = make_genesis()
        peers = [await Peer.start(n, genesis, log, NAMES[:2]) for n in NAMES[:2]]
        try:
            raw = transfers("alice", 1)[0]
            await asyncio.gather(*(p.service.submit_many([raw]) for p in peers))
            # a copy appended past any duplicate window is skipped by the committed index too
            await wait_for(lambda: same_head(peers, 1))
            log.message_ids.clear()
            await log.publish_transactions([raw])
            await peers[0].service.submit_many(transfers("carol", 1))
            await wait_for(lambda: same_head(peers, 2))
            for peer in peers:
                rows = [peer.node.storage.find_transaction(sha256(raw))]
                assert rows[0] is not None and rows[0].height == 1
                total = sum(block_sizes(peer))
                assert total == 2
            # and a peer refuses a resubmission of what is committed before publishing it
            again = await peers[1].service.submit_many([raw])
            assert isinstance(again[0].error, DuplicateTransaction)
        finally:
            for peer in peers:
                await peer.stop()

    run(scenario())


def test_a_used_nonce_is_refused_before_publishing() -> None:
    async def scenario() -> None:
        log = MemoryLog(CHAIN_ID, clock_ms)
        peer = await Peer.start("p1", make_genesis(), log, ["p1"])
        try:
            await peer.service.submit_many(transfers("alice", 2))
            await wait_for(lambda: peer.node.head.height >= 1)
            stale = signed_raw(
                "alice", 0, "tokens", "transfer", {"to": address("bob"), "amount_micro": 7}
            )
            refused = (await peer.service.submit_many([stale]))[0]
            assert isinstance(refused.error, NonceMismatch)
            assert len(log.log) == 3  # two transactions and one marker: nothing more published
        finally:
            await peer.stop()

    run(scenario())


def test_a_peer_that_joins_late_replays_the_log_to_the_same_state() -> None:
    async def scenario() -> None:
        log = MemoryLog(CHAIN_ID, clock_ms)
        genesis = make_genesis()
        first = await Peer.start("p1", genesis, log, NAMES[:2])
        try:
            for start in range(0, 100, 25):
                await first.service.submit_many(transfers("alice", 25, start))
            await wait_for(
                lambda: first.node.head.height >= 2 and first.service.assembler.pending == 0
            )
            late = await Peer.start("p2", genesis, log, NAMES[:2])
            try:
                await wait_for(lambda: same_head([first, late]))
                assert late.node.state.state_hash() == first.node.state.state_hash()
                assert late.node.storage.log_position() == first.node.storage.log_position()
            finally:
                await late.stop()
        finally:
            await first.stop()

    run(scenario())


def test_a_peer_whose_chain_differs_stops_and_says_why_while_the_others_go_on() -> None:
    async def scenario() -> None:
        log = MemoryLog(CHAIN_ID, clock_ms)
        genesis = make_genesis()
        odd_genesis = make_genesis({**FOUNDERS, "alice": ("prosumer", 999)})  # same chain id
        peers = [
            await Peer.start(n, odd_genesis if n == "p4" else genesis, log, NAMES) for n in NAMES
        ]
        try:
            await peers[0].service.submit_many(transfers("carol", 5))
            odd = peers[3].service
            await wait_for(lambda: odd.network_view().halted, what="the odd peer to halt")
            alarm = odd.alarm or ""
            assert alarm.startswith("stopped committing at block 0") and "p1 attested" in alarm
            with pytest.raises(PeerHalted):
                await odd.submit_many(transfers("carol", 1, 5))
            good = peers[:3]
            await wait_for(lambda: same_head(good, 1))
            await wait_for(
                lambda: all(p.service.network_view().finalized_height >= 1 for p in good)
            )
            view = good[0].service.network_view()
            assert not view.halted and "p4" in (view.alarm or "")
            assert [p.agrees for p in view.peers] == [True, True, True, False]
            assert peers[3].node.head.height == 0  # it committed nothing after the conflict
        finally:
            for peer in peers:
                await peer.stop()

    run(scenario())


def test_a_solo_chain_cannot_become_a_nats_peer(tmp_path: Path) -> None:
    from gridledger.node import StorageError
    from tests.node.harness import grow_chain

    genesis = make_genesis()
    grow_chain(tmp_path / "solo.sqlite", genesis, blocks=2)
    node = Node.open_path(tmp_path / "solo.sqlite")
    try:
        with pytest.raises(StorageError, match="not built from an ordering log"):
            OrderedService(node, MemoryLog(CHAIN_ID, clock_ms), RULES, peer_keys("p1"), [], "p1")
    finally:
        node.close()


def test_a_published_transaction_is_pending_until_committed_never_unknown() -> None:
    async def scenario() -> None:
        log = MemoryLog(CHAIN_ID, clock_ms)
        peer = await Peer.start("p1", make_genesis(), log, ["p1"])
        try:
            raw = transfers("alice", 1)[0]
            tx_id = sha256(raw)
            assert not peer.service.is_pending(tx_id)
            await peer.service.submit_many([raw])
            # in the log, maybe not yet in a block: pending or committed, never unknown
            assert peer.service.is_pending(tx_id) or peer.node.storage.has_transaction(tx_id)
            await wait_for(lambda: peer.node.storage.has_transaction(tx_id))
            assert not peer.service.is_pending(tx_id)
        finally:
            await peer.stop()

    run(scenario())
