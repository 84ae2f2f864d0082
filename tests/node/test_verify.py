"""`gridledger verify` re-checks a stored chain from genesis and names the first bad block.

A chain of five blocks is grown once per module into a real SQLite file; each test works
on a copy, changes one byte of a stored block (``blocks.block``) or of the state tables
(``state.value``) with plain SQL, and runs the command (a subprocess for one case of each
kind, typer's CliRunner for the rest).
"""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gridledger.cli import app
from gridledger.contracts import default_registry
from gridledger.ledger import Genesis, apply_block, genesis_block
from gridledger.node import CorruptChain, SQLiteStorage
from gridledger.node.stored_forms import pack_key
from gridledger.node.verify import verify_storage
from tests.node.harness import grow_chain, one_line, run_cli, write_community
from tests.node.stored_rows import (
    canonical_block,
    namespace_number,
    raw_value,
    set_block,
    set_state_value,
    state_rows,
)

BLOCKS = 5
PER_BLOCK = 3
runner = CliRunner()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Genesis]:
    directory = tmp_path_factory.mktemp("pristine")
    genesis = write_community(directory)
    grow_chain(directory / "chain.sqlite", genesis, BLOCKS, PER_BLOCK)
    assert sorted(p.name for p in directory.iterdir()) == ["chain.sqlite", "genesis.json"]
    return directory, genesis


@pytest.fixture
def chain(pristine: tuple[Path, Genesis], tmp_path: Path) -> Path:
    """A fresh copy of the pristine community directory."""
    directory = tmp_path / "community"
    shutil.copytree(pristine[0], directory)
    return directory


@pytest.fixture(scope="module")
def last_writer(pristine: tuple[Path, Genesis]) -> dict[tuple[str, str], int]:
    """For each state entry, the height of the block that wrote it last (found by replay)."""
    directory, genesis = pristine
    registry = default_registry()
    block0, state = genesis_block(genesis, registry)
    writer = dict.fromkeys((key for key, _ in state.items()), 0)
    storage = SQLiteStorage(directory / "chain.sqlite")
    try:
        parent = block0.header
        for block in list(storage.blocks())[1:]:
            execution = apply_block(state, parent, block, registry)
            writer.update(dict.fromkeys(execution.writes, block.header.height))
            parent = block.header
    finally:
        storage.close()
    return {key: writer[key] for key, _ in state.items()}  # entries still in the state


