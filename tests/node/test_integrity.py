"""A node refuses to start on a damaged chain, naming the first bad or missing height.

A chain of eight blocks is grown once per module into a real SQLite file; each test works
on a copy, damages it with plain SQL (one byte of a stored block, of the head block, of a
receipt, an index column, a deleted row) and opens it as a node does: `Node.open_path`,
or `gridledger node` as a subprocess. Before this check the node started and served the
damage (`gridledger verify` alone found it).
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gridledger.cli import app
from gridledger.ledger import Genesis, genesis_hash
from gridledger.node import CorruptChain, Node, SQLiteStorage
from gridledger.node.integrity import check_chain
from tests.node.harness import free_port, grow_chain, one_line, run_cli, write_community

BLOCKS = 8
PER_BLOCK = 3
runner = CliRunner()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Genesis]:
    directory = tmp_path_factory.mktemp("pristine")
    genesis = write_community(directory)
    grow_chain(directory / "chain.sqlite", genesis, BLOCKS, PER_BLOCK)
    return directory, genesis


@pytest.fixture
def chain(pristine: tuple[Path, Genesis], tmp_path: Path) -> Path:
    """A fresh copy of the pristine community directory."""
    directory = tmp_path / "community"
    shutil.copytree(pristine[0], directory)
    return directory


def execute(directory: Path, sql: str, *params: object) -> None:
    with sqlite3.connect(directory / "chain.sqlite") as db:
        assert db.execute(sql, params).rowcount >= 1
    db.close()


def column(directory: Path, sql: str, *params: object) -> bytes:
    with sqlite3.connect(directory / "chain.sqlite") as db:
        value = db.execute(sql, params).fetchone()[0]
    db.close()
    return bytes(value)


def flip(blob: bytes, position: int, mask: int = 0x01) -> bytes:
    changed = bytearray(blob)
    changed[position] ^= mask
    return bytes(changed)


def flip_block_byte(directory: Path, height: int, position: int) -> None:
    blob = column(directory, "SELECT block FROM blocks WHERE height = ?", height)
    execute(directory, "UPDATE blocks SET block = ? WHERE height = ?", flip(blob, position), height)


def refusal(directory: Path) -> CorruptChain:
    """The error `Node.open_path` refuses the chain with (it must refuse)."""
    with pytest.raises(CorruptChain) as raised:
        Node.open_path(directory / "chain.sqlite").close()
    assert str(directory / "chain.sqlite") in str(raised.value)
    return raised.value


def test_a_sound_chain_opens(chain: Path) -> None:
    node = Node.open_path(chain / "chain.sqlite")
    try:
        assert node.head.height == BLOCKS
    finally:
        node.close()


@pytest.mark.parametrize("height", [1, 3, BLOCKS])
@pytest.mark.parametrize("where", ["first", "header", "transactions", "last"])
def test_a_flipped_byte_of_a_block_or_of_the_head_is_named(
    chain: Path, height: int, where: str
) -> None:
    size = len(column(chain, "SELECT block FROM blocks WHERE height = ?", height))
    position = {"first": 0, "header": 12, "transactions": size * 2 // 3, "last": size - 1}[where]
    flip_block_byte(chain, height, position)
    error = refusal(chain)
    assert error.height == height, str(error)


def test_every_flipped_byte_of_a_block_is_named(chain: Path) -> None:
    """Each byte of block 2 flipped in turn: the check names block 2 every time."""
    blob = column(chain, "SELECT block FROM blocks WHERE height = 2")
    db = sqlite3.connect(chain / "chain.sqlite", isolation_level=None)
    storage = SQLiteStorage(chain / "chain.sqlite")
    genesis = storage.genesis()
    assert genesis is not None
    parent = genesis_hash(genesis)
    missed: list[tuple[int, str]] = []
    try:
        for position in range(len(blob)):
            db.execute("UPDATE blocks SET block = ? WHERE height = 2", (flip(blob, position),))
            try:
                check_chain(storage, genesis.chain_id, parent)
            except CorruptChain as error:
                if error.height != 2:
                    missed.append((position, str(error)))
            else:
                missed.append((position, "passed"))
        db.execute("UPDATE blocks SET block = ? WHERE height = 2", (blob,))
        assert check_chain(storage, genesis.chain_id, parent).head.height == BLOCKS
    finally:
        storage.close()
        db.close()
    assert not missed, missed[:5]


def test_a_flipped_byte_of_a_receipt_is_named(chain: Path) -> None:
    receipt = column(chain, "SELECT receipt FROM transactions WHERE height = 5 AND position = 1")
    execute(
        chain,
        "UPDATE transactions SET receipt = ? WHERE height = 5 AND position = 1",
        flip(receipt, len(receipt) - 1),
    )
    error = refusal(chain)
    assert error.height == 5 and "results root" in error.reason


def test_a_changed_code_of_a_receipt_is_named(chain: Path) -> None:
    """The code inside the receipt, then the code column the API reads beside it."""
    receipt = column(chain, "SELECT receipt FROM transactions WHERE height = 4 AND position = 0")
    code_at = 3 + 32  # array of 4, bin 8 of 32 bytes (the id), then the code
    assert receipt[:3] == b"\x94\xc4\x20" and receipt[code_at] == 0  # ok
    execute(
        chain,
        "UPDATE transactions SET receipt = ? WHERE height = 4 AND position = 0",
        flip(receipt, code_at, 0x0E),  # ok -> insufficient_funds
    )
    assert refusal(chain).height == 4
    execute(chain, "UPDATE transactions SET receipt = ? WHERE height = 4 AND position = 0", receipt)
    execute(chain, "UPDATE transactions SET code = 14 WHERE height = 6 AND position = 2")
    error = refusal(chain)
    assert error.height == 6 and "index entry of transaction 2" in error.reason


def test_a_deleted_receipt_is_named(chain: Path) -> None:
    execute(chain, "DELETE FROM transactions WHERE height = 3 AND position = 0")
    error = refusal(chain)
    assert error.height == 3 and "2 receipts stored for 3 transactions" in error.reason


@pytest.mark.parametrize("height", [1, 4, BLOCKS])
def test_a_deleted_block_is_named_missing(chain: Path, height: int) -> None:
    execute(chain, "DELETE FROM blocks WHERE height = ?", height)
    error = refusal(chain)
    assert error.height == height and "missing" in error.reason, str(error)


def test_a_deleted_block_0_is_named_missing(chain: Path) -> None:
    execute(chain, "DELETE FROM blocks WHERE height = 0")
    error = refusal(chain)
    assert error.height == 0 and "missing" in error.reason


def test_a_block_0_of_another_genesis_document_is_named(chain: Path) -> None:
    other = sqlite3.connect(chain / "chain.sqlite")
    try:
        row = other.execute("SELECT value FROM meta WHERE key = 'genesis'").fetchone()
        stored = bytes(row[0])
        time_at = stored.index(b'"genesis_time_ms": ') + len(b'"genesis_time_ms": ')
        document = stored[:time_at] + b"1" + stored[time_at:]  # another genesis time
        other.execute("UPDATE meta SET value = ? WHERE key = 'genesis'", (document,))
        other.commit()
    finally:
        other.close()
    error = refusal(chain)
    assert error.height == 0 and "the genesis document" in error.reason, str(error)


def test_a_changed_hash_column_is_named(chain: Path) -> None:
    execute(chain, "UPDATE blocks SET hash = ? WHERE height = 6", b"\x01" * 32)
    assert refusal(chain).height == 6


def test_verify_names_a_deleted_block_as_missing(chain: Path) -> None:
    """Before, verify stopped at the hole and blamed a later block through the state."""
    execute(chain, "DELETE FROM blocks WHERE height = 4")
    result = runner.invoke(app, ["verify", "--dir", str(chain)])
    assert result.exit_code == 1
    assert "first bad block is 4: missing (the next stored block is 5)" in one_line(result.output)


def test_the_node_command_refuses_to_start_in_one_line(chain: Path) -> None:
    flip_block_byte(chain, BLOCKS, 12)  # the head's header
    result = run_cli("node", "--dir", str(chain), "--port", str(free_port()))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    message = one_line(result.stderr)
    assert f"refusing to start: block {BLOCKS}: stored block hash is not the hash" in message
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
