"""Settings of the load generator and its error."""

from __future__ import annotations

WORKLOADS = ("transfer", "orders", "reads")
"""Token transfers, market orders (`gridledger.bench.orders`), or signed reads
(`gridledger.bench.reads`)."""
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
