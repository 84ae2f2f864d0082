"""The load: fixed-rate lanes of MessagePack batches, and commits learnt from the stream."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import gc
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import msgspec
from rich.console import Console

from gridledger.bench.community import schedule
from gridledger.bench.process import CpuMeter
from gridledger.bench.settings import (
    COMMITTED_FAILED,
    COMMITTED_OK,
    LANES,
    MAX_BATCH,
    PENDING,
    REJECTED,
    TICK_S,
    BenchError,
)
from gridledger.client.signing import RequestSigner, signed_headers
from gridledger.crypto import KeyPair, sha256

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


async def _stream(ws_url: str, run: Run, ready: asyncio.Event, reader: KeyPair) -> None:
    """Record the commit time of every transaction of the run from the block stream (the
    upgrade signed by `reader`: an auditor gets every transaction, a member every id)."""
    import websockets

    decoder = msgspec.json.Decoder(_StreamMessage)
    clock = time.perf_counter
    ids = run.ids
    offset = time.time() - clock()  # wall clock (block timestamps) to perf_counter
    try:
        http_url = "http" + ws_url.removeprefix("ws")
        headers = signed_headers(reader, httpx.Request("GET", http_url))
        async with websockets.connect(
            ws_url,
            max_size=None,
            ping_interval=None,
            close_timeout=0.5,
            compression=None,
            additional_headers=headers,
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


async def _fill_gaps(url: str, run: Run, reader: KeyPair) -> None:
    """Look up blocks the stream did not deliver (a slow reader loses blocks, never the node)."""
    if run.resolved >= run.sent or not run.seen_heights:
        return
    async with httpx.AsyncClient(timeout=30.0, auth=RequestSigner(reader)) as http:
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
    reader: KeyPair | None = None,
) -> Run:
    """Send `raws` at `rate` per second and follow their commits (on the block stream, read
    as `reader`: required; keyword for the order of the older arguments); the record of
    the run."""
    if reader is None:
        raise BenchError("drive needs the key that reads the block stream (reader=)")
    run = Run.of(raws)
    order = schedule(senders, len(raws))
    lanes = max(1, min(lanes, senders))
    lane_indices: list[list[int]] = [[] for _ in range(lanes)]
    for i, sender in enumerate(order):
        lane_indices[sender % lanes].append(i)
    ws_url = "ws" + url.removeprefix("http") + "/v1/stream"
    ready = asyncio.Event()
    stream = asyncio.create_task(_stream(ws_url, run, ready, reader))
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
    await _fill_gaps(url, run, reader)
    gc.unfreeze()
    return run
