"""``gridledger simulate``: run a scenario on an embedded node and write its results."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from gridledger.cli.common import console, fail


def shipped_scenarios() -> list[str]:
    """Names of the scenarios shipped with gridledger, as
    `gridledger.simulation.scenario_files.shipped_scenarios` answers them, read here without
    importing the simulation package (numpy, pandas, the node): `gridledger --help` names
    them."""
    folder = resources.files("gridledger") / "simulation" / "scenarios"
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def simulate_command(
    scenario: str = typer.Argument(
        ...,
        help="A scenario YAML file, or the name of a shipped scenario: "
        + ", ".join(shipped_scenarios()),
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Results folder (new or empty)"),
    periods: int | None = typer.Option(
        None, "--periods", "-n", min=1, help="Run only the first N periods (a shortened run)"
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar"),
) -> None:
    """Run SCENARIO against an embedded node on disk in simulated time.

    Every order, clearing, meter reading and settlement is a signed transaction;
    the results (CSV files, plots, report.html, kpis.json) are read back from the
    chain in OUT/community, which `gridledger verify --dir OUT/community` re-checks.
    """
    from gridledger.simulation.scenario import ScenarioError, with_periods
    from gridledger.simulation.scenario_files import load_scenario
    from gridledger.simulation.simulate import simulate

    out_console = console()
    try:
        chosen = load_scenario(scenario)
        if periods is not None:
            chosen = with_periods(chosen, periods)
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=out_console,
            disable=quiet,
        ) as bar:
            task = bar.add_task(f"{chosen.name}", total=None)

            def advance(done: int, total: int, what: str) -> None:
                bar.update(task, completed=done, total=total, description=f"{chosen.name}: {what}")

            kpis = simulate(chosen, out, advance)
    except ScenarioError as error:
        raise fail(str(error), code=2) from error
    except OSError as error:
        raise fail(f"writing the results to {out}: {error.strerror or error}") from error
    energy, money, chain = kpis["energy"], kpis["money"], kpis["chain"]
    out_console.print(
        f"{kpis['scenario']} (seed {kpis['seed']}): {kpis['households']} households, "
        f"{kpis['periods']} periods; traded {energy['traded_wh'] / 1000:,.1f} kWh; "
        f"self-sufficiency {_percent(energy['self_sufficiency'])}, "
        f"self-consumption {_percent(energy['self_consumption'])}; "
        f"savings {money['community_savings_micro'] / 1e6:,.2f} units"
    )
    out_console.print(
        f"chain: height {chain['height']}, {chain['transactions']['total']} transactions, "
        f"head {chain['head_hash']}"
    )
    privacy = kpis.get("privacy")
    if privacy is not None:
        out_console.print(
            f"privacy: {privacy['sealed_orders']} sealed orders ({privacy['sealed_revealed']} "
            f"revealed, {privacy['sealed_unrevealed']} not); {privacy['stealth_payouts']} "
            f"stealth payouts, {privacy['stealth_payout_micro'] / 1e6:,.2f} units"
        )
    out_console.print(f"results in {out}/ (report.html, kpis.json, *.csv, plots/, community/)")
    typer.echo(json.dumps({"scenario": kpis["scenario"], "head_hash": chain["head_hash"]}))


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"
