"""A chain file that lost acknowledged blocks is refused at start, naming both heights.

Before, truncating the write-ahead log of a killed node rolled back the blocks it had
acknowledged, and the node started on the older chain without a word. The crash is made
in process: a second SQLite connection stays open while the node closes, so SQLite does
not checkpoint the log into the database file, and the files are copied as a crash
leaves them; then the copy's log is truncated, or an older copy of the database file is
put back.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gridledger.ledger import Genesis, read_nonce
from gridledger.node import ChainBehind, Node
from gridledger.node.acknowledged import (
    SLOT_OFFSETS,
    AcknowledgedHeight,
    Mark,
    acknowledged_path,
    rollbacks_path,
)
from tests.community import address, signed_raw
from tests.node.harness import NodeProcess, free_port, one_line, run_cli, write_community

CHECKPOINTED = 3
"""Blocks copied into the database file before the crash."""
ACKNOWLEDGED = 8
"""Blocks committed (and so acknowledged) before the crash."""
T0 = 1_700_000_000_000


def grow(node: Node, up_to: int) -> None:
    """Commit one transfer per block until the head is `up_to`."""
    while node.head.height < up_to:
        nonce = read_nonce(node.state, address("alice"))
        node.submit(
            signed_raw(
                "alice", nonce, "tokens", "transfer", {"to": address("bob"), "amount_micro": 1}
            )
        )
        assert node.cut_block(T0 + 1_000 * (node.head.height + 1)) is not None


@pytest.fixture(scope="module")
def crashed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Genesis]:
    """The files of a node that committed 8 blocks, 3 of them checkpointed, then crashed."""
    running = tmp_path_factory.mktemp("running")
    genesis = write_community(running)
    path = running / "chain.sqlite"
    node = Node.open_path(path, genesis)
    keeper = sqlite3.connect(path)  # holds the log open: no checkpoint when the node closes
    try:
        grow(node, CHECKPOINTED)
        keeper.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        grow(node, ACKNOWLEDGED)
        node.close()  # also waits for the acknowledged height to be written
        image = tmp_path_factory.mktemp("crashed")
        for name in ("genesis.json", "chain.sqlite", "chain.sqlite-wal", "chain.acknowledged"):
            shutil.copy(running / name, image / name)
    finally:
        keeper.close()
    return image, genesis


@pytest.fixture
def chain(crashed: tuple[Path, Genesis], tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "community"
    shutil.copytree(crashed[0], directory)
    yield directory


def test_the_crash_image_itself_opens_at_the_acknowledged_head(chain: Path) -> None:
    node = Node.open_path(chain / "chain.sqlite")
    try:
        assert node.head.height == ACKNOWLEDGED
    finally:
        node.close()


def test_a_lost_write_ahead_log_is_refused_naming_both_heights(chain: Path) -> None:
    os.truncate(chain / "chain.sqlite-wal", 0)
    with pytest.raises(ChainBehind) as refused:
        Node.open_path(chain / "chain.sqlite")
    error = refused.value
    assert (error.acknowledged_height, error.stored_height) == (ACKNOWLEDGED, CHECKPOINTED)
    assert f"block {ACKNOWLEDGED} was acknowledged as committed" in str(error)
    assert f"ends at block {CHECKPOINTED}: 5 acknowledged block(s) are lost" in str(error)
    assert "--accept-rollback" in str(error)


def test_a_log_truncated_mid_way_is_refused(chain: Path) -> None:
    wal = chain / "chain.sqlite-wal"
    os.truncate(wal, wal.stat().st_size // 2)
    with pytest.raises(ChainBehind) as refused:
        Node.open_path(chain / "chain.sqlite")
    assert refused.value.acknowledged_height == ACKNOWLEDGED
    assert refused.value.stored_height is not None
    assert CHECKPOINTED <= refused.value.stored_height < ACKNOWLEDGED


def test_an_older_copy_of_the_database_file_is_refused(
    chain: Path, crashed: tuple[Path, Genesis]
) -> None:
    older = chain.parent / "older"
    older.mkdir()
    shutil.copy(chain / "genesis.json", older / "genesis.json")
    node = Node.open_path(older / "chain.sqlite", crashed[1])
    grow(node, 2)
    node.close()
    shutil.copy(older / "chain.sqlite", chain / "chain.sqlite")  # put back, with no log
    (chain / "chain.sqlite-wal").unlink()
    with pytest.raises(ChainBehind) as refused:
        Node.open_path(chain / "chain.sqlite")
    assert (refused.value.acknowledged_height, refused.value.stored_height) == (ACKNOWLEDGED, 2)


def test_a_deleted_chain_file_is_not_silently_started_afresh(
    chain: Path, crashed: tuple[Path, Genesis]
) -> None:
    for name in ("chain.sqlite", "chain.sqlite-wal"):
        (chain / name).unlink()
    with pytest.raises(ChainBehind, match="holds no blocks"):
        Node.open_path(chain / "chain.sqlite", crashed[1])


def test_another_block_at_the_acknowledged_height_is_refused(chain: Path) -> None:
    marks = AcknowledgedHeight(acknowledged_path(chain / "chain.sqlite"))
    marks.write(Mark(5, b"\x07" * 32))
    marks.close()
    with pytest.raises(ChainBehind, match="holds another block 5 than the one acknowledged"):
        Node.open_path(chain / "chain.sqlite")


def test_accepting_the_rollback_records_it_and_the_node_goes_on(chain: Path) -> None:
    os.truncate(chain / "chain.sqlite-wal", 0)
    node = Node.open_path(chain / "chain.sqlite", accept_rollback=True)
    try:
        assert node.head.height == CHECKPOINTED
        grow(node, CHECKPOINTED + 2)
    finally:
        node.close()
    [line] = rollbacks_path(chain / "chain.sqlite").read_text().splitlines()
    assert f"block {ACKNOWLEDGED} (" in line and f"ends at block {CHECKPOINTED} (" in line
    again = Node.open_path(chain / "chain.sqlite")  # the new blocks are the acknowledged ones
    try:
        assert again.head.height == CHECKPOINTED + 2
    finally:
        again.close()


def test_a_torn_write_spoils_one_slot_and_the_other_holds(tmp_path: Path) -> None:
    path = tmp_path / "chain.acknowledged"
    marks = AcknowledgedHeight(path)
    for height in (1, 2, 3):
        marks.write(Mark(height, bytes([height]) * 32))
    marks.close()
    data = bytearray(path.read_bytes())
    newest = SLOT_OFFSETS[3 % 2]  # sequence 3 went to this slot
    data[newest + 20] ^= 0xFF
    path.write_bytes(bytes(data))
    reopened = AcknowledgedHeight(path)
    try:
        assert reopened.durable == Mark(2, b"\x02" * 32)
        reopened.write(Mark(4, b"\x04" * 32))  # into the spoiled slot
    finally:
        reopened.close()
    reopened = AcknowledgedHeight(path)
    try:
        assert reopened.durable == Mark(4, b"\x04" * 32)
    finally:
        reopened.close()


def test_the_node_command_refuses_then_accepts_the_rollback(chain: Path) -> None:
    os.truncate(chain / "chain.sqlite-wal", 0)
    result = run_cli("node", "--dir", str(chain), "--port", str(free_port()))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    message = one_line(result.stderr)
    assert f"block {ACKNOWLEDGED} was acknowledged as committed" in message
    assert f"ends at block {CHECKPOINTED}" in message
    with NodeProcess(chain, ["--accept-rollback"]) as node:
        url = node.start()
        assert httpx.get(url + "/v1/head").json()["header"]["height"] == CHECKPOINTED
    assert rollbacks_path(chain / "chain.sqlite").exists()
    with NodeProcess(chain) as node:  # accepted once: it starts without the option again
        url = node.start()
        assert httpx.get(url + "/v1/head").json()["header"]["height"] == CHECKPOINTED
