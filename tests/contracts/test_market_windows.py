"""Seed 001's negotiation and commit windows and seed 003's amend window, on a real chain:
each edge one second inside, at, and one second outside; amendments lose time priority."""

from __future__ import annotations

from typing import Any

import pytest

from gridledger.contracts.market_bilateral import agreement_message, offers_for_period
from gridledger.contracts.market_state import ESCROW, read_order, trades_for_period
from gridledger.contracts.tokens import balance_of
from gridledger.ledger import ResultCode
from tests.community import (
    CHAIN_ID,
    NEXT_PERIOD,
    Community,
    address,
    gate_closure_s,
    key,
    make_genesis,
    order_args,
    run_at,
)

P = NEXT_PERIOD + 2
"""A period whose negotiation window opens after genesis (1_700_006_400 s)."""
GATE = gate_closure_s(P)
COMMIT = GATE - 300
"""The commit window of P: [COMMIT, GATE), 5 minutes."""
OPENS = COMMIT - 55 * 60
"""The negotiation window of P: [OPENS, COMMIT), 55 minutes."""


@pytest.fixture
def community() -> Community:
    return Community.create()


def publish(community: Community, seconds: int, price: int = 820_000) -> Any:
    args = {
        "energy_wh": 1000,
        "price_micro_per_kwh": price,
        "period": P,
        "production_cost_micro_per_kwh": 780_000,
    }
    return run_at(community, seconds, "alice", "market", "publish_offer", args)


def agree(community: Community, seconds: int, agreement_id: str = "a1", **kw: Any) -> Any:
    energy, price = kw.get("energy_wh", 500), kw.get("price_micro_per_kwh", 800_000)
    [offer] = offers_for_period(community.state, P)
    message = agreement_message(
        CHAIN_ID, offer.offer_id, agreement_id, address("carol"), energy, price
    )
    args = {
        "offer_id": offer.offer_id,
        "agreement_id": agreement_id,
        "energy_wh": energy,
        "price_micro_per_kwh": price,
        "seller_signature": key(kw.get("signer", "alice")).sign(message).hex(),
    }
    return run_at(community, seconds, kw.get("sender", "carol"), "market", "agree", args)


# -- the negotiation window: offers ------------------------------------------------------


def test_an_offer_one_second_before_the_negotiation_window_is_refused(
    community: Community,
) -> None:
    r = publish(community, OPENS - 1)
    assert r.code == ResultCode.NEGOTIATION_NOT_OPEN, r.message
    assert r.details == {"period": P, "opens_s": OPENS, "now_s": OPENS - 1}
    assert offers_for_period(community.state, P) == []


@pytest.mark.parametrize("seconds", [OPENS, OPENS + 1, COMMIT - 1])
def test_an_offer_inside_the_negotiation_window_is_recorded(
    community: Community, seconds: int
) -> None:
    assert publish(community, seconds).ok


@pytest.mark.parametrize("seconds", [COMMIT, COMMIT + 1])
def test_an_offer_once_the_commit_window_opened_is_refused(
    community: Community, seconds: int
) -> None:
    r = publish(community, seconds)
    assert r.code == ResultCode.NEGOTIATION_CLOSED, r.message
    assert r.details == {"period": P, "commit_opens_s": COMMIT, "now_s": seconds}


def test_offer_prices_are_bounded_by_the_production_cost_and_the_grid_price(
    community: Community,
) -> None:
    assert publish(community, OPENS, price=779_999).code == ResultCode.PRICE_OUT_OF_RANGE
    assert publish(community, OPENS, price=850_001).code == ResultCode.PRICE_OUT_OF_RANGE
    assert publish(community, OPENS, price=-1).code == ResultCode.PRICE_OUT_OF_RANGE
    assert publish(community, OPENS, price=780_000).ok


def test_hostile_offers_are_refused(community: Community) -> None:
    base = {"energy_wh": 1000, "price_micro_per_kwh": 820_000, "period": P}

    def offer(sender: str = "alice", **changes: Any) -> Any:
        args = {**base, **changes}
        return run_at(community, OPENS, sender, "market", "publish_offer", args)

    assert offer(energy_wh=-1).code == ResultCode.ENERGY_OUT_OF_RANGE
    assert offer(energy_wh=10**15).code == ResultCode.ENERGY_OUT_OF_RANGE
    assert offer(production_cost_micro_per_kwh=-1).code == ResultCode.NEGATIVE_VALUE
    assert offer(period=-1).code == ResultCode.NEGATIVE_VALUE
    assert offer(period=P + 10_000).code == ResultCode.BEYOND_HORIZON
    assert offer(period=2**62).code == ResultCode.BEYOND_HORIZON
    assert offer(price_micro_per_kwh=2**62).code == ResultCode.PRICE_OUT_OF_RANGE
    assert offer(owner="bob").code == ResultCode.INVALID_ARGUMENTS  # unknown field
    assert offer("carol").code == ResultCode.NOT_AUTHORISED  # a consumer sells nothing
    assert offer("mallory").code == ResultCode.NOT_A_MEMBER
    assert offers_for_period(community.state, P) == []
    assert offer().ok
    withdraw = {"offer_id": f"{P}-o0"}
    r = run_at(community, OPENS + 1, "bob", "market", "withdraw_offer", withdraw)
    assert r.code == ResultCode.NOT_OFFER_OWNER
    assert [o.status for o in offers_for_period(community.state, P)] == ["open"]


