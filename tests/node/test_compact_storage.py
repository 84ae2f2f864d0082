"""Compact storage: packed rows give back the canonical bytes, and old files are never misread.

Pure forms (key packing, receipt tails, the codec) get property tests; the SQLite file is
checked end to end: a chain whose rows are packed with trained dictionaries has the same
head hash as the same chain held in memory, reopens, and re-verifies; a schema-1 file is
refused with a message naming the command that converts it, and that command converts it
into a file that opens at the same head and state.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gridledger.cli import app
from gridledger.ledger import Event, Genesis, Receipt, block_hash, dump_genesis, encode
from gridledger.node import CorruptChain, Node, SQLiteStorage, StorageError
from gridledger.node.compression import Codec, Dictionary, UnpackError, train
from gridledger.node.storage_migrate import migrate_chain
from gridledger.node.storage_schema import SchemaMismatch
from gridledger.node.stored_forms import (
    FormError,
    id_prefix,
    pack_key,
    receipt_bytes,
    receipt_tail,
    unpack_key,
)
from gridledger.node.verify import verify_storage
from tests.community import GENESIS_TIME_MS, address, make_genesis, signed_raw
from tests.node.harness import one_line

runner = CliRunner()

# -- pure forms --------------------------------------------------------------------------------

keys = st.one_of(
    st.text(max_size=80),
    st.builds(
        lambda prefix, digits, suffix: f"{prefix}{digits}{suffix}",
        st.sampled_from(["balance/gl", "reading/gl", "anchor/", "", "x\x00"]),
        st.text(alphabet="0123456789abcdefABCDEF", max_size=600),
        st.text(max_size=12),
    ),
)


@given(keys)
def test_packed_keys_unpack_to_the_same_key(key: str) -> None:
    assert unpack_key(pack_key(key)) == key


@given(keys, keys)
def test_different_keys_pack_differently(first: str, second: str) -> None:
    assert (pack_key(first) == pack_key(second)) == (first == second)


def test_an_address_key_packs_its_hex_digits_as_bytes() -> None:
    key = "balance/gl" + "0123456789abcdef" * 2 + "01234567"
    assert pack_key(key) == b"balance/gl\x00\x14" + bytes.fromhex(key[10:])
    assert len(pack_key(key)) == len(key) - 18


@pytest.mark.parametrize("stored", [b"a\x00", b"a\x00\x05ab", b"\x00\x01", b"\xff\xfe"])
def test_a_damaged_packed_key_is_refused(stored: bytes) -> None:
    with pytest.raises(FormError):
        unpack_key(stored)


values = st.one_of(st.integers(-(2**63), 2**63 - 1), st.text(max_size=20))
receipts = st.builds(
    Receipt,
    st.binary(min_size=32, max_size=32),
    st.integers(0, 2**40),
    st.text(max_size=40),
    st.lists(
        st.builds(
            Event,
            st.text(max_size=10),
            st.text(max_size=10),
            st.dictionaries(st.text(max_size=8), values, max_size=4),
        ),
        max_size=4,
    ),
    st.dictionaries(st.text(max_size=8), values, max_size=3),
)


@given(receipts)
def test_a_receipt_tail_gives_back_the_canonical_receipt(receipt: Receipt) -> None:
    raw = encode(receipt)
    tail = receipt_tail(raw)
    assert receipt.transaction_id not in tail or receipt.transaction_id in raw[35:]
    assert receipt_bytes(tail, receipt.transaction_id, receipt.code) == raw


@pytest.mark.parametrize(
    "raw", [b"", b"\x94", b"\x93\xc4\x20" + bytes(40), b"\x94\xc4\x10" + bytes(40)]
)
def test_bytes_that_are_not_a_receipt_are_refused(raw: bytes) -> None:
    with pytest.raises(FormError):
        receipt_tail(raw)


def test_id_prefix_is_a_signed_64_bit_integer() -> None:
    assert id_prefix(b"\xff" * 32) == -1
    assert id_prefix(b"\x7f" + b"\xff" * 31) == 2**63 - 1


samples = [
    encode({"member": f"gl{i:040x}", "energy_wh": i * 7, "kind": "order"}) for i in range(400)
]


@settings(max_examples=50)
@given(st.binary(max_size=3000), st.booleans())
def test_packed_values_unpack_to_the_same_bytes(data: bytes, with_dictionary: bool) -> None:
    codec = Codec([DICTIONARY] if with_dictionary else [])
    assert codec.unpack(codec.pack("state", data)) == data


DICTIONARY = Dictionary(1, "state", b"")  # replaced below by a trained one


def setup_module() -> None:
    global DICTIONARY
    trained = train("state", 1, samples * 30)
    assert trained is not None
    DICTIONARY = trained


def test_a_dictionary_shrinks_small_values() -> None:
    plain, trained = Codec(), Codec([DICTIONARY])
    value = encode({"member": f"gl{7:040x}", "energy_wh": 49, "kind": "order"})
    assert len(trained.pack("state", value)) < len(plain.pack("state", value)) < len(value) + 2
    assert trained.pack("state", value)[0] == 2  # format byte: dictionary 1


@pytest.mark.parametrize(
    ("stored", "reason"),
    [
        (b"", "empty"),
        (b"\x07abc", "dictionary 6, which is not stored"),
        (b"\x01\x00\x01\x02", "does not decompress"),
    ],
)
def test_bytes_that_are_not_packed_are_refused(stored: bytes, reason: str) -> None:
    with pytest.raises(UnpackError, match=reason):
        Codec().unpack(stored)


def test_too_few_samples_train_no_dictionary() -> None:
    assert train("block", 1, samples[:50]) is None


# -- a chain file ------------------------------------------------------------------------------


def grow(node: Node, blocks: int, per_block: int = 20) -> None:
    nonces: dict[str, int] = {}
    names = ("alice", "bob", "carol", "dave")
    for height in range(node.head.height + 1, node.head.height + blocks + 1):
        for i in range(per_block):
            sender = names[(height + i) % 4]
            nonce = nonces.get(sender, node_nonce(node, sender))
            nonces[sender] = nonce + 1
            args = {"to": address(names[(height + i + 1) % 4]), "amount_micro": height * 100 + i}
            node.submit(signed_raw(sender, nonce, "tokens", "transfer", args))
        assert node.cut_block(GENESIS_TIME_MS + 1_000 * height) is not None


def node_nonce(node: Node, name: str) -> int:
    from gridledger.ledger.execution import read_nonce

    return read_nonce(node.state, address(name))


@pytest.fixture
def packed_chain(tmp_path: Path) -> tuple[Path, Node]:
    """A chain of 6 blocks on disk (the last 3 packed with trained dictionaries), and the
    same chain in memory."""
    genesis = make_genesis()
    path = tmp_path / "chain.sqlite"
    on_disk = Node.create(SQLiteStorage(path), genesis)
    in_memory = Node.in_memory(genesis)
    for node in (on_disk, in_memory):
        grow(node, 3, 40)
    storage = on_disk.storage
    assert isinstance(storage, SQLiteStorage)
    # transfers write only balances and nonces, too few bytes to train a state dictionary on
    assert [d.kind for d in storage.train_dictionaries()] == ["block", "receipts"]
    for node in (on_disk, in_memory):
        grow(node, 3, 40)
    on_disk.close()
    return path, in_memory


def test_a_packed_chain_has_the_head_hash_of_the_chain_in_memory(
    packed_chain: tuple[Path, Node],
) -> None:
    path, in_memory = packed_chain
    with sqlite3.connect(path) as db:
        kinds = [kind for (kind,) in db.execute("SELECT kind FROM dictionaries ORDER BY id")]
        formats = [bytes(b)[0] for (b,) in db.execute("SELECT block FROM blocks ORDER BY height")]
    db.close()
    assert kinds == ["block", "receipts"]
    assert formats == [1, 1, 1, 1, 2, 2, 2]  # no dictionary, then dictionary 1
    node = Node.open_path(path)
    try:
        assert node.head_hash == in_memory.head_hash
        assert node.state.state_hash() == in_memory.state.state_hash()
        for height in range(node.head.height + 1):
            assert node.storage.block(height) == in_memory.storage.block(height)
            assert node.storage.receipts(height) == in_memory.storage.receipts(height)
        receipt = in_memory.storage.receipts(5)[3]
        found = node.storage.find_transaction(receipt.transaction_id)
        assert found is not None and (found.height, found.position) == (5, 3)
        assert found.receipt == receipt
        assert not node.storage.has_transaction(receipt.transaction_id[:8] + bytes(24))
        mine = node.storage.transactions_of(address("alice"), 5)
        assert mine == in_memory.storage.transactions_of(address("alice"), 5)
    finally:
        node.close()
    storage = SQLiteStorage(path)
    try:
        assert verify_storage(storage).head_hash == in_memory.head_hash
    finally:
        storage.close()


def test_receipts_are_stored_without_the_ids_the_block_holds(
    packed_chain: tuple[Path, Node],
) -> None:
    path, in_memory = packed_chain
    codec_rows = sqlite3.connect(path)
    try:
        stored = codec_rows.execute("SELECT receipts FROM blocks WHERE height = 2").fetchone()[0]
        dictionaries = codec_rows.execute("SELECT id, kind, data FROM dictionaries").fetchall()
    finally:
        codec_rows.close()
    codec = Codec([Dictionary(i, kind, bytes(data)) for i, kind, data in dictionaries])
    tails = msgspec.msgpack.decode(codec.unpack(bytes(stored)), type=list[bytes])
    for tail, receipt in zip(tails, in_memory.storage.receipts(2), strict=True):
        assert receipt.transaction_id not in tail
        assert len(tail) < len(encode(receipt)) - 32


def test_the_size_command_reports_bytes_per_table(packed_chain: tuple[Path, Node]) -> None:
    path, _ = packed_chain
    result = runner.invoke(app, ["chain", "size", "--db", str(path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["transactions"] == 240 and report["blocks"] == 7
    assert {"blocks", "transactions", "state", "transactions_by_id"} <= set(report["tables"])
    assert [d["kind"] for d in report["dictionaries"]] == ["block", "receipts"]
    text = runner.invoke(app, ["chain", "size", "--db", str(path)])
    assert text.exit_code == 0 and "bytes per transaction" in one_line(text.output)


# -- schema versions ---------------------------------------------------------------------------

V1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE blocks (height INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, block BLOB NOT NULL);
CREATE TABLE transactions (
    height INTEGER NOT NULL, position INTEGER NOT NULL, id BLOB NOT NULL, code INTEGER NOT NULL,
    sender TEXT NOT NULL, receipt BLOB NOT NULL, PRIMARY KEY (height, position)
) WITHOUT ROWID;
CREATE INDEX transactions_by_id ON transactions (id);
CREATE INDEX transactions_by_sender ON transactions (sender, height);
CREATE TABLE state (
    namespace TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, height INTEGER NOT NULL,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID;
"""


