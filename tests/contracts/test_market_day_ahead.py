"""The day-ahead auction on a real chain: orders until the day's gate, one clear at the gate,
escrow, all-or-none, then the period's intraday market and settlement, conserving money."""

from __future__ import annotations

from typing import Any

import pytest

from gridledger.contracts.market_day_ahead_state import day_ahead_orders, read_day_ahead_book
from gridledger.contracts.market_state import ESCROW, trades_for_period
from gridledger.contracts.settlement import statements_for_period
from gridledger.contracts.tokens import balance_of
from gridledger.ledger import GenesisError, ResultCode
from tests.community import (
    Community,
    address,
    balances,
    commit_at,
    gate_closure_s,
    make_genesis,
    meter_key_hex,
    meter_window_close_s,
    order_args,
    period_start_s,
    reading_args,
    run_at,
)

DAY = 19_677
"""Starts at 1_700_092_800 s; genesis is at 1_700_000_000 s, before the day's gate."""
GATE = DAY * 86_400 - 43_200
FIRST = DAY * 24
"""The day's first hourly product (period)."""


def day_ahead_community(**market: Any) -> Community:
    parameters = {"market": {"mechanism": "continuous", "day_ahead_gate_seconds": 43_200, **market}}
    return Community.create(make_genesis(parameters=parameters))


@pytest.fixture
def community() -> Community:
    return day_ahead_community()


def da_args(
    side: str, energy: int, price: int, period: int = FIRST, aon: bool = False
) -> dict[str, Any]:
    args: dict[str, Any] = {
        "side": side,
        "energy_wh": energy,
        "price_micro_per_kwh": price,
        "period": period,
    }
    if aon:
        args["all_or_none"] = True
    return args


def place(community: Community, seconds: int, sender: str, *args: Any, **kw: Any) -> Any:
    return run_at(
        community, seconds, sender, "market", "place_day_ahead_order", da_args(*args, **kw)
    )


def clear(community: Community, seconds: int, day: int = DAY) -> Any:
    return run_at(community, seconds, "operator", "market", "clear_day_ahead", {"day": day})


def test_a_community_without_the_auction_refuses_day_ahead_orders() -> None:
    community = Community.create()
    r = place(community, GATE - 100, "carol", "buy", 1_000, 800_000)
    assert r.code == ResultCode.DAY_AHEAD_NOT_OFFERED, r.message
    r = clear(community, GATE)
    assert r.code == ResultCode.DAY_AHEAD_NOT_OFFERED, r.message


def test_a_buy_escrows_and_a_cancel_releases(community: Community) -> None:
    before = community.balance("carol")
    r = place(community, GATE - 100, "carol", "buy", 1_000, 800_000)
    assert r.ok, r.message
    assert community.balance("carol") == before - 800_000
    assert balance_of(community.state, ESCROW) == 800_000
    r = run_at(
        community, GATE - 90, "dave", "market", "cancel_day_ahead_order", {"order_id": f"da{DAY}-0"}
    )
    assert r.code == ResultCode.NOT_ORDER_OWNER, r.message
    r = run_at(
        community, GATE - 80, "carol", "market", "cancel_day_ahead_order", {"order_id": "da1-x"}
    )
    assert r.code == ResultCode.UNKNOWN_ORDER, r.message
    r = run_at(
        community, GATE - 1, "carol", "market", "cancel_day_ahead_order", {"order_id": f"da{DAY}-0"}
    )
    assert r.ok, r.message
    assert community.balance("carol") == before
    assert [o.status for o in day_ahead_orders(community.state, DAY)] == ["cancelled"]


