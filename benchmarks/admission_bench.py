"""The node's cost of deciding who may have a transaction written, in-process: `Registry.admit`
(the sender's standing from the memo, a non-member's rule, the arguments' screen) per
transaction, beside the whole of admission after the signature checks (`Node._admit`:
duplicates, nonce, `admit`, the mempool).

    .venv/bin/python benchmarks/admission_bench.py [--transactions 20000] [--repeat 5]

Transactions are signed and checked beforehand (signatures are the verifier's work, in its
own processes); the figure is the median over `--repeat` runs of the mean time per
transaction, for members' transfers (the 2,800 tps path) and for refused non-members.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import time
from collections.abc import Callable

from gridledger.crypto import KeyPair, keypair_from_name
from gridledger.ledger import (
    Genesis,
    GenesisMember,
    SignedTransaction,
    TransactionError,
    encode_transaction,
    key_address,
    make_transaction,
    transaction_id,
    validate_transaction,
)
from gridledger.node import Node

CHAIN = "admission-bench"


def signed(keys: KeyPair, nonce: int, to: str) -> tuple[bytes, bytes, SignedTransaction]:
    args = {"to": to, "amount_micro": 1}
    raw = encode_transaction(make_transaction(keys, CHAIN, nonce, "tokens", "transfer", args))
    return transaction_id(raw), raw, validate_transaction(raw, CHAIN)


def per_transaction(
    repeat: int, prepare: Callable[[], Callable[[], int]]
) -> tuple[float, float, float]:
    """Median, min and max over `repeat` runs of the mean seconds per transaction."""
    timings = []
    for _ in range(repeat):
        run = prepare()
        started = time.perf_counter()
        count = run()
        timings.append((time.perf_counter() - started) / count)
    return statistics.median(timings), min(timings), max(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transactions", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    members = [keypair_from_name(f"member-{i}", CHAIN) for i in range(200)]
    outsiders = [keypair_from_name(f"outsider-{i}", CHAIN) for i in range(200)]
    genesis = Genesis(
        chain_id=CHAIN,
        genesis_time_ms=time.time_ns() // 1_000_000,
        members=[
            GenesisMember(
                name=f"member-{i}",
                role="prosumer",
                public_key=k.public_key.hex(),
                balance_micro=1_000_000,
            )
            for i, k in enumerate(members)
        ],
    )
    count = options.transactions
    rounds = count // len(members) + 1
    good = [
        signed(members[i % len(members)], i // len(members), members[(i + 1) % 200].address)
        for i in range(rounds * len(members))
    ][:count]
    bad = [signed(outsiders[i % 200], 0, members[0].address) for i in range(count)]
    figures: dict[str, float] = {}
    node = Node.in_memory(genesis)
    try:

        def registry_only(batch: list[tuple[bytes, bytes, SignedTransaction]]) -> Callable[[], int]:
            def run() -> int:
                admit, state = node.registry.admit, node.state
                for _, _, outcome in batch:
                    body = outcome.transaction
                    call = (body.contract, body.method, body.args)
                    with contextlib.suppress(TransactionError):
                        admit(state, key_address(body.sender), body.sender, call, 0)
                return len(batch)

            return run

        def whole_admission() -> Callable[[], int]:
            fresh = Node.in_memory(genesis)

            def run() -> int:
                try:
                    for tx_id, raw, outcome in good:
                        fresh._admit(tx_id, raw, outcome, False)
                finally:
                    fresh.close()
                return len(good)

            return run

        for name, prepare in (
            ("admit_member_us", lambda: registry_only(good)),
            ("admit_non_member_us", lambda: registry_only(bad)),
            ("whole_admission_member_us", whole_admission),
        ):
            median, low, high = per_transaction(options.repeat, prepare)
            figures[name] = round(median * 1e6, 3)
            print(
                f"{name}: median {median * 1e6:.2f} µs per transaction over {options.repeat} "
                f"runs of {count:,} (min {low * 1e6:.2f}, max {high * 1e6:.2f})"
            )
    finally:
        node.close()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
