"""Write a finished run's results folder, every figure read back from the chain.

Layout of ``DIR``::

    community/          genesis.json, keys/, chain.sqlite (a normal community)
    orders.csv          every order, as the market contract stored it
    trades.csv          every trade, with its audit fields
    periods.csv         per period: orders, trades, prices, energy, grid flows
    settlements.csv     every member's settlement statement per period
    balances.csv        opening (genesis) and final balance of every account holder
    device_data.csv     raw device data per member and period (hashes anchored on chain)
    kpis.json           the key figures (see `gridledger.simulation.kpis`)
    plots/*.png         traded energy, mean price, energy flows
    report.html         the key figures and the plots on one page
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import msgspec

from gridledger.client.privacy import all_outputs
from gridledger.ledger import load_genesis
from gridledger.simulation.kpis import compute_kpis, period_rows, privacy_kpis
from gridledger.simulation.plots import write_plots
from gridledger.simulation.records import ChainRecords, check_device_batches, read_chain
from gridledger.simulation.reply_table import ReplyTable
from gridledger.simulation.report import render_report
from gridledger.simulation.runner import Runner, RunSummary

TRADE_FIELDS = (
    "trade_id",
    "period",
    "kind",
    "reason",
    "buyer",
    "seller",
    "energy_wh",
    "price_micro_per_kwh",
    "value_micro",
    "buy_order_id",
    "sell_order_id",
    "mechanism",
    "price_rule",
    "bid_price_micro_per_kwh",
    "ask_price_micro_per_kwh",
    "clamped",
    "matched_at_s",
    "height",
)


def write_csv(
    path: Path, rows: Iterable[Mapping[str, Any]], fields: list[str] | None = None
) -> None:
    """Rows as CSV; the columns are ``fields`` or the first row's keys.

    The rows are written as they come: an iterator of rows made on the fly (`named`) is
    never held whole, which matters for a day of ten thousand households (a million
    settlement statements).
    """
    rows = iter(rows)
    first = next(rows, None)
    columns = fields if fields is not None else (list(first) if first is not None else [])
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        if first is not None:
            writer.writerow(first)
        writer.writerows(rows)


def named(
    rows: Iterable[Mapping[str, Any]], names: dict[str, str], **columns: str
) -> Iterator[dict[str, Any]]:
    """Rows with a member-name column added for each address column (``address=name_column``),
    one at a time (see `write_csv`)."""
    if isinstance(rows, ReplyTable):  # each row a new dict already
        for fresh in rows.dicts():
            fresh.update({name: names.get(fresh[address], "") for address, name in columns.items()})
            yield fresh
        return
    for row in rows:
        yield {**row, **{name: names.get(row[address], "") for address, name in columns.items()}}


def balance_rows(records: ChainRecords, opening: dict[str, int]) -> list[dict[str, Any]]:
    rows = []
    for member in records.members:
        address = member["address"]
        final = records.balances[address]
        start = opening.get(address, 0)
        rows.append(
            {
                "name": member["name"],
                "address": address,
                "role": member["role"],
                "opening_micro": start,
                "final_micro": final,
                "change_micro": final - start,
            }
        )
    return rows


def chain_file_bytes(community: Path) -> int:
    return sum(p.stat().st_size for p in community.iterdir() if p.name.startswith("chain.sqlite"))


def privacy_records(
    runner: Runner, records: ChainRecords
) -> tuple[ChainRecords, list[dict[str, Any]], list[Any]]:
    """The chain's stealth outputs and the day-ahead orders of the run's delivery days."""
    client = runner.client
    outputs = [msgspec.to_builtins(o) for o in all_outputs(client)]
    seconds = runner.scenario.market.period_seconds
    days = sorted({p * seconds // 86_400 for p in records.periods})
    orders = [o for day in days for o in client.market_day_ahead(day).orders]
    return records, outputs, orders


def write_results(
    runner: Runner, summary: RunSummary, out: Path, close: bool = True
) -> dict[str, Any]:
    """Read the run back from the chain and write every result file; returns the KPIs.

    Closes the runner's node first unless ``close`` is false (then the chain file
    size is measured while it is open).
    """
    records = read_chain(runner.client, summary.periods)
    check_device_batches(summary.device_rows, records.anchors)
    community = runner.directory
    scenario = runner.scenario
    private = scenario.privacy.sealed_orders or scenario.privacy.stealth_payouts
    hidden = privacy_kpis(*privacy_records(runner, records)) if private else None
    if close:
        runner.close()
    kpis = compute_kpis(
        records, summary.device_rows, scenario.name, scenario.seed, chain_file_bytes(community)
    )
    if hidden is not None:  # only in private runs, so other runs keep their kpis.json
        kpis["privacy"] = hidden
    genesis = load_genesis((community / "genesis.json").read_bytes())
    opening = {m["address"]: 0 for m in records.members}
    by_key = {m["public_key"]: m["address"] for m in records.members}
    for member in genesis.members:
        opening[by_key[member.public_key]] = member.balance_micro
    rows = period_rows(records, summary.device_rows)
    names = {m["address"]: m["name"] for m in records.members}
    write_csv(out / "orders.csv", named(records.orders, names, owner="owner_name"))
    trades = named(records.trades, names, buyer="buyer_name", seller="seller_name")
    write_csv(out / "trades.csv", trades, [*TRADE_FIELDS, "buyer_name", "seller_name"])
    write_csv(out / "periods.csv", rows)
    write_csv(out / "settlements.csv", named(records.statements, names, member="member_name"))
    write_csv(out / "balances.csv", balance_rows(records, opening))
    (out / "device_data.csv").write_text(summary.device_rows.csv())
    (out / "kpis.json").write_text(json.dumps(kpis, indent=2) + "\n")
    write_plots(rows, out / "plots")
    (out / "report.html").write_text(render_report(kpis, scenario.description))
    return kpis
