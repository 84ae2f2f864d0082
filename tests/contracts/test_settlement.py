"""The settlement contract on a real chain: payment at metered delivery, the seller's shortfall
bought from the grid (seed 003), surplus and unmet demand, the breakdown penalty (seed 000),
missing readings, debts, the grid account, once-only settlement after the meter window, and
replay on a second node."""

from __future__ import annotations

import pytest

from gridledger.contracts import default_registry
from gridledger.contracts.market_state import ESCROW, orders_for_period, trades_for_period
from gridledger.contracts.settlement import (
    CLEARING,
    GRID,
    debt_of,
    read_settlement,
    read_statement,
    statements_for_period,
)
from gridledger.contracts.tokens import balance_of
from gridledger.ledger import ResultCode, replay
from tests.community import (
    GENESIS_TIME_MS,
    NEXT_PERIOD,
    Community,
    address,
    balances,
    commit_at,
    gate_closure_s,
    meter_key_hex,
    meter_window_close_s,
    order_args,
    period_start_s,
    reading_args,
    run_at,
)

P = NEXT_PERIOD
T0 = GENESIS_TIME_MS // 1000 + 10
GATE = gate_closure_s(P)
READINGS = period_start_s(P + 1) + 60
"""Inside P's meter window [1_700_006_400, 1_700_007_300)."""
SETTLE = meter_window_close_s(P)


def setup_meters(community: Community) -> None:
    """alice's meter is bound at genesis; bind one for bob and one for carol."""
    receipts = commit_at(
        community,
        T0 - 5,
        [
            community.tx(
                "operator",
                "membership",
                "bind_meter",
                {"member": address(name), "meter_key": meter_key_hex(f"{name}-meter-1")},
            )
            for name in ("bob", "carol")
        ],
    )
    assert all(r.ok for r in receipts), [r.message for r in receipts]


@pytest.fixture
def community() -> Community:
    community = Community.create()
    setup_meters(community)
    return community


def place(
    community: Community, seconds: int, sender: str, side: str, energy: int, price: int, period: int
) -> None:
    args = order_args(side, energy, price, period)
    receipt = run_at(community, seconds, sender, "market", "place_order", args)
    assert receipt.ok, receipt.message


def read(community: Community, meter: str, member: str, exported: int, imported: int) -> None:
    receipt = run_at(
        community,
        READINGS,
        member,
        "metering",
        "record_reading",
        reading_args(meter, member, P, exported, imported),
    )
    assert receipt.ok, receipt.message


def assert_conserved(community: Community, supply: int) -> None:
    held = balances(community.state)
    assert all(v > 0 for v in held.values())
    assert sum(held.values()) == community.supply() == supply


