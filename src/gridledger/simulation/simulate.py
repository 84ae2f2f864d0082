"""Run a scenario end to end: a fresh community in ``OUT/community``, results beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gridledger.simulation.operators import make_operator_agent
from gridledger.simulation.outputs import write_results
from gridledger.simulation.runner import Progress, Runner
from gridledger.simulation.scenario import Scenario, ScenarioError


def prepare_output(out: Path) -> Path:
    """Check ``out`` is new or empty and return its community directory."""
    try:
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise ScenarioError("--out", f"{out} exists and is not empty; choose a new folder")
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        reason = error.strerror or str(error)
        raise ScenarioError("--out", f"cannot create the folder {out}: {reason}") from error
    return out / "community"


def simulate(scenario: Scenario, out: Path, progress: Progress | None = None) -> dict[str, Any]:
    """Run ``scenario`` into ``out`` and write its results; returns the KPIs."""
    community = prepare_output(out)
    runner = Runner(scenario, community, make_operator_agent(scenario))
    try:
        summary = runner.run(progress)
        return write_results(runner, summary, out)
    finally:
        runner.close()