# -- the commit window: agreements -------------------------------------------------------


@pytest.mark.parametrize("seconds", [OPENS + 10, COMMIT - 1])
def test_an_agreement_before_the_commit_window_is_refused(
    community: Community, seconds: int
) -> None:
    assert publish(community, OPENS + 5).ok
    r = agree(community, seconds)
    assert r.code == ResultCode.COMMIT_WINDOW_NOT_OPEN, r.message
    assert r.details == {"period": P, "commit_opens_s": COMMIT, "now_s": seconds}
    assert trades_for_period(community.state, P) == []


@pytest.mark.parametrize("seconds", [COMMIT, COMMIT + 1, GATE - 1])
def test_an_agreement_inside_the_commit_window_is_recorded(
    community: Community, seconds: int
) -> None:
    assert publish(community, OPENS + 5).ok
    r = agree(community, seconds)
    assert r.ok, r.message
    [trade] = trades_for_period(community.state, P)
    assert (trade.kind, trade.matched_at_s, trade.energy_wh) == ("bilateral", seconds, 500)
    assert COMMIT <= trade.matched_at_s < GATE


@pytest.mark.parametrize("seconds", [GATE, GATE + 1])
def test_an_agreement_at_or_after_gate_closure_is_refused(
    community: Community, seconds: int
) -> None:
    assert publish(community, OPENS + 5).ok
    r = agree(community, seconds)
    assert r.code == ResultCode.COMMIT_WINDOW_CLOSED, r.message
    assert r.details == {"period": P, "closes_s": GATE, "now_s": seconds}


def test_hostile_agreements_are_refused_and_change_nothing(community: Community) -> None:
    assert publish(community, OPENS + 5).ok
    held = community.balance("carol")
    assert agree(community, COMMIT, energy_wh=-5).code == ResultCode.ENERGY_OUT_OF_RANGE
    assert agree(community, COMMIT, energy_wh=10**15).code == ResultCode.ENERGY_OUT_OF_RANGE
    assert agree(community, COMMIT, price_micro_per_kwh=-1).code == ResultCode.PRICE_OUT_OF_RANGE
    # signed by someone other than the seller
    assert agree(community, COMMIT, signer="bob").code == ResultCode.INVALID_AGREEMENT_SIGNATURE
    # the seller buying from itself
    assert agree(community, COMMIT, sender="alice").code == ResultCode.OWN_OFFER
    assert community.balance("carol") == held
    assert trades_for_period(community.state, P) == []


def test_the_windows_are_community_parameters() -> None:
    genesis = make_genesis(
        parameters={"market": {"negotiation_seconds": 600, "commit_seconds": 120}}
    )
    community = Community.create(genesis)
    commit = GATE - 120
    assert publish(community, commit - 600 - 1).code == ResultCode.NEGOTIATION_NOT_OPEN
    assert publish(community, commit - 600).ok
    assert agree(community, commit - 1).code == ResultCode.COMMIT_WINDOW_NOT_OPEN
    assert agree(community, commit).ok


def test_the_regulator_changes_a_window_and_out_of_range_is_refused(
    community: Community,
) -> None:
    bad = {"from_period": P, "parameters": {"commit_seconds": 0}}
    r = run_at(community, OPENS - 100, "regulator", "parameters", "change_market", bad)
    assert r.code == ResultCode.INVALID_PARAMETER and "commit_seconds" in r.message
    good = {"from_period": P, "parameters": {"commit_seconds": 600}}
    assert run_at(community, OPENS - 99, "regulator", "parameters", "change_market", good).ok
    assert publish(community, GATE - 601).ok
    assert publish(community, GATE - 600).code == ResultCode.NEGOTIATION_CLOSED
    assert agree(community, GATE - 600).ok


# -- amend and withdraw ------------------------------------------------------------------


def place(community: Community, seconds: int, sender: str, *args: Any) -> Any:
    return run_at(community, seconds, sender, "market", "place_order", order_args(*args))


