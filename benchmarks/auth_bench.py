"""The node's cost of authenticating one read, in-process: RFC 9421 parse, cached public key,
one Ed25519 verification, the nonce store and the caller's role from the membership state.

    .venv/bin/python benchmarks/auth_bench.py [--reads 20000] [--repeat 5]

Requests are signed beforehand (the client's work is not the node's); the figure is the
median over `--repeat` runs of the mean time per read. The whole request's node CPU, HTTP
stack included, is what `gridledger bench --workload reads` reports.
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx

from gridledger.client.signing import signed_headers
from gridledger.crypto import keypair_from_name
from gridledger.ledger import Genesis, GenesisMember
from gridledger.node import Node
from gridledger.node.access import caller_of_key
from gridledger.node.authentication import Authenticator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reads", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    members = [keypair_from_name(f"member-{i}", "auth-bench") for i in range(100)]
    genesis = Genesis(
        chain_id="auth-bench",
        genesis_time_ms=time.time_ns() // 1_000_000,
        members=[
            GenesisMember(name=f"member-{i}", role="prosumer", public_key=k.public_key.hex())
            for i, k in enumerate(members)
        ]
        + [
            GenesisMember(
                name="regulator",
                role="regulator",
                public_key=keypair_from_name("regulator", "auth-bench").public_key.hex(),
            )
        ],
    )
    node = Node.in_memory(genesis)
    timings = []
    try:
        for _ in range(options.repeat):
            authenticator = Authenticator(genesis.chain_id)
            requests = []
            for i in range(options.reads):
                keys = members[i % len(members)]
                path = f"/v1/accounts/{keys.address}"
                headers = signed_headers(keys, httpx.Request("GET", "http://node" + path))
                requests.append((path, headers))
            started = time.perf_counter()
            for path, headers in requests:
                key = authenticator.verify_request(
                    "GET", path, "", headers["signature-input"], headers["signature"], None, None
                )
                caller_of_key(node.state, key, frozenset())
            timings.append((time.perf_counter() - started) / options.reads)
    finally:
        node.close()
    median_us = statistics.median(timings) * 1e6
    print(
        f"authentication per read: median {median_us:.1f} µs over {options.repeat} runs of "
        f"{options.reads:,} reads (min {min(timings) * 1e6:.1f}, max {max(timings) * 1e6:.1f})"
    )


if __name__ == "__main__":
    main()
