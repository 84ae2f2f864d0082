"""Re-verify a stored chain from genesis: `verify_storage`.

Anyone holding a copy of the chain can check it without trusting whoever
wrote it. For every block: the stored hash is the hash of the stored header,
the header follows its parent, every transaction is re-checked (signature,
nonce, membership) and re-executed, and the receipts and state hash it
produces equal the ones recorded. At the end, the stored state tables must
equal the replayed state entry by entry. The first disagreement is reported
with the height of the block it belongs to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gridledger.contracts import Registry, default_registry
from gridledger.ledger import (
    BlockError,
    LedgerError,
    Receipt,
    apply_block,
    block_hash,
    genesis_block,
)
from gridledger.node.errors import CorruptChain
from gridledger.node.storage import SQLiteStorage


@dataclass(frozen=True, slots=True)
class VerifyReport:
    height: int
    """Height of the last verified block."""
    transactions: int
    head_hash: bytes
    state_hash: bytes


def verify_storage(
    storage: SQLiteStorage,
    registry: Registry | None = None,
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Replay the stored chain from its genesis; raise `CorruptChain` naming the first bad block."""
    registry = registry or default_registry()
    try:
        genesis = storage.genesis()
    except LedgerError as error:
        raise CorruptChain(0, f"genesis document unreadable: {error}") from error
    if genesis is None:
        raise CorruptChain(0, "no genesis document stored")
    block0, state = genesis_block(genesis, registry)
    parent = block0.header
    transactions = 0
    height = -1
    for block in _blocks(storage):
        height = block.header.height
        stored_hash = storage.stored_hash(height)
        if stored_hash != block_hash(block.header):
            raise CorruptChain(height, "stored block hash is not the hash of the stored header")
        if height == 0:
            if block_hash(block.header) != block_hash(block0.header):
                raise CorruptChain(0, "block 0 does not match the genesis document")
            continue
        if height != parent.height + 1:
            raise CorruptChain(parent.height + 1, f"missing; next stored block is {height}")
        try:
            execution = apply_block(state, parent, block, registry)
        except BlockError as error:
            raise CorruptChain(height, str(error).removeprefix(f"block {height}: ")) from error
        stored = storage.receipts(height)
        _check_index(storage, height, execution.receipts)
        if stored != execution.receipts:
            for position, (mine, theirs) in enumerate(
                zip(execution.receipts, stored, strict=False)
            ):
                if mine != theirs:
                    raise CorruptChain(height, f"stored receipt {position} differs from replay")
            raise CorruptChain(
                height, f"{len(stored)} receipts stored, {len(execution.receipts)} replayed"
            )
        transactions += len(block.transactions)
        parent = block.header
        if progress is not None:
            progress(height)
    if height < 0:
        raise CorruptChain(0, "no blocks stored")
    _compare_state(storage, dict(state.items()), parent.height)
    return VerifyReport(parent.height, transactions, block_hash(parent), state.state_hash())


def _blocks(storage: SQLiteStorage):  # type: ignore[no-untyped-def]
    height = 0
    while True:
        try:
            block = storage.block(height)
        except LedgerError as error:
            raise CorruptChain(height, f"stored block does not decode: {error}") from error
        if block is None:
            following = storage.next_height(height)
            if following is not None:
                raise CorruptChain(height, f"missing (the next stored block is {following})")
            return
        if block.header.height != height:
            raise CorruptChain(
                height, f"stored under height {height} but says {block.header.height}"
            )
        yield block
        height += 1


def _compare_state(
    storage: SQLiteStorage, replayed: dict[tuple[str, str], bytes], head_height: int
) -> None:
    stored = storage.load_state()
    heights = storage.state_heights()
    bad: list[tuple[int, str]] = []
    for key in sorted(set(stored) | set(replayed)):
        if stored.get(key) != replayed.get(key):
            what = (
                "altered"
                if key in stored and key in replayed
                else ("added" if key in stored else "missing")
            )
            height = heights.get(key, head_height)
            bad.append((height, f"state entry {key[0]}/{key[1]} is {what} in the stored state"))
    if bad:
        height, reason = min(bad)
        raise CorruptChain(height, reason)


def _check_index(storage: SQLiteStorage, height: int, receipts: list[Receipt]) -> None:
    """The transaction index (id prefix and code columns) must agree with the replayed receipts."""
    rows = storage.transaction_index(height)
    if len(rows) != len(receipts):
        raise CorruptChain(height, f"{len(rows)} transactions indexed, {len(receipts)} replayed")
    for (position, tx_id, code), receipt in zip(rows, receipts, strict=True):
        if tx_id != receipt.transaction_id[: len(tx_id)] or code != receipt.code:
            raise CorruptChain(height, f"transaction index entry {position} differs from replay")