def test_a_seller_who_delivers_part_of_what_it_sold(community: Community) -> None:
    supply = community.supply()
    # carol bids 2000 Wh at 830_000: escrow 2000 * 830_000 / 1000 = 1_660_000
    place(community, T0, "carol", "buy", 2000, 830_000, P)
    # alice offers 2000 Wh at 790_000
    place(community, T0 + 1, "alice", "sell", 2000, 790_000, P)
    assert run_at(community, GATE, "dave", "market", "clear", {"period": P}).ok
    [trade] = trades_for_period(community.state, P)
    # midpoint (830_000 + 790_000) // 2 = 810_000; value 2000 * 810_000 / 1000 = 1_620_000
    assert (trade.price_micro_per_kwh, trade.value_micro) == (810_000, 1_620_000)
    # carol got back 1_660_000 - 1_620_000 = 40_000: 2_000_000 - 1_620_000 = 380_000 left
    assert community.balance("carol") == 380_000
    assert balance_of(community.state, ESCROW) == 1_620_000

    # meters: alice exported 1500 (500 short) and imported 200; carol imported 2300;
    # bob sold nothing and exported 700; dave has no trades and no reading
    read(community, "alice-meter-1", "alice", 1500, 200)
    read(community, "carol-meter-1", "carol", 0, 2300)
    read(community, "bob-meter-1", "bob", 700, 0)
    # the grid starts empty: it pays bob's feed-in out of what alice and carol pay in
    assert balance_of(community.state, GRID) == 0
    receipt = run_at(community, SETTLE, "dave", "settlement", "settle", {"period": P})
    assert receipt.ok, receipt.message

    alice = read_statement(community.state, P, address("alice"))
    assert alice is not None
    # alice: sold 2000, exported 1500 -> delivered 1500 to carol, shortfall 500 from the grid;
    # imported 200 with nothing bought -> unmet 200 from the grid; grid bought 500 + 200 = 700
    # at 850_000: 700 * 850_000 / 1000 = 595_000. She receives the full trade value
    # 1_620_000 (carol still gets her 2000 Wh and pays the trade price). Net
    # 1_620_000 - 595_000 = 1_025_000; no penalty (she delivered something).
    assert (alice.sold_wh, alice.delivered_wh, alice.consumed_wh) == (2000, 1500, 200)
    assert (alice.sold_delivered_wh, alice.shortfall_wh, alice.surplus_wh) == (1500, 500, 0)
    assert (alice.unmet_wh, alice.grid_bought_wh, alice.grid_sold_wh) == (200, 700, 0)
    assert (alice.received_trades_micro, alice.grid_charge_micro) == (1_620_000, 595_000)
    assert (alice.paid_micro, alice.received_micro, alice.penalised_micro) == (
        595_000,
        1_620_000,
        0,
    )
    assert alice.net_micro == 1_025_000
    assert community.balance("alice") == 1_000_000 + 1_025_000

    carol = read_statement(community.state, P, address("carol"))
    assert carol is not None
    # carol: bought 2000, imported 2300 -> unmet 300 at 850_000 = 255_000; she paid
    # 1_620_000 for the trade (from escrow) + 255_000 = 1_875_000 in all
    assert (carol.bought_wh, carol.bought_consumed_wh, carol.unmet_wh, carol.excess_wh) == (
        2000,
        2000,
        300,
        0,
    )
    assert (carol.paid_trades_micro, carol.grid_charge_micro, carol.paid_micro) == (
        1_620_000,
        255_000,
        1_875_000,
    )
    assert carol.net_micro == -1_875_000
    assert community.balance("carol") == 380_000 - 255_000  # = 125_000

    bob = read_statement(community.state, P, address("bob"))
    assert bob is not None
    # bob: exported 700, sold nothing -> surplus 700 at feed-in 770_000 = 539_000
    assert (bob.surplus_wh, bob.grid_sold_wh, bob.grid_credit_micro, bob.net_micro) == (
        700,
        700,
        539_000,
        539_000,
    )
    assert community.balance("bob") == 500_000 + 539_000

    assert read_statement(community.state, P, address("dave")) is None
    # the grid: receives 595_000 + 255_000 = 850_000, pays 539_000 -> holds 311_000
    assert balance_of(community.state, GRID) == 311_000
    assert balance_of(community.state, ESCROW) == 0
    assert balance_of(community.state, CLEARING) == 0

    record = read_settlement(community.state, P)
    assert record is not None
    # energy: exported 1500 + 700 = 2200, imported 200 + 2300 = 2500;
    # grid supplied 700 (alice) + 300 (carol) = 1000, took 700 (bob):
    # 2200 + 1000 == 2500 + 700
    assert (record.exported_wh, record.imported_wh) == (2200, 2500)
    assert (record.grid_supplied_wh, record.grid_taken_wh, record.traded_wh) == (1000, 700, 2000)
    assert (record.escrow_paid_micro, record.grid_received_micro, record.grid_paid_micro) == (
        1_620_000,
        850_000,
        539_000,
    )
    assert record.members == sorted(address(n) for n in ("alice", "bob", "carol"))
    assert [s.member for s in statements_for_period(community.state, P)] == record.members
    assert_conserved(community, supply)


