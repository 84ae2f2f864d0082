"""The stateless check of transactions: threads against processes, on this machine.

Run: ``.venv/bin/python benchmarks/verify_bench.py [--transactions N] [--senders N] [--repeat N]``

or, to time `gridledger verify` on a whole chain file (e.g. the 1,000-household day kept
by ``benchmarks/simulate_bench.py --out DIR``, or a chain of plain transfers written by
``benchmarks/transfer_chain.py --out DIR``):
``.venv/bin/python benchmarks/verify_bench.py --chain DIR/community/chain.sqlite [--workers N]``

The node checks every submitted transaction before admission (decoding,
chain, sender key, Ed25519 signature). libsodium releases the GIL while it
verifies a signature, so a thread pool can use every core; a process pool
pays for sending the raw transactions to the workers and the decoded results
back. This measures, for the same signed token transfers:

- ``inline``: one thread, `validate_transaction` on every transaction (every check,
  the sender key's prime-order check included each time);
- ``threads``: the node's `Verifier` thread pool (it remembers sender keys that
  passed the key check, see node/verifier.py);
- ``threads-nocache``: the same thread pool running `validate_transaction` every time;
- ``processes``: a process pool running `validate_transaction` on chunks, the
  decoded `SignedTransaction` sent back as the node needs it;
- ``processes-node``: the node's `Verifier` process pool (what the node does with
  batches of `PROCESS_BATCH` transactions or more): workers run the cached check and
  answer ok or not, the node decodes the accepted transactions itself.

Each is measured twice: alone, and ``+busy-gil``: beside a thread that runs
Python without pause, as the block cutter does while it executes a block.

Transactions are signed before the clock starts. Prints a table and, as its
last line, one JSON object with the figures (transactions per second).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

from gridledger.bench import Sender, sign_all
from gridledger.crypto import generate_keypair
from gridledger.ledger import SignedTransaction, TransactionError, validate_transaction
from gridledger.node import SQLiteStorage
from gridledger.node.verifier import CHUNK, Verifier
from gridledger.node.verify import verify_storage

CHAIN_ID = "gridledger-verify-bench"
Outcome = SignedTransaction | TransactionError


def _plain_chunk(raws: Sequence[bytes], chain_id: str) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for raw in raws:
        try:
            outcomes.append(validate_transaction(raw, chain_id))
        except TransactionError as error:
            outcomes.append(error)
    return outcomes


def pooled(
    pool: Executor, fn: Callable[..., list[Outcome]], chunk: int
) -> Callable[..., list[Outcome]]:
    def check(raws: Sequence[bytes]) -> list[Outcome]:
        chunks = [raws[i : i + chunk] for i in range(0, len(raws), chunk)]
        parts = pool.map(fn, chunks, [CHAIN_ID] * len(chunks))
        return [outcome for part in parts for outcome in part]

    return check


def measure(
    check: Callable[[Sequence[bytes]], list[Outcome]], raws: list[bytes], batch: int, repeat: int
) -> float:
    """Best transactions per second over `repeat` passes of checking `raws` in batches."""
    best = 0.0
    for _ in range(repeat):
        started = time.perf_counter()
        for i in range(0, len(raws), batch):
            outcomes = check(raws[i : i + batch])
            assert all(isinstance(o, SignedTransaction) for o in outcomes)
        best = max(best, len(raws) / (time.perf_counter() - started))
    return best


TICKS_PER_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_s(stat_path: str) -> float | None:
    """User + system CPU seconds of a process or thread, from its /proc stat file."""
    try:
        with open(stat_path) as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S


class ChildrenCpu:
    """CPU seconds of this process's children (the verifier's workers), sampled from /proc
    every `every_s` seconds until `stop` (a child's last figure is kept once it ends)."""

    def __init__(self, every_s: float = 0.25) -> None:
        self.every_s = every_s
        self.last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="children-cpu", daemon=True)

    def _children(self) -> list[int]:
        pids: list[int] = []
        for task in os.listdir(f"/proc/{os.getpid()}/task"):
            try:
                with open(f"/proc/{os.getpid()}/task/{task}/children") as listed:
                    pids += [int(pid) for pid in listed.read().split()]
            except OSError:
                continue
        return pids

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.sample()

    def sample(self) -> None:
        for pid in self._children():
            cpu = _cpu_s(f"/proc/{pid}/stat")
            if cpu is not None:
                self.last[pid] = cpu

    def start(self) -> None:
        if os.path.isdir("/proc/self/task"):
            self._thread.start()

    def stop(self) -> float | None:
        """Total CPU seconds of the children seen (None without /proc)."""
        if not self._thread.is_alive():
            return None
        self._stop.set()
        self._thread.join()
        return sum(self.last.values())


