"""Market contract cost per order, against books of different sizes.

Run: ``.venv/bin/python benchmarks/market_contract_bench.py [--resting 200,1000,3000]
[--mechanisms continuous,high_low] [--orders N] [--repeat N]``

For each mechanism and each book size it builds a chain in memory (no node, no
network, no disk): a genesis with ``MEMBERS`` funded prosumers and the market
mechanism under test, then ``resting`` orders that do not cross (buys below,
sells above a mid price over 40 price levels each side), committed in blocks.
Then it executes ``--orders`` more ``market place_order`` transactions as one
block on top of that book, ``--repeat`` times (the block is executed, never
committed, so every repetition sees the same book), with a mix of
``CROSSING_SHARE`` orders that cross the spread and trade (continuous) and the
rest resting. Transactions are signed and checked before the clock starts
(the node verifies signatures in parallel, before execution), so the figures
are:

- ``contract_us``: CPU time inside the market contract (``Registry.dispatch``)
  per order, median of the repetitions;
- ``execute_us``: CPU time of the whole sequential execution per order: nonce
  and membership checks, the contract, merging the writes, and the block's
  state hash (`execute_transactions`), median of the repetitions.

CPU time of this process (`time.process_time`), not wall time: on a shared
machine wall time mostly measures the other processes.

Prints a table and, as its last line, one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import time
from typing import Any

from gridledger.contracts import default_registry
from gridledger.contracts.registry import Registry
from gridledger.crypto import KeyPair, keypair_from_name
from gridledger.ledger import (
    BlockHeader,
    Context,
    Genesis,
    GenesisMember,
    SignedTransaction,
    build_block,
    commit_execution,
    encode_transaction,
    execute_transactions,
    genesis_block,
    make_transaction,
)

CHAIN_ID = "gridledger-market-bench"
GENESIS_TIME_MS = 1_800_000_000_000
PERIOD_SECONDS = 3600
TARGET_PERIOD = GENESIS_TIME_MS // 1000 // PERIOD_SECONDS + 24
"""A period a day ahead: open for the whole run."""
MEMBERS = 200
BALANCE_MICRO = 10**15
MID_MICRO_PER_KWH = 810_000
TICK = 1_000
LEVELS = 40
CROSSING_SHARE = 0.25
FILL_BLOCK = 500


class TimedDispatcher:
    """The registry, with the time spent in `dispatch` added up."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.seconds = 0.0

    def check_access(self, state: Any, sender: str, contract: str, method: str) -> None:
        self.registry.check_access(state, sender, contract, method)

    def dispatch(self, context: Context, contract: str, method: str, args: dict[str, Any]) -> None:
        started = time.process_time()
        try:
            self.registry.dispatch(context, contract, method, args)
        finally:
            self.seconds += time.process_time() - started

    def apply_genesis(self, context: Context, genesis: Genesis) -> None:
        self.registry.apply_genesis(context, genesis)


class Chain:
    """A chain in memory with funded prosumers, grown block by block."""

    def __init__(self, mechanism: str) -> None:
        self.keys: list[KeyPair] = [
            keypair_from_name(f"member-{i}", "market-bench") for i in range(MEMBERS)
        ]
        genesis = Genesis(
            chain_id=CHAIN_ID,
            genesis_time_ms=GENESIS_TIME_MS,
            members=[
                GenesisMember(
                    name=f"member-{i}",
                    role="prosumer",
                    public_key=k.public_key.hex(),
                    balance_micro=BALANCE_MICRO,
                )
                for i, k in enumerate(self.keys)
            ],
            parameters={"market": {"mechanism": mechanism}},
        )
        self.registry = default_registry()
        block, self.state = genesis_block(genesis, self.registry)
        self.head: BlockHeader = block.header
        self.nonces = [0] * MEMBERS
        self.next_member = 0

    def order(self, side: str, price: int, energy_wh: int) -> SignedTransaction:
        member = self.next_member
        self.next_member = (member + 1) % MEMBERS
        args = {
            "side": side,
            "energy_wh": energy_wh,
            "price_micro_per_kwh": price,
            "period": TARGET_PERIOD,
        }
        signed = make_transaction(
            self.keys[member], CHAIN_ID, self.nonces[member], "market", "place_order", args
        )
        self.nonces[member] += 1
        return signed

    def commit(self, signed: list[SignedTransaction]) -> None:
        raws = [encode_transaction(s) for s in signed]
        block, execution = build_block(
            self.state,
            self.head,
            raws,
            self.head.timestamp_ms + 1000,
            self.registry,
            prevalidated=signed,
        )
        failed = [r for r in execution.receipts if r.code != 0]
        if failed:
            raise RuntimeError(f"{len(failed)} orders refused, e.g. {failed[0].message}")
        commit_execution(self.state, execution)
        self.head = block.header


