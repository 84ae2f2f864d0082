"""Seed 000's regulator on a shortened run of the shipped case study: unmet demand is never
charged above the cap in force, and the regulator's trades are in trades.csv (issue 13)."""

from __future__ import annotations

import csv
from pathlib import Path

from gridledger.client import EmbeddedClient
from gridledger.ledger import load_genesis
from gridledger.market import REGULATOR, trade_value_micro
from gridledger.simulation.scenario import with_periods
from gridledger.simulation.scenario_files import load_scenario
from gridledger.simulation.simulate import simulate


def test_seed000_charges_unmet_demand_at_most_the_cap_in_force(tmp_path: Path) -> None:
    out = tmp_path / "seed000"
    kpis = simulate(with_periods(load_scenario("seed000_case_study"), 8), out)
    community = out / "community"
    genesis = load_genesis((community / "genesis.json").read_bytes())
    client = EmbeddedClient.open(community / "chain.sqlite", genesis)
    try:
        periods = [int(r["period"]) for r in csv.DictReader((out / "periods.csv").open())]
        caps: dict[int, int] = {}
        served_by_regulator = 0
        for period in periods:
            parameters = client.parameters(period).parameters
            cap, grid = parameters.cap_price_micro_per_kwh, parameters.grid_price_micro_per_kwh
            caps[period] = cap
            statements = client.statements(period).statements
            assert statements, f"period {period} was not settled"
            for s in statements:
                if not s.unmet_wh:
                    assert s.regulator_charge_micro == 0
                    continue
                shortfall = trade_value_micro(s.shortfall_wh, grid)
                if cap < grid:  # the regulator's offer is in force: unmet demand at the cap
                    served_by_regulator += 1
                    assert s.regulator_charge_micro == trade_value_micro(s.unmet_wh, cap)
                    assert s.grid_charge_micro == shortfall + s.regulator_charge_micro
                else:  # the grid's price, no more than the cap (one valuation: ±1 rounding)
                    assert s.regulator_charge_micro == 0
                    assert s.grid_charge_micro - shortfall <= trade_value_micro(s.unmet_wh, cap) + 1
        assert served_by_regulator > 0, "the regulator lowers the cap below the grid price"
    finally:
        client.close()
    assert kpis["chain"]["transactions"]["refused"] == 0

    trades = list(csv.DictReader((out / "trades.csv").open()))
    regulator = [t for t in trades if t["kind"] == "regulator"]
    assert regulator, "the regulator's trades are in trades.csv"
    for trade in regulator:
        assert trade["seller"] == REGULATOR
        assert trade["reason"] in ("buy_limit_at_or_above_cap", "unmet_demand")
        assert int(trade["price_micro_per_kwh"]) == caps[int(trade["period"])]
    assert {t["kind"] for t in trades} <= {"order", "regulator", "grid"}
    assert kpis["energy"]["regulator_wh"] == sum(int(t["energy_wh"]) for t in regulator)
