"""`run_bench`: set up, drive the load, report."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from gridledger.bench.community import (
    Sender,
    bench_genesis,
    free_port,
    senders_of_directory,
    sign_all,
)
from gridledger.bench.load import drive
from gridledger.bench.process import NodeProcess
from gridledger.bench.report import report_table, summarise
from gridledger.bench.settings import WORKLOADS, BenchError
from gridledger.ledger import dump_genesis

# -- entry point -----------------------------------------------------------------------------


def run_bench(
    url: str | None,
    rate: int,
    duration_s: float,
    accounts: int,
    workload: str,
    console: Console,
    directory: Path | None = None,
    drain_timeout_s: float | None = None,
    node_options: list[str] | None = None,
) -> int:
    """Run the bench; 0 if every transaction committed, 1 if some failed, 2 if it could not run."""
    try:
        figures = _run(
            url,
            rate,
            duration_s,
            accounts,
            workload,
            console,
            directory,
            drain_timeout_s,
            node_options,
        )
    except BenchError as error:
        console.print(f"[red]bench failed:[/red] {error}")
        print(json.dumps({"error": str(error)}), flush=True)
        return 2
    console.print(report_table(figures))
    console.print(
        f"throughput = successes / (last commit - first send) = {figures['successes']:,} / "
        f"{figures['commit_window_s']:.2f} s",
        highlight=False,
    )
    console.file.flush()
    print(json.dumps(figures, separators=(",", ":")), flush=True)
    return 0 if figures["failures"] == 0 and figures["successes"] > 0 else 1


def _run(
    url: str | None,
    rate: int,
    duration_s: float,
    accounts: int,
    workload: str,
    console: Console,
    directory: Path | None,
    drain_timeout_s: float | None,
    node_options: list[str] | None,
) -> dict[str, Any]:
    if workload not in WORKLOADS:
        raise BenchError(f"unknown workload {workload!r}; one of {', '.join(WORKLOADS)}")
    if rate < 1:
        raise BenchError(f"--rate must be at least 1, got {rate}")
    if duration_s <= 0:
        raise BenchError(f"--duration must be positive, got {duration_s}")
    total = max(1, int(rate * duration_s))
    drain = drain_timeout_s if drain_timeout_s is not None else max(10.0, min(60.0, duration_s))
    node: NodeProcess | None = None
    workdir: Path | None = None
    try:
        if url is None:
            workdir = Path(tempfile.mkdtemp(prefix="gridledger-bench-"))
            genesis, keys = bench_genesis(accounts)
            (workdir / "genesis.json").write_bytes(dump_genesis(genesis) + b"\n")
            node = NodeProcess(workdir, free_port(), node_options)
            console.print(
                f"node pid {node.pid} on {node.url}, community of {accounts} accounts in {workdir}",
                highlight=False,
            )
            senders = [Sender(k, 0, keys[(i + 1) % len(keys)].address) for i, k in enumerate(keys)]
            chain_id = genesis.chain_id
            started = time.perf_counter()
            raws = sign_all(chain_id, senders, total)
            signing_s = time.perf_counter() - started
            node.wait_ready()
            target = node.url
        else:
            target = url.rstrip("/")
            if directory is None:
                raise BenchError(
                    "--url needs --dir: the community directory with the members' keys"
                )
            senders = senders_of_directory(target, directory, accounts, total)
            with httpx.Client(timeout=30.0) as http:
                chain_id = http.get(target + "/v1/head").json()["chain_id"]
            started = time.perf_counter()
            raws = sign_all(chain_id, senders, total)
            signing_s = time.perf_counter() - started
        console.print(
            f"signed {total:,} transfers from {len(senders)} accounts in {signing_s:.1f} s; "
            f"sending {rate:,} tps for {duration_s:g} s to {target}",
            highlight=False,
        )
        run = asyncio.run(
            drive(
                target,
                raws,
                len(senders),
                rate,
                drain,
                console,
                node_pid=node.pid if node is not None else None,
            )
        )
        if node is not None and node.process.poll() is not None:
            raise BenchError(f"the node died during the run:\n{node.log_tail()}")
        figures = summarise(run, rate, duration_s, len(senders))
        figures["signing_s"] = round(signing_s, 2)
        figures["node"] = "subprocess" if node is not None else target
        return figures
    finally:
        if node is not None:
            node.stop()
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
