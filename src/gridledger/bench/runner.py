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
    free_port,
    reader_of_directory,
    senders_of_directory,
    sign_all,
    write_bench_community,
)
from gridledger.bench.load import drive
from gridledger.bench.orders import (
    GATE_CLOSURE_SECONDS,
    MARKET_PARAMETERS,
    PERIOD_SECONDS,
    OrderPlan,
    market_figures,
    open_period,
    plan_for_node,
)
from gridledger.bench.process import NodeProcess
from gridledger.bench.reads import drive_reads, reads_table, summarise_reads
from gridledger.bench.report import report_table, summarise
from gridledger.bench.settings import AMOUNT_MICRO, WORKLOADS, BenchError
from gridledger.client.signing import RequestSigner
from gridledger.crypto import KeyPair
from gridledger.node.keystore import PassphraseSource, read_key

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
    passphrase: PassphraseSource | None = None,
    lifetime_days: int = 0,
    block_transactions: int | None = None,
) -> int:
    """Run the bench; 0 if every transaction committed, 1 if some failed, 2 if it could not run.

    `passphrase` opens the encrypted key files of `directory` (with `url`);
    `block_transactions` sets the block size of the node the bench starts (not with `url`)."""
    try:
        if block_transactions is not None:
            if url is not None:
                raise BenchError(
                    "--block-transactions sets up the bench's own node; not with --url"
                )
            if block_transactions < 1:
                raise BenchError(
                    f"--block-transactions must be at least 1, got {block_transactions}"
                )
            node_options = [*(node_options or []), "--block-transactions", str(block_transactions)]
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
            passphrase,
            lifetime_days,
        )
    except BenchError as error:
        console.print(f"[red]bench failed:[/red] {error}")
        print(json.dumps({"error": str(error)}), flush=True)
        return 2
    if figures.get("workload") == "reads":
        console.print(reads_table(figures), highlight=False)
    else:
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
    passphrase: PassphraseSource | None = None,
    lifetime_days: int = 0,
) -> dict[str, Any]:
    if workload not in WORKLOADS:
        raise BenchError(f"unknown workload {workload!r}; one of {', '.join(WORKLOADS)}")
    if rate < 1:
        raise BenchError(f"--rate must be at least 1, got {rate}")
    if duration_s <= 0:
        raise BenchError(f"--duration must be positive, got {duration_s}")
    if lifetime_days and url is not None:
        raise BenchError("--lifetime-days sets up the bench's own community; not with --url")
    total = max(1, int(rate * duration_s))
    drain = drain_timeout_s if drain_timeout_s is not None else max(10.0, min(60.0, duration_s))
    node: NodeProcess | None = None
    workdir: Path | None = None
    try:
        orders = workload == "orders"
        plan: OrderPlan | None = None
        run_s = duration_s + drain
        if url is None:
            workdir = Path(tempfile.mkdtemp(prefix="gridledger-bench-"))
            market = MARKET_PARAMETERS if orders else None
            genesis, keys = write_bench_community(
                workdir, accounts, market=market, lifetime_days=lifetime_days
            )
            reader = read_key(workdir / "keys" / "regulator.key")
            node = NodeProcess(workdir, free_port(), node_options)
            console.print(
                f"node pid {node.pid} on {node.url}, community of {accounts} accounts in {workdir}",
                highlight=False,
            )
            senders = [
                Sender(k, 0, keys[(i + 1) % len(keys)].address, "buy" if i % 2 == 0 else "sell")
                for i, k in enumerate(keys)
            ]
            chain_id = genesis.chain_id
            if workload == "reads":
                node.wait_ready()
                return _reads(node.url, keys, rate, duration_s, console, node.pid)
            if orders:
                now_s = genesis.genesis_time_ms // 1000
                period = open_period(now_s, PERIOD_SECONDS, GATE_CLOSURE_SECONDS, run_s + 60)
                plan = OrderPlan(period, 0)
            started = time.perf_counter()
            raws = sign_all(chain_id, senders, total, plan.period if plan else None)
            signing_s = time.perf_counter() - started
            node.wait_ready()
            target = node.url
        else:
            target = url.rstrip("/")
            if directory is None:
                raise BenchError(
                    "--url needs --dir: the community directory with the members' keys"
                )
            reader = reader_of_directory(target, directory, passphrase)
            with httpx.Client(timeout=30.0, auth=RequestSigner(reader)) as http:
                chain_id = http.get(target + "/v1/head").json()["chain_id"]
                plan = plan_for_node(http, target, run_s) if orders else None
            need = plan.max_escrow_micro if plan else AMOUNT_MICRO
            senders = senders_of_directory(
                target, directory, accounts, total, need, passphrase, reader
            )
            if workload == "reads":
                readers = [sender.keys for sender in senders]
                return _reads(target, readers, rate, duration_s, console, None)
            started = time.perf_counter()
            raws = sign_all(chain_id, senders, total, plan.period if plan else None)
            signing_s = time.perf_counter() - started
        what = f"orders for period {plan.period}" if plan else "transfers"
        console.print(
            f"signed {total:,} {what} from {len(senders)} accounts in {signing_s:.1f} s; "
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
                reader=reader,
            )
        )
        if node is not None and node.process.poll() is not None:
            raise BenchError(f"the node died during the run:\n{node.log_tail()}")
        figures = summarise(run, rate, duration_s, len(senders), workload)
        if plan is not None:
            figures["market"] = market_figures(target, plan.period, reader)
        figures["signing_s"] = round(signing_s, 2)
        figures["node"] = "subprocess" if node is not None else target
        return figures
    finally:
        if node is not None:
            node.stop()
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)


def _reads(
    url: str,
    readers: list[KeyPair],
    rate: int,
    duration_s: float,
    console: Console,
    node_pid: int | None,
) -> dict[str, Any]:
    """The ``reads`` workload against the node at `url`: each member of `readers` reads its
    own account and statement and the book of the current period, signed."""
    with httpx.Client(timeout=30.0, auth=RequestSigner(readers[0])) as http:
        current = http.get(url + "/v1/market/current")
    if current.status_code != 200:
        raise BenchError(f"the node refuses the readers' reads: {current.text}")
    period = int(current.json()["period"])
    console.print(
        f"sending {rate:,} signed reads/s for {duration_s:g} s from {len(readers)} members "
        f"to {url} (period {period})",
        highlight=False,
    )
    run = asyncio.run(drive_reads(url, readers, period, rate, duration_s, console, node_pid))
    figures = summarise_reads(run, rate, duration_s, len(readers))
    figures["node"] = "subprocess" if node_pid is not None else url
    return figures
