"""Seed 001's workflow end to end on a shortened run of the shipped scenario: offers
published in the negotiation window, agreements signed inside the commit window and
recorded as bilateral trades, then settled on metered delivery (issue 13)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from gridledger.client import EmbeddedClient
from gridledger.ledger import load_genesis
from gridledger.simulation.scenario import ScenarioError, with_periods
from gridledger.simulation.scenario_files import load_scenario
from gridledger.simulation.simulate import simulate
from gridledger.simulation.strategies import make_strategy


def test_seed001_bilateral_trades_and_signs_inside_the_commit_window(tmp_path: Path) -> None:
    out = tmp_path / "seed001"
    kpis = simulate(with_periods(load_scenario("seed001_bilateral"), 5), out)
    methods = kpis["chain"]["transactions"]["by_method"]
    assert kpis["chain"]["transactions"]["refused"] == 0
    assert methods["market.publish_offer"] == {"ok": methods["market.publish_offer"]["ok"]}
    assert methods["market.agree"] == {"ok": methods["market.agree"]["ok"]}  # none failed
    assert "market.place_order" not in methods  # the bilateral strategy keeps off the book
    assert methods["settlement.settle"]["ok"] == 5

    trades = list(csv.DictReader((out / "trades.csv").open()))
    bilateral = [t for t in trades if t["kind"] == "bilateral"]
    assert len(bilateral) == methods["market.agree"]["ok"] > 0
    community = out / "community"
    genesis = load_genesis((community / "genesis.json").read_bytes())
    client = EmbeddedClient.open(community / "chain.sqlite", genesis)
    try:
        for trade in bilateral:
            period = int(trade["period"])
            reply = client.parameters(period)
            windows, gate = reply.windows, reply.window.gate_closure_s
            assert windows is not None
            assert (windows.negotiation_seconds, windows.commit_seconds) == (3300, 300)
            assert windows.commit_opens_s <= int(trade["matched_at_s"]) < gate
            parameters = reply.parameters
            assert (
                parameters.feed_in_price_micro_per_kwh
                <= int(trade["price_micro_per_kwh"])
                <= parameters.grid_price_micro_per_kwh
            )
            [offer] = [
                o
                for o in client.market_offers(period).offers
                if o.offer_id == trade["sell_order_id"]
            ]
            assert int(trade["price_micro_per_kwh"]) >= offer.production_cost_micro_per_kwh
            assert windows.negotiation_opens_s <= offer_time(client, offer.height)
            assert offer_time(client, offer.height) < windows.commit_opens_s
            assert client.statements(period).statements, "settled on metered delivery"
    finally:
        client.close()


def offer_time(client: EmbeddedClient, height: int) -> int:
    return client.block(height, transactions=False).header.timestamp_ms // 1000


def test_the_bilateral_strategy_refuses_bad_parameters() -> None:
    with pytest.raises(ScenarioError, match="max_rounds"):
        make_strategy("bilateral", {"max_rounds": 0}, "members[0].strategy")
    with pytest.raises(ScenarioError, match="unknown parameter"):
        make_strategy("bilateral", {"price": 1}, "members[0].strategy")
    with pytest.raises(ScenarioError, match="production_cost"):
        make_strategy("bilateral", {"production_cost_micro_per_kwh": -1}, "members[0].strategy")


def test_a_scenario_window_out_of_range_is_named() -> None:
    import msgspec

    from gridledger.simulation.scenario_checks import check_scenario

    scenario = load_scenario("seed001_bilateral")
    market = msgspec.structs.replace(scenario.market, commit_seconds=0)
    with pytest.raises(ScenarioError, match=r"market\.commit_seconds"):
        check_scenario(msgspec.structs.replace(scenario, market=market))
