"""A day of a large community on an embedded node: every order, reading and settlement on chain.

Run: ``.venv/bin/python benchmarks/simulate_bench.py [--households N] [--periods N]
[--period-seconds S] [--out DIR]``

Defaults: 1,000 households (400 with PV and a battery, 300 with PV, 300
consumers; clear-sky PV for Berlin in June with clouds, BDEW h0 loads), one
day of 15-minute periods (96), zero-intelligence bids in a uniform-price call
auction. Every period: one block of orders (about one per household), the
operator's clear, one signed meter reading per household plus the device-data
anchor, and the settlement, all as signed transactions in blocks stamped with
the simulated clock, committed to SQLite (WAL, ``synchronous=FULL``).

Timed phases: ``setup`` (keys, genesis, device profiles, node), ``run`` (every
step of every period, split by step kind: orders, clear, readings, settle) and
``results`` (reading everything back from the chain: the market views per period and
every stored block walked in-process; CSV files, KPIs, plots,
report). Targets for a day of 96 periods of 15 minutes, the whole run (setup + run +
results): 1,000 households <= 120 s; 10,000 households <= 600 s (issue 17); other sizes
have none. Prints a summary and, as its last line, one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from gridledger.simulation.outputs import write_results
from gridledger.simulation.runner import Runner
from gridledger.simulation.scenario_files import decode_scenario
from gridledger.simulation.simulate import prepare_output


def bench_scenario(households: int, periods: int, period_seconds: int) -> dict[str, Any]:
    with_battery = households * 4 // 10
    with_pv = households * 3 // 10
    consumers = households - with_battery - with_pv
    forecast = {"kind": "persistence", "season": 86_400 // period_seconds}
    groups = [
        {
            "name": "pv-battery",
            "role": "prosumer",
            "count": with_battery,
            "size_variation": 0.3,
            "pv": {"peak_power_w": 6000, "variation": 0.5},
            "load": {"profile": "h0", "annual_kwh": 4500, "variation": 0.3},
            "battery": {
                "capacity_wh": 10_000,
                "max_charge_w": 5000,
                "max_discharge_w": 5000,
                "initial_state_of_charge_wh": 5000,
            },
            "forecast": forecast,
        },
        {
            "name": "pv",
            "role": "prosumer",
            "count": with_pv,
            "size_variation": 0.3,
            "pv": {"peak_power_w": 4000, "variation": 0.5},
            "load": {"profile": "h0", "annual_kwh": 3500, "variation": 0.3},
            "forecast": forecast,
        },
        {
            "name": "home",
            "role": "consumer",
            "count": consumers,
            "size_variation": 0.3,
            "load": {"profile": "h0", "annual_kwh": 3000, "variation": 0.3},
            "forecast": forecast,
        },
    ]
    return {
        "name": "bench",
        "seed": 1,
        "horizon": {"start": "2024-06-03T00:00:00Z", "periods": periods},
        "market": {
            "mechanism": "call_auction",
            "period_seconds": period_seconds,
            "gate_closure_seconds": min(300, period_seconds // 3),
            "meter_window_seconds": period_seconds,
            "feed_in_price_micro_per_kwh": 80_000,
            "grid_price_micro_per_kwh": 320_000,
            "cap_price_micro_per_kwh": 320_000,
            "breakdown_penalty_micro": 100_000,
        },
        "members": [g for g in groups if g["count"] > 0],
    }


TARGETS_TOTAL_S = {1_000: 120, 10_000: 600}
"""The whole run's target, in seconds, by households, for a day of 96 periods of 900 s."""


def target_total_s(households: int, periods: int, period_seconds: int) -> int | None:
    """The target of this community and day, or None if it has none."""
    if (periods, period_seconds) != (96, 900):
        return None
    return TARGETS_TOTAL_S.get(households)


def _target_text(target_s: int | None) -> str:
    return "no target for this size" if target_s is None else f"target <= {target_s} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=1000)
    parser.add_argument("--periods", type=int, default=96)
    parser.add_argument("--period-seconds", type=int, default=900)
    parser.add_argument("--out", type=Path, default=None, help="keep the results here")
    options = parser.parse_args()
    scenario = decode_scenario(
        bench_scenario(options.households, options.periods, options.period_seconds)
    )
    with tempfile.TemporaryDirectory(prefix="gridledger-simbench-") as scratch:
        out = options.out or Path(scratch) / "out"
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        runner = Runner(scenario, prepare_output(out))
        setup_s = time.perf_counter() - started

        by_kind: dict[str, float] = {}
        last = [time.perf_counter()]

        def progress(done: int, total: int, what: str) -> None:
            now = time.perf_counter()
            kind = what.split()[0]
            by_kind[kind] = by_kind.get(kind, 0.0) + now - last[0]
            last[0] = now

        run_started = time.perf_counter()
        summary = runner.run(progress)
        run_s = time.perf_counter() - run_started
        results_started = time.perf_counter()
        kpis = write_results(runner, summary, out)
        results_s = time.perf_counter() - results_started
        total_s = time.perf_counter() - started
        load_after = os.getloadavg()[0]
    transactions = kpis["chain"]["transactions"]
    orders = transactions["by_method"].get("market.place_order", {}).get("ok", 0)
    figures = {
        "benchmark": "simulate",
        "households": options.households,
        "periods": options.periods,
        "period_seconds": options.period_seconds,
        "transactions": transactions["total"],
        "refused": transactions["refused"],
        "orders": orders,
        "trades": kpis["prices"]["trades"],
        "blocks": kpis["chain"]["height"],
        "chain_file_bytes": kpis["chain"]["chain_file_bytes"],
        "setup_s": round(setup_s, 2),
        "run_s": round(run_s, 2),
        "run_by_step_s": {k: round(v, 2) for k, v in sorted(by_kind.items())},
        "results_s": round(results_s, 2),
        "total_s": round(total_s, 2),
        "transactions_per_s_in_run": round(transactions["total"] / run_s),
        "target_total_s": target_total_s(
            options.households, options.periods, options.period_seconds
        ),
        "load_average_before": round(load_before, 2),
        "load_average_after": round(load_after, 2),
        "python": platform.python_version(),
        "head_hash": kpis["chain"]["head_hash"],
    }
    print(
        f"{options.households} households x {options.periods} periods of "
        f"{options.period_seconds} s: {transactions['total']:,} transactions "
        f"({orders:,} orders, {transactions['refused']} refused), {figures['trades']:,} trades, "
        f"{figures['blocks']:,} blocks, chain file {figures['chain_file_bytes']:,} bytes"
    )
    print(
        f"setup {setup_s:.1f} s, run {run_s:.1f} s "
        f"({', '.join(f'{k} {v:.1f} s' for k, v in figures['run_by_step_s'].items())}), "
        f"results {results_s:.1f} s; total {total_s:.1f} s "
        f"({_target_text(figures['target_total_s'])}); "
        f"{figures['transactions_per_s_in_run']:,} transactions/s in the run"
    )
    print(f"load average before/after: {load_before:.2f}/{load_after:.2f} (2 cores, shared)")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
