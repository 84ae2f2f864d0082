"""Scenarios (YAML), the runner on an embedded node, KPIs, plots and reports."""

from gridledger.simulation.outputs import write_results
from gridledger.simulation.records import ChainRecords, DeviceDataMismatch, read_chain
from gridledger.simulation.runner import Runner, RunSummary, run_scenario
from gridledger.simulation.scenario import Scenario, ScenarioError, with_periods
from gridledger.simulation.scenario_files import (
    decode_scenario,
    load_scenario,
    parse_scenario,
    shipped_scenarios,
)
from gridledger.simulation.simulate import simulate
from gridledger.simulation.steps import schedule

__all__ = [
    "ChainRecords",
    "DeviceDataMismatch",
    "RunSummary",
    "Runner",
    "Scenario",
    "ScenarioError",
    "decode_scenario",
    "load_scenario",
    "parse_scenario",
    "read_chain",
    "run_scenario",
    "schedule",
    "shipped_scenarios",
    "simulate",
    "with_periods",
    "write_results",
]
