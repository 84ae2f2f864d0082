"""Build a chain of plain token transfers, for `verify_bench.py --chain` (issue 17).

Run: ``.venv/bin/python benchmarks/transfer_chain.py --out DIR [--transactions N]
[--accounts N] [--block N]``

The bench's community (`gridledger.bench.write_bench_community`: a regulator, an
operator and `--accounts` funded prosumers, key files in DIR) and its transfers
(`gridledger.bench.sign_all`: round robin over the accounts, each to the next one),
committed by the embedded node into ``DIR/chain.sqlite`` in blocks of `--block`
transactions, one second apart. Each transaction carries one Ed25519 signature: the
workload on which `gridledger verify` can go fastest. Prints the chain's figures and,
as its last line, one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from gridledger.bench import Sender, sign_all
from gridledger.bench.community import write_bench_community
from gridledger.node import Node
from gridledger.node.core import CutterConfig

CHAIN_ID = "gridledger-transfer-chain"


def build(directory: Path, transactions: int, accounts: int, block: int) -> dict[str, object]:
    """Write the community into `directory` and commit `transactions` transfers."""
    directory.mkdir(parents=True, exist_ok=True)
    genesis, keys = write_bench_community(directory, accounts, CHAIN_ID)
    senders = [Sender(k, 0, keys[(i + 1) % len(keys)].address) for i, k in enumerate(keys)]
    started = time.perf_counter()
    raws = sign_all(CHAIN_ID, senders, transactions)
    signed_s = time.perf_counter() - started
    node = Node.open_path(
        directory / "chain.sqlite", genesis, cutter=CutterConfig(max_transactions=block)
    )
    try:
        node.verifier.start_processes_and_wait()
        timestamp_ms = genesis.genesis_time_ms
        started = time.perf_counter()
        for first in range(0, len(raws), block):
            refused = [a for a in node.submit_many(raws[first : first + block]) if a.error]
            if refused:
                raise RuntimeError(f"{len(refused)} transfers refused: {refused[0].error}")
            timestamp_ms += 1_000
            committed = node.cut_block(timestamp_ms)
            if committed is None or len(committed.block.transactions) != min(
                block, len(raws) - first
            ):
                raise RuntimeError(f"the block after transaction {first} is not whole")
        committed_s = time.perf_counter() - started
        height = node.head.height
        head_hash = node.head_hash.hex()
    finally:
        node.close()
    return {
        "benchmark": "transfer-chain",
        "chain": str(directory / "chain.sqlite"),
        "transactions": transactions,
        "blocks": height + 1,
        "accounts": accounts,
        "signing_seconds": round(signed_s, 1),
        "committing_seconds": round(committed_s, 1),
        "head_hash": head_hash,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="an empty or new directory")
    parser.add_argument("--transactions", type=int, default=200_000)
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--block", type=int, default=1_000, help="transactions per block")
    args = parser.parse_args()
    figures = build(args.out, args.transactions, args.accounts, args.block)
    print(
        f"{figures['transactions']:,} transfers in {figures['blocks']:,} blocks in "
        f"{figures['chain']} (signed in {figures['signing_seconds']} s, committed in "
        f"{figures['committing_seconds']} s)"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