def test_a_seller_who_delivers_nothing_pays_the_penalty_and_owes_what_it_cannot_pay(
    community: Community,
) -> None:
    supply = community.supply()
    place(community, T0, "carol", "buy", 1000, 800_000, P)
    place(community, T0 + 1, "bob", "sell", 1000, 800_000, P)
    assert run_at(community, GATE, "dave", "market", "clear", {"period": P}).ok
    [trade] = trades_for_period(community.state, P)
    assert trade.value_micro == 800_000  # 1000 Wh at 800_000
    # nobody sends a reading. bob (seller): exported 0 -> shortfall 1000 at 850_000 = 850_000,
    # plus the breakdown penalty 1_000_000; he receives 800_000: net -1_050_000. He holds
    # 500_000, pays it all and owes the grid 550_000. carol (buyer, no reading): imported
    # = bought, so nothing more.
    receipt = run_at(community, SETTLE, "alice", "settlement", "settle", {"period": P})
    assert receipt.ok, receipt.message
    bob = read_statement(community.state, P, address("bob"))
    assert bob is not None
    assert (bob.reading, bob.shortfall_wh, bob.grid_charge_micro) == ("missing", 1000, 850_000)
    assert (bob.penalised_micro, bob.net_micro, bob.debt_added_micro) == (
        1_000_000,
        -1_050_000,
        550_000,
    )
    assert community.balance("bob") == 0
    assert debt_of(community.state, address("bob")) == 550_000
    carol = read_statement(community.state, P, address("carol"))
    assert carol is not None
    assert (carol.reading, carol.consumed_wh, carol.unmet_wh, carol.net_micro) == (
        "missing",
        1000,
        0,
        -800_000,
    )
    # the grid is owed 850_000 + 1_000_000 = 1_850_000 and receives 1_850_000 - 550_000
    assert balance_of(community.state, GRID) == 1_300_000
    record = read_settlement(community.state, P)
    assert record is not None
    assert (record.penalties_micro, record.debt_added_micro) == (1_000_000, 550_000)
    assert_conserved(community, supply)


def test_a_later_settlement_repays_debt_first(community: Community) -> None:
    place(community, T0, "carol", "buy", 1000, 800_000, P)
    place(community, T0 + 1, "bob", "sell", 1000, 800_000, P)
    assert run_at(community, SETTLE, "alice", "settlement", "settle", {"period": P}).ok
    assert debt_of(community.state, address("bob")) == 550_000
    # in P + 1 bob exports 1000 Wh with no trades: 1000 * 770_000 / 1000 = 770_000 credit;
    # 550_000 repays the debt, 220_000 reaches bob
    receipt = run_at(
        community,
        meter_window_close_s(P + 1) - 10,
        "bob",
        "metering",
        "record_reading",
        reading_args("bob-meter-1", "bob", P + 1, 1000, 0),
    )
    assert receipt.ok, receipt.message
    receipt = run_at(
        community, meter_window_close_s(P + 1), "bob", "settlement", "settle", {"period": P + 1}
    )
    assert receipt.ok, receipt.message
    statement = read_statement(community.state, P + 1, address("bob"))
    assert statement is not None and statement.debt_repaid_micro == 550_000
    assert debt_of(community.state, address("bob")) == 0
    assert community.balance("bob") == 220_000


def test_settle_only_once_and_only_after_the_meter_window(community: Community) -> None:
    place(community, T0, "carol", "buy", 1000, 800_000, P)
    receipt = run_at(community, SETTLE - 1, "carol", "settlement", "settle", {"period": P})
    assert receipt.code == ResultCode.METER_WINDOW_OPEN
    assert f"from {SETTLE} s" in receipt.message and f"now is {SETTLE - 1} s" in receipt.message
    assert receipt.details == {"period": P, "settles_from_s": SETTLE, "now_s": SETTLE - 1}
    receipt = run_at(community, SETTLE, "carol", "settlement", "settle", {"period": P})
    assert receipt.ok, receipt.message
    # settlement cleared the book nobody cleared: carol's unfilled order was released
    assert [o.status for o in orders_for_period(community.state, P)] == ["unfilled"]
    assert community.balance("carol") == 2_000_000
    receipt = run_at(community, SETTLE + 1, "alice", "settlement", "settle", {"period": P})
    assert (
        receipt.code == ResultCode.PERIOD_ALREADY_SETTLED and "already settled" in receipt.message
    )
    receipt = run_at(community, SETTLE + 2, "erin", "settlement", "settle", {"period": P + 1})
    assert receipt.code == ResultCode.NOT_A_MEMBER


def test_settlement_that_would_overdraw_the_grid_waits_for_the_operator(
    community: Community,
) -> None:
    read(community, "bob-meter-1", "bob", 1000, 0)  # surplus: the grid owes 770_000
    receipt = run_at(community, SETTLE, "carol", "settlement", "settle", {"period": P})
    assert receipt.code == ResultCode.INSUFFICIENT_FUNDS
    assert "grid has 0 micro-units, needs 770000" in receipt.message
    assert read_settlement(community.state, P) is None
    receipt = run_at(community, SETTLE + 1, "carol", "settlement", "fund_grid", {"amount_micro": 1})
    assert receipt.code == ResultCode.NOT_AUTHORISED
    funded = run_at(
        community, SETTLE + 2, "operator", "settlement", "fund_grid", {"amount_micro": 1_000_000}
    )
    assert funded.ok, funded.message
    receipt = run_at(community, SETTLE + 3, "carol", "settlement", "settle", {"period": P})
    assert receipt.ok, receipt.message
    assert community.balance("bob") == 500_000 + 770_000
    assert balance_of(community.state, GRID) == 230_000
    swept = run_at(
        community, SETTLE + 4, "operator", "settlement", "withdraw_grid", {"amount_micro": 230_000}
    )
    assert swept.ok, swept.message
    assert community.balance("operator") == 10_000_000 - 1_000_000 + 230_000


