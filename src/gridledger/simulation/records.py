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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from gridledger.client import EmbeddedClient
from gridledger.client.market_replies import OrderReply, StatementReply, TradeReply
from gridledger.ledger import ResultCode, SignedTransaction, Transaction
from gridledger.simulation.device_rows import DeviceRows, text_digest
from gridledger.simulation.reply_table import ReplyTable

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
    orders: Sequence[Mapping[str, Any]] = field(default_factory=list)
    """Rows by field name: dicts, or a `ReplyTable`'s rows (what `read_chain` gives)."""
    trades: Sequence[Mapping[str, Any]] = field(default_factory=list)
    settlements: list[dict[str, Any]] = field(default_factory=list)
    statements: Sequence[Mapping[str, Any]] = field(default_factory=list)
    transaction_counts: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    transaction_bytes: int = 0
    anchors: dict[int, str] = field(default_factory=dict)
    posted_prices: dict[int, int] = field(default_factory=dict)
    """Seed 003: the operator's last accepted ``pricing.post_price`` per period."""
    members: list[dict[str, Any]] = field(default_factory=list)
    balances: dict[str, int] = field(default_factory=dict)
    first_block_ms: int = 0
    last_block_ms: int = 0
    supply: dict[str, Any] | None = None
    """The issuer's supply report, when the currency expires (seed 004 §3.4)."""
    certificates: dict[str, Any] | None = None
    """Certificate totals and the community's hourly matching, when certificates are on."""


def read_chain(client: EmbeddedClient, periods: list[int]) -> ChainRecords:
    """Read a finished simulation's records from the chain.

    The records are the rows of the result files: each reply becomes a dict of its fields
    (the JSON keys the API serves).
    """
    head = client.head()
    records = ChainRecords(
        chain_id=client.chain_id(),
        height=head.height,
        head_hash=head.hash,
        periods=list(periods),
        parameters={p: _row(client.parameters(p).parameters) for p in periods},
    )
    orders, trades = ReplyTable.of(OrderReply), ReplyTable.of(TradeReply)
    statements = ReplyTable.of(StatementReply)
    for period in periods:
        orders.extend(client.market_orders(period).orders)
        trades.extend(client.market_trades(period).trades)
        summary = client.settlement(period).summary
        if summary is not None:
            records.settlements.append(_row(summary))
        statements.extend(client.statements(period).statements)
    records.orders, records.trades, records.statements = orders, trades, statements
    _walk_blocks(client, records)
    members = client.members().members
    records.members = [_row(m) for m in members]
    records.balances = {m.address: client.account(m.address).balance_micro for m in members}
    supply = client.supply()
    if supply.lifetime_days:
        records.supply = _row(supply)
    if members and client.certificates(members[0].address).enabled:
        records.certificates = certificate_figures(client, [m.address for m in members])
    return records


def certificate_figures(client: EmbeddedClient, members: list[str]) -> dict[str, Any]:
    """The community's certificate totals (Wh), claims, and hourly matching over all members:
    Σ matched / Σ consumed, in basis points (EnergyTag's hourly matching score)."""
    totals = _row(client.certificates(members[0]).totals)
    consumed = matched = claimed = claims = 0
    for address in members:
        report = client.certificate_report(address)
        consumed += report.consumed_wh
        matched += report.matched_wh
        claimed += report.claimed_wh
        claims += len(client.certificates(address).claims)
    return {
        **totals,
        "claims": claims,
        "consumed_wh": consumed,
        "matched_wh": matched,
        "claimed_wh": claimed,
        "matching_score_bp": matched * 10_000 // consumed if consumed else 0,
    }


def _row(reply: msgspec.Struct) -> dict[str, Any]:
    """A reply's fields as a result-file row."""
    return msgspec.structs.asdict(reply)


def result_name(code: int) -> str:
    """A result code's name (``unknown_<code>`` for a code this version does not know)."""
    try:
        return ResultCode(code).slug
    except ValueError:
        return f"unknown_{code}"


def _walk_blocks(client: EmbeddedClient, records: ChainRecords) -> None:
    """Count every committed transaction by (contract, method, result) and pick up the
    device-data anchors and posted prices, straight from the stored blocks.

    Reads raw blocks in-process (`EmbeddedClient.stored_blocks`) instead of the JSON block
    view: the view decodes every receipt and converts every event to JSON types, about
    five times the cost of this walk over a day of a thousand households.
    """
    first = True
    for block in client.stored_blocks(1):
        if first:
            records.first_block_ms = block.header.timestamp_ms
            first = False
        records.last_block_ms = block.header.timestamp_ms
        for raw, code in zip(block.transactions, block.codes, strict=True):
            records.transaction_bytes += len(raw)
            body = _body(raw)
            contract, method = ("?", "?") if body is None else (body.contract, body.method)
            records.transaction_counts[(contract, method, result_name(code))] += 1
            if body is not None and code == 0:
                _note(records, contract, method, body.args)


def _body(raw: bytes) -> Transaction | None:
    """The decoded body of a committed transaction (None if it does not decode).

    Only the shape is decoded: a committed transaction passed every check at admission.
    """
    try:
        return msgspec.msgpack.decode(raw, type=SignedTransaction).transaction
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
        return None


def _note(records: ChainRecords, contract: str, method: str, args: dict[str, Any]) -> None:
    """Record a posted price (seed 003) or a device-data anchor from an accepted call."""
    if (contract, method) == ("pricing", "post_price"):
        records.posted_prices[int(args["period"])] = int(args["price_micro_per_kwh"])
    elif (contract, method) == ("metering", "anchor_batch"):
        label = ANCHOR_LABEL.match(str(args.get("label", "")))
        if label is not None:
            records.anchors[int(label[1])] = _hex(args["sha256"])


def _hex(value: Any) -> str:
    """A value as the JSON views show it: bytes as lower-case hex, anything else as text."""
    return value.hex() if isinstance(value, bytes) else str(value)


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


def check_device_batches(device_rows: DeviceRows, anchors: dict[int, str]) -> None:
    """`check_device_data` for a run's `DeviceRows`: each period's kept text is hashed as is."""
    by_period: dict[int, list[str]] = {}
    for batch in device_rows.batches:
        by_period.setdefault(batch.period, []).append(batch.text)
    for period, texts in sorted(by_period.items()):
        computed = text_digest("".join(texts))
        if anchors.get(period) != computed:
            raise DeviceDataMismatch(period, anchors.get(period), computed)