def verify_cli(directory: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["verify", "--dir", str(directory)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, one_line(result.output)


def first_bad_block(output: str) -> int:
    found = re.search(r"first bad block is (\d+)", output)
    assert found, output
    return int(found.group(1))


def flip(blob: bytes, position: int, mask: int = 0x01) -> bytes:
    changed = bytearray(blob)
    changed[position] ^= mask
    return bytes(changed)


def tamper(directory: Path, sql: str, *params: object) -> None:
    with sqlite3.connect(directory / "chain.sqlite") as db:
        assert db.execute(sql, params).rowcount == 1
    db.close()


def stored_block(directory: Path, height: int) -> bytes:
    with sqlite3.connect(directory / "chain.sqlite") as db:
        blob = db.execute("SELECT block FROM blocks WHERE height = ?", (height,)).fetchone()[0]
    db.close()
    return bytes(blob)


# -- a sound chain -----------------------------------------------------------------------------


def test_sound_chain_exits_zero(chain: Path) -> None:
    result = run_cli("verify", "--dir", str(chain))
    assert result.returncode == 0, result.stderr
    assert f"chain is sound: {BLOCKS + 1} blocks, {BLOCKS * PER_BLOCK} transactions" in one_line(
        result.stdout
    )
    assert verify_cli(chain)[0] == 0
    code, output = verify_cli_db(chain / "chain.sqlite")
    assert code == 0 and "chain is sound" in output


def verify_cli_db(path: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["verify", "--db", str(path)])
    return result.exit_code, one_line(result.output)


def test_missing_chain_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    code, output = verify_cli(tmp_path)
    assert code == 1 and "chain.sqlite not found" in output
    (tmp_path / "chain.sqlite").write_text("not a database")
    code, output = verify_cli(tmp_path)
    assert code == 1 and "not a usable SQLite database" in output


# -- a changed byte in a stored block ----------------------------------------------------------


def test_changed_byte_in_a_block_is_named_by_the_command(chain: Path) -> None:
    blob = stored_block(chain, 3)
    tamper(chain, "UPDATE blocks SET block = ? WHERE height = 3", flip(blob, len(blob) // 2))
    result = run_cli("verify", "--dir", str(chain))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "chain is NOT sound: first bad block is 3" in one_line(result.stderr)


@pytest.mark.parametrize("height", range(1, BLOCKS + 1))
@pytest.mark.parametrize("where", ["first", "header", "transactions", "last"])
def test_changed_byte_anywhere_in_any_block_is_named(chain: Path, height: int, where: str) -> None:
    blob = stored_block(chain, height)
    position = {"first": 0, "header": 12, "transactions": len(blob) * 2 // 3, "last": -1}[where]
    tamper(chain, "UPDATE blocks SET block = ? WHERE height = ?", flip(blob, position), height)
    code, output = verify_cli(chain)
    assert code == 1, output
    assert first_bad_block(output) == height, output


def test_byte_changes_all_across_a_block_are_found(chain: Path) -> None:
    """Every third byte of block 2 and its last bytes, flipped in turn: each names block 2."""
    blob = stored_block(chain, 2)
    db = sqlite3.connect(chain / "chain.sqlite", isolation_level=None)
    storage = SQLiteStorage(chain / "chain.sqlite")
    missed: list[tuple[int, str]] = []
    try:
        for position in [*range(0, len(blob), 3), *range(len(blob) - 8, len(blob))]:
            db.execute("UPDATE blocks SET block = ? WHERE height = 2", (flip(blob, position),))
            try:
                verify_storage(storage)
            except CorruptChain as error:
                if error.height != 2:
                    missed.append((position, str(error)))
            else:
                missed.append((position, "verified as sound"))
        db.execute("UPDATE blocks SET block = ? WHERE height = 2", (blob,))
        assert verify_storage(storage).height == BLOCKS
    finally:
        storage.close()
        db.close()
    assert not missed, missed[:5]


def test_byte_change_that_breaks_utf8_in_a_block_is_named(chain: Path) -> None:
    """Inside a sound (uncompressed) frame: the canonical bytes themselves are changed."""
    blob = canonical_block(chain / "chain.sqlite", 4)
    position = blob.index(b"gridledger-test")  # the header's chain id, a string
    set_block(chain / "chain.sqlite", 4, flip(blob, position, 0x80))
    code, output = verify_cli(chain)
    assert code == 1 and first_bad_block(output) == 4, output


def test_changed_block_hash_column_is_named(chain: Path) -> None:
    tamper(chain, "UPDATE blocks SET hash = ? WHERE height = 2", b"\x01" * 32)
    code, output = verify_cli(chain)
    assert code == 1 and first_bad_block(output) == 2, output


def test_removed_last_block_is_found(chain: Path) -> None:
    tamper(chain, "DELETE FROM blocks WHERE height = ?", BLOCKS)
    code, output = verify_cli(chain)
    assert code == 1 and first_bad_block(output) == BLOCKS, output


def test_changed_receipt_is_named(chain: Path) -> None:
    with sqlite3.connect(chain / "chain.sqlite") as db:
        receipts = db.execute("SELECT receipts FROM blocks WHERE height = 3").fetchone()[0]
    db.close()
    tamper(
        chain,
        "UPDATE blocks SET receipts = ? WHERE height = 3",
        flip(bytes(receipts), len(receipts) - 1),
    )
    code, output = verify_cli(chain)
    assert code == 1 and first_bad_block(output) == 3, output


@pytest.mark.parametrize("column", ["id", "code"])
def test_changed_transaction_index_is_named(chain: Path, column: str) -> None:
    value = 0 if column == "id" else 13
    tamper(chain, f"UPDATE transactions SET {column} = ? WHERE height = 2 AND position = 0", value)
    code, output = verify_cli(chain)
    assert code == 1 and first_bad_block(output) == 2, output


# -- a changed byte in the state tables --------------------------------------------------------


def unpacked_state(directory: Path) -> list[tuple[str, str, bytes]]:
    """(namespace, key, canonical value) of every stored state entry, sorted."""
    storage = SQLiteStorage(directory / "chain.sqlite")
    try:
        return sorted((ns, key, value) for (ns, key), value in storage.load_state().items())
    finally:
        storage.close()


def test_changed_state_value_is_named_by_the_command(
    chain: Path, last_writer: dict[tuple[str, str], int]
) -> None:
    namespace, key, value = next(
        row for row in unpacked_state(chain) if last_writer[(row[0], row[1])] == BLOCKS - 1
    )
    path = chain / "chain.sqlite"
    set_state_value(path, namespace, key, raw_value(flip(value, len(value) - 1)))
    result = run_cli("verify", "--dir", str(chain))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    output = one_line(result.stderr)
    assert f"first bad block is {BLOCKS - 1}" in output
    assert f"{namespace}/{key}" in output and "altered" in output


@pytest.mark.parametrize("form", ["canonical", "stored"])
def test_every_changed_state_entry_names_the_block_that_wrote_it(
    chain: Path, last_writer: dict[tuple[str, str], int], form: str
) -> None:
    """Each entry's canonical value changed (stored uncompressed), or its stored form's
    first byte (the format byte): both name the block that wrote the entry, and the entry."""
    path = chain / "chain.sqlite"
    rows = unpacked_state(chain)
    stored = {(ns, key): value for ns, key, value in state_rows(path)}
    assert {(ns, key) for ns, key, _ in rows} == set(last_writer)
    assert any(height > 0 for height in last_writer.values())
    storage = SQLiteStorage(path)
    wrong: list[str] = []
    try:
        for namespace, key, value in rows:
            where = (namespace, key)
            original = stored[where]
            changed = (
                raw_value(flip(value, 0, 0x80)) if form == "canonical" else flip(original, 0, 0x80)
            )
            set_state_value(path, namespace, key, changed)
            try:
                verify_storage(storage)
                wrong.append(f"{namespace}/{key}: sound")
            except CorruptChain as error:
                if error.height != last_writer[where] or key not in error.reason:
                    wrong.append(f"{namespace}/{key}: {error} (wrote: {last_writer[where]})")
            set_state_value(path, namespace, key, original)
    finally:
        storage.close()
    assert not wrong, wrong


def test_removed_state_entry_is_found(chain: Path, last_writer: dict[tuple[str, str], int]) -> None:
    namespace, key, _ = next(row for row in unpacked_state(chain) if row[0] == "tokens")
    number = namespace_number(chain / "chain.sqlite", namespace)
    tamper(chain, "DELETE FROM state WHERE namespace = ? AND key = ?", number, pack_key(key))
    code, output = verify_cli(chain)
    assert code == 1 and first_bad_block(output) == last_writer[(namespace, key)], output
    assert f"{namespace}/{key} is missing" in output


def test_added_state_entry_is_found(chain: Path) -> None:
    number = namespace_number(chain / "chain.sqlite", "tokens")
    forged = (number, pack_key("balance/glforged"), raw_value(b"\xce\x00\xff\xff\xff"))
    tamper(chain, "INSERT INTO state VALUES (?, ?, ?, 2)", *forged)
    code, output = verify_cli(chain)
    assert code == 1 and first_bad_block(output) == 2, output
    assert "tokens/balance/glforged is added" in output