def amend(community: Community, seconds: int, sender: str, order_id: str, *a: int) -> Any:
    args = {"order_id": order_id, "energy_wh": a[0], "price_micro_per_kwh": a[1]}
    return run_at(community, seconds, sender, "market", "amend_order", args)


def test_an_amended_order_loses_time_priority() -> None:
    community = Community.create(make_genesis(parameters={"market": {"mechanism": "continuous"}}))
    t = OPENS
    assert place(community, t, "carol", "buy", 200, 800_000, P).ok  # P-0
    assert place(community, t + 1, "dave", "buy", 200, 800_000, P).ok  # P-1
    # carol raises her energy: same price, but she goes behind dave
    r = amend(community, t + 2, "carol", f"{P}-0", 250, 800_000)
    assert r.ok, r.message
    assert read_order(community.state, f"{P}-0").status == "amended"
    new = read_order(community.state, f"{P}-2")
    assert (new.owner, new.energy_wh, new.order_time_s) == (address("carol"), 250, t + 2)
    assert place(community, t + 3, "alice", "sell", 200, 800_000, P).ok
    [trade] = trades_for_period(community.state, P)
    assert trade.buyer == address("dave")  # dave now has priority


def test_amending_a_buy_adjusts_its_escrow(community: Community) -> None:
    assert place(community, OPENS, "carol", "buy", 1000, 800_000, P).ok
    assert balance_of(community.state, ESCROW) == 800_000
    assert amend(community, OPENS + 1, "carol", f"{P}-0", 1000, 700_000).ok
    assert balance_of(community.state, ESCROW) == 700_000
    assert community.balance("carol") == 2_000_000 - 700_000
    r = amend(community, OPENS + 2, "carol", f"{P}-1", 1000, 700_000)
    assert r.code == ResultCode.NOTHING_TO_AMEND, r.message


def test_hostile_amendments_are_refused(community: Community) -> None:
    assert place(community, OPENS, "carol", "buy", 1000, 800_000, P).ok
    order = f"{P}-0"
    assert amend(community, OPENS + 1, "dave", order, 900, 800_000).code == (
        ResultCode.NOT_ORDER_OWNER
    )
    assert amend(community, OPENS + 1, "carol", order, -1, 800_000).code == (
        ResultCode.ENERGY_OUT_OF_RANGE
    )
    assert amend(community, OPENS + 1, "carol", order, 10**15, 800_000).code == (
        ResultCode.ENERGY_OUT_OF_RANGE
    )
    assert amend(community, OPENS + 1, "carol", order, 900, -5).code == (
        ResultCode.PRICE_OUT_OF_RANGE
    )
    assert amend(community, OPENS + 1, "carol", "nope", 900, 1).code == ResultCode.UNKNOWN_ORDER
    assert amend(community, GATE, "carol", order, 900, 800_000).code == ResultCode.PERIOD_CLOSED
    assert balance_of(community.state, ESCROW) == 800_000


def amend_window_community() -> Community:
    return Community.create(make_genesis(parameters={"market": {"amend_seconds": 60}}))


@pytest.mark.parametrize(("after", "ok"), [(59, True), (60, True), (61, False)])
def test_amend_only_within_the_amend_window(after: int, ok: bool) -> None:
    community = amend_window_community()
    assert place(community, OPENS, "carol", "buy", 1000, 800_000, P).ok
    r = amend(community, OPENS + after, "carol", f"{P}-0", 900, 800_000)
    if ok:
        assert r.ok, r.message
    else:
        assert r.code == ResultCode.AMEND_WINDOW_CLOSED, r.message
        assert r.details == {
            "order_id": f"{P}-0",
            "placed_s": OPENS,
            "amend_seconds": 60,
            "now_s": OPENS + 61,
        }


@pytest.mark.parametrize(("after", "ok"), [(59, True), (60, True), (61, False)])
def test_withdraw_only_within_the_amend_window(after: int, ok: bool) -> None:
    community = amend_window_community()
    assert place(community, OPENS, "carol", "buy", 1000, 800_000, P).ok
    args = {"order_id": f"{P}-0"}
    r = run_at(community, OPENS + after, "carol", "market", "cancel_order", args)
    assert r.ok if ok else r.code == ResultCode.AMEND_WINDOW_CLOSED, r.message
    assert read_order(community.state, f"{P}-0").status == ("cancelled" if ok else "open")


def test_an_expired_order_cannot_be_amended(community: Community) -> None:
    args = order_args("buy", 200, 800_000, P, expiry_s=OPENS + 30)
    assert run_at(community, OPENS, "carol", "market", "place_order", args).ok
    r = amend(community, OPENS + 30, "carol", f"{P}-0", 100, 800_000)
    assert r.code == ResultCode.ORDER_NOT_OPEN and "expired" in r.message, r.message
