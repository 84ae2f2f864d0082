"""`gridledger certificates ...`, `show supply`, `show balance` and a statement's lots, on a
community a short run of seed004_currency left (units expire; certificates are on)."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from gridledger.simulation.scenario import with_periods
from gridledger.simulation.scenario_files import load_scenario
from gridledger.simulation.simulate import simulate
from tests.cli.helpers import fails, ok, ok_json

PERIODS = 10
FIRST_PERIOD = 1_717_372_800 // 3600
"""2024-06-03 00:00 UTC, the scenario's first hourly period."""


@pytest.fixture(scope="module")
def community(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first ten hours of seed004_currency (the sun is up from about five), certificates
    kept (not retired at the end)."""
    scenario = with_periods(load_scenario("seed004_currency"), PERIODS)
    scenario = msgspec.structs.replace(
        scenario,
        certificates=msgspec.structs.replace(scenario.certificates, retire_at_end=False),
    )
    out = tmp_path_factory.mktemp("seed004") / "out"
    simulate(scenario, out)
    return out / "community"


def test_the_supply_report_and_a_balance_by_issue_day(community: Path) -> None:
    supply = ok_json("show", "supply", "--json", "--dir", str(community))
    assert supply["reconciles"] and supply["lifetime_days"] == 2
    assert supply["issued_micro"] == 10 * 6_000_000 + 100_000_000
    assert "reconciles" in ok("show", "supply", "--dir", str(community))
    balance = ok_json("show", "balance", "home-001", "--dir", str(community))
    [lot] = balance["lots"]
    assert lot["expires_at_s"] - lot["issued_at_s"] == 2 * 86_400
    assert lot["amount_micro"] == balance["balance_micro"]


def test_a_statement_shows_what_expires_when(community: Path) -> None:
    out = ok("market", "statement", str(FIRST_PERIOD), "home-001", "--dir", str(community))
    # opening balances were issued on 2024-06-02 (genesis) and live two days
    assert "balance by issue day" in out and "2024-06-04 00:00:00 UTC" in out
    shown = ok_json(
        "market", "statement", str(FIRST_PERIOD), "home-001", "--json", "--dir", str(community)
    )
    assert shown["lots"][0]["issued_at_s"] == 1_717_286_400  # 2024-06-02


def holding_of(community: Path, member: str) -> dict[str, object]:
    found = ok_json("certificates", "list", member, "--json", "--dir", str(community))
    assert found["enabled"]
    holdings: list[dict[str, object]] = found["holdings"]
    assert holdings, f"{member} holds no certificate"
    return holdings[0]


def test_list_transfer_retire_and_report(community: Path) -> None:
    held = holding_of(community, "pv-001")
    period, producer, wh = str(held["period"]), str(held["producer"]), int(str(held["energy_wh"]))
    ok(
        "certificates", "transfer", "home-001", "--period", period, "--producer", producer,
        "--wh", "1", "-k", "pv-001", "--dir", str(community),
    )  # fmt: skip
    ok(
        "certificates", "retire", "--period", period, "--producer", producer, "--wh", "1",
        "--beneficiary", "home-001", "--purpose", "morning tea", "-k", "home-001",
        "--dir", str(community),
    )  # fmt: skip
    claims = ok_json("certificates", "list", "home-001", "--json", "--dir", str(community))
    assert [c["purpose"] for c in claims["claims"]] == ["morning tea"]
    assert int(str(holding_of(community, "pv-001")["energy_wh"])) == wh - 1
    report = ok_json("certificates", "report", "home-001", "--json", "--dir", str(community))
    assert len(report["hours"]) == PERIODS and report["claimed_wh"] <= report["matched_wh"]
    assert "24/7 matching score" in ok(
        "certificates", "report", "home-001", "--dir", str(community)
    )


def test_bad_certificate_calls_are_clear_errors(community: Path) -> None:
    held = holding_of(community, "pv-002")
    period, producer, wh = str(held["period"]), str(held["producer"]), int(str(held["energy_wh"]))
    common = ("--period", period, "--producer", producer, "--dir", str(community))
    short = fails(
        "certificates", "transfer", "home-002", *common, "--wh", str(wh + 1), "-k", "pv-002",
        code=2,
    )  # fmt: skip
    assert "certificate_short" in short
    empty = fails(
        "certificates", "retire", *common, "--wh", "1", "--beneficiary", "", "--purpose", "x",
        "-k", "pv-002", code=2,
    )  # fmt: skip
    assert "text_length_out_of_range" in empty
    unknown = fails("certificates", "list", "nobody", "--dir", str(community))
    assert "neither an address nor a key name" in unknown
