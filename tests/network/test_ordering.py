"""The block rule of `node/ordering.py`: boundaries are a function of the log alone."""

from __future__ import annotations

import random

import pytest

from gridledger.crypto import sha256
from gridledger.node.ordering import (
    CUT,
    TRANSACTION,
    BlockAssembler,
    BlockCut,
    LogEntry,
    OrderingRules,
    cut_message_id,
    marker_height,
    marker_payload,
)


def tx(n: int, size: int = 100) -> bytes:
    return n.to_bytes(4, "big") + bytes(size - 4)


def entries(*items: tuple[str, bytes]) -> list[LogEntry]:
    return [
        LogEntry(i + 1, 1_000 + 10 * i, kind, payload) for i, (kind, payload) in enumerate(items)
    ]


def fold(
    log: list[LogEntry], rules: OrderingRules, committed: set[bytes] | None = None
) -> tuple[list[BlockCut], BlockAssembler]:
    assembler = BlockAssembler(rules, 1, lambda tx_id: tx_id in (committed or set()))
    cuts = []
    for entry in log:
        cuts.extend(assembler.apply(entry))
    return cuts, assembler


def test_a_marker_closes_the_open_block_with_its_own_timestamp_and_sequence() -> None:
    log = entries((TRANSACTION, tx(1)), (TRANSACTION, tx(2)), (CUT, marker_payload(1)))
    cuts, assembler = fold(log, OrderingRules())
    assert [(c.height, c.transactions, c.timestamp_ms, c.last_sequence) for c in cuts] == [
        (1, [tx(1), tx(2)], 1_020, 3)
    ]
    assert assembler.height == 2 and assembler.pending == 0


def test_only_the_first_marker_for_a_height_counts_and_stale_ones_are_ignored() -> None:
    log = entries(
        (TRANSACTION, tx(1)),
        (CUT, marker_payload(1)),
        (TRANSACTION, tx(2)),
        (CUT, marker_payload(1)),  # a second peer's late marker for block 1: stale
        (CUT, marker_payload(7)),  # a marker for a height not open: ignored
        (TRANSACTION, tx(3)),
        (CUT, marker_payload(2)),
    )
    cuts, _ = fold(log, OrderingRules())
    assert [(c.height, c.transactions) for c in cuts] == [(1, [tx(1)]), (2, [tx(2), tx(3)])]


def test_a_marker_for_an_empty_block_makes_no_block() -> None:
    cuts, assembler = fold(entries((CUT, marker_payload(1))), OrderingRules())
    assert cuts == [] and assembler.height == 1


def test_the_transaction_limit_closes_a_block_without_a_marker() -> None:
    log = entries(*[(TRANSACTION, tx(i)) for i in range(5)])
    cuts, assembler = fold(log, OrderingRules(max_transactions=2))
    assert [(c.height, len(c.transactions), c.last_sequence) for c in cuts] == [
        (1, 2, 2),
        (2, 2, 4),
    ]
    assert assembler.pending == 1 and assembler.height == 3


def test_the_byte_limit_closes_the_block_before_the_transaction_that_would_overflow_it() -> None:
    log = entries((TRANSACTION, tx(1, 600)), (TRANSACTION, tx(2, 600)), (CUT, marker_payload(2)))
    cuts, _ = fold(log, OrderingRules(max_bytes=1024))
    # block 1 ends at its last entry (sequence 1, its timestamp); block 2 at the marker
    assert [(c.height, c.transactions, c.timestamp_ms, c.last_sequence) for c in cuts] == [
        (1, [tx(1, 600)], 1_000, 1),
        (2, [tx(2, 600)], 1_020, 3),
    ]


def test_duplicates_and_committed_transactions_are_skipped() -> None:
    log = entries(
        (TRANSACTION, tx(1)),
        (TRANSACTION, tx(1)),
        (TRANSACTION, tx(9)),
        (CUT, marker_payload(1)),
    )
    cuts, _ = fold(log, OrderingRules(), committed={sha256(tx(9))})
    assert [c.transactions for c in cuts] == [[tx(1)]]


def test_two_peers_that_start_at_different_places_build_the_same_blocks() -> None:
    log = entries(
        *[(TRANSACTION, tx(i)) for i in range(3)],
        (CUT, marker_payload(1)),
        *[(TRANSACTION, tx(i)) for i in range(3, 8)],
        (CUT, marker_payload(2)),
        (TRANSACTION, tx(8)),
        (CUT, marker_payload(3)),
    )
    rules = OrderingRules(max_transactions=4)
    whole, _ = fold(log, rules)
    # a peer restarted after block 1 reads from the entry after block 1's closing entry
    first = whole[0]
    committed = {sha256(raw) for raw in first.transactions}
    resumed = BlockAssembler(rules, 2, lambda tx_id: tx_id in committed)
    rest = [cut for entry in log[first.last_sequence :] for cut in resumed.apply(entry)]
    assert rest == whole[1:]


def test_marker_payloads_and_ids() -> None:
    assert marker_height(marker_payload(42)) == 42
    assert marker_height(b"not a height") is None
    assert cut_message_id("c", 3) == "cut-c-3"


@pytest.mark.parametrize("options", [{"max_transactions": 0}, {"max_bytes": 10}, {"timeout_ms": 0}])
def test_rules_refuse_nonsense(options: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        OrderingRules(**options)


def committing_fold(log: list[LogEntry], rules: OrderingRules) -> list[BlockCut]:
    """Entry by entry, each closed block committed before the next entry (the old committer)."""
    committed: set[bytes] = set()
    assembler = BlockAssembler(rules, 1, committed.__contains__)
    cuts = []
    for entry in log:
        for cut in assembler.apply(entry):
            committed.update(sha256(raw) for raw in cut.transactions)
            cuts.append(cut)
    return cuts


@pytest.mark.parametrize("seed", range(20))
def test_applying_a_batch_cuts_the_same_blocks_as_applying_entry_by_entry(seed: int) -> None:
    chooser = random.Random(seed)
    items: list[tuple[str, bytes]] = []
    height = 1
    for _ in range(400):
        roll = chooser.random()
        if roll < 0.15:  # a marker: for the open block, an older one, or a later one
            items.append((CUT, marker_payload(max(1, height + chooser.choice([-1, 0, 0, 1])))))
            height += 1
        else:  # a transaction, often a resubmission of an earlier one (committed or pending)
            n = chooser.randrange(60) if roll < 0.4 else chooser.randrange(10_000)
            items.append((TRANSACTION, tx(n, chooser.choice([100, 700]))))
    log = entries(*items)
    rules = OrderingRules(max_transactions=chooser.choice([3, 7, 50]), max_bytes=2048)
    expected = committing_fold(log, rules)

    committed: set[bytes] = set()
    assembler = BlockAssembler(rules, 1, committed.__contains__)
    cuts: list[BlockCut] = []
    position = 0
    while position < len(log):  # batches of any size, each block committed after its batch
        size = chooser.choice([1, 2, 5, 40, 400])
        batch = log[position : position + size]
        position += size
        lookup = (lambda ids: {i for i in ids if i in committed}) if seed % 2 else None
        for cut in assembler.apply_all(batch, lookup):
            committed.update(sha256(raw) for raw in cut.transactions)
            cuts.append(cut)
    assert cuts == expected
    assert len(expected) > 5
