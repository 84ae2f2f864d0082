"""The world the hostile corpus attacks: one in-process node on a SQLite file, served through
FastAPI's TestClient, with a little history to attack (an open order of alice's, a meter
reading of hers, a pending applicant) and a clock that stands still while the corpus runs.

The refusal limits are off here: the corpus sends every bad request from one address on
purpose (tests/api/test_limits.py tests the limits).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from gridledger.api.app import create_app
from gridledger.api.limits import RefusalLimits
from gridledger.client.signing import RequestSigner
from gridledger.ledger import read_nonce
from gridledger.node import CutterConfig, Node, SQLiteStorage
from tests.api.test_market_api import Clock
from tests.community import (
    GENESIS_PERIOD,
    GENESIS_TIME_MS,
    NEXT_PERIOD,
    address,
    application_of,
    balances,
    key,
    make_genesis,
    order_args,
    reading_args,
    signed_raw,
)

NOW_S = GENESIS_TIME_MS // 1000 + 50
"""The corpus's time: inside the meter window of the period before genesis's."""
READ_PERIOD = GENESIS_PERIOD - 1
"""The period alice's meter has reported (its window is open at `NOW_S`)."""
OPEN_PERIOD = NEXT_PERIOD + 1
"""The period of alice's open order."""


@dataclass
class World:
    node: Node
    http: TestClient
    path: Path
    order_id: str
    reading_tx: str
    balances_before: dict[str, int]
    signed: dict[str, int] = field(default_factory=dict)

    def raw(self, sender: str, contract: str, method: str, args: dict[str, Any]) -> bytes:
        """`sender`'s transaction with its next nonce (the corpus waits for every commit)."""
        nonce = read_nonce(self.node.state, address(sender))
        return signed_raw(sender, nonce, contract, method, args)

    def as_(self, who: str) -> httpx.Auth:
        return RequestSigner(key(who))


POLICY_KEYS = [key(name).public_key.hex() for name in ("operator", "regulator", "alice")]
POLICIES = {
    "issuer": {"threshold": 2, "keys": POLICY_KEYS},
    "grid": {"threshold": 2, "keys": POLICY_KEYS},
}
"""The currency issuer and the grid account: 2 of operator, regulator and alice."""


def setup(directory: Path) -> tuple[Node, str, str]:
    """A chain with an open sell order of alice's, her meter's reading and erin applying."""
    clock = Clock(GENESIS_TIME_MS + 1_000)
    node = Node.create(
        SQLiteStorage(directory / "chain.sqlite"),
        make_genesis(parameters={"policies": POLICIES}),
        cutter=CutterConfig(timeout_ms=5),
        clock_ms=clock,
    )
    application, _ = application_of("erin", "consumer")
    raws = [
        signed_raw(
            "alice", 0, "market", "place_order", order_args("sell", 1000, 800_000, OPEN_PERIOD)
        ),
        signed_raw(
            "alice-meter-1",
            0,
            "metering",
            "record_reading",
            reading_args("alice-meter-1", "alice", READ_PERIOD, 500, 100),
        ),
        signed_raw("erin", 0, "membership", "apply", application),
    ]
    for raw in raws:
        node.submit(raw)
    committed = node.cut_block(NOW_S * 1000)
    assert committed is not None
    assert all(r.ok for r in committed.receipts), [r.message for r in committed.receipts]
    [placed] = committed.receipts[0].events[:1]
    order_id = str(placed.attributes["order_id"])
    clock.at(NOW_S)
    return node, order_id, committed.receipts[1].transaction_id.hex()


def open_world(directory: Path) -> World:
    node, order_id, reading_tx = setup(directory)
    app = create_app(node, refusal_limits=RefusalLimits.off())
    http = TestClient(app, raise_server_exceptions=False)
    http.__enter__()
    return World(node, http, directory / "chain.sqlite", order_id, reading_tx, balances(node.state))
