"""The privacy primitives on secp256k1 (coincurve): ring signatures, range proofs, scanning.

Run: ``.venv/bin/python benchmarks/privacy_bench.py [--repeat N] [--outputs N]``

Measures, single-threaded, the pure primitives of `gridledger.crypto.privacy`:

- ``lsag_ring11_sign_ms`` / ``lsag_ring11_verify_ms``: an LSAG over a ring of 11
  keys with an event-scoped key image (`ring_sign`, `ring_verify` from the
  encoded bytes, which includes decoding and checking the ring);
- ``range32_prove_ms`` / ``range32_verify_ms`` / ``range32_bytes``: a range proof
  for [1, 2^32] (a span of 2^32 - 1: 32 bit proofs), verified from its bytes;
- ``stealth_scan_10k_s``: one `scan` by a member over ``--outputs`` (10,000)
  stealth outputs, each with its own transaction key, 1 % of them its own.

Inputs (rings, openings, outputs) are made before each clock starts. Timings
are medians of ``--repeat`` runs, wall clock; beside each, the same median of
the process's CPU time (``*_cpu_*``), since on a shared machine the wall clock
also counts the other processes; and the 1-minute load average. Prints a
table and, as its last line, one JSON object with the figures.
Targets on the 2-core machine: sign and verify <= 5 ms, prove and verify
<= 20 ms, <= 5,000 bytes, scan <= 1.0 s.

- ``sealed_orders_tps``: ``--sealed-orders`` (600) sealed day-ahead orders committed
  through the embedded node, per second (see `sealed_orders_tps`; target >= 300).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable

from gridledger.client import EmbeddedClient, Wallet
from gridledger.crypto import KeyPair, keypair_from_name
from gridledger.crypto.privacy import (
    commit,
    derive_output,
    generate_stealth_keys,
    prove_range,
    public_key_of,
    random_scalar,
    ring_sign,
    ring_verify,
    scan,
    verify_range,
)
from gridledger.ledger import Genesis, GenesisMember
from gridledger.market import seal_order

RING_SIZE = 11
RANGE_LOW, RANGE_HIGH = 1, 2**32


def timed(action: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of `repeat` calls."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        action()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


# -- sealed_orders_tps: sealed day-ahead orders through the embedded node ------------------
#
# A fresh in-memory community of MEMBERS prosumers offering sealed day-ahead orders
# (contracts.market_sealed); every order is sealed (two commitments, two range proofs: the
# price over [770,000, 850,000], 17 bit proofs, the energy over [1, 10,000], 14) and signed
# before the clock starts. The clock covers what the node does: admission (signatures),
# execution (decoding and verifying both proofs, escrow, state writes) and cutting blocks,
# through the client's submit_batch and commit. Every order must be accepted and stored.

MEMBERS = 50
CHAIN_ID = "gridledger-sealed-bench"
GENESIS_TIME_MS = 1_800_000_000_000
DAY = GENESIS_TIME_MS // 1000 // 86_400 + 2
"""A delivery day whose gate (noon the day before) is well after the genesis."""
PERIOD = DAY * 24
FEED_IN, CAP = 770_000, 850_000
MAX_ENERGY_WH = 10_000


def community(keys: list[KeyPair]) -> EmbeddedClient:
    market = {
        "mechanism": "continuous",
        "day_ahead_gate_seconds": 43_200,
        "sealed_reveal_window_seconds": 600,
    }
    genesis = Genesis(
        chain_id=CHAIN_ID,
        genesis_time_ms=GENESIS_TIME_MS,
        members=[
            GenesisMember(
                name=f"member-{i}",
                role="prosumer",
                public_key=k.public_key.hex(),
                balance_micro=10**15,
            )
            for i, k in enumerate(keys)
        ],
        parameters={"market": market},
    )
    return EmbeddedClient.in_memory(genesis)


def sealed_orders_tps(orders: int) -> tuple[float, float]:
    """Sealed orders per second through the embedded node: by the wall clock, and by the
    process's CPU time (the node runs in this process)."""
    keys = [keypair_from_name(f"member-{i}", "sealed-bench") for i in range(MEMBERS)]
    client = community(keys)
    try:
        # as in a served node (`node.service`): large batches are checked in worker
        # processes, which verify each sealed order's range proofs ahead of execution
        client.node.verifier.start_processes_and_wait()
        wallets = [Wallet(k, client) for k in keys]
        raws = []
        for n in range(orders):
            wallet = wallets[n % MEMBERS]
            side = "buy" if n % 2 else "sell"
            price = FEED_IN + (n * 7_919) % (CAP - FEED_IN + 1)
            sealed, _ = seal_order(
                wallet.address, side, PERIOD, price, 1 + n % MAX_ENERGY_WH, MAX_ENERGY_WH,
                FEED_IN, CAP,
            )  # fmt: skip
            raws.append(wallet.sign("market", "place_sealed_day_ahead_order", sealed.place_args()))
        started, cpu = time.perf_counter(), time.process_time()
        admitted = client.submit_batch(raws)
        client.commit(GENESIS_TIME_MS + 1_000)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
        if admitted.rejected:
            raise RuntimeError(f"{admitted.rejected} sealed orders refused at admission")
        stored = client.market_day_ahead(DAY).orders
        if len(stored) != orders or any(o.status != "sealed" for o in stored):
            raise RuntimeError(f"{len(stored)} of {orders} sealed orders stored")
        return orders / seconds, orders / cpu_seconds
    finally:
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=30, help="runs per figure (scan: a third)")
    parser.add_argument("--outputs", type=int, default=10_000, help="stealth outputs scanned")
    parser.add_argument(
        "--sealed-orders", type=int, default=600, help="sealed orders committed through the node"
    )
    args = parser.parse_args()
    figures: dict[str, float | int] = {}

    secrets = [random_scalar() for _ in range(RING_SIZE)]
    ring = [public_key_of(s) for s in secrets]
    signer = RING_SIZE // 2
    signature = ring_sign(b"ballot", ring, signer, secrets[signer], b"vote").encode()
    sign = timed(lambda: ring_sign(b"ballot", ring, signer, secrets[signer], b"vote"), args.repeat)
    verify = timed(lambda: ring_verify(b"ballot", ring, signature, b"vote"), args.repeat)
    figures["lsag_ring11_sign_ms"] = round(sign[0] * 1e3, 3)
    figures["lsag_ring11_verify_ms"] = round(verify[0] * 1e3, 3)
    figures["lsag_ring11_sign_cpu_ms"] = round(sign[1] * 1e3, 3)
    figures["lsag_ring11_verify_cpu_ms"] = round(verify[1] * 1e3, 3)

    value = 2_718_281
    commitment, opening = commit(value)
    proof = prove_range(value, opening.blinding, RANGE_LOW, RANGE_HIGH, context=b"order").encode()
    prove = timed(
        lambda: prove_range(value, opening.blinding, RANGE_LOW, RANGE_HIGH, context=b"order"),
        args.repeat,
    )
    check = timed(
        lambda: verify_range(commitment, proof, RANGE_LOW, RANGE_HIGH, context=b"order"),
        args.repeat,
    )
    figures["range32_prove_ms"] = round(prove[0] * 1e3, 3)
    figures["range32_verify_ms"] = round(check[0] * 1e3, 3)
    figures["range32_prove_cpu_ms"] = round(prove[1] * 1e3, 3)
    figures["range32_verify_cpu_ms"] = round(check[1] * 1e3, 3)
    figures["range32_bytes"] = len(proof)

    member = generate_stealth_keys()
    others = [generate_stealth_keys().address() for _ in range(50)]
    outputs = [
        derive_output(
            member.address() if i % 100 == 0 else others[i % len(others)], random_scalar(), 0
        )
        for i in range(args.outputs)
    ]
    spend_public = member.address().spend_public_key
    mine = len(scan(outputs, member.view_secret, spend_public))
    assert mine == (args.outputs + 99) // 100, mine
    scanning = timed(
        lambda: scan(outputs, member.view_secret, spend_public), max(1, args.repeat // 10)
    )
    figures["stealth_scan_10k_s"] = round(scanning[0] * 10_000 / args.outputs, 4)
    figures["stealth_scan_10k_cpu_s"] = round(scanning[1] * 10_000 / args.outputs, 4)
    wall_tps, cpu_tps = sealed_orders_tps(args.sealed_orders)
    figures["sealed_orders_tps"] = round(wall_tps, 1)
    figures["sealed_orders_cpu_tps"] = round(cpu_tps, 1)
    figures["load_average_1m"] = round(os.getloadavg()[0], 2)

    targets = {
        "lsag_ring11_sign_ms": 5,
        "lsag_ring11_verify_ms": 5,
        "range32_prove_ms": 20,
        "range32_verify_ms": 20,
        "range32_bytes": 5000,
        "stealth_scan_10k_s": 1.0,
    }
    floors = {"sealed_orders_tps": 300}
    for key, figure in figures.items():
        target = targets.get(key)
        floor = floors.get(key)
        mark = (
            f"  (target >= {floor}: {'ok' if figure >= floor else 'MISSED'})"
            if floor is not None
            else ""
            if target is None
            else f"  (target <= {target}: {'ok' if figure <= target else 'MISSED'})"
        )
        print(f"{key:28} {figure}{mark}")
    sys.stdout.write(json.dumps(figures, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
