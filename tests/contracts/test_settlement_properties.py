"""Money conservation over random small markets: the market and settlement move tokens but
never create or destroy them, escrow always covers what it must, and after settlement nothing
is left in escrow or in the clearing account."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridledger.contracts.market_state import (
    ESCROW,
    open_orders,
    orders_for_period,
    trades_for_period,
)
from gridledger.contracts.settlement import CLEARING, read_settlement, statements_for_period
from gridledger.contracts.tokens import balance_of
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
)

P = NEXT_PERIOD
T0 = GENESIS_TIME_MS // 1000 + 10

orders = st.lists(
    st.tuples(
        st.sampled_from(["alice", "bob", "carol", "dave"]),
        st.sampled_from(["buy", "sell"]),
        st.integers(1, 3000),
        st.integers(700_000, 950_000),
        st.booleans(),  # cancel it afterwards
    ),
    max_size=7,
)
readings = st.fixed_dictionaries(
    {
        name: st.none() | st.tuples(st.integers(0, 4000), st.integers(0, 4000))
        for name in ("alice", "bob", "carol")
    }
)


def assert_conserved(community: Community, supply: int) -> None:
    held = balances(community.state)
    assert all(amount > 0 for amount in held.values())
    assert sum(held.values()) == community.supply() == supply


def assert_escrow_covers(community: Community) -> None:
    open_escrow = sum(o.escrow_micro for o in open_orders(community.state, P))
    traded = sum(t.value_micro for t in trades_for_period(community.state, P))
    assert balance_of(community.state, ESCROW) == open_escrow + traded


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mechanism=st.sampled_from(["continuous", "high_low", "call_auction"]),
    placed=orders,
    metered=readings,
)
def test_market_and_settlement_conserve_money(
    mechanism: str,
    placed: list[tuple[str, str, int, int, bool]],
    metered: dict[str, tuple[int, int] | None],
) -> None:
    community = Community.create(make_genesis(parameters={"market": {"mechanism": mechanism}}))
    setup = [
        community.tx(
            "operator",
            "membership",
            "bind_meter",
            {"member": address(name), "meter_key": meter_key_hex(f"{name}-meter-1")},
        )
        for name in ("bob", "carol")
    ]
    # the operator issues itself enough to fund any feed-in these markets can produce
    mint = {"to": address("operator"), "amount_micro": 50_000_000}
    setup.append(community.tx("operator", "tokens", "mint", mint))
    setup.append(community.tx("operator", "settlement", "fund_grid", {"amount_micro": 50_000_000}))
    assert all(r.ok for r in commit_at(community, T0, setup))
    supply = community.supply()
    now = T0
    cancels: list[tuple[str, bool]] = []  # (owner, cancel?) of each accepted order
    for name, side, energy, price, cancel in placed:
        if side == "sell" and name in ("carol", "dave"):
            side = "buy"  # consumers only buy
        now += 1
        raw = community.tx(name, "market", "place_order", order_args(side, energy, price, P))
        [receipt] = commit_at(community, now, [raw])
        if receipt.ok:
            cancels.append((name, cancel))
        assert_conserved(community, supply)
        assert_escrow_covers(community)
    stored = orders_for_period(community.state, P)
    assert len(stored) == len(cancels)
    for (name, cancel), order in zip(cancels, stored, strict=True):
        assert order.owner == address(name)
        if cancel and order.status == "open":
            now += 1
            raw = community.tx(name, "market", "cancel_order", {"order_id": order.order_id})
            [receipt] = commit_at(community, now, [raw])
            assert receipt.ok, receipt.message
            assert_escrow_covers(community)
    if mechanism != "continuous":
        assert all(
            r.ok
            for r in commit_at(
                community,
                gate_closure_s(P),
                [community.tx("dave", "market", "clear", {"period": P})],
            )
        )
    assert_conserved(community, supply)
    assert_escrow_covers(community)
    window = period_start_s(P + 1)
    reads = [
        community.tx(
            name, "metering", "record_reading", reading_args(f"{name}-meter-1", name, P, *value)
        )
        for name, value in metered.items()
        if value is not None
    ]
    assert all(r.ok for r in commit_at(community, window, reads))
    [receipt] = commit_at(
        community,
        meter_window_close_s(P),
        [community.tx("carol", "settlement", "settle", {"period": P})],
    )
    assert receipt.ok, receipt.message
    assert_conserved(community, supply)
    assert balance_of(community.state, ESCROW) == 0
    assert balance_of(community.state, CLEARING) == 0
    assert open_orders(community.state, P) == []
    record = read_settlement(community.state, P)
    assert record is not None
    statements = statements_for_period(community.state, P)
    assert sum(s.sold_wh for s in statements) == sum(s.bought_wh for s in statements)
    assert record.exported_wh + record.grid_supplied_wh == record.imported_wh + record.grid_taken_wh
    assert (
        sum(s.net_micro for s in statements)
        + record.grid_received_micro
        - (record.grid_paid_micro)
        + record.debt_added_micro
        - record.debt_repaid_micro
        == 0
    )
