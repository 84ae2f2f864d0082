"""Scenario files: YAML read and decoded into a checked `Scenario`, and the shipped ones.

Decoding is strict: an unknown field, a wrong type or a value out of range is a
`ScenarioError` naming the field path, as in ``members[3].battery.capacity_wh: expected
int, got str``. A file is at most `MAX_SCENARIO_BYTES` of UTF-8; the scenarios shipped
with gridledger (``simulation/scenarios/*.yaml``) are loaded by name.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec
import yaml

from gridledger.simulation.scenario import Scenario, ScenarioError
from gridledger.simulation.scenario_checks import check_scenario

MAX_SCENARIO_BYTES = 16 * 1024 * 1024
"""A scenario file's size."""

_PATH = re.compile(r"^(?P<reason>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)


def _field_error(error: msgspec.ValidationError) -> ScenarioError:
    """msgspec's "Expected `int`, got `str` - at `$.members[3].x`" as members[3].x: expected…"""
    match = _PATH.match(str(error))
    reason = str(error) if match is None else match["reason"]
    path = "" if match is None or match["path"] is None else match["path"].lstrip(".")
    reason = reason.replace("`", "")
    return ScenarioError(path, reason[:1].lower() + reason[1:])


def decode_scenario(data: Any) -> Scenario:
    """A checked `Scenario` from decoded YAML (a mapping)."""
    if not isinstance(data, dict):
        raise ScenarioError("", "a scenario is a YAML mapping of fields")
    try:
        scenario = msgspec.convert(data, Scenario)
    except msgspec.ValidationError as error:
        raise _field_error(error) from error
    check_scenario(scenario)
    return scenario


def parse_scenario(text: str) -> Scenario:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ScenarioError("", f"not valid YAML: {error}") from error
    return decode_scenario(data)


def shipped_scenarios() -> list[str]:
    """Names of the scenarios shipped with gridledger."""
    folder = resources.files("gridledger.simulation") / "scenarios"
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A scenario from a YAML file, or by the name of a shipped scenario."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return parse_scenario(_read_scenario_file(path))
    name = str(name_or_path)
    if name not in shipped_scenarios():
        raise ScenarioError(
            "",
            f"no scenario file {name!r} and no shipped scenario of that name "
            f"(shipped: {', '.join(shipped_scenarios())})",
        )
    folder = resources.files("gridledger.simulation") / "scenarios"
    return parse_scenario((folder / f"{name}.yaml").read_text())


def _read_scenario_file(path: Path) -> str:
    """A scenario file's text: UTF-8, at most `MAX_SCENARIO_BYTES`."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_SCENARIO_BYTES + 1)
    except OSError as error:
        raise ScenarioError("", f"cannot read {path}: {error.strerror or error}") from error
    if len(data) > MAX_SCENARIO_BYTES:
        raise ScenarioError("", f"{path} is larger than {MAX_SCENARIO_BYTES:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ScenarioError(
            "", f"{path} is not a UTF-8 text file (byte {error.start} is not UTF-8)"
        ) from error
