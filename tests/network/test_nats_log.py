"""`NatsLog` against real nats-server processes: idempotent publishes, markers, replay, restart."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from gridledger.crypto import sha256
from gridledger.node import Node
from gridledger.node.nats_ordering import NatsLog, ack_outcome, hpub_command
from gridledger.node.nats_pull import entry_position, status_of
from gridledger.node.ordering import CUT, TRANSACTION, LogEntry
from tests.community import CHAIN_ID, make_genesis
from tests.network.harness import Cluster
from tests.network.peers import Peer, same_head, wait_for
from tests.network.test_ordered_service import transfers


async def read(log: NatsLog, start: int, count: int) -> list[LogEntry]:
    found: list[LogEntry] = []
    async for entry in log.entries(start):
        found.append(entry)
        if len(found) == count:
            return found
    return found


def test_publishing_is_idempotent_and_the_log_can_be_read_from_any_sequence(
    nats_cluster: Callable[[int], Cluster],
) -> None:
    cluster = nats_cluster(1)

    async def scenario() -> None:
        log = NatsLog(cluster.urls, CHAIN_ID, 1)
        await log.connect()
        try:
            raws = transfers("alice", 3)
            await log.publish_transactions(raws)
            await log.publish_transactions(raws[1:])  # resubmitted: stored once
            await log.publish_cut(1)
            await log.publish_cut(1)  # a second peer's marker for the same block
            await log.publish_transactions(transfers("carol", 1))
            entries = await asyncio.wait_for(read(log, 1, 5), 30)
            assert [(e.sequence, e.kind) for e in entries] == [
                (1, TRANSACTION),
                (2, TRANSACTION),
                (3, TRANSACTION),
                (4, CUT),
                (5, TRANSACTION),
            ]
            assert [e.payload for e in entries[:3]] == raws and entries[3].payload == b"1"
            assert all(e.timestamp_ms > 1_700_000_000_000 for e in entries)
            assert [e.timestamp_ms for e in entries] == sorted(e.timestamp_ms for e in entries)
            later = await asyncio.wait_for(read(log, 4, 2), 30)
            assert later == entries[3:]
        finally:
            await log.close()

    asyncio.run(scenario())


def test_entry_positions_are_read_from_both_reply_subject_forms() -> None:
    assert entry_position("$JS.ACK.S.C.1.42.7.1795334155532626325.0") == (42, 1795334155532)
    assert entry_position("$JS.ACK.dom.acc.S.C.1.42.7.1795334155532626325.0.x") == (
        42,
        1795334155532,
    )


def test_entry_positions_are_read_from_bytes_too() -> None:
    assert entry_position(b"$JS.ACK.S.C.1.42.7.1795334155532626325.0") == (42, 1795334155532)


def test_raw_publishes_and_answers_are_framed_and_read_as_nats_does() -> None:
    command = hpub_command(b"gl.c.order.tx", b"_INBOX.x.7", "ab" * 32, b"\x00payload")
    header = b"NATS/1.0\r\nNats-Msg-Id: " + b"ab" * 32 + b"\r\n\r\n"
    assert command == b"HPUB gl.c.order.tx _INBOX.x.7 %d %d\r\n%s\x00payload\r\n" % (
        len(header),
        len(header) + 8,
        header,
    )
    assert status_of(b"NATS/1.0 404 No Messages\r\n\r\n") == b"404"
    assert status_of(b"NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Stream: 4\r\n\r\n") == b"100"
    assert status_of(b"NATS/1.0\r\nNats-Msg-Id: 1\r\n\r\n") is None
    assert status_of(b"") is None
    assert ack_outcome(b'{"stream":"S","seq":12}', b"") == ""
    assert ack_outcome(b'{"stream":"S","seq":12,"duplicate":true}', b"") == ""
    refused = b'{"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"}}'
    assert "maximum messages exceeded" in ack_outcome(refused, b"")
    assert ack_outcome(b"", b"NATS/1.0 503\r\n\r\n") == "status 503"
    assert ack_outcome(b"", b"") == "no answer"


def test_peers_on_a_replicated_stream_agree_and_a_restarted_peer_resumes_from_its_position(
    nats_cluster: Callable[[int], Cluster], tmp_path: Path
) -> None:
    cluster = nats_cluster(3)
    genesis = make_genesis()
    names = ["p1", "p2"]

    async def scenario() -> None:
        logs = [NatsLog(cluster.urls, CHAIN_ID, 3, name=n) for n in names]
        nodes = [Node.open_path(tmp_path / f"{n}.sqlite", genesis) for n in names]
        peers = [
            await Peer.start(n, genesis, log, names, node=node)
            for n, log, node in zip(names, logs, nodes, strict=True)
        ]
        try:
            first = transfers("alice", 60) + transfers("carol", 40)
            await peers[0].service.submit_many(first[:60])
            await peers[1].service.submit_many(first[60:])
            first_ids = [sha256(raw) for raw in first]
            # every one of the 100 committed on both peers, not only two equal heads: a head
            # can agree while the log still holds entries neither peer has read
            await wait_for(
                lambda: (
                    same_head(peers, 2)
                    and not peers[1].service.assembler.pending
                    and all(p.node.storage.has_transaction(i) for p in peers for i in first_ids)
                ),
                60,
            )
            await wait_for(
                lambda: all(
                    p.service.network_view().finalized_height == p.node.head.height for p in peers
                ),
                60,
            )
            await peers[1].stop()  # then read where it stopped: nothing commits after this
            height, position = peers[1].node.head.height, peers[1].node.storage.log_position()
            assert position >= 100  # the 100 transactions, and any markers among them
            peers[1].node.close()
            await peers[0].service.submit_many(transfers("alice", 30, 60))
            await wait_for(lambda: peers[0].node.head.height > height, 60)
            reopened = Node.open_path(tmp_path / "p2.sqlite")
            assert reopened.head.height == height and reopened.storage.log_position() == position
            peers[1] = await Peer.start(
                "p2", genesis, NatsLog(cluster.urls, CHAIN_ID, 3), names, node=reopened
            )
            await wait_for(lambda: same_head(peers) and not peers[1].service.assembler.pending, 60)
            assert peers[0].node.state.state_hash() == peers[1].node.state.state_hash()
            ids = [sha256(raw) for raw in transfers("alice", 90)]
            assert all(peers[1].node.storage.has_transaction(i) for i in ids)
        finally:
            for peer in peers:
                await peer.stop()
                peer.node.close()

    asyncio.run(asyncio.wait_for(scenario(), 180))