def verify_chain(path: Path, workers: int | None) -> None:
    """Time the whole re-verification of a chain file, as `gridledger verify` runs it.

    Every block replayed from genesis: signatures checked ahead in the `Verifier`'s
    worker processes, execution in block order, receipts and state compared. Target:
    >= 25,000 transactions per second on the 2-core development machine.

    Also prints where the CPU went (the main thread, the main process's other threads,
    the worker processes, from /proc where there is one) and the ceiling it gives on
    this machine's cores: all that CPU divided by the cores, as if none waited.
    """
    load_before = os.getloadavg()[0]
    storage = SQLiteStorage(path)
    children = ChildrenCpu()
    children.start()
    main_thread_stat = f"/proc/{os.getpid()}/task/{threading.get_native_id()}/stat"
    main_thread_started = _cpu_s(main_thread_stat)
    started = time.perf_counter()
    cpu_started = time.process_time()
    try:
        report = verify_storage(storage, workers=workers)
        children.sample()  # before the workers are gone
    finally:
        storage.close()
    elapsed = time.perf_counter() - started
    main_cpu = time.process_time() - cpu_started
    main_thread_ended = _cpu_s(main_thread_stat)
    workers_cpu = children.stop()
    tps = report.transactions / elapsed
    count = max(report.transactions, 1)
    cores = os.cpu_count() or 1
    print(
        f"verified {report.transactions:,} transactions in {report.height + 1:,} blocks in "
        f"{elapsed:.1f} s: {tps:,.0f} tx/s ({1e6 / tps:.1f} us/tx; main process CPU "
        f"{1e6 * main_cpu / count:.1f} us/tx); target >= 25,000 tx/s"
    )
    figures: dict[str, object] = {}
    if workers_cpu is not None and main_thread_started is not None and main_thread_ended:
        replay_s = main_thread_ended - main_thread_started
        total_s = main_cpu + workers_cpu
        figures = {
            "main_thread_cpu_s": round(replay_s, 2),
            "main_process_cpu_s": round(main_cpu, 2),
            "workers_cpu_s": round(workers_cpu, 2),
            "workers_cpu_us_per_tx": round(1e6 * workers_cpu / count, 1),
            "ceiling_tps": round(report.transactions * cores / total_s),
        }
        print(
            f"CPU: replay (main thread) {replay_s:.1f} s, main process {main_cpu:.1f} s, "
            f"workers {workers_cpu:.1f} s ({1e6 * workers_cpu / count:.1f} us/tx); the main "
            f"thread waited {max(0.0, elapsed - replay_s):.1f} s; ceiling on {cores} cores "
            f"(all CPU / cores) {total_s / cores:.1f} s = {figures['ceiling_tps']:,} tx/s"
        )
    print(
        json.dumps(
            {
                "benchmark": "verify-chain",
                "transactions": report.transactions,
                "blocks": report.height + 1,
                "seconds": round(elapsed, 2),
                "tps": round(tps),
                "main_process_cpu_us_per_tx": round(1e6 * main_cpu / count, 1),
                **figures,
                "workers": workers or min(4, os.cpu_count() or 1),
                "target_tps": 25_000,
                "load_average_before": round(load_before, 2),
                "load_average_after": round(os.getloadavg()[0], 2),
                "head_hash": report.head_hash.hex(),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transactions", type=int, default=20_000)
    parser.add_argument("--senders", type=int, default=200)
    parser.add_argument("--batch", type=int, default=1_000, help="transactions per check call")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--chain",
        type=Path,
        default=None,
        help="instead: time `gridledger verify` (verify_storage) on this chain file",
    )
    parser.add_argument("--workers", type=int, default=None, help="with --chain: processes")
    args = parser.parse_args()
    if args.chain is not None:
        verify_chain(args.chain, args.workers)
        return
    workers = os.cpu_count() or 1

    keys = [generate_keypair() for _ in range(args.senders)]
    senders = [Sender(k, 0, keys[(i + 1) % len(keys)].address) for i, k in enumerate(keys)]
    raws = sign_all(CHAIN_ID, senders, args.transactions)

    results: dict[str, float] = {}

    def run_all(suffix: str) -> None:
        results["inline" + suffix] = measure(
            lambda r: _plain_chunk(r, CHAIN_ID), raws, args.batch, args.repeat
        )
        verifier = Verifier(CHAIN_ID, workers)
        results["threads" + suffix] = measure(
            verifier._check_in_threads, raws, args.batch, args.repeat
        )
        verifier.close()
        with ThreadPoolExecutor(workers) as pool:
            results["threads-nocache" + suffix] = measure(
                pooled(pool, _plain_chunk, CHUNK), raws, args.batch, args.repeat
            )
        with ProcessPoolExecutor(workers) as pool:
            pool.submit(_plain_chunk, raws[:1], CHAIN_ID).result()  # start the workers
            per_worker = max(CHUNK, args.batch // workers)
            results["processes" + suffix] = measure(
                pooled(pool, _plain_chunk, per_worker), raws, args.batch, args.repeat
            )
        verifier = Verifier(CHAIN_ID, workers)
        processes = verifier.start_processes_and_wait()
        results["processes-node" + suffix] = measure(
            lambda r: verifier._check_in_processes(processes, r), raws, args.batch, args.repeat
        )
        verifier.close()

    run_all("")
    # The same inside a busy node: another thread runs Python without pause (as the
    # block cutter does while it executes a block), so it holds the GIL whenever it can.
    stop = threading.Event()

    def cutter() -> None:
        total = 0
        while not stop.is_set():
            for i in range(1000):
                total += i * i

    busy = threading.Thread(target=cutter, daemon=True)
    busy.start()
    try:
        run_all("+busy-gil")
    finally:
        stop.set()
        busy.join()

    print(
        f"stateless checks of {len(raws):,} signed transfers, {workers} workers, batches of "
        f"{args.batch}, best of {args.repeat}"
    )
    for name, tps in results.items():
        print(f"  {name:<25} {tps:>10,.0f} tx/s   {1e6 / tps:7.1f} us/tx")
    alone = [name for name in results if "+" not in name]
    beside = [name for name in results if "+" in name]
    fastest = max(alone, key=lambda name: results[name])
    fastest_busy = max(beside, key=lambda name: results[name])
    print(f"fastest alone: {fastest}; fastest beside a busy Python thread: {fastest_busy}")
    print(
        json.dumps(
            {
                "benchmark": "verify",
                "transactions": len(raws),
                "senders": args.senders,
                "batch": args.batch,
                "workers": workers,
                "tps": {name: round(tps) for name, tps in results.items()},
                "fastest": fastest,
                "fastest_busy_gil": fastest_busy,
                "machine": {"cpus": workers, "python": platform.python_version()},
            }
        )
    )


if __name__ == "__main__":
    main()
