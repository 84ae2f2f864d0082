"""The market contract on a real chain: orders as signed transactions, escrow, the gate,
continuous and high-low matching, the call auction, the regulator's cap, expiry, clearing."""

from __future__ import annotations

from typing import Any

import pytest

from gridledger.contracts.market_state import (
    ESCROW,
    depth,
    open_orders,
    orders_for_period,
    read_order,
    read_period,
    trades_for_period,
)
from gridledger.contracts.parameters import parameters_for
from gridledger.contracts.tokens import balance_of
from gridledger.ledger import ResultCode
from tests.community import (
    GENESIS_TIME_MS,
    NEXT_PERIOD,
    Community,
    address,
    balances,
    gate_closure_s,
    make_genesis,
    order_args,
    period_start_s,
    run_at,
)

P = NEXT_PERIOD
T0 = GENESIS_TIME_MS // 1000 + 10
"""A time well before the gate closure of P (1_700_002_500 s)."""
GATE = gate_closure_s(P)


def community_with(**market: Any) -> Community:
    return Community.create(make_genesis(parameters={"market": market}))


@pytest.fixture
def community() -> Community:
    return Community.create()  # default parameters: high_low, cap 850_000, feed-in 770_000


def escrow(community: Community) -> int:
    return balance_of(community.state, ESCROW)


def place(community: Community, seconds: int, sender: str, *args: Any, **kw: Any) -> Any:
    return run_at(community, seconds, sender, "market", "place_order", order_args(*args, **kw))


def assert_conserved(community: Community, supply: int) -> None:
    held = balances(community.state)
    assert all(v > 0 for v in held.values())
    assert sum(held.values()) == community.supply() == supply


# --- the regulator's cap --------------------------------------------------------------------


def test_high_low_clamps_a_buy_above_the_cap_and_prices_at_the_midpoint(
    community: Community,
) -> None:
    supply = community.supply()
    # carol bids 2.000000 per kWh, above the cap of 0.850000: escrow is at the cap,
    # 2000 Wh * 850_000 / 1000 = 1_700_000
    r = place(community, T0, "carol", "buy", 2000, 2_000_000, P)
    assert r.ok, r.message
    assert community.balance("carol") == 2_000_000 - 1_700_000
    assert escrow(community) == 1_700_000
    r = place(community, T0 + 1, "alice", "sell", 2000, 790_000, P)
    assert r.ok, r.message
    assert trades_for_period(community.state, P) == []  # high-low waits for the clear
    r = run_at(community, GATE, "dave", "market", "clear", {"period": P})
    assert r.ok, r.message
    [trade] = trades_for_period(community.state, P)
    # effective bid = cap 850_000; midpoint (850_000 + 790_000) // 2 = 820_000
    assert trade.price_micro_per_kwh == 820_000
    assert trade.clamped is True
    assert trade.bid_price_micro_per_kwh == 2_000_000  # as submitted, for audit
    assert (trade.mechanism, trade.price_rule) == ("high_low", "midpoint")
    assert trade.matched_at_s == GATE
    # value 2000 * 820_000 / 1000 = 1_640_000 stays in escrow; 60_000 goes back to carol
    assert trade.value_micro == 1_640_000
    assert escrow(community) == 1_640_000
    assert community.balance("carol") == 2_000_000 - 1_640_000
    assert (trade.buyer, trade.seller) == (address("carol"), address("alice"))
    assert_conserved(community, supply)


def test_continuous_trades_at_the_resting_price_clamped_to_the_cap() -> None:
    community = community_with(mechanism="continuous")
    # carol's resting bid of 2.000000/kWh counts as the cap 850_000
    assert place(community, T0, "carol", "buy", 1000, 2_000_000, P).ok
    assert escrow(community) == 850_000
    r = place(community, T0 + 1, "alice", "sell", 1000, 800_000, P)
    assert r.ok, r.message
    [trade] = trades_for_period(community.state, P)
    assert (trade.price_micro_per_kwh, trade.value_micro, trade.clamped) == (850_000, 850_000, True)
    assert (trade.mechanism, trade.price_rule) == ("continuous", "resting")
    assert escrow(community) == 850_000  # the whole escrow is now the trade's value
    assert read_order(community.state, f"{P}-0").status == "filled"  # type: ignore[union-attr]
    assert read_order(community.state, f"{P}-1").status == "filled"  # type: ignore[union-attr]


# --- escrow ---------------------------------------------------------------------------------