def resting_order(chain: Chain, rng: random.Random, n: int) -> SignedTransaction:
    side = "buy" if n % 2 == 0 else "sell"
    ticks = rng.randint(1, LEVELS)
    price = MID_MICRO_PER_KWH + (-ticks if side == "buy" else ticks) * TICK
    return chain.order(side, price, rng.randint(100, 2_000))


def measured_order(chain: Chain, rng: random.Random) -> SignedTransaction:
    side = "buy" if rng.random() < 0.5 else "sell"
    sign = -1 if side == "buy" else 1
    crossing = rng.random() < CROSSING_SHARE  # through the mid: trades with the best levels
    ticks = -rng.randint(1, 3) if crossing else rng.randint(1, LEVELS)
    price = MID_MICRO_PER_KWH + sign * ticks * TICK
    return chain.order(side, price, rng.randint(100, 2_000))


def measure(mechanism: str, resting: int, orders: int, repeat: int) -> dict[str, Any]:
    rng = random.Random(resting)
    chain = Chain(mechanism)
    started = time.process_time()
    pending: list[SignedTransaction] = []
    for n in range(resting):
        pending.append(resting_order(chain, rng, n))
        if len(pending) == FILL_BLOCK:
            chain.commit(pending)
            pending = []
    if pending:
        chain.commit(pending)
    build_s = time.process_time() - started
    signed = [measured_order(chain, rng) for _ in range(orders)]
    raws = [encode_transaction(s) for s in signed]
    contract_us: list[float] = []
    execute_us: list[float] = []
    trades = 0
    for _ in range(repeat):
        dispatcher = TimedDispatcher(chain.registry)
        started = time.process_time()
        execution = execute_transactions(
            chain.state,
            CHAIN_ID,
            chain.head.height + 1,
            chain.head.timestamp_ms + 1000,
            raws,
            dispatcher,
            signed,
        )
        elapsed = time.process_time() - started
        failed = [r for r in execution.receipts if r.code != 0]
        if failed:
            raise RuntimeError(f"{len(failed)} orders refused, e.g. {failed[0].message}")
        trades = sum(1 for r in execution.receipts for e in r.events if e.name == "trade")
        contract_us.append(dispatcher.seconds / orders * 1e6)
        execute_us.append(elapsed / orders * 1e6)
    return {
        "mechanism": mechanism,
        "resting_orders": resting,
        "orders": orders,
        "trades_per_block": trades,
        "contract_us": round(statistics.median(contract_us), 1),
        "execute_us": round(statistics.median(execute_us), 1),
        "build_s": round(build_s, 2),
    }


def load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--resting", default="200,1000,3000")
    parser.add_argument("--mechanisms", default="continuous,high_low")
    parser.add_argument("--orders", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.resting.split(",")]
    mechanisms = args.mechanisms.split(",")
    load_before = load_average()
    rows = [measure(m, n, args.orders, args.repeat) for m in mechanisms for n in sizes]
    print(
        f"market contract cost per order ({args.orders} orders per block, median of "
        f"{args.repeat}; Python {platform.python_version()})"
    )
    print(f"  {'mechanism':<14}{'resting':>9}{'contract µs':>14}{'execute µs':>13}{'trades':>9}")
    for row in rows:
        print(
            f"  {row['mechanism']:<14}{row['resting_orders']:>9,}{row['contract_us']:>14,.1f}"
            f"{row['execute_us']:>13,.1f}{row['trades_per_block']:>9}"
        )
    figures = {
        "benchmark": "market_contract",
        "rows": rows,
        "orders_per_block": args.orders,
        "repeat": args.repeat,
        "crossing_share": CROSSING_SHARE,
        "load_average_1m": {"before": load_before, "after": load_average()},
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
