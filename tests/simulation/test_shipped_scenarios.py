"""Every shipped scenario runs (shortened) on a real embedded node, and reruns identically."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridledger.simulation.scenario import load_scenario, with_periods
from gridledger.simulation.simulate import simulate

SHORTENED = {
    "seed000_case_study": 4,
    "seed001_bilateral": 3,
    "seed003_pv5": 4,
    "community100_week": 2,
    "community40_day_ahead": 3,
    "community40_intraday": 3,
    "community40_flexible": 3,
    "community40_inflexible": 3,
    "community30_private": 3,
}


@pytest.mark.parametrize(("name", "periods"), sorted(SHORTENED.items()))
def test_shipped_scenario_runs_shortened(name: str, periods: int, tmp_path: Path) -> None:
    scenario = with_periods(load_scenario(name), periods)
    kpis = simulate(scenario, tmp_path / name)
    households = sum(m.count for m in scenario.members)
    assert (kpis["scenario"], kpis["periods"], kpis["households"]) == (name, periods, households)
    transactions = kpis["chain"]["transactions"]
    assert transactions["refused"] == 0
    assert transactions["by_method"]["metering.record_reading"]["ok"] == households * periods
    assert transactions["by_method"]["settlement.settle"]["ok"] == periods
    assert kpis["energy"]["consumption_wh"] > 0


def test_seed003_trades_in_its_sunny_hours(tmp_path: Path) -> None:
    kpis = simulate(with_periods(load_scenario("seed003_pv5"), 3), tmp_path / "out")
    assert kpis["energy"]["traded_wh"] > 0
    prices = kpis["prices"]
    assert 770_000 <= prices["min_micro_per_kwh"] <= prices["max_micro_per_kwh"] <= 850_000
    assert kpis["money"]["community_savings_micro"] > 0


def test_a_same_seed_rerun_of_a_shipped_scenario_has_the_same_head_hash(tmp_path: Path) -> None:
    scenario = with_periods(load_scenario("seed000_case_study"), 3)
    first = simulate(scenario, tmp_path / "first")
    second = simulate(scenario, tmp_path / "second")
    assert first["chain"]["head_hash"] == second["chain"]["head_hash"]
    assert first == second