def test_a_buy_is_refused_when_the_buyer_cannot_escrow_its_cost(community: Community) -> None:
    # dave has 250_000; 300 Wh at a limit above the cap costs 300 * 850_000 / 1000 = 255_000
    r = place(community, T0, "dave", "buy", 300, 5_000_000, P)
    assert r.code == ResultCode.INSUFFICIENT_FUNDS
    assert "has 250000 micro-units, needs 255000" in r.message
    assert community.balance("dave") == 250_000
    assert escrow(community) == 0
    assert read_period(community.state, P) is None
    # 290 Wh costs 246_500: accepted
    assert place(community, T0 + 1, "dave", "buy", 290, 5_000_000, P).ok
    assert community.balance("dave") == 250_000 - 246_500


def test_continuous_partial_fill_releases_the_price_difference() -> None:
    community = community_with(mechanism="continuous")
    supply = community.supply()
    assert place(community, T0, "alice", "sell", 600, 780_000, P).ok
    assert place(community, T0 + 1, "bob", "sell", 1000, 800_000, P).ok
    # carol buys 1000 at 840_000: escrow 840_000
    r = place(community, T0 + 2, "carol", "buy", 1000, 840_000, P)
    assert r.ok, r.message
    first, second = trades_for_period(community.state, P)
    # 600 Wh from alice at 780_000 = 468_000; 400 Wh from bob at 800_000 = 320_000
    assert (first.energy_wh, first.price_micro_per_kwh, first.value_micro) == (
        600,
        780_000,
        468_000,
    )
    assert (second.energy_wh, second.price_micro_per_kwh, second.value_micro) == (
        400,
        800_000,
        320_000,
    )
    # escrow keeps 468_000 + 320_000 = 788_000; carol got back 840_000 - 788_000 = 52_000
    assert escrow(community) == 788_000
    assert community.balance("carol") == 2_000_000 - 788_000
    bob_order = read_order(community.state, f"{P}-1")
    assert bob_order is not None and (bob_order.status, bob_order.residual_wh) == ("open", 600)
    book = depth(community.state, P)
    assert [(lv.price_micro_per_kwh, lv.residual_wh, lv.orders) for lv in book.asks] == [
        (800_000, 600, 1)
    ]
    assert book.bids == []
    assert [o.order_id for o in orders_for_period(community.state, P)] == [
        f"{P}-0",
        f"{P}-1",
        f"{P}-2",
    ]
    assert [o.order_id for o in open_orders(community.state, P)] == [f"{P}-1"]
    assert_conserved(community, supply)


def test_cancel_releases_escrow_and_only_the_owner_may_cancel(community: Community) -> None:
    assert place(community, T0, "carol", "buy", 1000, 800_000, P).ok
    assert community.balance("carol") == 1_200_000
    order_id = f"{P}-0"
    r = run_at(community, T0 + 1, "dave", "market", "cancel_order", {"order_id": order_id})
    assert r.code == ResultCode.NOT_ORDER_OWNER
    assert r.details == {"order_id": order_id, "owner": address("carol"), "sender": address("dave")}
    r = run_at(community, T0 + 2, "carol", "market", "cancel_order", {"order_id": order_id})
    assert r.ok, r.message
    assert community.balance("carol") == 2_000_000
    assert escrow(community) == 0
    stored = read_order(community.state, order_id)
    assert stored is not None and (stored.status, stored.escrow_micro) == ("cancelled", 0)
    r = run_at(community, T0 + 3, "carol", "market", "cancel_order", {"order_id": order_id})
    assert r.code == ResultCode.ORDER_NOT_OPEN and "cancelled, not open" in r.message
    assert r.details == {"order_id": order_id, "order_status": "cancelled"}


def test_expiry_releases_escrow_when_the_book_is_next_touched(community: Community) -> None:
    assert place(community, T0, "carol", "buy", 1000, 800_000, P, expiry_s=T0 + 60).ok
    assert escrow(community) == 800_000
    # after its expiry the order still holds escrow: nothing has touched the book
    assert place(community, T0 + 30, "dave", "buy", 100, 800_000, P).ok
    assert escrow(community) == 800_000 + 80_000
    # the next order for the period touches the book: carol's order is expired and released
    assert place(community, T0 + 61, "alice", "sell", 100, 900_000, P).ok
    stored = read_order(community.state, f"{P}-0")
    assert stored is not None and stored.status == "expired"
    assert community.balance("carol") == 2_000_000
    assert escrow(community) == 80_000


