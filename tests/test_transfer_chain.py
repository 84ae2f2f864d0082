"""`benchmarks/transfer_chain.py` writes a chain of plain transfers that verifies."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks.transfer_chain import build

from gridledger.bench import BenchError
from gridledger.ledger import decode_transaction
from gridledger.node import SQLiteStorage
from gridledger.node.keystore import KeyFileError
from gridledger.node.verify import verify_storage


def test_a_chain_of_transfers_in_whole_blocks_verifies(tmp_path: Path) -> None:
    figures = build(tmp_path / "chain", transactions=50, accounts=10, block=20)
    assert figures["blocks"] == 4  # genesis and 20 + 20 + 10 transfers
    storage = SQLiteStorage(tmp_path / "chain" / "chain.sqlite")
    try:
        report = verify_storage(storage)
        calls = {
            (signed.transaction.contract, signed.transaction.method)
            for block in storage.blocks()
            for signed in map(decode_transaction, block.transactions)
        }
    finally:
        storage.close()
    assert report.transactions == 50 and report.head_hash.hex() == figures["head_hash"]
    assert calls == {("tokens", "transfer")}


def test_a_directory_that_holds_a_community_is_refused(tmp_path: Path) -> None:
    build(tmp_path, transactions=4, accounts=2, block=4)
    with pytest.raises(KeyFileError, match="already exists"):
        build(tmp_path, transactions=4, accounts=2, block=4)


def test_fewer_than_two_accounts_are_refused(tmp_path: Path) -> None:
    with pytest.raises(BenchError, match="at least 2"):
        build(tmp_path, transactions=4, accounts=1, block=4)
