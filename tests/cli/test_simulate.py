"""`gridledger simulate`: a scenario file or name in, a results folder out."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from gridledger.cli import app
from tests.simulation.small import small_data

runner = CliRunner()


def test_simulate_a_file_shortened_then_verify_its_community(tmp_path: Path) -> None:
    scenario = tmp_path / "small.yaml"
    scenario.write_text(yaml.safe_dump(small_data(periods=4)))
    out = tmp_path / "out"
    result = runner.invoke(app, ["simulate", str(scenario), "--out", str(out), "--periods", "2"])
    assert result.exit_code == 0, result.output
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["periods"] == 2
    last = json.loads(result.output.strip().splitlines()[-1])
    assert last == {"scenario": "small", "head_hash": kpis["chain"]["head_hash"]}
    verified = runner.invoke(app, ["verify", "--dir", str(out / "community")])
    assert verified.exit_code == 0, verified.output
    assert kpis["chain"]["head_hash"] in verified.output.replace("\n", "")


def test_a_bad_scenario_exits_2_naming_the_field(tmp_path: Path) -> None:
    data = small_data()
    data["members"][0]["battery"]["capacity_wh"] = "lots"
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(yaml.safe_dump(data))
    result = runner.invoke(app, ["simulate", str(scenario), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "members[0].battery.capacity_wh: expected int, got str" in result.output


def test_an_unknown_scenario_name_lists_the_shipped_ones(tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", "nope", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "seed003_pv5" in result.output
