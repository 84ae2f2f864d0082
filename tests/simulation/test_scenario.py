"""Scenario files: strict decoding with errors that name the field path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gridledger.simulation.scenario import ScenarioError, member_names, start_seconds, with_periods
from gridledger.simulation.scenario_files import (
    decode_scenario,
    load_scenario,
    parse_scenario,
    shipped_scenarios,
)
from tests.simulation.small import small_data

EV = {"kind": "ev", "energy_wh": 8000, "ready_hour": 18, "deadline_hour": 7, "max_power_w": 3700}


def refused(data: dict[str, Any]) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        decode_scenario(data)
    return caught.value


def test_a_wrong_type_names_the_field_path() -> None:
    data = small_data()
    data["members"][0]["battery"]["capacity_wh"] = "big"
    error = refused(data)
    assert str(error) == "members[0].battery.capacity_wh: expected int, got str"
    assert error.field == "members[0].battery.capacity_wh"


def test_an_unknown_field_is_refused_with_its_place() -> None:
    data = small_data()
    data["members"][1]["solar"] = {}
    assert "members[1]" in str(refused(data)) and "solar" in str(refused(data))
    data = small_data(market={"mechanism": "call_auction", "fee": 1})
    assert refused(data).field == "market"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["members"][1].update(role="operator"), "members[1].role"),
        (lambda d: d["members"][1].update(pv={"peak_power_w": 3000}), "members[1].pv"),
        (lambda d: d["members"][0].update(count=0), "members[0].count"),
        (lambda d: d["members"][0]["load"].update(profile="h9"), "members[0].load.profile"),
        (
            lambda d: d["members"][0]["battery"].update(initial_state_of_charge_wh=9000),
            "members[0].battery.initial_state_of_charge_wh",
        ),
        (lambda d: d["members"][1].update(name="sunny-001"), "members[1].name"),
        (lambda d: d["market"].update(mechanism="barter"), "market.mechanism"),
        (lambda d: d.update(currency={"lifetime_days": -1}), "currency.lifetime_days"),
        (lambda d: d.update(currency={"lifetime_days": 40_000}), "currency.lifetime_days"),
        (lambda d: d.update(currency={"daily_issue_micro": -5}), "currency.daily_issue_micro"),
        (lambda d: d["market"].update(period_seconds=7), "market.period_seconds"),
        (lambda d: d["market"].update(stages=[]), "market.stages"),
        (
            lambda d: d["members"][0].update(flexible=[{**EV, "kind": "boiler"}]),
            "members[0].flexible[0]",
        ),
        (
            lambda d: d["members"][0].update(flexible=[EV, {**EV, "control": "never"}]),
            "members[0].flexible[1].control",
        ),
        (
            lambda d: d["members"][0].update(flexible=[{**EV, "energy_wh": 10**9}]),
            "members[0].flexible[0]",
        ),
        (lambda d: d["market"].update(stages=["day_ahead", "spot"]), "market.stages[1]"),
        (lambda d: d["market"].update(stages=["intraday", "intraday"]), "market.stages"),
        (
            lambda d: d["market"].update(day_ahead_gate_seconds=10),
            "market.day_ahead_gate_seconds",
        ),
        (lambda d: d["horizon"].update(start="2024-06-03T08:10:00Z"), "horizon.start"),
        (lambda d: d["horizon"].update(start="yesterday"), "horizon.start"),
        (lambda d: d["horizon"].update(periods=0), "horizon.periods"),
        (
            lambda d: d["members"][0].update(forecast={"kind": "crystal_ball"}),
            "members[0].forecast.kind",
        ),
    ],
)
def test_values_out_of_range_name_their_field(change: Any, field: str) -> None:
    data = small_data()
    change(data)
    assert refused(data).field == field


def test_groups_expand_to_numbered_names_and_times_parse_as_utc() -> None:
    scenario = decode_scenario(small_data())
    assert member_names(scenario.members[0]) == ["sunny-001", "sunny-002"]
    assert member_names(scenario.members[1]) == ["flat"]
    assert start_seconds(scenario.horizon) == 1_717_401_600
    assert with_periods(scenario, 2).horizon.periods == 2


def test_yaml_text_and_files_load(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(small_data()))
    assert load_scenario(path).name == "small"
    with pytest.raises(ScenarioError, match="not valid YAML"):
        parse_scenario("name: [unclosed")
    with pytest.raises(ScenarioError, match="a YAML mapping"):
        parse_scenario("- just\n- a list\n")
    with pytest.raises(ScenarioError, match="no shipped scenario"):
        load_scenario("no_such_scenario")


def test_every_shipped_scenario_loads() -> None:
    names = shipped_scenarios()
    assert {"seed000_case_study", "seed003_pv5", "community100_week"} <= set(names)
    for name in names:
        assert load_scenario(name).name == name


def test_a_treasurer_puts_the_issuer_and_grid_policies_in_genesis() -> None:
    from gridledger.simulation.community import build_genesis, expand_members, member_keys

    scenario = decode_scenario(small_data(treasurer="flat"))
    genesis = build_genesis(scenario, expand_members(scenario), 0)
    keys = [member_keys(scenario, n).public_key.hex() for n in ("operator", "regulator", "flat")]
    assert genesis.parameters["policies"] == {
        "grid": {"threshold": 2, "keys": keys},
        "issuer": {"threshold": 2, "keys": keys},
    }
    plain = decode_scenario(small_data())
    assert "policies" not in build_genesis(plain, expand_members(plain), 0).parameters
    for name in ("nobody", "sunny", "sunny-003", "sunny-1", "flat-001"):
        assert refused(small_data(treasurer=name)).field == "treasurer", name
    assert decode_scenario(small_data(treasurer="sunny-002")).treasurer == "sunny-002"
