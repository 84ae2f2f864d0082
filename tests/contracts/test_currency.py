"""The time-attributed currency (seed 004 §3.4): lots per issue day, spent oldest first,
expiring back to the issuer; the supply report reconciles; lifetime 0 is a plain balance."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.contracts.currency import (
    TRUST_ACCOUNTS,
    ages,
    lots_of,
    stored_balance,
    supply_report,
)
from gridledger.contracts.currency_lots import (
    DAY_SECONDS,
    Lot,
    first_live_day,
    lots_total,
    merge_lots,
    raise_to,
    split_expired,
    take_oldest,
    well_formed,
)
from gridledger.ledger import GenesisError, ResultCode, encode
from gridledger.ledger.genesis import validate_genesis
from tests.community import (
    GENESIS_TIME_MS,
    Community,
    address,
    balances,
    commit_at,
    make_genesis,
    order_args,
    run_at,
)

DAY = GENESIS_TIME_MS // 1000 // DAY_SECONDS
"""The genesis day (19675)."""


def day_s(day: int, hour: int = 12) -> int:
    """A Unix time on `day` (seconds)."""
    return day * DAY_SECONDS + hour * 3600


def expiring(lifetime_days: int) -> Community:
    return Community.create(make_genesis(parameters={"tokens": {"lifetime_days": lifetime_days}}))


def lots(community: Community, name: str) -> list[tuple[int, int]]:
    return [
        (lot.issued_at_s // DAY_SECONDS, lot.amount_micro)
        for lot in lots_of(community.state, address(name))
    ]


def reconciles(community: Community) -> None:
    report = supply_report(community.state)
    assert report.reconciles, report
    assert report.live_micro == sum(balances(community.state).values())


# -- by hand -------------------------------------------------------------------------------


def test_units_are_spent_oldest_first_and_expire_back_to_the_issuer_by_hand() -> None:
    """Lifetime 2 days: genesis units (day D) live until the start of day D+2."""
    community = expiring(2)
    assert lots(community, "alice") == [(DAY, 1_000_000)]
    assert lots_of(community.state, address("alice"))[0] == Lot(
        DAY * DAY_SECONDS, (DAY + 2) * DAY_SECONDS, 1_000_000
    )
    minted = run_at(
        community,
        day_s(DAY + 1),
        "operator",
        "tokens",
        "mint",
        {"to": address("alice"), "amount_micro": 300_000},
    )
    assert minted.ok, minted.message
    assert lots(community, "alice") == [(DAY, 1_000_000), (DAY + 1, 300_000)]

    # 1_200_000 takes the whole day-D lot first, then 200_000 of day D+1
    paid = run_at(
        community,
        day_s(DAY + 1, 13),
        "alice",
        "tokens",
        "transfer",
        {"to": address("carol"), "amount_micro": 1_200_000},
    )
    assert paid.ok, paid.message
    assert lots(community, "alice") == [(DAY + 1, 100_000)]
    # carol's own day-D lot and alice's day-D units merged: one lot per day
    assert lots(community, "carol") == [(DAY, 3_000_000), (DAY + 1, 200_000)]
    reconciles(community)

    # day D+2: every day-D lot has expired; carol's payment spends day D+1 only
    paid = run_at(
        community,
        day_s(DAY + 2, 0),
        "carol",
        "tokens",
        "transfer",
        {"to": address("dave"), "amount_micro": 100},
    )
    assert paid.ok, paid.message
    assert lots(community, "carol") == [(DAY + 1, 199_900)]
    assert lots(community, "dave") == [(DAY + 1, 100)]  # dave's 250_000 of day D expired
    expired = {
        e.attributes["account"]: e.attributes["amount_micro"]
        for e in paid.events
        if e.name == "expired"
    }
    assert expired == {address("carol"): 3_000_000, address("dave"): 250_000}
    report = supply_report(community.state)
    assert report.expired_micro == 3_250_000
    assert report.issued_micro == 13_750_000 + 300_000
    assert report.burned_micro == 0
    reconciles(community)


def test_only_expired_units_do_not_pay_and_the_refusal_changes_nothing() -> None:
    community = expiring(1)
    before = community.state.state_hash()
    refused = run_at(
        community,
        day_s(DAY + 1),
        "bob",
        "tokens",
        "transfer",
        {"to": address("alice"), "amount_micro": 1},
    )
    assert refused.code == ResultCode.INSUFFICIENT_FUNDS
    assert lots(community, "bob") == [(DAY, 500_000)]
    assert supply_report(community.state).expired_micro == 0
    assert community.state.state_hash() != before  # only bob's nonce moved
    reconciles(community)


def test_a_settlement_returns_every_members_expired_units_to_the_issuer() -> None:
    community = expiring(1)
    period = day_s(DAY + 1) // 3600
    settled = run_at(
        community, day_s(DAY + 1, 14), "operator", "settlement", "settle", {"period": period}
    )
    assert settled.ok, settled.message
    expired = {e.attributes["account"] for e in settled.events if e.name == "expired"}
    assert expired == {address(n) for n in ("operator", "alice", "bob", "carol", "dave")}
    assert balances(community.state) == {}
    report = supply_report(community.state)
    assert (report.live_micro, report.expired_micro) == (0, 13_750_000)
    reconciles(community)


def test_burning_spends_the_oldest_units_and_is_counted() -> None:
    community = expiring(3)
    run_at(
        community,
        day_s(DAY + 1),
        "operator",
        "tokens",
        "mint",
        {"to": address("operator"), "amount_micro": 5},
    )
    burned = run_at(
        community, day_s(DAY + 1, 13), "operator", "tokens", "burn", {"amount_micro": 10_000_000}
    )
    assert burned.ok, burned.message
    assert lots(community, "operator") == [(DAY + 1, 5)]
    assert supply_report(community.state).burned_micro == 10_000_000
    reconciles(community)


def test_escrow_holds_units_in_trust_and_they_do_not_expire_there() -> None:
    assert not ages("market:escrow") and not ages("settlement:clearing")
    assert all(not ages(account) for account in TRUST_ACCOUNTS)
    assert ages(address("alice"))


def test_lifetime_zero_keeps_plain_integer_balances() -> None:
    community = Community.create()
    assert stored_balance(community.state, address("alice")) == 1_000_000
    assert lots_of(community.state, address("alice")) == []
    assert community.state.get("tokens", "lifetime_days") is None
    run_at(
        community,
        day_s(DAY + 5),
        "operator",
        "tokens",
        "mint",
        {"to": address("alice"), "amount_micro": 7},
    )
    run_at(community, day_s(DAY + 5, 13), "operator", "tokens", "burn", {"amount_micro": 3})
    assert stored_balance(community.state, address("alice")) == 1_000_007
    report = supply_report(community.state)
    assert (report.issued_micro, report.burned_micro, report.expired_micro) == (13_750_007, 3, 0)
    assert report.lifetime_days == 0
    reconciles(community)


@pytest.mark.parametrize("lifetime", [-1, 36_501, "2", True, [1]])
def test_a_bad_lifetime_is_refused_in_genesis(lifetime: Any) -> None:
    with pytest.raises(GenesisError, match="lifetime_days"):
        validate_genesis(make_genesis(parameters={"tokens": {"lifetime_days": lifetime}}))


# -- pure lots: properties -----------------------------------------------------------------

lot_lists = st.dictionaries(st.integers(0, 40), st.integers(1, 10**9), max_size=8).map(
    lambda by_day: [x for day in sorted(by_day) for x in (day, by_day[day])]
)


@given(lot_lists, st.data())
def test_taking_spends_the_oldest_days_and_conserves(held: list[int], data: st.DataObject) -> None:
    amount = data.draw(st.integers(0, lots_total(held)))
    kept, taken = take_oldest(held, amount)
    assert well_formed(kept) and well_formed(taken)
    assert lots_total(kept) + lots_total(taken) == lots_total(held)
    assert lots_total(taken) == amount
    if kept and taken:
        assert taken[-2] <= kept[0]  # nothing kept is older than anything taken
    assert merge_lots(kept, taken) == held


@given(lot_lists, lot_lists, st.integers(0, 45))
def test_merging_and_expiry_keep_every_unit_and_the_bound(
    a: list[int], b: list[int], first: int
) -> None:
    merged = merge_lots(a, b)
    assert well_formed(merged)
    assert lots_total(merged) == lots_total(a) + lots_total(b)
    live, expired = split_expired(merged, first)
    assert lots_total(live) + expired == lots_total(merged)
    assert all(day >= first for day in live[0::2])
    assert len(live) // 2 <= 45 - first + 1 if first <= 45 else not live


def test_the_first_live_day() -> None:
    assert first_live_day(day_s(DAY), 1) == DAY
    assert first_live_day((DAY + 2) * DAY_SECONDS - 1, 2) == DAY
    assert first_live_day((DAY + 2) * DAY_SECONDS, 2) == DAY + 1


# -- the chain: no currency created or destroyed but by issue, burn and expiry -------------

NAMES = ("operator", "alice", "bob", "carol", "dave")
steps = st.lists(
    st.tuples(
        st.sampled_from(["transfer", "mint", "burn", "settle", "buy", "sell"]),
        st.sampled_from(NAMES),
        st.sampled_from(NAMES),
        st.integers(1, 3_000_000),
        st.integers(0, 30),  # hours to advance
    ),
    min_size=1,
    max_size=10,
)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from([0, 1, 2]), steps)
def test_currency_is_only_created_by_issue_and_destroyed_by_burn_and_expiry(
    lifetime: int, plan: list[tuple[str, str, str, int, int]]
) -> None:
    community = expiring(lifetime) if lifetime else Community.create()
    now_s = GENESIS_TIME_MS // 1000
    for method, sender, recipient, amount, hours in plan:
        now_s += hours * 3600 + 1
        before = supply_report(community.state)
        held_before = sum(balances(community.state).values())
        if method == "transfer":
            raw = community.tx(
                sender, "tokens", "transfer", {"to": address(recipient), "amount_micro": amount}
            )
        elif method == "mint":
            raw = community.tx(
                "operator", "tokens", "mint", {"to": address(recipient), "amount_micro": amount}
            )
        elif method == "burn":
            raw = community.tx("operator", "tokens", "burn", {"amount_micro": amount})
        elif method in ("buy", "sell"):  # escrow: a buy locks units, a crossing sell trades
            args = order_args(method, amount % 2000 + 1, 800_000, now_s // 3600 + 2)
            raw = community.tx(sender, "market", "place_order", args)
        else:
            raw = community.tx(sender, "settlement", "settle", {"period": now_s // 3600 - 2})
        [receipt] = commit_at(community, now_s, [raw])
        after = supply_report(community.state)
        held_after = sum(balances(community.state).values())
        minted = sum(e.attributes["amount_micro"] for e in receipt.events if e.name == "minted")
        burned = sum(e.attributes["amount_micro"] for e in receipt.events if e.name == "burned")
        expired = sum(e.attributes["amount_micro"] for e in receipt.events if e.name == "expired")
        assert held_after - held_before == minted - burned - expired
        assert after.issued_micro - before.issued_micro == minted
        assert after.burned_micro - before.burned_micro == burned
        assert after.expired_micro - before.expired_micro == expired
        assert after.reconciles and after.live_micro == held_after
        for account in balances(community.state):
            value = stored_balance(community.state, account)
            if lifetime:
                assert isinstance(value, list) and well_formed(value)
                assert len(value) // 2 <= lifetime  # one lot per live day at most
            else:
                assert isinstance(value, int)


@given(lot_lists, st.integers(0, 45))
def test_units_paid_out_of_trust_arrive_live_and_whole(held: list[int], first: int) -> None:
    raised = raise_to(held, first)
    assert well_formed(raised)
    assert lots_total(raised) == lots_total(held)
    assert all(day >= first for day in raised[0::2])
    newer = [day for day in raised[0::2] if day > first]
    assert newer == [day for day in held[0::2] if day > first]  # live days kept as they were


def test_escrow_pays_a_seller_in_live_units_after_the_buyers_units_expired() -> None:
    """Units locked live in escrow and paid out after their expiry arrive dated to the
    oldest live day (they expire at the end of that day), never dead on arrival."""
    from gridledger.contracts.tokens import move
    from gridledger.ledger.execution import Context
    from gridledger.ledger.state import Overlay

    community = expiring(1)
    later_ms = day_s(DAY + 3) * 1000
    context = Context(Overlay(Overlay(community.state)), "c", 1, later_ms, b"", b"")
    context.overlay.put("tokens", "balance/market:escrow", encode([DAY, 500]))
    context.overlay.put("tokens", "supply", encode(13_750_500))
    move(context, "market:escrow", address("bob"), 500, "trade")
    assert stored_balance(context.overlay, address("bob")) == [DAY + 3, 500]
    assert [e.name for e in context.events] == ["expired", "moved"]  # bob's own day-D lot


def test_a_payment_between_two_balances_of_one_same_day_lot() -> None:
    """The common case (one live lot paid onto a lot of the same day) keeps one lot each."""
    community = expiring(2)
    paid = run_at(
        community, day_s(DAY), "carol", "tokens", "transfer",
        {"to": address("dave"), "amount_micro": 2_000_000},
    )  # fmt: skip
    assert paid.ok, paid.message
    assert lots(community, "carol") == []  # all spent: the balance is gone
    assert lots(community, "dave") == [(DAY, 2_250_000)]
    assert [e.name for e in paid.events] == ["transferred"]
    reconciles(community)
