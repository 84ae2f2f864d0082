"""The demo's trading day (`gridledger.cli.demo_market`): its day always lies in the past, so
a node started after the demo stamps its blocks after the demo's, and its households' meters
measure what the script says."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gridledger.cli.demo_market import (
    CLOUD,
    DAY_S,
    FIRST_HOUR_UTC,
    HOUR_S,
    HOURS,
    ORDERS,
    OWN_LOAD_WH,
    genesis_time_ms,
    metered,
)
from gridledger.client.market_replies import TradeReply
from gridledger.contracts.market_parameters import MarketParameters

DEFAULTS = MarketParameters()


@given(now_s=st.integers(2 * DAY_S, 2**40))
def test_the_demo_day_lies_before_the_wall_clock(now_s: int) -> None:
    genesis_s = genesis_time_ms(now_s) // 1000
    assert genesis_s % HOUR_S == 0 and (genesis_s // HOUR_S) % 24 == FIRST_HOUR_UTC - 1
    first_period = genesis_s // HOUR_S + 1
    first_orders_s = first_period * HOUR_S - DEFAULTS.gate_closure_seconds - 600
    assert genesis_s < first_orders_s
    last_settled_s = (first_period + HOURS) * HOUR_S + DEFAULTS.meter_window_seconds
    payments_s = (first_period + HOURS) * HOUR_S + 20 * 60 + 60
    assert last_settled_s < payments_s < now_s
    assert now_s - genesis_s < 2 * DAY_S


def trade(buyer: str, seller: str, energy_wh: int) -> TradeReply:
    return TradeReply(
        trade_id="t", period=1, kind="order", buy_order_id="b", sell_order_id="s",
        buyer=buyer, seller=seller, energy_wh=energy_wh, price_micro_per_kwh=800_000,
        value_micro=energy_wh * 800, matched_at_s=0, height=1, mechanism="high_low",
        price_rule="midpoint", bid_price_micro_per_kwh=0, ask_price_micro_per_kwh=0,
        buy_order_time_s=None, sell_order_time_s=None, buy_sequence=None, sell_sequence=None,
        clamped=False, reason="",
    )  # fmt: skip


def test_meters_measure_the_plan_and_the_cloud_takes_part_of_one_sellers_output() -> None:
    name, cloudy_hour, percent = CLOUD
    for hour, orders in enumerate(ORDERS):
        bought = [trade("bob", "carol", 700), trade("bob", "alice", 300)]
        exported, imported = metered("bob", hour, bought, "bob")
        assert (exported, imported) == (0, 1000 + OWN_LOAD_WH[hour].get("bob", 0))
        offered = sum(e for who, side, e, _ in orders if who == name and side == "sell")
        exported, _ = metered(name, hour, [], name)
        if hour == cloudy_hour:
            assert offered > 0 and exported == offered * percent // 100 < offered
        else:
            assert exported == offered