def test_clear_releases_expired_and_unfilled_orders(community: Community) -> None:
    assert place(community, T0, "carol", "buy", 1000, 800_000, P, expiry_s=T0 + 60).ok
    assert place(community, T0 + 1, "dave", "buy", 100, 700_000, P).ok
    assert place(community, T0 + 2, "alice", "sell", 500, 820_000, P).ok
    assert run_at(community, GATE + 5, "bob", "market", "clear", {"period": P}).ok
    statuses = [o.status for o in orders_for_period(community.state, P)]
    assert statuses == ["expired", "unfilled", "unfilled"]
    assert escrow(community) == 0
    assert community.balance("carol") == 2_000_000
    assert community.balance("dave") == 250_000


# --- the gate and the clear -------------------------------------------------------------------


def test_orders_after_gate_closure_and_for_past_periods_are_refused(community: Community) -> None:
    r = place(community, GATE - 1, "carol", "buy", 100, 800_000, P)
    assert r.ok, r.message
    r = place(community, GATE, "carol", "buy", 100, 800_000, P)
    assert r.code == ResultCode.PERIOD_CLOSED
    assert f"closed at {GATE} s" in r.message and f"now is {GATE} s" in r.message
    assert r.details == {
        "action": "orders",
        "period": P,
        "gate_closure_s": GATE,
        "period_start_s": P * 3600,
        "now_s": GATE,
    }
    r = place(community, GATE + 1, "alice", "sell", 100, 800_000, P - 1)
    assert r.code == ResultCode.PERIOD_CLOSED and "closed at" in r.message
    r = run_at(community, GATE + 2, "carol", "market", "cancel_order", {"order_id": f"{P}-0"})
    assert r.code == ResultCode.PERIOD_CLOSED and "cancellations" in r.message


def test_order_validation_and_roles(community: Community) -> None:
    r = place(community, T0, "carol", "sell", 100, 800_000, P)
    assert r.code == ResultCode.NOT_AUTHORISED  # a consumer has nothing to sell
    r = place(community, T0 + 1, "operator", "buy", 100, 800_000, P)
    assert r.code == ResultCode.NOT_AUTHORISED
    r = place(community, T0 + 2, "carol", "hold", 100, 800_000, P)
    assert r.code == ResultCode.INVALID_SIDE and "'hold'" in r.message
    r = place(community, T0 + 3, "carol", "buy", 0, 800_000, P)
    assert r.code == ResultCode.ENERGY_OUT_OF_RANGE and "energy_wh 0" in r.message
    assert (r.details["energy_wh"], r.details["minimum_wh"]) == (0, 1)
    r = place(community, T0 + 3, "carol", "buy", 100, -1, P)
    assert r.code == ResultCode.PRICE_OUT_OF_RANGE and "price -1 micro/kWh" in r.message
    r = place(community, T0 + 3, "carol", "buy", 100, 800_000, -1)
    assert r.code == ResultCode.NEGATIVE_VALUE
    assert r.details == {"field": "period", "value": -1}
    r = place(community, T0 + 4, "carol", "buy", 100, 800_000, P, expiry_s=T0)
    assert r.code == ResultCode.EXPIRY_NOT_IN_FUTURE and "expiry_s" in r.message
    r = place(community, T0 + 5, "carol", "buy", 100, 800_000, P + 24 * 8)
    assert r.code == ResultCode.BEYOND_HORIZON and "more than" in r.message
    r = run_at(community, T0 + 6, "erin", "market", "place_order", order_args("buy", 1, 1, P))
    assert r.code == ResultCode.NOT_A_MEMBER


def test_clear_only_once_and_only_after_gate_closure(community: Community) -> None:
    r = run_at(community, GATE - 1, "carol", "market", "clear", {"period": P})
    assert r.code == ResultCode.GATE_NOT_CLOSED and f"gate closure at {GATE} s" in r.message
    assert run_at(community, GATE, "carol", "market", "clear", {"period": P}).ok
    r = run_at(community, GATE + 1, "alice", "market", "clear", {"period": P})
    assert r.code == ResultCode.PERIOD_ALREADY_CLEARED and "already cleared" in r.message
    book = read_period(community.state, P)
    assert book is not None and book.cleared


