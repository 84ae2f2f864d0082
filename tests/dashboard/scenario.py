"""A real node with a small community trading on it, for the dashboard's tests and
screenshots; and a results folder like the one `gridledger simulate --out` writes.

The node (SQLite, solo ordering, API served by `BackgroundServer`) runs on a clock the
scenario moves, so a whole market day fits in a second: orders for the next period trade
on arrival (continuous double auction), meters report in the meter window, the period is
settled, and orders for the period after rest in the book. Everything goes through
``POST /v1/transactions`` as signed transactions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gridledger.api.server import BackgroundServer
from gridledger.client import HttpClient, Wallet, wait_until
from gridledger.client.replies import TransactionReply
from gridledger.node import CutterConfig, Node, SQLiteStorage
from tests.community import (
    GENESIS_TIME_MS,
    NEXT_PERIOD,
    address,
    key,
    make_genesis,
    meter_key_hex,
    meter_window_close_s,
    order_args,
    period_start_s,
    reading_args,
)

P = NEXT_PERIOD
"""The period traded and settled by the scenario."""
OPEN = P + 2
"""The period whose book holds resting orders when the scenario ends (open for orders)."""
WAIT_MS = 20_000


class Clock:
    """The node's clock: block timestamps are whatever the scenario sets."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms

    def at(self, seconds: int) -> None:
        self.ms = seconds * 1000


@dataclass
class LiveCommunity:
    url: str
    node: Node
    server: BackgroundServer
    clock: Clock
    client: HttpClient
    wallets: dict[str, Wallet] = field(default_factory=dict)
    transactions: dict[str, str] = field(default_factory=dict)
    """Names of notable transactions -> their ids."""

    def wallet(self, name: str) -> Wallet:
        if name not in self.wallets:
            self.wallets[name] = Wallet(key(name), self.client)
        return self.wallets[name]

    def committed(self, transaction_id: str) -> bool:
        return self.client.transaction(transaction_id).status == "committed"

    def call(self, name: str, contract: str, method: str, args: dict[str, Any]) -> TransactionReply:
        """Sign as `name`, submit through the API and wait until it is committed."""
        view = self.wallet(name).call(contract, method, args, wait=True, timeout_ms=WAIT_MS)
        assert isinstance(view, TransactionReply), view
        return view

    def ok(self, name: str, contract: str, method: str, args: dict[str, Any]) -> TransactionReply:
        view = self.call(name, contract, method, args)
        assert view.code == 0, (method, view.result, view.message)
        return view

    def stop(self) -> None:
        self.client.close()
        self.server.stop()
        self.node.close()


def start_community(directory: Path, results_dir: Path | None = None) -> LiveCommunity:
    """Start a node over `directory`/chain.sqlite and trade a market day on it."""
    clock = Clock(GENESIS_TIME_MS + 1_000)
    genesis = make_genesis(parameters={"market": {"mechanism": "continuous"}})
    node = Node.create(
        SQLiteStorage(directory / "chain.sqlite"),
        genesis,
        cutter=CutterConfig(timeout_ms=5),
        clock_ms=clock,
    )
    server = BackgroundServer(node, results_dir=results_dir)
    url = server.start()
    # the scenario reads as the regulator, who may read every member's account (an auditor)
    live = LiveCommunity(url, node, server, clock, HttpClient(url, keys=key("regulator")))
    try:
        trade_a_day(live)
    except BaseException:
        live.stop()
        raise
    return live


def trade_a_day(c: LiveCommunity) -> None:
    # orders for period P trade on arrival; dave's bid rests below bob's ask
    c.ok("alice", "market", "place_order", order_args("sell", 1000, 780_000, P))
    c.ok("bob", "market", "place_order", order_args("sell", 500, 800_000, P))
    bought = c.ok("carol", "market", "place_order", order_args("buy", 1000, 820_000, P))
    c.transactions["carol_buy"] = bought.id
    c.ok("dave", "market", "place_order", order_args("buy", 200, 790_000, P))
    c.ok(
        "operator",
        "membership",
        "bind_meter",
        {"member": address("carol"), "meter_key": meter_key_hex("carol-meter-1")},
    )
    # three payments in one block, so its Merkle proofs have sibling hashes
    raws = [
        c.wallet(sender).sign("tokens", "transfer", {"to": address(to), "amount_micro": amount})
        for sender, to, amount in (
            ("alice", "bob", 1_000),
            ("bob", "carol", 2_000),
            ("operator", "dave", 3_000),
        )
    ]
    batch = c.client.submit_batch(raws)
    assert batch.accepted == 3, batch
    ids = [result.id for result in batch.results]
    assert wait_until(lambda: all(c.committed(i) for i in ids), WAIT_MS / 1000)
    c.transactions["batched_payment"] = ids[1]
    refused = c.call("dave", "tokens", "transfer", {"to": address("bob"), "amount_micro": 10**12})
    assert refused.error == "insufficient_funds"
    c.transactions["refused_transfer"] = refused.id

    # the meter window of P: alice delivered what she sold, carol consumed a little more
    c.clock.at(period_start_s(P + 1) + 10)
    c.ok(
        "alice-meter-1",
        "metering",
        "record_reading",
        reading_args("alice-meter-1", "alice", P, 1000, 0),
    )
    c.ok(
        "carol-meter-1",
        "metering",
        "record_reading",
        reading_args("carol-meter-1", "carol", P, 0, 1200),
    )
    c.ok("operator", "settlement", "fund_grid", {"amount_micro": 5_000_000})
    c.clock.at(meter_window_close_s(P))
    c.ok("carol", "settlement", "settle", {"period": P})

    # the book of the period open for orders now: both sides rest, nothing crosses
    c.ok("alice", "market", "place_order", order_args("sell", 400, 800_000, OPEN))
    c.ok("bob", "market", "place_order", order_args("sell", 300, 830_000, OPEN))
    c.ok("dave", "market", "place_order", order_args("buy", 300, 780_000, OPEN))
    c.ok("carol", "market", "place_order", order_args("buy", 200, 790_000, OPEN))


def write_results(directory: Path) -> Path:
    """A results folder with one run, as `gridledger simulate --out` writes it: kpis.json,
    a plot made with matplotlib, a CSV table and report.html."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run = directory / "sunny-week"
    (run / "plots").mkdir(parents=True)
    kpis = {
        "scenario": "sunny-week",
        "periods": 168,
        "energy": {"traded_wh": 412_500, "self_sufficiency": 0.64},
        "prices": {"mean_micro_per_kwh": 812_300, "trades": 96},
    }
    (run / "kpis.json").write_text(json.dumps(kpis, indent=2))
    figure, axes = plt.subplots(figsize=(5, 3))
    axes.plot([0, 1, 2, 3], [0.79, 0.81, 0.80, 0.83], label="mean price")
    axes.set_title("price per period")
    figure.savefig(run / "plots" / "prices.png", dpi=60)
    plt.close(figure)
    (run / "trades.csv").write_text("period,energy_wh,price_micro_per_kwh\n1,1000,800000\n")
    (run / "report.html").write_text("<html><body><h1>sunny-week</h1></body></html>")
    (run / "community").mkdir()
    (run / "community" / "genesis.json").write_text("{}")
    (directory / "not-a-run").mkdir()
    (directory / "secret.txt").write_text("outside every run")
    return directory
