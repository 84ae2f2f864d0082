"""`gridledger bench`: a load generator that reports what Hyperledger Caliper reports.

The bench runs in its own process and talks to a node only through its API:

1. Without ``--url`` it writes a temporary community (a regulator, an operator
   and ``accounts`` funded, active members), starts ``gridledger node`` on it
   as a separate process on a free loopback port, and stops it afterwards (by
   its pid: SIGTERM, then SIGKILL after a bound). With ``--url`` it loads a
   node that is already running; it then needs the community directory
   (``--dir``) for the members' key files, and uses the active members with
   funds as senders.
2. It signs every token transfer before the clock starts (in worker
   processes), so signing never throttles the send rate.
3. It sends at a fixed rate: every `TICK_S` it submits the transactions that
   are due as one MessagePack batch (``POST /v1/transactions/batch``). The
   senders are split into `LANES` lanes with one request in flight each, so a
   sender's transactions always reach the node in nonce order; a lane that
   falls behind sends what is due in its next batch (the offered rate is kept
   as long as the node answers).
4. It learns commits from the block stream (``/v1/stream``, one WebSocket
   message per committed block listing its transaction ids and result codes).
   Latency = the time the commit message arrived - the time the transaction
   was sent.

Figures, as Caliper defines them: successes (committed with result ``ok``),
failures (refused at admission + committed with another result code + not
committed before the drain timeout), send rate = sent / (last send - first
send), throughput = successes / (last commit - first send), and max, min,
average, p50, p95 and p99 latency of the successes. They are printed as a
table and, as the last line of output, as one line of JSON.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import gc
import json
import math
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec
import nacl.bindings
from rich.console import Console
from rich.table import Table

from gridledger.crypto import KeyPair, generate_keypair, sha256
from gridledger.ledger import (
    ENCODING_VERSION,
    Ed25519Authorization,
    Genesis,
    GenesisMember,
    SignedTransaction,
    Transaction,
    dump_genesis,
    encode,
    signing_bytes,
)

WORKLOADS = ("transfer",)
TICK_S = 0.025
"""How often each lane sends the transactions that are due (Caliper's fixed-rate controller)."""
LANES = 2
"""Independent submission streams, each with one request in flight."""
MAX_BATCH = 10_000
"""Most transactions in one request (the API's limit)."""
OPENING_BALANCE = 10**15
AMOUNT_MICRO = 1
NODE_START_TIMEOUT_S = 30.0
NODE_STOP_TIMEOUT_S = 10.0
SIGN_CHUNK = 5_000

UNSENT, PENDING, REJECTED, COMMITTED_OK, COMMITTED_FAILED = range(5)


class BenchError(Exception):
    """The bench could not run (bad options, a node that does not start, no funded keys)."""


# -- signing ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sender:
    keys: KeyPair
    first_nonce: int
    recipient: str


def _sign_chunk(
    chain_id: str, seeds: list[tuple[bytes, bytes, str]], jobs: list[tuple[int, int]]
) -> list[bytes]:
    """Canonical bytes of the transfers `jobs` = [(sender index, nonce)] (runs in a worker)."""
    secret = [seed + public for seed, public, _ in seeds]
    raws: list[bytes] = []
    for sender, nonce in jobs:
        _, public, recipient = seeds[sender]
        body = Transaction(
            version=ENCODING_VERSION,
            chain_id=chain_id,
            sender=public,
            nonce=nonce,
            contract="tokens",
            method="transfer",
            args={"to": recipient, "amount_micro": AMOUNT_MICRO},
        )
        signature = nacl.bindings.crypto_sign(signing_bytes(body), secret[sender])[:64]
        raws.append(encode(SignedTransaction(body, Ed25519Authorization(signature))))
    return raws


def schedule(senders: int, total: int) -> list[int]:
    """Sender index of each transaction in send order: round robin over the senders."""
    return [i % senders for i in range(total)]


def sign_all(chain_id: str, senders: list[Sender], total: int) -> list[bytes]:
    """Sign `total` transfers, round robin over `senders`, each sender's nonces in order."""
    seeds = [(s.keys.seed, s.keys.public_key, s.recipient) for s in senders]
    order = schedule(len(senders), total)
    jobs = [
        (sender, senders[sender].first_nonce + i // len(senders)) for i, sender in enumerate(order)
    ]
    chunks = [jobs[i : i + SIGN_CHUNK] for i in range(0, len(jobs), SIGN_CHUNK)]
    if len(chunks) <= 1:
        return _sign_chunk(chain_id, seeds, jobs)
    workers = max(1, min(len(chunks), os.cpu_count() or 1))
    with ProcessPoolExecutor(workers) as pool:
        parts = pool.map(_sign_chunk, [chain_id] * len(chunks), [seeds] * len(chunks), chunks)
        return [raw for part in parts for raw in part]


# -- the node under test ---------------------------------------------------------------------


def bench_genesis(
    accounts: int, chain_id: str = "gridledger-bench"
) -> tuple[Genesis, list[KeyPair]]:
    """A community of a regulator, an operator and `accounts` funded prosumers."""
    if accounts < 2:
        raise BenchError(f"--accounts must be at least 2, got {accounts}")
    keys = [generate_keypair() for _ in range(accounts)]
    members = [
        GenesisMember(
            name="regulator", role="regulator", public_key=generate_keypair().public_key.hex()
        ),
        GenesisMember(
            name="operator", role="operator", public_key=generate_keypair().public_key.hex()
        ),
    ] + [
        GenesisMember(
            name=f"account-{i:05d}",
            role="prosumer",
            public_key=k.public_key.hex(),
            balance_micro=OPENING_BALANCE,
        )
        for i, k in enumerate(keys)
    ]
    genesis = Genesis(
        chain_id=chain_id,
        genesis_time_ms=time.time_ns() // 1_000_000,
        members=members,
        parameters={"tokens": {"issuer_roles": ["operator"]}},
    )
    return genesis, keys


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
    start: tuple[float, float | None, float | None, float | None] = (0.0, None, None, None)
    usage: dict[str, float] = field(default_factory=dict)

    def _sample(self) -> tuple[float, float | None, float | None, float | None]:
        node = _family_cpu_s(self.node_pid) if self.node_pid else None
        return (time.perf_counter(), _cpu_busy_s(), _process_cpu_s(os.getpid()), node)

    def begin(self) -> None:
        self.start = self._sample()

    def end(self) -> None:
        stop = self._sample()
        wall = stop[0] - self.start[0]
        if wall <= 0:
            return
        usage: dict[str, float] = {"cores": float(os.cpu_count() or 1)}
        parts = {"machine": 1, "bench": 2, "node": 3}
        for name, i in parts.items():
            before, after = self.start[i], stop[i]
            if before is not None and after is not None:
                usage[name] = round((after - before) / wall, 2)
        if {"machine", "bench", "node"} <= usage.keys():
            usage["others"] = round(max(0.0, usage["machine"] - usage["bench"] - usage["node"]), 2)
        self.usage = usage


# -- the load --------------------------------------------------------------------------------


class _StreamTx(msgspec.Struct):
    id: str
    code: int


class _StreamHeader(msgspec.Struct):
    height: int
    timestamp_ms: int = 0


class _StreamMessage(msgspec.Struct):
    type: str
    header: _StreamHeader | None = None
    transactions: list[_StreamTx] = []
    height: int | None = None


class _BatchResult(msgspec.Struct):
    status: str
    error: str = ""


class _BatchResponse(msgspec.Struct):
    results: list[_BatchResult]


@dataclass
class Run:
    """What happened to each transaction of one run."""

    raws: list[bytes]
    ids: dict[str, int]
    status: bytearray
    sent_at: list[float]
    committed_at: list[float]
    rejections: Counter[str] = field(default_factory=Counter)
    commit_codes: Counter[int] = field(default_factory=Counter)
    http_errors: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    resolved: int = 0
    sent: int = 0
    blocks: int = 0
    stream_lost: bool = False
    start_height: int = 0
    seen_heights: set[int] = field(default_factory=set)
    unobserved_commits: int = 0
    cpu: dict[str, float] = field(default_factory=dict)
    request_ms: list[float] = field(default_factory=list)
    """Round-trip time of each submission request."""
    cut_at: list[float] = field(default_factory=list)
    """Per transaction: its block's timestamp, on this process's perf_counter clock."""

    @classmethod
    def of(cls, raws: list[bytes]) -> Run:
        ids = {sha256(raw).hex(): i for i, raw in enumerate(raws)}
        n = len(raws)
        return cls(raws, ids, bytearray(n), [0.0] * n, [0.0] * n, cut_at=[0.0] * n)

    def commit(self, index: int, code: int, at: float) -> None:
        if self.status[index] in (COMMITTED_OK, COMMITTED_FAILED):
            return
        if self.status[index] != REJECTED:
            self.resolved += 1
        self.status[index] = COMMITTED_OK if code == 0 else COMMITTED_FAILED
        self.committed_at[index] = at
        if code != 0:
            self.commit_codes[code] += 1

    def reject(self, index: int, reason: str) -> None:
        if self.status[index] == PENDING:
            self.status[index] = REJECTED
            self.resolved += 1
            self.rejections[reason] += 1


async def _stream(ws_url: str, run: Run, ready: asyncio.Event) -> None:
    """Record the commit time of every transaction of the run from the block stream."""
    import websockets

    decoder = msgspec.json.Decoder(_StreamMessage)
    clock = time.perf_counter
    ids = run.ids
    offset = time.time() - clock()  # wall clock (block timestamps) to perf_counter
    try:
        async with websockets.connect(
            ws_url, max_size=None, ping_interval=None, close_timeout=0.5, compression=None
        ) as ws:
            ready.set()
            async for message in ws:
                at = clock()
                parsed = decoder.decode(message)
                if parsed.type == "hello":
                    run.start_height = parsed.height or 0
                    continue
                if parsed.type != "block" or parsed.header is None:
                    continue
                run.blocks += 1
                run.seen_heights.add(parsed.header.height)
                cut_at = parsed.header.timestamp_ms / 1000 - offset
                for tx in parsed.transactions:
                    index = ids.get(tx.id)
                    if index is not None:
                        run.commit(index, tx.code, at)
                        run.cut_at[index] = cut_at
    except (OSError, websockets.WebSocketException):
        run.stream_lost = True
    finally:
        ready.set()


async def _lane(
    http: httpx.AsyncClient,
    url: str,
    run: Run,
    indices: list[int],
    rate: float,
    start: float,
) -> None:
    """Send the lane's transactions when they fall due, one request in flight."""
    clock = time.perf_counter
    decoder = msgspec.json.Decoder(_BatchResponse)
    raws = run.raws
    position = 0
    tick = 0
    while position < len(indices):
        due = int((clock() - start) * rate) + 1
        end = min(bisect.bisect_left(indices, due, position), position + MAX_BATCH)
        if end > position:
            batch = indices[position:end]
            body = msgspec.msgpack.encode([raws[i] for i in batch])
            sent_at = clock()
            for i in batch:
                run.status[i] = PENDING
                run.sent_at[i] = sent_at
            run.sent += len(batch)
            run.requests += 1
            position = end
            try:
                response = await http.post(
                    url, content=body, headers={"content-type": "application/msgpack"}
                )
            except httpx.HTTPError as error:
                run.http_errors[type(error).__name__] += 1
            else:
                run.request_ms.append((clock() - sent_at) * 1000)
                if response.status_code == 200:
                    results = decoder.decode(response.content).results
                    for i, result in zip(batch, results, strict=False):
                        if result.status == "rejected":
                            run.reject(i, result.error or "rejected")
                else:
                    run.http_errors[f"http {response.status_code}"] += 1
        tick += 1
        await asyncio.sleep(max(0.0, start + tick * TICK_S - clock()))


async def _progress(run: Run, console: Console, start: float, every_s: float = 5.0) -> None:
    last_time, last_done = start, 0
    while True:
        await asyncio.sleep(every_s)
        now = time.perf_counter()
        done = run.resolved
        console.print(
            f"  t={now - start:5.1f} s  sent {run.sent:>8,}  resolved {done:>8,}  "
            f"({(done - last_done) / (now - last_time):7,.0f} /s)  blocks {run.blocks:,}",
            highlight=False,
        )
        last_time, last_done = now, done


async def _fill_gaps(url: str, run: Run) -> None:
    """Look up blocks the stream did not deliver (a slow reader loses blocks, never the node)."""
    if run.resolved >= run.sent or not run.seen_heights:
        return
    async with httpx.AsyncClient(timeout=30.0) as http:
        head = (await http.get(url + "/v1/head")).json()["height"]
        for height in range(run.start_height + 1, head + 1):
            if height in run.seen_heights:
                continue
            block = (await http.get(f"{url}/v1/blocks/{height}?transactions=true")).json()
            for tx in block.get("transactions", []):
                index = run.ids.get(tx["id"])
                if index is not None and run.status[index] in (PENDING, REJECTED):
                    run.commit(index, int(tx["code"]), float("nan"))
                    run.unobserved_commits += 1


async def drive(
    url: str,
    raws: list[bytes],
    senders: int,
    rate: float,
    drain_timeout_s: float,
    console: Console,
    lanes: int = LANES,
    node_pid: int | None = None,
) -> Run:
    """Send `raws` at `rate` per second and follow their commits; the record of the run."""
    run = Run.of(raws)
    order = schedule(senders, len(raws))
    lanes = max(1, min(lanes, senders))
    lane_indices: list[list[int]] = [[] for _ in range(lanes)]
    for i, sender in enumerate(order):
        lane_indices[sender % lanes].append(i)
    ws_url = "ws" + url.removeprefix("http") + "/v1/stream"
    ready = asyncio.Event()
    stream = asyncio.create_task(_stream(ws_url, run, ready))
    await ready.wait()
    if run.stream_lost:
        raise BenchError(f"cannot open the block stream at {ws_url}")
    await asyncio.sleep(0.2)  # let the hello message arrive
    gc.collect()
    gc.freeze()
    limits = httpx.Limits(max_connections=lanes, max_keepalive_connections=lanes)
    async with httpx.AsyncClient(timeout=60.0, limits=limits) as http:
        meter = CpuMeter(node_pid)
        meter.begin()
        start = time.perf_counter()
        progress = asyncio.create_task(_progress(run, console, start))
        await asyncio.gather(
            *(
                _lane(http, url + "/v1/transactions/batch", run, indices, rate, start)
                for indices in lane_indices
            )
        )
        console.print(
            f"  sending done after {time.perf_counter() - start:.1f} s; draining "
            f"(at most {drain_timeout_s:.0f} s)",
            highlight=False,
        )
        deadline = time.perf_counter() + drain_timeout_s
        while run.resolved < run.sent and time.perf_counter() < deadline and not stream.done():
            await asyncio.sleep(0.02)
        progress.cancel()
        meter.end()
        run.cpu = meter.usage
    stream.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await stream
    await _fill_gaps(url, run)
    gc.unfreeze()
    return run


# -- the report ------------------------------------------------------------------------------


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summarise(run: Run, rate: float, duration_s: float, accounts: int) -> dict[str, Any]:
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
        "workload": "transfer",
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
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }


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


# -- entry point -----------------------------------------------------------------------------


def _senders_of_directory(url: str, directory: Path, accounts: int, total: int) -> list[Sender]:
    """Active, funded members whose key files are in `directory/keys`, with their nonces."""
    from gridledger.keystore import KeyFileError, read_key

    key_files = sorted((directory / "keys").glob("*.key"))
    if not key_files:
        raise BenchError(f"no key files in {directory / 'keys'}; --url needs the community --dir")
    keys: dict[str, KeyPair] = {}
    for path in key_files:
        with contextlib.suppress(KeyFileError):
            pair = read_key(path)
            keys[pair.address] = pair
    with httpx.Client(timeout=30.0) as http:
        response = http.get(url + "/v1/members")
        response.raise_for_status()
        active = sorted(m["address"] for m in response.json()["members"] if m["status"] == "active")
        funded: list[tuple[KeyPair, int, int]] = []
        for address in active:
            if address not in keys:
                continue
            account = http.get(f"{url}/v1/accounts/{address}").json()
            if account["balance_micro"] > 0:
                funded.append((keys[address], account["nonce"], account["balance_micro"]))
    if len(active) < 2 or not funded:
        raise BenchError(
            f"{directory / 'keys'} holds no key of an active member with funds "
            "(and the bench needs at least two active members)"
        )
    funded = funded[:accounts]
    per_sender = -(-total // len(funded))
    poor = [pair.address for pair, _, balance in funded if balance < per_sender * AMOUNT_MICRO]
    if poor:
        raise BenchError(f"members {', '.join(poor)} lack {per_sender} micro-units for the run")
    senders: list[Sender] = []
    for pair, nonce, _ in funded:
        others = [a for a in active if a != pair.address]
        senders.append(Sender(pair, nonce, others[len(senders) % len(others)]))
    return senders


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
            senders = _senders_of_directory(target, directory, accounts, total)
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
