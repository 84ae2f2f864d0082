"""Where a transaction's microseconds go in the node: CPU per transaction, phase by phase.

Run: ``.venv/bin/python benchmarks/node_phases.py [--workload transfer|orders]
[--rate 16000] [--seconds 10] [--batch 3000]``

The node of a served chain without its HTTP layer: a real SQLite chain (the bench's
community of 200 funded accounts), the `Verifier`'s worker processes started, one thread
that submits signed transactions in batches at a fixed rate (`Node.submit_many`, what
``POST /v1/transactions/batch`` runs) and one that cuts blocks as `SoloService` does (when
``--block-transactions`` are pending, or 100 ms after the oldest). Every phase is wrapped
and timed twice: by the CPU time of the thread that runs it (`time.thread_time`) and by
the wall clock; the worker processes' CPU comes from ``/proc``. So the figures hold on a
shared machine too (CPU time, not wall time), and a phase that waits shows as wall time
without CPU.

Phases of the main process: ``admission`` (`submit_many`: the duplicate query, nonce and
membership checks, the mempool; it waits for the workers' signature checks, so its wall
time includes them), ``execution`` (`build_block`: the contracts and the Merkle roots),
``state hash`` (the wait for the lane sums, computed in the worker processes of their own),
``storage`` (`SQLiteStorage.append_block`: packing, inserts, the COMMIT with fsync).
The HTTP layer and the block stream are not included: `gridledger bench` reports the
whole node process's CPU per transaction (``node_process_us_per_tx``).

Prints a table and, as its last line, one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gridledger.bench import Sender, sign_all
from gridledger.bench.community import write_bench_community
from gridledger.bench.orders import (
    GATE_CLOSURE_SECONDS,
    MARKET_PARAMETERS,
    PERIOD_SECONDS,
    open_period,
)
from gridledger.ledger import transaction_id
from gridledger.node import Node
from gridledger.node import core as node_core
from gridledger.node.core import CutterConfig
from gridledger.node.storage import SQLiteStorage

PHASES = ("admission", "execution", "state hash", "storage")
TICKS = os.sysconf("SC_CLK_TCK")


class Phases:
    """CPU (of the running thread) and wall seconds spent in each phase."""

    def __init__(self) -> None:
        self.cpu_s: collections.defaultdict[str, float] = collections.defaultdict(float)
        self.wall_s: collections.defaultdict[str, float] = collections.defaultdict(float)
        self._lock = threading.Lock()

    def timed(self, phase: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            cpu, wall = time.thread_time(), time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                with self._lock:
                    self.cpu_s[phase] += time.thread_time() - cpu
                    self.wall_s[phase] += time.perf_counter() - wall

        return run


def children_cpu_s(pid: int) -> float:
    """User + system CPU seconds of the live child processes of `pid` (the workers)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # fields[1] is the parent pid
            total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def prepare(workload: str, total: int, block_transactions: int) -> tuple[Node, list[bytes]]:
    directory = Path(tempfile.mkdtemp(prefix="gridledger-phases-"))
    market, period = None, None
    if workload == "orders":
        market = MARKET_PARAMETERS
        period = open_period(int(time.time()), PERIOD_SECONDS, GATE_CLOSURE_SECONDS, 3600)
    genesis, keys = write_bench_community(directory, 200, market=market)
    senders = [
        Sender(k, 0, keys[(i + 1) % len(keys)].address, "buy" if i % 2 == 0 else "sell")
        for i, k in enumerate(keys)
    ]
    raws = sign_all(genesis.chain_id, senders, total, period)
    cutter = CutterConfig(max_transactions=block_transactions)
    node = Node.open_path(directory / "chain.sqlite", genesis, cutter=cutter)
    node.verifier.start_processes_and_wait()
    return node, raws


