"""The standing offers on a real chain (seed 000 §2.2 (4), DESIGN.md "Market and settlement").

While the regulator's cap is below the grid price, the regulator sells unlimited energy at the
cap and the grid buys unlimited energy at the feed-in price: at the clear, to the orders no
member took, and at settlement, to the unmet demand. Each is a trade of kind ``regulator`` or
``grid`` with its reason, settled at that price; unmet demand is never charged above the cap.
With the cap at the grid price nothing of this happens and the records keep their bytes.
"""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from gridledger.contracts.market_state import (
    ESCROW,
    NAMESPACE,
    REASON_CAP,
    REASON_FEED_IN,
    REASON_UNMET,
    Trade,
    open_orders,
    orders_for_period,
    trade_key,
    trades_for_period,
)
from gridledger.contracts.settlement import (
    CLEARING,
    GRID,
    read_settlement,
    read_statement,
    statement_key,
    statements_for_period,
)
from gridledger.contracts.settlement import NAMESPACE as SETTLEMENT
from gridledger.contracts.settlement_statements import Statement
from gridledger.contracts.tokens import balance_of
from gridledger.ledger import decode, encode
from gridledger.market import GRID as GRID_OWNER
from gridledger.market import REGULATOR, trade_value_micro
from tests.community import (
    GENESIS_TIME_MS,
    NEXT_PERIOD,
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

P = NEXT_PERIOD
T0 = GENESIS_TIME_MS // 1000 + 10
GRID_PRICE = 850_000
FEED_IN = 770_000
CAP = 800_000


def community_with(cap: int, mechanism: str = "high_low") -> Community:
    """Meters for bob and carol (alice's is bound at genesis) and a funded grid account."""
    market = {"cap_price_micro_per_kwh": cap, "mechanism": mechanism}
    community = Community.create(make_genesis(parameters={"market": market}))
    setup = [
        community.tx(
            "operator",
            "membership",
            "bind_meter",
            {"member": address(name), "meter_key": meter_key_hex(f"{name}-meter-1")},
        )
        for name in ("bob", "carol")
    ]
    setup.append(
        community.tx(
            "operator", "tokens", "mint", {"to": address("operator"), "amount_micro": 50_000_000}
        )
    )
    setup.append(community.tx("operator", "settlement", "fund_grid", {"amount_micro": 50_000_000}))
    receipts = commit_at(community, T0 - 5, setup)
    assert all(r.ok for r in receipts), [r.message for r in receipts]
    return community


def place(
    community: Community, seconds: int, name: str, side: str, energy: int, price: int
) -> None:
    receipt = run_at(
        community, seconds, name, "market", "place_order", order_args(side, energy, price, P)
    )
    assert receipt.ok, receipt.message


def read_and_settle(community: Community, metered: dict[str, tuple[int, int]]) -> None:
    reads = [
        community.tx(
            name, "metering", "record_reading", reading_args(f"{name}-meter-1", name, P, *value)
        )
        for name, value in metered.items()
    ]
    receipts = commit_at(community, period_start_s(P + 1) + 60, reads)
    assert all(r.ok for r in receipts), [r.message for r in receipts]
    receipt = run_at(
        community, meter_window_close_s(P), "dave", "settlement", "settle", {"period": P}
    )
    assert receipt.ok, receipt.message


def test_the_regulator_sells_at_the_cap_what_no_member_sold_and_serves_unmet_demand() -> None:
    community = community_with(CAP)
    supply = community.supply()
    grid_before = balance_of(community.state, GRID)
    # carol bids 2000 Wh above the cap: escrow at the cap, 2000 * 800_000 / 1000 = 1_600_000
    place(community, T0, "carol", "buy", 2000, 840_000)
    place(community, T0 + 1, "alice", "sell", 1000, 790_000)
    assert run_at(community, gate_closure_s(P), "dave", "market", "clear", {"period": P}).ok
    member, regulator = trades_for_period(community.state, P)
    # members first: 1000 Wh at the midpoint of the bounded limits (800_000 + 790_000) // 2
    assert (member.kind, member.reason, member.price_micro_per_kwh) == ("order", "", 795_000)
    # the rest of carol's bid from the regulator's standing offer at the cap
    assert (regulator.kind, regulator.reason) == ("regulator", REASON_CAP)
    assert (regulator.buyer, regulator.seller, regulator.sell_order_id) == (
        address("carol"),
        REGULATOR,
        REGULATOR,
    )
    assert (regulator.energy_wh, regulator.price_micro_per_kwh, regulator.value_micro) == (
        1000,
        CAP,
        800_000,
    )
    assert [o.status for o in orders_for_period(community.state, P)] == ["filled", "filled"]
    assert balance_of(community.state, ESCROW) == 795_000 + 800_000

    # carol takes 2500 Wh: 500 more than she bought, served by the regulator at the cap
    read_and_settle(community, {"alice": (1000, 0), "carol": (0, 2500)})
    unmet = trades_for_period(community.state, P)[2]
    assert (unmet.kind, unmet.reason, unmet.buyer, unmet.seller) == (
        "regulator",
        REASON_UNMET,
        address("carol"),
        REGULATOR,
    )
    assert (unmet.energy_wh, unmet.price_micro_per_kwh, unmet.value_micro) == (500, CAP, 400_000)
    carol = read_statement(community.state, P, address("carol"))
    assert carol is not None
    assert (carol.bought_wh, carol.unmet_wh, carol.paid_trades_micro) == (2000, 500, 1_595_000)
    assert (carol.grid_charge_micro, carol.regulator_charge_micro) == (400_000, 400_000)
    assert community.balance("carol") == 2_000_000 - 1_595_000 - 400_000
    assert read_statement(community.state, P, REGULATOR) is None
    record = read_settlement(community.state, P)
    assert record is not None
    # the regulator's sales (800_000 at the clear, 400_000 unmet) go to the grid account
    assert (record.trades, record.escrow_paid_micro) == (3, 1_595_000)
    assert (record.grid_received_micro, record.grid_paid_micro) == (1_200_000, 0)
    assert balance_of(community.state, GRID) == grid_before + 1_200_000
    # energy: exported 1000 + from outside (1000 regulator at the clear + 500 unmet)
    # = imported 2500
    assert (record.exported_wh, record.imported_wh) == (1000, 2500)
    assert (record.grid_supplied_wh, record.grid_taken_wh) == (1500, 0)
    assert balance_of(community.state, ESCROW) == balance_of(community.state, CLEARING) == 0
    assert community.supply() == supply == sum(balances(community.state).values())


def test_the_grid_buys_at_the_feed_in_price_what_no_member_bought() -> None:
    community = community_with(CAP)
    grid_before = balance_of(community.state, GRID)
    place(community, T0, "bob", "sell", 600, 700_000)
    assert run_at(community, gate_closure_s(P), "dave", "market", "clear", {"period": P}).ok
    [trade] = trades_for_period(community.state, P)
    assert (trade.kind, trade.reason, trade.buyer, trade.buy_order_id) == (
        "grid",
        REASON_FEED_IN,
        GRID_OWNER,
        GRID_OWNER,
    )
    assert (trade.energy_wh, trade.price_micro_per_kwh, trade.value_micro) == (
        600,
        FEED_IN,
        462_000,
    )
    assert balance_of(community.state, ESCROW) == 0  # the grid escrows nothing
    # bob exports 500 of the 600 he sold: the 100 short are bought at the grid price
    read_and_settle(community, {"bob": (500, 0)})
    bob = read_statement(community.state, P, address("bob"))
    assert bob is not None
    assert (bob.sold_wh, bob.shortfall_wh, bob.received_trades_micro) == (600, 100, 462_000)
    assert (bob.grid_charge_micro, bob.regulator_charge_micro) == (85_000, 0)
    assert community.balance("bob") == 500_000 + 462_000 - 85_000
    record = read_settlement(community.state, P)
    assert record is not None
    assert (record.grid_paid_micro, record.grid_received_micro) == (462_000, 85_000)
    assert (record.exported_wh, record.grid_supplied_wh, record.grid_taken_wh) == (500, 100, 600)
    assert balance_of(community.state, GRID) == grid_before - 462_000 + 85_000


def test_a_continuous_book_meets_the_standing_offers_at_the_clear() -> None:
    community = community_with(CAP, mechanism="continuous")
    place(community, T0, "carol", "buy", 700, 820_000)
    place(community, T0 + 1, "alice", "sell", 300, 760_000)
    [member] = trades_for_period(community.state, P)  # on arrival, at carol's bounded limit
    assert (member.kind, member.energy_wh, member.price_micro_per_kwh) == ("order", 300, CAP)
    assert run_at(community, gate_closure_s(P), "dave", "market", "clear", {"period": P}).ok
    regulator = trades_for_period(community.state, P)[1]
    assert (regulator.kind, regulator.energy_wh, regulator.price_micro_per_kwh) == (
        "regulator",
        400,
        CAP,
    )


def legacy_bytes(record: msgspec.Struct) -> bytes:
    """The record encoded without its last field: what chains held before that field existed."""
    return encode(list(msgspec.structs.astuple(record)[:-1]))


def test_with_the_cap_at_the_grid_price_nothing_trades_with_the_standing_offers() -> None:
    community = community_with(GRID_PRICE)
    place(community, T0, "carol", "buy", 2000, 900_000)  # above the cap: trades at the cap
    place(community, T0 + 1, "alice", "sell", 1000, 790_000)
    place(community, T0 + 2, "bob", "sell", 300, 900_000)  # no buyer left for it
    assert run_at(community, gate_closure_s(P), "dave", "market", "clear", {"period": P}).ok
    [trade] = trades_for_period(community.state, P)
    assert (trade.kind, trade.reason, trade.energy_wh) == ("order", "", 1000)
    assert [o.status for o in orders_for_period(community.state, P)] == [
        "unfilled",
        "filled",
        "unfilled",
    ]
    read_and_settle(community, {"alice": (1000, 0), "carol": (0, 2500), "bob": (300, 0)})
    # no regulator's trade at settlement: the unmet 1500 Wh come from the grid at its price
    assert len(trades_for_period(community.state, P)) == 1
    carol = read_statement(community.state, P, address("carol"))
    assert carol is not None
    assert (carol.unmet_wh, carol.grid_charge_micro, carol.regulator_charge_micro) == (
        1500,
        trade_value_micro(1500, GRID_PRICE),
        0,
    )
    # the records keep the bytes they had before trades and statements grew a last field
    stored_trade = community.state.get(NAMESPACE, trade_key(P, 0))
    assert stored_trade == legacy_bytes(trade) == encode(trade)
    for statement in statements_for_period(community.state, P):
        stored = community.state.get(SETTLEMENT, statement_key(P, statement.member))
        assert stored == legacy_bytes(statement) == encode(statement)


def test_a_reason_or_a_regulator_charge_is_encoded_when_present() -> None:
    trade = Trade(
        "1-t0",
        1,
        "grid",
        "GRID",
        "1-0",
        "GRID",
        "a",
        1,
        1,
        0,
        0,
        0,
        "standing_offer",
        "standing",
        1,
        1,
        None,
        0,
        None,
        0,
        False,
        REASON_FEED_IN,
    )
    assert encode(trade) != legacy_bytes(trade)
    assert decode(encode(trade), Trade) == trade
    statement = msgspec.structs.replace(
        Statement("a", 1, "metered", *([0] * 23)), regulator_charge_micro=5
    )
    assert decode(encode(statement), Statement) == statement
    assert decode(legacy_bytes(statement), Statement) == msgspec.structs.replace(
        statement, regulator_charge_micro=0
    )


# -- properties ----------------------------------------------------------------------------------

ORDERS = st.lists(
    st.tuples(
        st.sampled_from(["alice", "bob", "carol", "dave"]),
        st.sampled_from(["buy", "sell"]),
        st.integers(1, 3000),
        st.integers(700_000, 950_000),
    ),
    max_size=7,
)
READINGS = st.fixed_dictionaries(
    {
        name: st.none() | st.tuples(st.integers(0, 4000), st.integers(0, 4000))
        for name in ("alice", "bob", "carol")
    }
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mechanism=st.sampled_from(["continuous", "high_low", "call_auction"]),
    cap=st.integers(FEED_IN, GRID_PRICE),
    placed=ORDERS,
    metered=READINGS,
)
def test_money_and_energy_balance_per_period_with_standing_offers(
    mechanism: str,
    cap: int,
    placed: list[tuple[str, str, int, int]],
    metered: dict[str, tuple[int, int] | None],
) -> None:
    community = community_with(cap, mechanism)
    supply = community.supply()
    now = T0
    for name, side, energy, price in placed:
        if side == "sell" and name in ("carol", "dave"):
            side = "buy"  # consumers only buy
        now += 1
        commit_at(
            community,
            now,
            [community.tx(name, "market", "place_order", order_args(side, energy, price, P))],
        )
    [cleared] = commit_at(
        community, gate_closure_s(P), [community.tx("dave", "market", "clear", {"period": P})]
    )
    assert cleared.ok, cleared.message
    trades = trades_for_period(community.state, P)
    # escrow holds the value of every trade a member bought (the grid escrows nothing)
    assert open_orders(community.state, P) == []
    assert balance_of(community.state, ESCROW) == sum(
        t.value_micro for t in trades if t.kind != "grid"
    )
    assert sum(balances(community.state).values()) == supply
    for trade in trades:
        if trade.kind == "regulator":
            assert (trade.seller, trade.price_micro_per_kwh) == (
                REGULATOR,
                cap,
            ) and cap < GRID_PRICE
        if trade.kind == "grid":
            assert (trade.buyer, trade.price_micro_per_kwh) == (
                GRID_OWNER,
                FEED_IN,
            ) and cap < GRID_PRICE

    reads = [
        community.tx(
            name, "metering", "record_reading", reading_args(f"{name}-meter-1", name, P, *value)
        )
        for name, value in metered.items()
        if value is not None
    ]
    assert all(r.ok for r in commit_at(community, period_start_s(P + 1), reads))
    [settled] = commit_at(
        community,
        meter_window_close_s(P),
        [community.tx("carol", "settlement", "settle", {"period": P})],
    )
    assert settled.ok, settled.message
    # money: nothing created or destroyed, nothing left behind
    assert sum(balances(community.state).values()) == community.supply() == supply
    assert balance_of(community.state, ESCROW) == balance_of(community.state, CLEARING) == 0
    record = read_settlement(community.state, P)
    assert record is not None
    statements = statements_for_period(community.state, P)
    assert (
        sum(s.net_micro for s in statements)
        + record.grid_received_micro
        - record.grid_paid_micro
        + record.debt_added_micro
        - record.debt_repaid_micro
        == 0
    )
    # energy: traded + grid + imbalance = metered, per member and for the period
    settled_trades = trades_for_period(community.state, P)
    at_clear = settled_trades[: len(trades)]
    unmet = settled_trades[len(trades) :]
    from_regulator = sum(t.energy_wh for t in at_clear if t.kind == "regulator")
    to_grid = sum(t.energy_wh for t in at_clear if t.kind == "grid")
    assert (
        sum(s.sold_wh for s in statements) - to_grid
        == sum(s.bought_wh for s in statements) - from_regulator
    )
    assert record.exported_wh + record.grid_supplied_wh == record.imported_wh + record.grid_taken_wh
    for s in statements:
        assert s.consumed_wh == s.bought_consumed_wh + s.unmet_wh
        assert s.delivered_wh == s.sold_delivered_wh + s.surplus_wh
    # unmet demand: served by the regulator at the cap while it is below the grid price
    assert all(
        (t.kind, t.reason, t.price_micro_per_kwh) == ("regulator", REASON_UNMET, cap) for t in unmet
    )
    event(
        f"standing trades at the clear: {from_regulator + to_grid > 0}, unmet served: {bool(unmet)}"
    )
    served = {t.buyer: t.energy_wh for t in unmet}
    for s in statements:
        assert unmet_charge(s, cap) <= trade_value_micro(s.unmet_wh, cap) + 1
        if cap < GRID_PRICE:
            assert served.get(s.member, 0) == s.unmet_wh
            assert s.regulator_charge_micro == trade_value_micro(s.unmet_wh, cap)
        else:
            assert not served and s.regulator_charge_micro == 0


def unmet_charge(statement: Statement, cap: int) -> int:
    """What a statement charges for its unmet demand: its grid charge less the shortfall's."""
    if statement.regulator_charge_micro:
        return statement.regulator_charge_micro
    return statement.grid_charge_micro - trade_value_micro(statement.shortfall_wh, GRID_PRICE)


@pytest.mark.parametrize("cap", [FEED_IN, CAP, GRID_PRICE - 1, GRID_PRICE])
def test_a_member_is_never_charged_above_the_cap_for_unmet_demand(cap: int) -> None:
    community = community_with(cap)
    place(community, T0, "carol", "buy", 500, 700_000)  # below every cap: nobody sells to it
    place(community, T0 + 1, "alice", "sell", 1200, 845_000)  # above the cap: no buyer
    read_and_settle(community, {"alice": (0, 333), "carol": (0, 1777)})
    for name, imported in (("alice", 333), ("carol", 1777)):
        statement = read_statement(community.state, P, address(name))
        assert statement is not None and statement.unmet_wh == imported
        charged = unmet_charge(statement, cap)
        assert charged <= trade_value_micro(imported, cap)
        expected = trade_value_micro(imported, min(cap, GRID_PRICE))
        assert charged == expected