def test_bilateral_agreement_is_escrowed_and_settled_like_a_trade(community: Community) -> None:
    from gridledger.contracts.market_bilateral import agreement_message, offers_for_period
    from tests.community import CHAIN_ID, gate_closure_s, key

    commit = gate_closure_s(P) - 300  # agreements are signed in the 5-minute commit window

    r = run_at(
        community,
        T0,
        "alice",
        "market",
        "publish_offer",
        {
            "energy_wh": 1500,
            "price_micro_per_kwh": 820_000,
            "period": P,
            "production_cost_micro_per_kwh": 780_000,
        },
    )
    assert r.ok, r.message
    [offer] = offers_for_period(community.state, P)
    too_cheap = agreement_message(CHAIN_ID, offer.offer_id, "a1", address("carol"), 1000, 775_000)
    r = run_at(
        community,
        commit + 1,
        "carol",
        "market",
        "agree",
        {
            "offer_id": offer.offer_id,
            "agreement_id": "a1",
            "energy_wh": 1000,
            "price_micro_per_kwh": 775_000,
            "seller_signature": key("alice").sign(too_cheap).hex(),
        },
    )
    assert r.code == ResultCode.PRICE_OUT_OF_RANGE and "outside [780000, 850000]" in r.message
    assert r.details == {
        "price_micro_per_kwh": 775_000,
        "minimum_micro_per_kwh": 780_000,  # the production cost, above the feed-in price
        "maximum_micro_per_kwh": 850_000,
    }
    message = agreement_message(CHAIN_ID, offer.offer_id, "a1", address("carol"), 1000, 800_000)
    args = {
        "offer_id": offer.offer_id,
        "agreement_id": "a1",
        "energy_wh": 1000,
        "price_micro_per_kwh": 800_000,
        "seller_signature": key("bob").sign(message).hex(),
    }
    r = run_at(community, commit + 2, "carol", "market", "agree", args)
    assert r.code == ResultCode.INVALID_AGREEMENT_SIGNATURE and "does not verify" in r.message
    args["seller_signature"] = key("alice").sign(message).hex()
    r = run_at(community, commit + 3, "carol", "market", "agree", args)
    assert r.ok, r.message
    assert community.balance("carol") == 2_000_000 - 800_000
    r = run_at(community, commit + 4, "carol", "market", "agree", args)
    assert r.code == ResultCode.AGREEMENT_EXISTS and "already used" in r.message
    [trade] = trades_for_period(community.state, P)
    assert (trade.kind, trade.value_micro, trade.seller) == ("bilateral", 800_000, address("alice"))
    read(community, "alice-meter-1", "alice", 1000, 0)
    read(community, "carol-meter-1", "carol", 0, 1000)
    assert run_at(community, SETTLE, "dave", "settlement", "settle", {"period": P}).ok
    assert community.balance("alice") == 1_000_000 + 800_000
    assert community.balance("carol") == 1_200_000
    assert balance_of(community.state, ESCROW) == 0


def test_settled_periods_replay_to_the_same_state_hash(community: Community) -> None:
    place(community, T0, "carol", "buy", 2000, 830_000, P)
    place(community, T0 + 1, "alice", "sell", 2000, 790_000, P)
    place(community, T0 + 2, "bob", "sell", 500, 800_000, P + 1)
    place(community, T0 + 3, "dave", "buy", 200, 840_000, P + 1)
    read(community, "alice-meter-1", "alice", 1500, 200)
    read(community, "carol-meter-1", "carol", 0, 2300)
    assert run_at(community, SETTLE, "dave", "settlement", "settle", {"period": P}).ok
    second = meter_window_close_s(P + 1)
    assert run_at(community, second, "dave", "settlement", "settle", {"period": P + 1}).ok
    state, head = replay(community.genesis, community.blocks, default_registry())
    assert head == community.head
    assert state.state_hash() == community.state.state_hash() == head.state_hash
    assert read_settlement(state, P + 1) is not None