def test_self_trade_prevention_cancels_the_newer_order(community: Community) -> None:
    assert place(community, T0, "alice", "sell", 500, 780_000, P).ok
    assert place(community, T0 + 1, "alice", "buy", 500, 800_000, P).ok  # alice is a prosumer
    assert place(community, T0 + 2, "carol", "buy", 300, 790_000, P).ok
    assert run_at(community, GATE, "dave", "market", "clear", {"period": P}).ok
    orders = {o.order_id: o for o in orders_for_period(community.state, P)}
    assert orders[f"{P}-1"].status == "self_trade_cancelled"
    [trade] = trades_for_period(community.state, P)
    assert (trade.buyer, trade.seller, trade.energy_wh) == (address("carol"), address("alice"), 300)
    assert trade.price_micro_per_kwh == (790_000 + 780_000) // 2
    assert community.balance("alice") == 1_000_000  # alice's own buy escrow fully released


def test_call_auction_clears_at_one_price() -> None:
    community = community_with(mechanism="call_auction")
    assert place(community, T0, "carol", "buy", 1000, 840_000, P).ok
    assert place(community, T0 + 1, "dave", "buy", 200, 800_000, P).ok
    assert place(community, T0 + 2, "alice", "sell", 700, 775_000, P).ok
    assert place(community, T0 + 3, "bob", "sell", 700, 810_000, P).ok
    assert run_at(community, GATE, "carol", "market", "clear", {"period": P}).ok
    trades = trades_for_period(community.state, P)
    assert {t.mechanism for t in trades} == {"call_auction"}
    assert len({t.price_micro_per_kwh for t in trades}) == 1
    # demand >= 810_000 is 1000 Wh, supply <= 810_000 is 1400 Wh: 1000 Wh trade, all of carol
    assert sum(t.energy_wh for t in trades) == 1000
    assert all(t.buyer == address("carol") for t in trades)
    assert escrow(community) == sum(t.value_micro for t in trades)


# --- parameters ---------------------------------------------------------------------------------


def test_only_the_regulator_changes_parameters_and_only_for_future_periods(
    community: Community,
) -> None:
    change = {"from_period": P, "parameters": {"cap_price_micro_per_kwh": 800_000}}
    r = run_at(community, T0, "operator", "parameters", "change_market", change)
    assert r.code == ResultCode.NOT_AUTHORISED
    now_period = T0 // 3600
    past = {"from_period": now_period, "parameters": {"cap_price_micro_per_kwh": 800_000}}
    r = run_at(community, T0 + 1, "regulator", "parameters", "change_market", past)
    assert r.code == ResultCode.CHANGE_NOT_IN_FUTURE and "not in the future" in r.message
    assert run_at(community, T0 + 2, "regulator", "parameters", "change_market", change).ok
    assert parameters_for(community.state, P).cap_price_micro_per_kwh == 800_000
    assert parameters_for(community.state, P - 1).cap_price_micro_per_kwh == 850_000
    # the new cap bounds P: a bid of 2.000000 escrows and trades at 800_000
    assert place(community, T0 + 3, "carol", "buy", 1000, 2_000_000, P).ok
    assert escrow(community) == 800_000


def test_a_cap_change_reprices_the_escrow_of_open_buys(community: Community) -> None:
    assert place(community, T0, "carol", "buy", 1000, 2_000_000, P).ok
    assert place(community, T0 + 1, "dave", "buy", 250, 1_200_000, P).ok
    # both escrowed at the cap: 1000 * 850_000 / 1000 + 250 * 850_000 / 1000
    assert escrow(community) == 850_000 + 212_500
    # the regulator raises the cap for P to 1_200_000: carol tops up to 1_200_000; dave,
    # with 37_500 left, cannot top up to 250 * 1_200_000 / 1000 = 300_000
    change = {"from_period": P, "parameters": {"cap_price_micro_per_kwh": 1_200_000}}
    assert run_at(community, T0 + 2, "regulator", "parameters", "change_market", change).ok
    # the next transaction on P's book re-prices the escrow
    assert place(community, T0 + 3, "alice", "sell", 1, 1_190_000, P).ok
    carol_order = read_order(community.state, f"{P}-0")
    dave_order = read_order(community.state, f"{P}-1")
    assert carol_order is not None and dave_order is not None
    assert (carol_order.escrow_micro, carol_order.escrow_price_micro_per_kwh) == (
        1_200_000,
        1_200_000,
    )
    assert dave_order.status == "underfunded"
    assert community.balance("dave") == 250_000
    assert community.balance("carol") == 800_000
    assert escrow(community) == 1_200_000


def test_period_start_helper_matches_the_contract() -> None:
    assert period_start_s(P) == P * 3600
    assert period_start_s(P) - 300 == GATE
