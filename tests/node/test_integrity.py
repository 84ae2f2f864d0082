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

import msgspec
import pytest
from typer.testing import CliRunner

from gridledger.cli import app
from gridledger.ledger import Genesis, genesis_hash
from gridledger.node import CorruptChain, Node, SQLiteStorage
from gridledger.node.compression import Codec
from gridledger.node.integrity import check_chain
from tests.node.harness import free_port, grow_chain, one_line, run_cli, write_community
from tests.node.stored_rows import canonical_block, set_block

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
    """Flip one byte of the stored (compressed) block."""
    blob = column(directory, "SELECT block FROM blocks WHERE height = ?", height)
    execute(directory, "UPDATE blocks SET block = ? WHERE height = ?", flip(blob, position), height)


def flip_canonical_byte(directory: Path, height: int, position: int) -> None:
    """Flip one byte of the block's canonical bytes and store them uncompressed."""
    path = directory / "chain.sqlite"
    set_block(path, height, flip(canonical_block(path, height), position))


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
@pytest.mark.parametrize("form", ["stored", "canonical"])
def test_a_flipped_byte_of_a_block_or_of_the_head_is_named(
    chain: Path, height: int, where: str, form: str
) -> None:
    """A byte of the compressed row, or of the canonical bytes inside a sound frame."""
    if form == "stored":
        size = len(column(chain, "SELECT block FROM blocks WHERE height = ?", height))
    else:
        size = len(canonical_block(chain / "chain.sqlite", height))
    position = {"first": 0, "header": 12, "transactions": size * 2 // 3, "last": size - 1}[where]
    (flip_block_byte if form == "stored" else flip_canonical_byte)(chain, height, position)
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


def test_a_flipped_byte_of_the_receipts_is_named(chain: Path) -> None:
    receipts = column(chain, "SELECT receipts FROM blocks WHERE height = 5")
    for position in (0, len(receipts) // 2, len(receipts) - 1):
        execute(
            chain,
            "UPDATE blocks SET receipts = ? WHERE height = 5",
            flip(receipts, position),
        )
        error = refusal(chain)
        assert error.height == 5, str(error)
    execute(chain, "UPDATE blocks SET receipts = ? WHERE height = 5", receipts)
    assert Node.open_path(chain / "chain.sqlite").head.height == BLOCKS


def test_a_changed_message_inside_sound_receipts_is_named(chain: Path) -> None:
    """Receipts that decompress and decode, but say something else: the results root."""
    stored = column(chain, "SELECT receipts FROM blocks WHERE height = 5")
    tails = msgspec.msgpack.decode(Codec().unpack(stored), type=list[bytes])
    tails[1] = tails[1][:1] + msgspec.msgpack.encode("forged") + tails[1][2:]
    execute(
        chain,
        "UPDATE blocks SET receipts = ? WHERE height = 5",
        b"\x00" + msgspec.msgpack.encode(tails),
    )
    error = refusal(chain)
    assert error.height == 5 and "results root" in error.reason


def test_a_changed_code_of_a_receipt_is_named(chain: Path) -> None:
    """The code is stored once, in the index; changing it changes the receipt's bytes."""
    execute(chain, "UPDATE transactions SET code = 14 WHERE height = 6 AND position = 2")
    error = refusal(chain)
    assert error.height == 6 and "results root" in error.reason


def test_a_changed_id_prefix_in_the_index_is_named(chain: Path) -> None:
    execute(chain, "UPDATE transactions SET id = 0 WHERE height = 4 AND position = 0")
    error = refusal(chain)
    assert error.height == 4 and "index entry of transaction 0" in error.reason


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
    flip_canonical_byte(chain, BLOCKS, 12)  # the head's header
    result = run_cli("node", "--dir", str(chain), "--port", str(free_port()))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    message = one_line(result.stderr)
    assert f"refusing to start: block {BLOCKS}: stored block hash is not the hash" in message
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
