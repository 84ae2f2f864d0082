"""The ``reads`` workload: signed reads (RFC 9421) at a fixed rate, and what they cost the node.

Each reader is a member reading its own account, its own settlement statement of the
current period and that period's order book, round robin, every request signed anew
(fresh ``created`` and nonce; signatures cannot be made in advance, so the bench signs
as it sends). A read is answered when the node says 2xx, or 404 / 409 for a record that
does not exist yet (a statement before settlement): authentication and the access
policy ran either way. 401 and 403 are failures. The figure that matters is the node's
CPU time per answered read (``node_process_us_per_read``), measured like the transfer
workload's per-transaction figure.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from rich.console import Console

from gridledger.bench.process import CpuMeter
from gridledger.bench.settings import TICK_S
from gridledger.client.signing import RequestSigner
from gridledger.crypto import KeyPair

READ_LANES = 4
"""Concurrent requests in flight (one per lane)."""
ANSWERED = frozenset({200, 404, 409})


@dataclass
class ReadRun:
    sent: int = 0
    answered: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    http_errors: Counter[str] = field(default_factory=Counter)
    latency_ms: list[float] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)
    elapsed_s: float = 0.0


def read_paths(address: str, period: int) -> list[str]:
    """The reads of one member, in the order they are sent."""
    return [
        f"/v1/accounts/{address}",
        f"/v1/settlement/periods/{period}/statements/{address}",
        f"/v1/market/periods/{period}/book",
    ]


def schedule_reads(readers: list[KeyPair], period: int, total: int) -> list[tuple[int, str]]:
    """(reader index, path) of each read in send order: round robin over readers and paths."""
    reads: list[tuple[int, str]] = []
    paths = [read_paths(keys.address, period) for keys in readers]
    for i in range(total):
        reader = i % len(readers)
        reads.append((reader, paths[reader][(i // len(readers)) % 3]))
    return reads


async def _lane(
    url: str,
    signers: list[RequestSigner],
    reads: list[tuple[int, str]],
    run: ReadRun,
    rate: float,
    start: float,
) -> None:
    clock = time.perf_counter
    async with httpx.AsyncClient(base_url=url, timeout=30.0) as http:
        for position, (reader, path) in enumerate(reads):
            due = start + position / rate
            if due > clock():
                await asyncio.sleep(due - clock())
            sent_at = clock()
            run.sent += 1
            try:
                response = await http.get(path, auth=signers[reader])
            except httpx.HTTPError as error:
                run.http_errors[type(error).__name__] += 1
                continue
            run.latency_ms.append((clock() - sent_at) * 1000)
            run.statuses[response.status_code] += 1
            if response.status_code in ANSWERED:
                run.answered += 1


async def drive_reads(
    url: str,
    readers: list[KeyPair],
    period: int,
    rate: float,
    duration_s: float,
    console: Console,
    node_pid: int | None = None,
    lanes: int = READ_LANES,
) -> ReadRun:
    """Send ``rate × duration_s`` signed reads over `lanes` concurrent lanes."""
    total = max(1, int(rate * duration_s))
    reads = schedule_reads(readers, period, total)
    signers = [RequestSigner(keys) for keys in readers]
    lanes = max(1, min(lanes, total))
    run = ReadRun()
    meter = CpuMeter(node_pid)
    meter.begin()
    start = time.perf_counter() + TICK_S
    await asyncio.gather(
        *(_lane(url, signers, reads[i::lanes], run, rate / lanes, start) for i in range(lanes))
    )
    run.elapsed_s = time.perf_counter() - start
    meter.end()
    run.cpu = meter.usage
    console.print(
        f"  sent {run.sent:,} reads in {run.elapsed_s:.1f} s; answered {run.answered:,}",
        highlight=False,
    )
    return run


def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 2)


def summarise_reads(run: ReadRun, rate: int, duration_s: float, readers: int) -> dict[str, Any]:
    """The figures of a read run (the last line of `gridledger bench --workload reads`)."""
    cpu_s = run.cpu.get("node_process_cpu_s")
    per_read = None
    if cpu_s is not None and run.answered:
        per_read = round(cpu_s / run.answered * 1e6, 1)
    failures = run.sent - run.answered
    return {
        "workload": "reads",
        "rate_rps": rate,
        "duration_s": duration_s,
        "readers": readers,
        "sent": run.sent,
        "answered": run.answered,
        "successes": run.answered,
        "failures": failures,
        "statuses": {str(code): count for code, count in sorted(run.statuses.items())},
        "http_errors": dict(run.http_errors),
        "throughput_rps": round(run.answered / run.elapsed_s, 1) if run.elapsed_s else 0.0,
        "latency_ms": {
            "p50": _percentile(run.latency_ms, 0.50),
            "p95": _percentile(run.latency_ms, 0.95),
            "p99": _percentile(run.latency_ms, 0.99),
        },
        "cpu_cores_busy": run.cpu,
        "node_process_us_per_read": per_read,
    }


def reads_table(figures: dict[str, Any]) -> str:
    latency = figures["latency_ms"]
    return (
        f"reads: {figures['answered']:,} of {figures['sent']:,} answered "
        f"({figures['throughput_rps']:,} /s), statuses {figures['statuses']}; latency p50 "
        f"{latency['p50']} ms, p95 {latency['p95']} ms; node CPU per read "
        f"{figures['node_process_us_per_read']} µs"
    )


__all__ = ["ReadRun", "drive_reads", "read_paths", "reads_table", "summarise_reads"]
