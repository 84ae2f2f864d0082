"""Caliper's figures from a run: a table and one line of JSON."""

from __future__ import annotations

import math
import os
import platform
from typing import Any

from rich.table import Table

from gridledger.bench.load import Run
from gridledger.bench.settings import COMMITTED_FAILED, COMMITTED_OK, PENDING, REJECTED, UNSENT

# -- the report ------------------------------------------------------------------------------


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summarise(
    run: Run, rate: float, duration_s: float, accounts: int, workload: str = "transfer"
) -> dict[str, Any]:
    sent = [i for i, s in enumerate(run.status) if s != UNSENT]
    ok = [i for i in sent if run.status[i] == COMMITTED_OK]
    failed_commit = sum(1 for i in sent if run.status[i] == COMMITTED_FAILED)
    rejected = sum(1 for i in sent if run.status[i] == REJECTED)
    not_committed = sum(1 for i in sent if run.status[i] == PENDING)
    send_times = [run.sent_at[i] for i in sent]
    first_send = min(send_times) if send_times else 0.0
    last_send = max(send_times) if send_times else 0.0
    commit_times = [
        run.committed_at[i]
        for i in sent
        if run.status[i] in (COMMITTED_OK, COMMITTED_FAILED)
        and run.committed_at[i] == run.committed_at[i]
    ]
    last_commit = max(commit_times) if commit_times else first_send
    latencies = sorted(
        (run.committed_at[i] - run.sent_at[i]) * 1000.0
        for i in ok
        if run.committed_at[i] == run.committed_at[i]  # not NaN: seen on the stream
    )
    queue = sorted((run.cut_at[i] - run.sent_at[i]) * 1000 for i in ok if run.cut_at[i] > 0)
    cut_to_notify = sorted(
        (run.committed_at[i] - run.cut_at[i]) * 1000 for i in ok if run.cut_at[i] > 0
    )
    requests = sorted(run.request_ms)
    send_window = last_send - first_send
    commit_window = last_commit - first_send

    def ms(value: float) -> float:
        return round(value, 1)

    return {
        "successes": len(ok),
        "failures": len(sent) - len(ok),
        "send_rate_tps": round(len(sent) / send_window, 1) if send_window > 0 else 0.0,
        "throughput_tps": round(len(ok) / commit_window, 1) if commit_window > 0 else 0.0,
        "latency_ms": {
            "max": ms(latencies[-1]) if latencies else 0.0,
            "min": ms(latencies[0]) if latencies else 0.0,
            "avg": ms(sum(latencies) / len(latencies)) if latencies else 0.0,
            "p50": ms(percentile(latencies, 0.50)),
            "p95": ms(percentile(latencies, 0.95)),
            "p99": ms(percentile(latencies, 0.99)),
        },
        "duration_s": duration_s,
        "rate": rate,
        "accounts": accounts,
        "workload": workload,
        "sent": len(sent),
        "failures_by_kind": {
            "rejected": rejected,
            "committed_not_ok": failed_commit,
            "not_committed": not_committed,
        },
        "rejections": dict(run.rejections),
        "commit_codes": {str(k): v for k, v in run.commit_codes.items()},
        "http_errors": dict(run.http_errors),
        "requests": run.requests,
        "blocks": run.blocks,
        "commit_window_s": round(commit_window, 3),
        "unobserved_commits": run.unobserved_commits,
        "diagnostics_ms": {
            "request_p50": ms(percentile(requests, 0.5)),
            "request_p99": ms(percentile(requests, 0.99)),
            "send_to_block_p50": ms(percentile(queue, 0.5)),
            "send_to_block_p99": ms(percentile(queue, 0.99)),
            "block_to_notify_p50": ms(percentile(cut_to_notify, 0.5)),
            "block_to_notify_p99": ms(percentile(cut_to_notify, 0.99)),
        },
        "cpu_cores_busy": run.cpu,
        "node_process_us_per_tx": us_per_transaction(run.cpu, len(ok)),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }


def us_per_transaction(cpu: dict[str, float], committed: int) -> float | None:
    """CPU µs of the node's own process (its threads, not its verify workers) per commit.

    The figure the GIL bounds: at one core, 1e6 / this is the most the node can commit
    per second. None without a node process of the bench's own or without commits.
    """
    if "node_process_cpu_s" not in cpu or not committed:
        return None
    return round(cpu["node_process_cpu_s"] / committed * 1e6, 1)


def report_table(figures: dict[str, Any]) -> Table:
    """The figures as Caliper names them, one per row (fits an 80-column terminal)."""
    latency = figures["latency_ms"]
    kinds = figures["failures_by_kind"]
    table = Table(title=f"gridledger bench: {figures['workload']}", show_header=True)
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("Succ", f"{figures['successes']:,}")
    table.add_row(
        "Fail",
        f"{figures['failures']:,} (rejected {kinds['rejected']:,}, committed not ok "
        f"{kinds['committed_not_ok']:,}, not committed {kinds['not_committed']:,})",
    )
    table.add_row("Send Rate (TPS)", f"{figures['send_rate_tps']:,.1f}")
    for key, name in (("max", "Max"), ("min", "Min"), ("avg", "Avg")):
        table.add_row(f"{name} Latency (s)", f"{latency[key] / 1000:.3f}")
    for key in ("p50", "p95", "p99"):
        table.add_row(f"{key} Latency (s)", f"{latency[key] / 1000:.3f}")
    table.add_row("Throughput (TPS)", f"{figures['throughput_tps']:,.1f}")
    return table
