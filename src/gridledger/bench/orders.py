"""The ``orders`` workload: signed ``market place_order`` transactions for one open period.

Every transaction is a limit order for the same delivery period, far enough
ahead that the period stays open (before its gate closure) for the whole run.
Each sender keeps one side: in the bench's own community even senders buy and
odd ones sell; with ``--url`` consumers buy and the other trading roles
alternate. Prices are drawn around `MID_MICRO_PER_KWH` in ticks of
`TICK_MICRO_PER_KWH`: buys from 8 ticks below to 3 above, sells from 3 below to
8 above, so about a third of the orders cross the book and trade on arrival
(continuous matching) and the rest rest. Energy is 100..2,000 Wh. Every draw is
a function of the transaction's index alone, so signing workers need no shared
state and a run can be repeated exactly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import httpx

from gridledger.bench.settings import BenchError
from gridledger.client.signing import RequestSigner
from gridledger.crypto import KeyPair

MID_MICRO_PER_KWH = 810_000
"""Between the default feed-in price (770,000) and cap (850,000)."""
TICK_MICRO_PER_KWH = 2_000
MIN_ENERGY_WH = 100
MAX_ENERGY_WH = 2_000
PERIOD_SECONDS = 3600
GATE_CLOSURE_SECONDS = 300
MARKET_PARAMETERS = {
    "mechanism": "continuous",
    "period_seconds": PERIOD_SECONDS,
    "gate_closure_seconds": GATE_CLOSURE_SECONDS,
}
"""The bench community's market (the defaults, with continuous matching)."""
MARGIN_S = 120
"""The period must stay open this long after the run's sending and drain."""


@dataclass(frozen=True, slots=True)
class OrderPlan:
    """The period the run's orders are for, and the most a buy escrows."""

    period: int
    max_escrow_micro: int


def order_args(index: int, side: str, period: int) -> dict[str, Any]:
    """Arguments of the `index`-th order of the run (deterministic in `index`)."""
    rng = random.Random(index)
    low, high = (-8, 3) if side == "buy" else (-3, 8)
    return {
        "side": side,
        "energy_wh": rng.randint(MIN_ENERGY_WH, MAX_ENERGY_WH),
        "price_micro_per_kwh": MID_MICRO_PER_KWH + rng.randint(low, high) * TICK_MICRO_PER_KWH,
        "period": period,
    }


def open_period(now_s: int, period_seconds: int, gate_closure_seconds: int, run_s: float) -> int:
    """The first period whose gate closes at least `run_s` + `MARGIN_S` after `now_s`."""
    period = now_s // period_seconds + 1
    while period * period_seconds - gate_closure_seconds < now_s + run_s + MARGIN_S:
        period += 1
    return period


def max_escrow_micro(cap_micro_per_kwh: int) -> int:
    """The most one buy of the workload escrows: its largest energy at the cap."""
    return MAX_ENERGY_WH * cap_micro_per_kwh // 1000


def plan_for_node(http: httpx.Client, url: str, run_s: float) -> OrderPlan:
    """Choose the period from a running node's clock and market parameters."""
    current = http.get(url + "/v1/market/current").json()
    now_s = current["clock_ms"] // 1000
    seconds = current["period_seconds"]
    parameters = http.get(url + "/v1/market/parameters").json()["parameters"]
    period = open_period(now_s, seconds, parameters["gate_closure_seconds"], run_s)
    later = http.get(url + "/v1/market/parameters", params={"period": period}).json()
    gate = later["parameters"]["gate_closure_seconds"]
    if period * seconds - gate < now_s + run_s + MARGIN_S:
        raise BenchError(f"period {period} closes before the run would end")
    return OrderPlan(period, max_escrow_micro(later["parameters"]["cap_price_micro_per_kwh"]))


def market_figures(url: str, period: int, reader: KeyPair) -> dict[str, Any]:
    """What the run did to the period's book, read from the node (as `reader`) after the
    drain."""
    with httpx.Client(timeout=60.0, auth=RequestSigner(reader)) as http:
        book = http.get(f"{url}/v1/market/periods/{period}/book").json()
        trades = http.get(f"{url}/v1/market/periods/{period}/trades").json()
    return {
        "period": period,
        "mechanism": book["mechanism"],
        "orders": book["orders"],
        "open_orders": book["open_orders"],
        "trades": trades["count"],
        "traded_wh": trades["traded_wh"],
        "bid_levels": len(book["bids"]),
        "ask_levels": len(book["asks"]),
    }