def write_v1(path: Path, node: Node, genesis: Genesis) -> None:
    """The chain `node` holds (in memory), written as gridledger wrote chain files before
    compression (schema version 1)."""
    storage = node.storage
    db = sqlite3.connect(path)
    db.executescript(V1_SCHEMA)
    db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (encode(1),))
    db.execute("INSERT INTO meta VALUES ('genesis', ?)", (dump_genesis(genesis),))
    db.execute("INSERT INTO meta VALUES ('log_position', ?)", (encode(77),))
    heights = storage.state_heights()
    for height in range(node.head.height + 1):
        block = storage.block(height)
        assert block is not None
        db.execute(
            "INSERT INTO blocks VALUES (?, ?, ?)", (height, block_hash(block.header), encode(block))
        )
        senders = storage._senders[height]  # type: ignore[attr-defined]
        for position, receipt in enumerate(storage.receipts(height)):
            db.execute(
                "INSERT INTO transactions VALUES (?, ?, ?, ?, ?, ?)",
                (
                    height,
                    position,
                    receipt.transaction_id,
                    receipt.code,
                    senders[position],
                    encode(receipt),
                ),
            )
    for (namespace, key), value in storage.load_state().items():
        db.execute(
            "INSERT INTO state VALUES (?, ?, ?, ?)",
            (namespace, key, value, heights[(namespace, key)]),
        )
    db.commit()
    db.close()