def test_the_gate_edges(community: Community) -> None:
    assert place(community, GATE - 2, "alice", "sell", 1_000, 780_000).ok
    r = clear(community, GATE - 1)
    assert r.code == ResultCode.DAY_AHEAD_GATE_NOT_REACHED, r.message
    assert r.details == {"day": DAY, "gate_s": GATE, "now_s": GATE - 1}
    r = place(community, GATE, "alice", "sell", 1_000, 780_000)
    assert r.code == ResultCode.DAY_AHEAD_GATE_CLOSED, r.message
    assert r.details == {"day": DAY, "gate_s": GATE, "now_s": GATE}
    cancel = {"order_id": f"da{DAY}-0"}
    r = run_at(community, GATE, "alice", "market", "cancel_day_ahead_order", cancel)
    assert r.code == ResultCode.DAY_AHEAD_GATE_CLOSED, r.message
    assert clear(community, GATE).ok
    r = clear(community, GATE + 1)
    assert r.code == ResultCode.DAY_AHEAD_ALREADY_CLEARED, r.message


def test_consumers_cannot_sell_and_far_periods_are_refused(community: Community) -> None:
    r = place(community, GATE - 100, "carol", "sell", 1_000, 800_000)
    assert r.code == ResultCode.NOT_AUTHORISED, r.message
    r = place(community, GATE - 100, "carol", "buy", 1_000, 800_000, period=FIRST + 24 * 8)
    assert r.code == ResultCode.BEYOND_HORIZON, r.message


def test_the_clear_trades_each_product_at_its_uniform_price_and_releases_the_rest(
    community: Community,
) -> None:
    supply = community.supply()
    t = GATE - 100
    assert place(community, t, "carol", "buy", 1_000, 840_000).ok  # da-0
    assert place(community, t, "dave", "buy", 200, 790_000).ok  # da-1
    assert place(community, t, "alice", "sell", 1_100, 780_000).ok  # da-2
    assert place(community, t, "bob", "sell", 500, 800_000, period=FIRST + 1).ok  # da-3
    assert place(community, t, "carol", "buy", 500, 810_000, period=FIRST + 1).ok  # da-4
    carol = community.balance("carol")
    r = clear(community, GATE)
    assert r.ok, r.message
    first = trades_for_period(community.state, FIRST)
    assert {t.mechanism for t in first} == {"day_ahead"}
    assert {t.price_micro_per_kwh for t in first} == {785_000}  # (780_000 + 790_000) // 2
    assert sum(t.energy_wh for t in first) == 1_100
    second = trades_for_period(community.state, FIRST + 1)
    assert [(t.energy_wh, t.price_micro_per_kwh) for t in second] == [(500, 805_000)]
    statuses = {o.order_id: (o.status, o.filled_wh) for o in day_ahead_orders(community.state, DAY)}
    assert statuses == {
        f"da{DAY}-0": ("filled", 1_000),
        f"da{DAY}-1": ("unfilled", 100),
        f"da{DAY}-2": ("filled", 1_100),
        f"da{DAY}-3": ("filled", 500),
        f"da{DAY}-4": ("filled", 500),
    }
    # carol escrowed 840_000 and 405_000: she keeps back what the uniform prices saved her
    assert community.balance("carol") == carol + (840_000 - 785_000) + (405_000 - 402_500)
    # the escrow now holds exactly the trades' values, for settlement
    held = sum(t.value_micro for t in first + second)
    assert balance_of(community.state, ESCROW) == held
    assert sum(balances(community.state).values()) == supply
    book = read_day_ahead_book(community.state, DAY)
    assert book is not None and book.cleared and book.trade_count == 3


def test_an_all_or_none_order_is_filled_whole_or_left_whole(community: Community) -> None:
    t = GATE - 100
    assert place(community, t, "carol", "buy", 1_000, 840_000, aon=True).ok
    assert place(community, t, "dave", "buy", 200, 830_000).ok
    assert place(community, t, "alice", "sell", 700, 780_000).ok
    before = community.balance("carol")
    assert clear(community, GATE).ok
    orders = {o.order_id: o for o in day_ahead_orders(community.state, DAY)}
    assert orders[f"da{DAY}-0"].status == "all_or_none_rejected"
    assert orders[f"da{DAY}-0"].filled_wh == 0
    assert community.balance("carol") == before + 840_000  # all of her escrow back
    [trade] = trades_for_period(community.state, FIRST)
    assert (trade.buyer, trade.energy_wh) == (address("dave"), 200)


