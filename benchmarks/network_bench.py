"""Committed throughput and latency through a NATS JetStream ordering cluster, like Caliper.

Brings a network up on this machine (`gridledger.node.supervisor.network_up`: 3
nats-server processes with replicated streams, and N peers in ``nats`` ordering
mode, each its own process with its own SQLite file), then runs ``gridledger
bench --url <first peer> --dir <community>`` once per send rate, as a separate
process, and reads the JSON line it ends with. The cluster runs with TLS and
per-peer nkeys, as `network up` sets it up; ``--insecure`` runs it without both,
to measure what they cost. The bench sends signed
transactions to the first peer and counts a transaction when that peer reports
it committed; after each step every peer must be on the same head (checked
here, and written to the results).

    .venv/bin/python benchmarks/network_bench.py --peers 2 --rates 2800 --duration 30
    .venv/bin/python benchmarks/network_bench.py --peers 2 --sweep --duration 10 \\
        --plot benchmarks/network_sweep.png

``--sweep`` runs seed 003's Table 14 shape (send rate 50 -> 5,000 tps) and, with
``--plot``, draws throughput and average latency per send rate beside the
Fabric 1.1 figures of that table. Results go to ``--out`` (JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from gridledger.bench.community import write_bench_community
from gridledger.bench.orders import MARKET_PARAMETERS
from gridledger.node.network_config import NetworkSpec
from gridledger.node.supervisor import gridledger_command, network_down, network_up

SWEEP_RATES = [50, 100, 200, 300, 500, 1000, 1500, 2000, 2800, 3500, 5000]
FABRIC_TABLE_14 = [
    # send rate (tps), average latency (ms), throughput (tps): seed 003, Table 14 (Fabric 1.1)
    (50, 70, 50), (100, 90, 100), (110, 140, 110), (120, 170, 120), (130, 210, 130),
    (140, 240, 140), (150, 280, 146), (160, 330, 151), (170, 340, 170), (180, 380, 178),
    (190, 390, 186), (200, 410, 195), (210, 420, 204), (220, 530, 206), (230, 580, 221),
    (240, 660, 230), (250, 700, 243), (260, 1040, 259), (270, 1560, 268), (280, 1890, 275),
    (290, 2990, 273), (300, 3380, 273), (340, 4510, 274), (380, 5620, 277), (420, 6230, 276),
    (460, 7640, 279),
]  # fmt: skip


def write_netbench_community(directory: Path, accounts: int) -> Path:
    """A community of `accounts` funded prosumers with the orders workload's market (each
    funded with enough for every buy order of a whole sweep to escrow its maximum cost)."""
    write_bench_community(
        directory, accounts, chain_id="gridledger-netbench", market=MARKET_PARAMETERS
    )
    return directory


def heads(urls: list[str]) -> list[dict[str, Any]]:
    return [httpx.get(url + "/v1/head", timeout=10).json() for url in urls]


def converged(urls: list[str], timeout_s: float = 120.0) -> list[dict[str, Any]]:
    """Wait until every peer has the same head (height and hash); return the heads."""
    deadline = time.monotonic() + timeout_s
    found = heads(urls)
    while time.monotonic() < deadline:
        found = heads(urls)
        if len({(h["height"], h["hash"], h["state_hash"]) for h in found}) == 1:
            return found
        time.sleep(0.5)
    raise SystemExit(f"peers did not converge within {timeout_s:.0f} s: {found}")


def run_step(url: str, community: Path, rate: int, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        *gridledger_command(),
        "bench",
        "--url",
        url,
        "--dir",
        str(community),
        "--rate",
        str(rate),
        "--duration",
        str(args.duration),
        "--accounts",
        str(args.accounts),
        "--workload",
        args.workload,
    ]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=args.duration * 6 + 300)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode not in (0, 1) or not lines:
        raise SystemExit(f"bench failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    result: dict[str, Any] = json.loads(lines[-1])
    result["wall_s"] = round(time.monotonic() - started, 1)
    return result


def plot(results: list[dict[str, Any]], peers: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    rates = [r["rate"] for r in results]
    fabric_rates = [row[0] for row in FABRIC_TABLE_14]
    left.plot(
        rates, [r["throughput_tps"] for r in results], "o-", label=f"gridledger, {peers} peers"
    )
    left.plot(
        fabric_rates, [row[2] for row in FABRIC_TABLE_14], "s--", label="Fabric 1.1 (seed 003)"
    )
    left.set(xscale="log", yscale="log", xlabel="send rate (tps)", ylabel="throughput (tps)")
    left.set_title("committed throughput")
    right.plot(rates, [r["latency_ms"]["avg"] for r in results], "o-", label="gridledger avg")
    right.plot(rates, [r["latency_ms"]["p99"] for r in results], "^:", label="gridledger p99")
    right.plot(fabric_rates, [row[1] for row in FABRIC_TABLE_14], "s--", label="Fabric 1.1 avg")
    right.set(xscale="log", yscale="log", xlabel="send rate (tps)", ylabel="latency (ms)")
    right.set_title("latency")
    for axes in (left, right):
        axes.grid(True, which="both", alpha=0.3)
        axes.legend()
    figure.suptitle("Send-rate sweep through a 3-node NATS JetStream cluster (one 2-core machine)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peers", type=int, default=2)
    parser.add_argument("--rates", type=lambda s: [int(x) for x in s.split(",")], default=[2800])
    parser.add_argument("--sweep", action="store_true", help=f"rates {SWEEP_RATES}")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--workload", default="orders", choices=["orders", "transfer"])
    parser.add_argument(
        "--block-transactions",
        type=int,
        default=2000,
        help="transactions per block (the network's block limit, network.json)",
    )
    parser.add_argument("--block-timeout-ms", type=int, default=100)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--plot", type=Path, default=None)
    parser.add_argument(
        "--insecure",
        action="store_true",
        help="no TLS and no nkeys on the ordering cluster (to measure what they cost)",
    )
    args = parser.parse_args()
    rates = SWEEP_RATES if args.sweep else args.rates
    work = Path(tempfile.mkdtemp(prefix="gridledger-netbench-"))
    community = write_netbench_community(work / "community", args.accounts)
    spec = NetworkSpec(
        chain_id="gridledger-netbench",
        servers=3,
        peers=[f"peer{i + 1}" for i in range(args.peers)],
        block_timeout_ms=args.block_timeout_ms,
        block_transactions=args.block_transactions,
        community=str(community),
        insecure=args.insecure,
    )
    results: list[dict[str, Any]] = []
    try:
        records = network_up(work / "network", spec)
        urls = [r.url for r in records if r.role == "peer"]
        print(f"network of {args.peers} peers up in {work}; load {os.getloadavg()}", flush=True)
        for rate in rates:
            result = run_step(urls[0], community, rate, args)
            result["peers"] = args.peers
            result["heads"] = [h["height"] for h in converged(urls)]
            result["load_average"] = os.getloadavg()
            results.append(result)
            latency = result["latency_ms"]
            print(
                f"rate {rate:>5} tps: throughput {result['throughput_tps']:>8.1f} tps, "
                f"latency avg {latency['avg']:.0f} ms p99 {latency['p99']:.0f} ms, "
                f"fail {result['failures']}, peers at {result['heads']}",
                flush=True,
            )
    finally:
        network_down(work / "network")
        if args.out is not None:
            args.out.write_text(json.dumps(results, indent=1) + "\n")
    if args.plot is not None and results:
        plot(results, args.peers, args.plot)


if __name__ == "__main__":
    main()
