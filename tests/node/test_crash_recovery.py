"""A node killed with SIGKILL in the middle of a load run restarts with every transaction it
had reported as committed, and its state hash equals that of a fresh replay from genesis.

The node is a real `gridledger node` subprocess on a real SQLite file. A load thread streams
signed transfers from several accounts (MessagePack batches, pipelined nonces); a second
thread submits with ``wait=true``; a WebSocket listener on ``/v1/stream`` collects every
transaction the node reports as committed. The node is SIGKILLed while the load is still
running, restarted on the same directory, checked, loaded and killed again, `KILLS` times;
at the end the chain is re-verified from genesis (``gridledger verify``) and replayed with
`gridledger.ledger.replay`.

Some kills land while SQLite checkpoints, copying its write-ahead log into the chain file.
The node runs with ``--checkpoint-pages`` small, so it checkpoints every few blocks, and
every other kill waits until a checkpoint is under way. Whether one was is read from the
file SQLite shares between its connections (``chain.sqlite-shm``): the checkpoint records
the log frames it is about to copy (``nBackfillAttempted``) before it copies them and the
frames it has copied and synced (``nBackfill``) once done, so after the kill
``nBackfillAttempted > nBackfill`` says the process died inside the checkpoint.
"""

from __future__ import annotations

import json
import os
import random
import signal
import struct
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from gridledger.client import ClientError
from gridledger.client.replies import TransactionReply
from gridledger.contracts import default_registry
from gridledger.ledger import Genesis, replay
from gridledger.ledger import State as LedgerState
from gridledger.node import SQLiteStorage
from tests.community import FOUNDERS, address, signed_raw
from tests.node.harness import NodeProcess, one_line, run_cli, write_community
from tests.signing import signed_client, signer, stream_headers

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

LOAD_FOUNDERS: dict[str, tuple[str, int]] = {
    **FOUNDERS,
    **{f"load{i}": ("consumer", 1_000_000) for i in range(4)},
}
BATCH_SENDERS = ("alice", "bob", "carol", "dave", "load0", "load1", "load2", "load3")
WAIT_SENDER = "operator"
PER_SENDER_PER_BATCH = 25
COMMITTED_BEFORE_KILL = 100
"""Transactions the node must report committed (in this run) before it is killed."""
KILLS = 30
KILLS_IN_CHECKPOINT = 5
"""Of the kills aimed at a checkpoint (every other one), at least this many must land in one."""
WAIT_S = 60.0
CHECKPOINT_WAIT_S = 10.0
NODE_ARGS = (
    "--block-transactions",
    "50",
    "--block-timeout-ms",
    "10",
    "--checkpoint-pages",
    "100",
)
WAL_INDEX_BACKFILL = 96
"""Offset of ``nBackfill`` in SQLite's wal-index (two 48-byte headers, then WalCkptInfo)."""
WAL_INDEX_BACKFILL_ATTEMPTED = 128
"""Offset of ``nBackfillAttempted`` (after nBackfill, 5 read marks and 8 lock bytes)."""


def checkpoint_under_way(chain: Path) -> bool:
    """Whether SQLite's wal-index beside `chain` shows a checkpoint begun and not finished
    (see the module); its fields are in the machine's byte order."""
    try:
        with (chain.parent / f"{chain.name}-shm").open("rb") as shm:
            index = shm.read(WAL_INDEX_BACKFILL_ATTEMPTED + 4)
    except FileNotFoundError:
        return False
    if len(index) < WAL_INDEX_BACKFILL_ATTEMPTED + 4:
        return False
    (backfilled,) = struct.unpack_from("=I", index, WAL_INDEX_BACKFILL)
    (attempted,) = struct.unpack_from("=I", index, WAL_INDEX_BACKFILL_ATTEMPTED)
    return attempted > backfilled


def kill_in_checkpoint(node: NodeProcess, chain: Path) -> None:
    """SIGKILL the node as soon as a checkpoint is under way (or after `CHECKPOINT_WAIT_S`)."""
    assert node.process is not None
    shm = chain.parent / f"{chain.name}-shm"
    deadline = time.monotonic() + CHECKPOINT_WAIT_S
    descriptor = os.open(shm, os.O_RDONLY)
    try:
        while time.monotonic() < deadline:
            index = os.pread(descriptor, WAL_INDEX_BACKFILL_ATTEMPTED + 4, 0)
            (backfilled,) = struct.unpack_from("=I", index, WAL_INDEX_BACKFILL)
            (attempted,) = struct.unpack_from("=I", index, WAL_INDEX_BACKFILL_ATTEMPTED)
            if attempted > backfilled:
                break
    finally:
        os.close(descriptor)
    node.kill()


