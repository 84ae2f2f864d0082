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

``sealed_orders_tps`` (sealed orders through the embedded node) is not here:
it needs the sealed-bid contract path, which is not built yet.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=30, help="runs per figure (scan: a third)")
    parser.add_argument("--outputs", type=int, default=10_000, help="stealth outputs scanned")
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
    figures["load_average_1m"] = round(os.getloadavg()[0], 2)

    targets = {
        "lsag_ring11_sign_ms": 5,
        "lsag_ring11_verify_ms": 5,
        "range32_prove_ms": 20,
        "range32_verify_ms": 20,
        "range32_bytes": 5000,
        "stealth_scan_10k_s": 1.0,
    }
    for key, figure in figures.items():
        target = targets.get(key)
        mark = (
            ""
            if target is None
            else f"  (target <= {target}: {'ok' if figure <= target else 'MISSED'})"
        )
        print(f"{key:28} {figure}{mark}")
    sys.stdout.write(json.dumps(figures, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
