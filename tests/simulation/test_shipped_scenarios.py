"""Every shipped scenario runs (shortened) on a real embedded node, and reruns identically."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridledger.client import EmbeddedClient
from gridledger.ledger import load_genesis
from gridledger.simulation.scenario import start_seconds, with_periods
from gridledger.simulation.scenario_files import load_scenario
from gridledger.simulation.simulate import simulate
from tests.conservation import assert_period_conserved, settled_periods

SHORTENED = {
    "seed000_case_study": 4,
    "seed001_bilateral": 3,
    "seed003_pv5": 4,
    "community100_week": 2,
    "community40_day_ahead": 3,
    "community40_intraday": 3,
    "community40_flexible": 3,
    "community40_inflexible": 3,
    "seed004_currency": 3,
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


def test_seed004_units_expire_and_the_supply_reconciles(tmp_path: Path) -> None:
    """The whole two days: genesis units die at the first midnight and return to the
    issuer; issued = live + expired + burned; certificates are issued, follow the trades
    and are retired, and the run is deterministic."""
    scenario = load_scenario("seed004_currency")
    kpis = simulate(scenario, tmp_path / "out")
    currency = kpis["currency"]
    assert all(type(currency[k]) is int for k in ("issued_micro", "live_micro", "expired_micro"))
    assert currency["expired_micro"] > 0
    assert currency["issued_micro"] == (
        currency["live_micro"] + currency["expired_micro"] + currency["burned_micro"]
    )
    # genesis (households and the operator's grid funding) and one daily issue of 4 units
    households = 10
    assert currency["issued_micro"] == households * 6_000_000 + 100_000_000 + households * 4_000_000
    certificates = kpis["certificates"]
    assert certificates["certified_wh"] == kpis["energy"]["exported_wh"]
    assert 0 < certificates["to_buyers_wh"] <= kpis["energy"]["traded_wh"]
    assert certificates["retired_wh"] == certificates["certified_wh"]  # all retired at the end
    assert 0 < certificates["matched_wh"] <= certificates["consumed_wh"]
    assert kpis["chain"]["transactions"]["refused"] == 0
    # every settled period conserves energy and money, re-checked from the chain's records
    community = tmp_path / "out" / "community"
    genesis = load_genesis((community / "genesis.json").read_bytes())
    with EmbeddedClient.open(community / "chain.sqlite", genesis, hold_lock=False) as client:
        first = start_seconds(scenario.horizon) // scenario.market.period_seconds
        periods = settled_periods(client, range(first, first + scenario.horizon.periods))
        assert len(periods) == scenario.horizon.periods
        for period in periods:
            assert_period_conserved(client, period)


def test_the_ten_thousand_household_day_is_shipped_and_valid() -> None:
    """community10k_day (issue 17) loads as a day of 24 hourly periods for 10,000 households.

    Running it takes minutes (benchmarks/README.md); the shortened runs above cover the
    same runner with the same kinds of members.
    """
    scenario = load_scenario("community10k_day")
    assert sum(m.count for m in scenario.members) == 10_000
    assert scenario.horizon.periods == 24 and scenario.market.period_seconds == 3600
