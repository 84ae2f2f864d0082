"""Corrections by consent (seed 004 §2.3): a settled trade is corrected only by a
transaction signed by buyer, seller and regulator, recorded beside it, never replacing it;
corrections chain; the regulator flags for audit and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.contracts.corrections import (
    MAX_CORRECTIONS,
    MAX_FLAGS,
    all_flags,
    corrections_for_period,
    corrections_of,
    flags_of,
)
from gridledger.contracts.market_state import trades_for_period
from gridledger.contracts.settlement import read_statement
from gridledger.ledger import ResultCode
from tests.community import Community, address, balances, commit_at, run_at
from tests.contracts.test_settlement import GATE, SETTLE, T0, P, place, read, setup_meters

PARTIES = ["alice", "carol", "regulator"]
"""alice sold to carol; the regulator consents with them."""


@pytest.fixture
def settled() -> Community:
    return settled_community()


def settled_community() -> Community:
    """Period P settled with one trade: alice sold 2000 Wh to carol for 1_620_000."""
    community = Community.create()
    setup_meters(community)
    place(community, T0, "carol", "buy", 2000, 830_000, P)
    place(community, T0 + 1, "alice", "sell", 2000, 790_000, P)
    assert run_at(community, GATE, "dave", "market", "clear", {"period": P}).ok
    read(community, "alice-meter-1", "alice", 1500, 200)
    read(community, "carol-meter-1", "carol", 0, 2300)
    assert run_at(community, SETTLE, "dave", "settlement", "settle", {"period": P}).ok
    return community


def correction(sequence: int = 0, refund_micro: int = 100_000, **extra: Any) -> dict[str, Any]:
    return {
        "trade_id": f"{P}-t0",
        "sequence": sequence,
        "refund_micro": refund_micro,
        "energy_wh": 1500,
        "reason": "alice delivered 1500 Wh of the 2000 Wh sold; metering fault confirmed",
        **extra,
    }


def submit(community: Community, sender: str, signers: list[str], args: dict[str, Any]) -> Any:
    raw = community.multisig_tx(sender, signers, ("corrections", "correct", args))
    [receipt] = commit_at(community, SETTLE + 10 + community.head.height, [raw])
    return receipt


def test_a_correction_signed_by_both_parties_and_the_regulator(settled: Community) -> None:
    before = balances(settled.state)
    supply = settled.supply()
    [trade] = trades_for_period(settled.state, P)
    statement = read_statement(settled.state, P, address("alice"))
    receipt = submit(settled, "carol", PARTIES, correction())
    assert receipt.ok, receipt.message
    after = balances(settled.state)
    assert after[address("alice")] == before[address("alice")] - 100_000
    assert after[address("carol")] == before[address("carol")] + 100_000
    assert settled.supply() == supply == sum(after.values())
    # recorded beside the original, which stays as it was
    assert trades_for_period(settled.state, P) == [trade]
    assert read_statement(settled.state, P, address("alice")) == statement
    [recorded] = corrections_of(settled.state, trade.trade_id)
    assert (recorded.refund_micro, recorded.energy_wh, recorded.original_energy_wh) == (
        100_000,
        1500,
        2000,
    )
    assert recorded.signers == sorted(address(n) for n in PARTIES)
    assert corrections_for_period(settled.state, P) == [recorded]


def test_a_correction_without_the_regulator_is_refused(settled: Community) -> None:
    supply, before = settled.supply(), balances(settled.state)
    receipt = submit(settled, "carol", ["alice", "carol"], correction())
    assert receipt.code == ResultCode.CONSENT_MISSING
    assert "an active regulator" in receipt.message
    assert balances(settled.state) == before and settled.supply() == supply
    assert corrections_of(settled.state, f"{P}-t0") == []


@pytest.mark.parametrize(
    ("absent", "signers"), [("seller", ["carol", "regulator"]), ("buyer", ["alice", "regulator"])]
)
def test_a_correction_without_a_party_is_refused(
    settled: Community, absent: str, signers: list[str]
) -> None:
    sender = signers[0]
    receipt = submit(settled, sender, signers, correction())
    assert receipt.code == ResultCode.CONSENT_MISSING
    assert absent in receipt.message


def test_the_regulator_alone_cannot_correct(settled: Community) -> None:
    receipt = run_at(settled, SETTLE + 5, "regulator", "corrections", "correct", correction())
    assert receipt.code == ResultCode.CONSENT_MISSING


def test_a_correction_of_an_unknown_trade_is_refused(settled: Community) -> None:
    for trade_id in (f"{P}-t9", "nonsense", f"{P}-t", "-t0", f"{P}-t-1", "9" * 40 + "-t0"):
        receipt = submit(settled, "carol", PARTIES, correction(trade_id=trade_id))
        assert receipt.code == ResultCode.UNKNOWN_TRADE, trade_id


def test_a_correction_of_an_unsettled_trade_is_refused() -> None:
    community = Community.create()
    place(community, T0, "carol", "buy", 2000, 830_000, P)
    place(community, T0 + 1, "alice", "sell", 2000, 790_000, P)
    assert run_at(community, GATE, "dave", "market", "clear", {"period": P}).ok
    receipt = submit(community, "carol", PARTIES, correction())
    assert receipt.code == ResultCode.TRADE_NOT_SETTLED


def test_corrections_chain_and_stay_within_the_trade_value(settled: Community) -> None:
    assert submit(settled, "carol", PARTIES, correction(0, 100_000)).ok
    stale = submit(settled, "alice", PARTIES, correction(0, 50_000))
    assert stale.code == ResultCode.CORRECTION_OUT_OF_ORDER
    assert "next correction is 1" in stale.message
    # the trade's value is 1_620_000: refunds add up to at most that, either way
    too_much = submit(settled, "alice", PARTIES, correction(1, 1_520_001))
    assert too_much.code == ResultCode.AMOUNT_OUT_OF_RANGE
    back = submit(settled, "alice", PARTIES, correction(1, -60_000, energy_wh=1800))
    assert back.ok, back.message
    chain = corrections_of(settled.state, f"{P}-t0")
    assert [(c.sequence, c.refund_micro, c.energy_wh) for c in chain] == [
        (0, 100_000, 1500),
        (1, -60_000, 1800),
    ]


def test_a_trade_is_corrected_at_most_so_many_times(settled: Community) -> None:
    for sequence in range(MAX_CORRECTIONS):
        assert submit(settled, "carol", PARTIES, correction(sequence, 0)).ok
    receipt = submit(settled, "carol", PARTIES, correction(MAX_CORRECTIONS, 0))
    assert receipt.code == ResultCode.CORRECTION_LIMIT_REACHED


def test_a_party_that_cannot_pay_is_refused(settled: Community) -> None:
    receipt = submit(settled, "carol", PARTIES, correction(0, -1_620_000))
    assert receipt.code == ResultCode.INSUFFICIENT_FUNDS  # carol holds less than that


def test_the_regulator_flags_and_nothing_changes(settled: Community) -> None:
    before = balances(settled.state)
    args = {"kind": "trade", "subject": f"{P}-t0", "reason": "price far above the period's"}
    receipt = run_at(settled, SETTLE + 5, "regulator", "corrections", "flag", args)
    assert receipt.ok, receipt.message
    tx_flag = {"kind": "transaction", "subject": "ab" * 32, "reason": "audit sample"}
    assert run_at(settled, SETTLE + 6, "regulator", "corrections", "flag", tx_flag).ok
    assert balances(settled.state) == before
    [flag] = flags_of(settled.state, "trade", f"{P}-t0")
    assert (flag.reason, flag.flagged_by) == (args["reason"], address("regulator"))
    assert [f.kind for f in all_flags(settled.state)] == ["trade", "transaction"]


@pytest.mark.parametrize(
    ("sender", "args", "code"),
    [
        (
            "operator",
            {"kind": "trade", "subject": f"{P}-t0", "reason": "x"},
            ResultCode.NOT_AUTHORISED,
        ),
        (
            "regulator",
            {"kind": "trade", "subject": f"{P}-t7", "reason": "x"},
            ResultCode.UNKNOWN_TRADE,
        ),
        (
            "regulator",
            {"kind": "transaction", "subject": "zz" * 32, "reason": "x"},
            ResultCode.NOT_HEX,
        ),
        ("regulator", {"kind": "transaction", "subject": "ab", "reason": "x"}, ResultCode.NOT_HEX),
        (
            "regulator",
            {"kind": "trade", "subject": f"{P}-t0", "reason": ""},
            ResultCode.TEXT_LENGTH_OUT_OF_RANGE,
        ),
        (
            "regulator",
            {"kind": "block", "subject": "1", "reason": "x"},
            ResultCode.INVALID_ARGUMENTS,
        ),
    ],
)
def test_a_bad_flag_is_refused(
    settled: Community, sender: str, args: dict[str, Any], code: ResultCode
) -> None:
    assert run_at(settled, SETTLE + 5, sender, "corrections", "flag", args).code == code


def test_one_subject_has_at_most_so_many_flags(settled: Community) -> None:
    args = {"kind": "trade", "subject": f"{P}-t0", "reason": "again"}
    for i in range(MAX_FLAGS):
        assert run_at(settled, SETTLE + 5 + i, "regulator", "corrections", "flag", args).ok
    receipt = run_at(settled, SETTLE + 20, "regulator", "corrections", "flag", args)
    assert receipt.code == ResultCode.FLAG_LIMIT_REACHED


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(min_value=-2_000_000, max_value=2_000_000), min_size=1, max_size=5))
def test_corrections_conserve_money_and_stay_within_the_trade_value(refunds: list[int]) -> None:
    """Whatever the parties agree, in whatever order: no currency appears or vanishes, the
    accepted refunds add up to at most the trade's value either way, and a refused one
    changes no balance."""
    settled = settled_community()
    supply = settled.supply()
    value = trades_for_period(settled.state, P)[0].value_micro
    accepted: list[int] = []
    for refund in refunds:
        before = balances(settled.state)
        receipt = submit(settled, "carol", PARTIES, correction(len(accepted), refund))
        if receipt.ok:
            accepted.append(refund)
        else:
            assert receipt.code in (ResultCode.AMOUNT_OUT_OF_RANGE, ResultCode.INSUFFICIENT_FUNDS)
            assert balances(settled.state) == before
        assert settled.supply() == supply == sum(balances(settled.state).values())
        assert -value <= sum(accepted) <= value
    chain = corrections_of(settled.state, f"{P}-t0")
    assert [c.refund_micro for c in chain] == accepted


def test_a_trade_with_a_standing_offer_is_not_corrected() -> None:
    """Its other side is the grid account, which has no signature to consent with."""
    from tests.contracts.test_standing_offers import CAP, community_with, read_and_settle

    community = community_with(CAP)
    place(community, T0, "carol", "buy", 2000, 840_000, P)
    assert run_at(community, GATE, "dave", "market", "clear", {"period": P}).ok
    read_and_settle(community, {"carol": (0, 2000)})
    [trade] = trades_for_period(community.state, P)
    assert trade.kind == "regulator"
    args = correction(trade_id=trade.trade_id)
    receipt = submit(community, "carol", ["carol", "regulator"], args)
    assert receipt.code == ResultCode.TRADE_NOT_CORRECTABLE
    assert "kind 'regulator'" in receipt.message