def test_all_or_none_in_a_periods_own_market_is_refused(community: Community) -> None:
    args = {**order_args("buy", 1_000, 800_000, FIRST), "all_or_none": True}
    r = run_at(community, GATE - 100, "carol", "market", "place_order", args)
    assert r.code == ResultCode.ALL_OR_NONE_NOT_SUPPORTED, r.message
    assert "day-ahead" in r.message


def test_a_late_clear_trades_nothing_for_closed_products_and_releases_escrow(
    community: Community,
) -> None:
    assert place(community, GATE - 100, "carol", "buy", 1_000, 840_000).ok
    assert place(community, GATE - 100, "alice", "sell", 1_000, 780_000).ok
    before = community.balance("carol")
    assert clear(community, gate_closure_s(FIRST)).ok
    assert trades_for_period(community.state, FIRST) == []
    assert community.balance("carol") == before + 840_000
    assert balance_of(community.state, ESCROW) == 0


def test_day_ahead_then_intraday_then_settlement_conserves_energy_and_money(
    community: Community,
) -> None:
    supply = community.supply()
    binds = [
        community.tx(
            "operator",
            "membership",
            "bind_meter",
            {"member": address(n), "meter_key": meter_key_hex(f"{n}-meter-1")},
        )
        for n in ("bob", "carol")
    ]
    assert all(r.ok for r in commit_at(community, GATE - 200, binds))
    assert place(community, GATE - 100, "carol", "buy", 1_000, 840_000).ok
    assert place(community, GATE - 100, "alice", "sell", 1_000, 780_000).ok
    assert clear(community, GATE).ok
    # intraday: carol needs 300 Wh more, bob sells it; matched on arrival (continuous)
    intraday = gate_closure_s(FIRST) - 60
    r = run_at(
        community, intraday, "bob", "market", "place_order", order_args("sell", 300, 790_000, FIRST)
    )
    assert r.ok, r.message
    r = run_at(
        community,
        intraday,
        "carol",
        "market",
        "place_order",
        order_args("buy", 300, 820_000, FIRST),
    )
    assert r.ok, r.message
    trades = trades_for_period(community.state, FIRST)
    assert [t.mechanism for t in trades] == ["day_ahead", "continuous"]
    readings = [
        community.tx(m, "metering", "record_reading", reading_args(f"{n}-meter-1", n, FIRST, e, i))
        for n, m, e, i in (
            ("alice", "alice", 900, 0),
            ("bob", "bob", 300, 0),
            ("carol", "carol", 0, 1_400),
        )
    ]
    assert all(r.ok for r in commit_at(community, period_start_s(FIRST + 1) + 60, readings))
    r = run_at(
        community,
        meter_window_close_s(FIRST),
        "operator",
        "settlement",
        "settle",
        {"period": FIRST},
    )
    assert r.ok, r.message
    statements = {s.member: s for s in statements_for_period(community.state, FIRST)}
    assert statements[address("alice")].shortfall_wh == 100
    assert statements[address("carol")].unmet_wh == 100
    assert balance_of(community.state, ESCROW) == 0
    held = balances(community.state)
    assert all(v > 0 for v in held.values())
    assert sum(held.values()) == community.supply() == supply


@pytest.mark.parametrize("value", [-1, 300, 2 * 86_400 + 1, "noon"])
def test_a_genesis_with_a_bad_day_ahead_gate_is_refused(value: Any) -> None:
    with pytest.raises(GenesisError, match="day_ahead_gate_seconds"):
        day_ahead_community(day_ahead_gate_seconds=value)