def run(node: Node, raws: list[bytes], rate: int, batch: int) -> dict[str, Any]:
    phases = Phases()
    node.submit_many = phases.timed("admission", node.submit_many)  # type: ignore[method-assign]
    node_core.build_block = phases.timed("execution", node_core.build_block)  # type: ignore[attr-defined]
    summer = node.state.lane_summer
    assert summer is not None
    node.state.lane_summer = phases.timed("state hash", summer)
    storage = node.storage
    assert isinstance(storage, SQLiteStorage)
    storage.append_block = phases.timed("storage", storage.append_block)  # type: ignore[method-assign]
    admitted_at: dict[bytes, float] = {}
    committed_at: dict[bytes, float] = {}
    node.listeners.append(
        lambda c: committed_at.update((r.transaction_id, time.perf_counter()) for r in c.receipts)
    )
    sent = threading.Event()
    refused: list[str] = []

    def submit() -> None:
        start = time.perf_counter()
        for first in range(0, len(raws), batch):
            due = start + first / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            chunk = raws[first : first + batch]
            now = time.perf_counter()
            for admission in node.submit_many(chunk):
                if admission.error is not None:
                    refused.append(str(admission.error))
            admitted_at.update((transaction_id(raw), now) for raw in chunk)
        sent.set()

    workers_before = children_cpu_s(os.getpid())
    process_before = time.process_time()
    start = time.perf_counter()
    submitter = threading.Thread(target=submit, name="submitter")
    submitter.start()
    timeout_s = node.cutter.timeout_ms / 1000
    while not (sent.is_set() and len(node.mempool) == 0):
        if len(node.mempool) < node.cutter.max_transactions:
            age = node.mempool.oldest_age_s()
            if age is None:
                time.sleep(0.002)
                continue
            if age < timeout_s:
                time.sleep(timeout_s - age)
        node.cut_block()
    wall_s = time.perf_counter() - start
    process_s = time.process_time() - process_before
    workers_s = children_cpu_s(os.getpid()) - workers_before
    submitter.join()
    if refused:
        raise SystemExit(f"{len(refused)} transactions refused, e.g. {refused[0]}")
    count = len(raws)
    latencies = sorted(committed_at[i] - admitted_at[i] for i in admitted_at)
    per_tx = {p: round(phases.cpu_s[p] / count * 1e6, 1) for p in PHASES}
    return {
        "transactions": count,
        "blocks": node.head.height,
        "throughput_tps": round(count / wall_s),
        "main_process_cpu_us_per_tx": round(process_s / count * 1e6, 1),
        "workers_cpu_us_per_tx": round(workers_s / count * 1e6, 1),
        "phase_cpu_us_per_tx": per_tx,
        "phase_wall_us_per_tx": {p: round(phases.wall_s[p] / count * 1e6, 1) for p in PHASES},
        "latency_ms": {
            "p50": round(latencies[len(latencies) // 2] * 1000),
            "p99": round(latencies[int(len(latencies) * 0.99)] * 1000),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workload", choices=("transfer", "orders"), default="transfer")
    parser.add_argument("--rate", type=int, default=16_000, help="submitted transactions a second")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of submitting")
    parser.add_argument("--batch", type=int, default=3_000, help="transactions per submission")
    parser.add_argument("--block-transactions", type=int, default=2_000)
    args = parser.parse_args()
    total = int(args.rate * args.seconds)
    load_before = os.getloadavg()[0]
    node, raws = prepare(args.workload, total, args.block_transactions)
    try:
        figures = run(node, raws, args.rate, args.batch)
    finally:
        node.close()
    print(
        f"{args.workload}: {figures['transactions']:,} transactions in {figures['blocks']} "
        f"blocks at a {args.rate:,}/s submit rate: {figures['throughput_tps']:,} tps, "
        f"p50 {figures['latency_ms']['p50']} ms, p99 {figures['latency_ms']['p99']} ms"
    )
    print(f"{'phase':<12} {'CPU us/tx':>10} {'wall us/tx':>11}")
    for phase in PHASES:
        cpu = figures["phase_cpu_us_per_tx"][phase]
        wall = figures["phase_wall_us_per_tx"][phase]
        print(f"{phase:<12} {cpu:>10} {wall:>11}")
    print(
        f"main process {figures['main_process_cpu_us_per_tx']} us/tx of CPU, "
        f"worker processes {figures['workers_cpu_us_per_tx']} us/tx"
    )
    figures.update(
        benchmark="node-phases",
        workload=args.workload,
        rate=args.rate,
        batch=args.batch,
        block_transactions=args.block_transactions,
        load_average_before=round(load_before, 2),
        load_average_after=round(os.getloadavg()[0], 2),
        python=platform.python_version(),
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