@pytest.fixture
def v1_chain(tmp_path: Path) -> tuple[Path, Node]:
    genesis = make_genesis()
    node = Node.in_memory(genesis)
    grow(node, 5)
    path = tmp_path / "chain.sqlite"
    write_v1(path, node, genesis)
    return path, node


def test_an_old_chain_file_is_refused_untouched_naming_the_migration(
    v1_chain: tuple[Path, Node],
) -> None:
    path, _ = v1_chain
    before = path.read_bytes()
    with pytest.raises(SchemaMismatch, match=r"schema version 1.*gridledger chain migrate"):
        SQLiteStorage(path)
    with pytest.raises(StorageError, match="gridledger chain migrate"):
        Node.open_path(path)
    assert path.read_bytes() == before
    result = runner.invoke(app, ["verify", "--db", str(path)])
    assert result.exit_code == 1 and "chain migrate" in one_line(result.output)


def test_a_newer_chain_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "chain.sqlite"
    SQLiteStorage(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (encode(3),))
    db.close()
    with pytest.raises(SchemaMismatch, match=r"schema version 3.*newer gridledger"):
        SQLiteStorage(path)


def test_migration_converts_an_old_file_to_the_same_chain(v1_chain: tuple[Path, Node]) -> None:
    path, in_memory = v1_chain
    before = path.read_bytes()
    result = runner.invoke(app, ["chain", "migrate", "--db", str(path)])
    assert result.exit_code == 0, result.output
    assert "migrated" in one_line(result.output)
    assert path.with_name("chain.sqlite.v1").read_bytes() == before
    node = Node.open_path(path)
    try:
        assert node.head_hash == in_memory.head_hash
        assert node.state.state_hash() == in_memory.state.state_hash()
        assert node.storage.log_position() == 77
        assert node.storage.receipts(3) == in_memory.storage.receipts(3)
        assert node.storage.state_heights() == in_memory.storage.state_heights()
    finally:
        node.close()
    storage = SQLiteStorage(path)
    try:
        assert verify_storage(storage).head_hash == in_memory.head_hash
    finally:
        storage.close()
    again = runner.invoke(app, ["chain", "migrate", "--db", str(path)])
    assert again.exit_code == 1 and "exists already" in one_line(again.output)
    path.with_name("chain.sqlite.v1").unlink()
    again = runner.invoke(app, ["chain", "migrate", "--db", str(path)])
    assert again.exit_code == 1 and "only version 1 is migrated" in one_line(again.output)


