"""The node under load as a child process, and where the CPU went during the run."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from gridledger.bench.settings import NODE_START_TIMEOUT_S, NODE_STOP_TIMEOUT_S, BenchError


class NodeProcess:
    """`gridledger node` on a community directory, as a child process on 127.0.0.1."""

    def __init__(self, directory: Path, port: int, extra: list[str] | None = None) -> None:
        self.directory = directory
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = directory / "node.log"
        command = [
            sys.executable,
            "-m",
            "gridledger.cli",
            "node",
            "--dir",
            str(directory),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *(extra or []),
        ]
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, timeout_s: float = NODE_START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        with httpx.Client(timeout=2.0) as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise BenchError(
                        f"the node exited with code {self.process.returncode}:\n{self.log_tail()}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if http.get(self.url + "/v1/head").status_code == 200:
                        return
                time.sleep(0.05)
        raise BenchError(f"the node did not answer /v1/head within {timeout_s:.0f} s")

    def stop(self, timeout_s: float = NODE_STOP_TIMEOUT_S) -> int | None:
        """SIGTERM, then SIGKILL if it has not exited after `timeout_s`; its exit code."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout_s)
        self._log.close()
        return self.process.returncode


# -- CPU accounting -------------------------------------------------------------------------


def _cpu_busy_s() -> float | None:
    """Seconds of CPU time the whole machine has spent busy since boot (Linux; else None)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    values = [int(v) for v in fields]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _process_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of process `pid` (Linux; else None)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _family_cpu_s(pid: int) -> float | None:
    """CPU seconds of process `pid` and of its descendants (the node's verify workers)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    family, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in family:
                family.add(child)
                frontier.append(child)
    total = None
    for member in family:
        cpu = _process_cpu_s(member)
        if cpu is not None:
            total = (total or 0.0) + cpu
    return total


@dataclass
class CpuMeter:
    """Where the machine's CPU time went during the timed phase: node, bench, everything else."""

    node_pid: int | None
    start: tuple[float | None, ...] = (0.0, None, None, None, None)
    usage: dict[str, float] = field(default_factory=dict)

    def _sample(self) -> tuple[float | None, ...]:
        node = _family_cpu_s(self.node_pid) if self.node_pid else None
        own = _process_cpu_s(self.node_pid) if self.node_pid else None
        return (time.perf_counter(), _cpu_busy_s(), _process_cpu_s(os.getpid()), node, own)

    def begin(self) -> None:
        self.start = self._sample()

    def end(self) -> None:
        stop = self._sample()
        wall = (stop[0] or 0.0) - (self.start[0] or 0.0)
        if wall <= 0:
            return
        usage: dict[str, float] = {"cores": float(os.cpu_count() or 1)}
        # node: with its verify workers; node_process: its own threads (the GIL's share)
        parts = {"machine": 1, "bench": 2, "node": 3, "node_process": 4}
        for name, i in parts.items():
            before, after = self.start[i], stop[i]
            if before is not None and after is not None:
                usage[name] = round((after - before) / wall, 2)
                if name == "node_process":
                    usage["node_process_cpu_s"] = round(after - before, 3)
        if {"machine", "bench", "node"} <= usage.keys():
            usage["others"] = round(max(0.0, usage["machine"] - usage["bench"] - usage["node"]), 2)
        self.usage = usage
