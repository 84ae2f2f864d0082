"""What a simulation leaves on the chain, read back through the client.

Every result file and KPI is computed from these records, not from the
runner's memory: orders, trades, settlements and statements through the
market and settlement views; transaction counts, sizes and the device-data
anchors by walking every block; balances through the accounts.

Raw device data (generation, load, battery) stays off chain; the runner
anchored the SHA-256 of every period's batch, and `check_device_data` refuses
a ``device_data.csv`` whose batches do not match those anchors.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from gridledger.client import LocalClient

ANCHOR_LABEL = re.compile(r"^device data, period (\d+)$")


class DeviceDataMismatch(Exception):
    """A period's device data does not hash to what was anchored on chain."""

    def __init__(self, period: int, anchored: str | None, computed: str) -> None:
        self.period = period
        self.anchored = anchored
        self.computed = computed
        super().__init__(
            f"period {period}: device data hashes to {computed}, "
            f"the chain anchored {anchored or 'nothing'}"
        )


@dataclass
class ChainRecords:
    """Everything the result files are made of, as the chain holds it."""

    chain_id: str
    height: int
    head_hash: str
    periods: list[int]
    parameters: dict[int, dict[str, Any]]
    orders: list[dict[str, Any]] = field(default_factory=list)
    trades: list[dict[str, Any]] = field(default_factory=list)
    settlements: list[dict[str, Any]] = field(default_factory=list)
    statements: list[dict[str, Any]] = field(default_factory=list)
    transaction_counts: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    transaction_bytes: int = 0
    anchors: dict[int, str] = field(default_factory=dict)
    posted_prices: dict[int, int] = field(default_factory=dict)
    """Seed 003: the operator's last accepted ``pricing.post_price`` per period."""
    members: list[dict[str, Any]] = field(default_factory=list)
    balances: dict[str, int] = field(default_factory=dict)
    first_block_ms: int = 0
    last_block_ms: int = 0


def read_chain(client: LocalClient, periods: list[int]) -> ChainRecords:
    """Read a finished simulation's records from the chain."""
    head = client.head()
    records = ChainRecords(
        chain_id=client.chain_id(),
        height=int(head["height"]),
        head_hash=str(head["hash"]),
        periods=list(periods),
        parameters={p: client.parameters(p)["parameters"] for p in periods},
    )
    for period in periods:
        records.orders.extend(client.market_orders(period)["orders"])
        records.trades.extend(client.market_trades(period)["trades"])
        summary = client.settlement(period)["summary"]
        if summary is not None:
            records.settlements.append(summary)
        records.statements.extend(client.statements(period)["statements"])
    _walk_blocks(client, records)
    records.members = client.members()
    records.balances = {
        m["address"]: int(client.account(m["address"])["balance_micro"]) for m in records.members
    }
    return records


def _walk_blocks(client: LocalClient, records: ChainRecords) -> None:
    for height in range(1, records.height + 1):
        block = client.block(height, transactions=True)
        if height == 1:
            records.first_block_ms = int(block["header"]["timestamp_ms"])
        records.last_block_ms = int(block["header"]["timestamp_ms"])
        for entry in block["transactions"]:
            body = entry["transaction"]
            records.transaction_bytes += int(body.get("size_bytes", 0))
            contract = str(body.get("contract", "?"))
            method = str(body.get("method", "?"))
            records.transaction_counts[(contract, method, str(entry["result"]))] += 1
            if (contract, method) == ("pricing", "post_price") and entry["code"] == 0:
                args = body["args"]
                records.posted_prices[int(args["period"])] = int(args["price_micro_per_kwh"])
            if (contract, method) == ("metering", "anchor_batch") and entry["code"] == 0:
                label = ANCHOR_LABEL.match(str(body["args"].get("label", "")))
                if label is not None:
                    records.anchors[int(label[1])] = str(body["args"]["sha256"])


def check_device_data(
    rows: list[dict[str, int | str]], anchors: dict[int, str], digest: Any
) -> None:
    """Raise `DeviceDataMismatch` unless every period's rows hash to its anchor.

    ``digest`` turns one period's rows into their hex SHA-256 (the runner's
    `device_batch_digest`).
    """
    by_period: dict[int, list[dict[str, int | str]]] = {}
    for row in rows:
        by_period.setdefault(int(row["period"]), []).append(row)
    for period, batch in sorted(by_period.items()):
        computed = digest(batch)
        if anchors.get(period) != computed:
            raise DeviceDataMismatch(period, anchors.get(period), computed)