@pytest.mark.parametrize("damage", ["code column", "receipt bytes"])
def test_migration_of_a_damaged_old_file_keeps_the_original(
    v1_chain: tuple[Path, Node], damage: str
) -> None:
    path, _ = v1_chain
    with sqlite3.connect(path) as db:
        if damage == "code column":
            db.execute("UPDATE transactions SET code = 13 WHERE height = 2 AND position = 0")
        else:
            where = "WHERE height = 2 AND position = 0"
            receipt = bytearray(
                db.execute(f"SELECT receipt FROM transactions {where}").fetchone()[0]
            )
            receipt[-1] ^= 1
            db.execute(f"UPDATE transactions SET receipt = ? {where}", (bytes(receipt),))
    db.close()
    before = path.read_bytes()
    with pytest.raises(CorruptChain, match="block 2"):
        migrate_chain(path)
    assert path.read_bytes() == before
    assert not path.with_name("chain.sqlite.v1").exists()


def test_a_trainer_without_enough_samples_tries_again_after_more_transactions() -> None:
    from gridledger.node.compression import FIRST_TRAINING, Trainer

    trainer = Trainer(Codec(), seen=0)
    trainer.sample([b"x" * 40] * 10, [], [])
    trainer.counted(FIRST_TRAINING)  # starts a training that finds too few samples
    trainer.close()
    assert trainer.take_trained() == []
    trainer.sample(samples * 30, samples * 30, samples * 30)
    trainer.counted(FIRST_TRAINING)
    trainer.close()
    assert [d.kind for d in trainer.take_trained()] == ["block", "receipts", "state"]


def test_the_chain_commands_refuse_bad_files_with_a_message(
    v1_chain: tuple[Path, Node], tmp_path: Path
) -> None:
    path, _ = v1_chain
    for command in ("size", "migrate"):
        missing = runner.invoke(app, ["chain", command, "--db", str(tmp_path / "none.sqlite")])
        assert missing.exit_code == 1 and "not found" in one_line(missing.output)
    old = runner.invoke(app, ["chain", "size", "--db", str(path)])
    assert old.exit_code == 1 and "schema version 1" in one_line(old.output)
    (tmp_path / "text.sqlite").write_text("not a database")
    for command in ("size", "migrate"):
        bad = runner.invoke(app, ["chain", command, "--db", str(tmp_path / "text.sqlite")])
        assert isinstance(bad.exception, SystemExit), bad.exception
        assert bad.exit_code == 1 and "not a usable SQLite database" in one_line(bad.output)