@dataclass
class Reported:
    """What the node told its clients: transaction id -> (height, result code)."""

    committed: dict[str, tuple[int, int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, tx_id: str, height: int, code: int) -> None:
        with self.lock:
            previous = self.committed.setdefault(tx_id, (height, code))
        assert previous == (height, code), f"{tx_id} reported twice, differently"

    def __len__(self) -> int:
        with self.lock:
            return len(self.committed)

    def snapshot(self) -> dict[str, tuple[int, int]]:
        with self.lock:
            return dict(self.committed)


@dataclass
class LoadRun:
    """One run of load against one node process, until the node dies."""

    url: str
    chain_id: str
    reported: Reported
    stop: threading.Event = field(default_factory=threading.Event)
    rejections: list[str] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    stream_ready: threading.Event = field(default_factory=threading.Event)
    in_run: int = 0

    def listen(self) -> None:
        """Collect committed transactions from the WebSocket stream until the node dies."""
        try:
            ws_url = self.url.replace("http://", "ws://") + "/v1/stream"
            with connect(
                ws_url, additional_headers=stream_headers(ws_url), open_timeout=10
            ) as socket:
                hello = json.loads(socket.recv(timeout=10))
                assert hello["type"] == "hello"
                self.stream_ready.set()
                while True:
                    try:
                        message = json.loads(socket.recv(timeout=0.5))
                    except TimeoutError:
                        if self.stop.is_set():
                            return
                        continue
                    assert message["type"] == "block"
                    height = message["header"]["height"]
                    for tx in message["transactions"]:
                        self.reported.add(tx["id"], height, tx["code"])
                        self.in_run += 1
        except (ConnectionClosed, OSError):
            return  # the node was killed
        except BaseException as error:  # pragma: no cover - reported by the test
            self.errors.append(error)
        finally:
            self.stream_ready.set()

    def load(self) -> None:
        """Send batches of pipelined transfers from several accounts until the node dies."""
        client = signed_client(self.url, timeout_s=30)
        nonces: dict[str, int | None] = dict.fromkeys(BATCH_SENDERS)
        round_ = 0
        try:
            while not self.stop.is_set():
                raws: list[bytes] = []
                senders: list[str] = []
                for sender in BATCH_SENDERS:
                    nonce = nonces[sender]
                    if nonce is None:
                        nonce = client.account(address(sender)).nonce
                    for _ in range(PER_SENDER_PER_BATCH):
                        recipient = BATCH_SENDERS[(BATCH_SENDERS.index(sender) + 1 + round_) % 8]
                        if recipient == sender:
                            recipient = WAIT_SENDER
                        raws.append(
                            signed_raw(
                                sender,
                                nonce,
                                "tokens",
                                "transfer",
                                {"to": address(recipient), "amount_micro": 1},
                                chain_id=self.chain_id,
                            )
                        )
                        senders.append(sender)
                        nonce += 1
                    nonces[sender] = nonce
                result = client.submit_batch(raws)
                for sender, outcome in zip(senders, result.results, strict=True):
                    if outcome.status != "pending":
                        # a refused transaction did not use its nonce: ask the node again
                        self.rejections.append(f"{sender}: {outcome.error}")
                        nonces[sender] = None
                round_ += 1
        except ClientError:
            return  # the node was killed (connection refused or reset)
        except BaseException as error:  # pragma: no cover - reported by the test
            self.errors.append(error)
        finally:
            client.close()

    def wait_and_submit(self) -> None:
        """Submit transfers one at a time with ``wait=true``; a 200 is a commit report."""
        client = signed_client(self.url, timeout_s=30)
        try:
            nonce = client.account(address(WAIT_SENDER)).nonce
            while not self.stop.is_set():
                raw = signed_raw(
                    WAIT_SENDER,
                    nonce,
                    "tokens",
                    "transfer",
                    {"to": address("alice"), "amount_micro": 1},
                    chain_id=self.chain_id,
                )
                view = client.submit(raw, wait=True, timeout_ms=20_000)
                if isinstance(view, TransactionReply):
                    self.reported.add(view.id, view.block.height, view.code)
                    assert view.height == view.block.height
                    nonce += 1
                else:
                    nonce = client.account(address(WAIT_SENDER)).nonce
        except ClientError:
            return
        except BaseException as error:  # pragma: no cover - reported by the test
            self.errors.append(error)
        finally:
            client.close()


@contextmanager
def threads(*targets: threading.Thread) -> Iterator[None]:
    for thread in targets:
        thread.start()
    try:
        yield
    finally:
        for thread in targets:
            thread.join(timeout=WAIT_S)
        assert not any(t.is_alive() for t in targets), "a client thread did not finish"


def load_and_kill(
    node: NodeProcess, chain_id: str, reported: Reported, in_checkpoint: Path | None = None
) -> LoadRun:
    """Load the running node until it has reported enough commits, then SIGKILL it mid-load
    (with `in_checkpoint`, the chain file: once a checkpoint of it is under way)."""
    run = LoadRun(node.url, chain_id, reported)
    listener = threading.Thread(target=run.listen, name="stream")
    loader = threading.Thread(target=run.load, name="load")
    waiter = threading.Thread(target=run.wait_and_submit, name="wait")
    try:
        with threads(listener):
            assert run.stream_ready.wait(WAIT_S)
            with threads(loader, waiter):
                deadline = time.monotonic() + WAIT_S
                while run.in_run < COMMITTED_BEFORE_KILL:
                    assert time.monotonic() < deadline, (
                        f"the node reported {run.in_run} commits in {WAIT_S} s; "
                        f"refused: {run.rejections[:5]}; node log: {node.logs()}"
                    )
                    assert not run.errors, run.errors
                    assert loader.is_alive(), "the load ended before the node was killed"
                    time.sleep(0.01)
                assert loader.is_alive() and waiter.is_alive(), "the kill must land mid-load"
                if in_checkpoint is None:
                    node.kill()
                else:
                    kill_in_checkpoint(node, in_checkpoint)
                run.stop.set()
    finally:  # whatever failed, the clients end (the node is stopped by the fixture)
        run.stop.set()
    assert not run.errors, run.errors
    return run


def check_restarted(node: NodeProcess, reported: dict[str, tuple[int, int]]) -> dict[str, Any]:
    """Every reported commit is in the restarted node's chain at the same height, same code.

    Each block holding a reported transaction is fetched once (``/v1/blocks/{height}``);
    a sample of the transactions is also looked up by id (``/v1/transactions/{id}``).
    """
    expected: dict[int, dict[str, int]] = defaultdict(dict)
    for tx_id, (height, code) in reported.items():
        expected[height][tx_id] = code
    with httpx.Client(base_url=node.url, timeout=30, auth=signer()) as http:
        head = http.get("/v1/head").json()
        assert head["height"] >= max(expected), (head["height"], max(expected))
        lost: list[str] = []
        for height, codes in sorted(expected.items()):
            block = http.get(f"/v1/blocks/{height}")
            assert block.status_code == 200, block.text
            found = {tx["id"]: tx["code"] for tx in block.json()["transactions"]}
            lost.extend(tx_id for tx_id in codes if tx_id not in found)
            assert {i: found[i] for i in codes if i in found} == {
                i: c for i, c in codes.items() if i in found
            }
        assert not lost, f"{len(lost)} transactions reported committed are lost: {lost[:3]}"
        for tx_id in random.Random(len(reported)).sample(sorted(reported), min(25, len(reported))):
            view = http.get(f"/v1/transactions/{tx_id}").json()
            assert view["status"] == "committed", view
            assert (view["height"], view["code"]) == reported[tx_id]
    return dict(head)


def replayed_state_hash(path: Path, genesis: Genesis) -> tuple[str, int]:
    """State hash of replaying the stored blocks from genesis, and the head height."""
    storage = SQLiteStorage(path)
    try:
        blocks = list(storage.blocks())
        state, head = replay(genesis, blocks, default_registry())
        stored = LedgerState.from_entries(storage.load_state()).state_hash()
    finally:
        storage.close()
    assert stored == state.state_hash(), "stored state tables differ from the replay"
    return state.state_hash().hex(), head.height


def test_sigkill_mid_load_loses_nothing_reported_committed(
    tmp_path: Path, start_node: Callable[..., NodeProcess]
) -> None:
    directory = tmp_path / "community"
    chain = directory / "chain.sqlite"
    genesis = write_community(directory, LOAD_FOUNDERS)
    reported = Reported()
    checked: set[str] = set()
    landed_in_checkpoint = 0

    for kill in range(KILLS):
        # restarted, it has everything reported so far; loaded again, it is killed again
        node = start_node(directory, *NODE_ARGS)
        fresh = {i: seen for i, seen in reported.snapshot().items() if i not in checked}
        if fresh:
            check_restarted(node, fresh)
            checked.update(fresh)
        aim = chain if kill % 2 == 1 else None
        load_and_kill(node, genesis.chain_id, reported, in_checkpoint=aim)
        assert node.process is not None and node.process.returncode == -signal.SIGKILL
        landed_in_checkpoint += checkpoint_under_way(chain)
    print(f"{KILLS} kills, {landed_in_checkpoint} inside a checkpoint, {len(reported)} reported")
    assert landed_in_checkpoint >= KILLS_IN_CHECKPOINT

    committed = reported.snapshot()
    assert len(committed) >= KILLS * COMMITTED_BEFORE_KILL
    node = start_node(directory, *NODE_ARGS)
    head = check_restarted(node, committed)  # nothing reported committed is lost
    # the restarted node carries on: a new transfer commits on top of the recovered head
    with signed_client(node.url) as client:
        nonce = client.account(address("carol")).nonce
        raw = signed_raw(
            "carol", nonce, "tokens", "transfer", {"to": address("dave"), "amount_micro": 7}
        )
        view = client.submit(raw, wait=True)
        assert isinstance(view, TransactionReply) and view.code == 0
        assert view.height == head["height"] + 1
        final = client.head()
    node.stop()

    verified = run_cli("verify", "--dir", str(directory))
    assert verified.returncode == 0, verified.stderr
    assert "chain is sound" in one_line(verified.stdout)

    state_hash, height = replayed_state_hash(directory / "chain.sqlite", genesis)
    assert height == final.height
    assert state_hash == final.state_hash == final.header.state_hash
