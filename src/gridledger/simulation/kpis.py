"""Key performance indicators of a simulation, computed from what the chain holds.

Energy (Wh) per period comes from the meter readings settled on chain
(``exported_wh`` and ``imported_wh`` of the settlement summaries) and from the
anchored device data (gross generation and consumption, which never cross a
meter and so are not on chain themselves):

- community grid import of a period = max(0, Σ imported − Σ exported), grid
  export = max(0, Σ exported − Σ imported): what crosses the community's
  connection once members' flows net out physically;
- self-sufficiency = 1 − grid import / consumption (share of the load met
  inside the community: own PV, batteries, neighbours);
- self-consumption = 1 − grid export / generation (share of PV used inside).

Money (micro-units) comes from the members' settlement statements:

- community cost = Σ (paid + penalised − received) over households;
- grid-only cost = what the same metered flows would cost with no community
  market: imports at the grid price, exports at the feed-in price, per member
  and period; savings = grid-only cost − community cost (the ratio is to the
  grid-only cost's magnitude: a net exporting community has a negative cost);
- sellers (members who sold in a period): revenue = trade income + feed-in
  credit − shortfall charges − penalties, against feed-in-only = everything
  they exported paid at the feed-in price.

Imbalance volume: the energy settled at the imbalance terms, per member and period
(seller's shortfall + unmet demand + unsold surplus + energy bought and not used):
what the members' trades missed of what their meters read. Peak grid import: the
largest community grid import of one period.

Prices: volume-weighted mean, standard deviation, minimum and maximum of
every trade between members (kinds ``order`` and ``bilateral``), and the mean
of the per-period means, with its standard deviation across periods (the volatility of
the period price), overall and per mechanism (``by_mechanism``: e.g. ``day_ahead`` and
``continuous`` when both stages run). Trades with a standing offer (kinds ``regulator`` and
``grid``, seed 000 §2.2 (4)) are priced by rule at the cap or the feed-in
price, not by the market: they are counted apart (``regulator_wh``,
``grid_bid_wh``) and left out of the traded energy and the prices.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from gridledger.market import trade_value_micro
from gridledger.simulation.device_rows import DeviceRows
from gridledger.simulation.records import ChainRecords


def ratio(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else numerator / denominator


MEMBER_KINDS = ("order", "bilateral")
"""Trades between two members; kinds ``regulator`` and ``grid`` have a standing offer."""


Row = Mapping[str, Any]
"""A record as a result-file row: a dict, or a row of a `ReplyTable` (what `read_chain` gives)."""

DeviceData = DeviceRows | Sequence[Row]
"""A run's device data: its `DeviceRows`, or any rows of `DEVICE_DATA_FIELDS` (tests)."""


def device_totals(device_rows: DeviceData) -> tuple[dict[int, tuple[int, int]], int]:
    """(generation, consumption) in Wh per period, and the number of households."""
    if isinstance(device_rows, DeviceRows):
        return device_rows.period_totals(), len(device_rows.members)
    totals: dict[int, tuple[int, int]] = {}
    members: set[str] = set()
    for row in device_rows:
        period = int(row["period"])
        generation, consumption = totals.get(period, (0, 0))
        totals[period] = (
            generation + int(row["generation_wh"]),
            consumption + int(row["consumption_wh"]),
        )
        members.add(str(row["member"]))
    return totals, len(members)


def member_trades(trades: Sequence[Row]) -> list[Row]:
    """The trades between members (not with a standing offer)."""
    return [t for t in trades if t["kind"] in MEMBER_KINDS]


def standing_wh(trades: Sequence[Row], kind: str) -> int:
    """Energy traded with one standing offer (``regulator`` or ``grid``), Wh."""
    return sum(t["energy_wh"] for t in trades if t["kind"] == kind)


def period_rows(records: ChainRecords, device_rows: DeviceData) -> list[dict[str, Any]]:
    """One row per period: prices, volumes, metered and device energy, grid flows."""
    trades_by: dict[int, list[Row]] = defaultdict(list)
    standing_by: dict[int, list[Row]] = defaultdict(list)
    for trade in records.trades:
        by = trades_by if trade["kind"] in MEMBER_KINDS else standing_by
        by[trade["period"]].append(trade)
    orders_by: dict[int, list[Row]] = defaultdict(list)
    for order in records.orders:
        orders_by[order["period"]].append(order)
    settled = {s["period"]: s for s in records.settlements}
    devices, _ = device_totals(device_rows)
    rows = []
    for period in records.periods:
        trades = trades_by[period]
        orders = orders_by[period]
        summary = settled.get(period, {})
        parameters = records.parameters[period]
        traded = sum(t["energy_wh"] for t in trades)
        prices = [t["price_micro_per_kwh"] for t in trades]
        exported = int(summary.get("exported_wh", 0))
        imported = int(summary.get("imported_wh", 0))
        length = int(parameters["period_seconds"])
        rows.append(
            {
                "period": period,
                "start_s": period * length,
                "orders": len(orders),
                "bid_wh": sum(o["energy_wh"] for o in orders if o["side"] == "buy"),
                "ask_wh": sum(o["energy_wh"] for o in orders if o["side"] == "sell"),
                "trades": len(trades),
                "traded_wh": traded,
                "regulator_wh": standing_wh(standing_by[period], "regulator"),
                "grid_bid_wh": standing_wh(standing_by[period], "grid"),
                "mean_price_micro_per_kwh": (
                    round(sum(t["energy_wh"] * t["price_micro_per_kwh"] for t in trades) / traded)
                    if traded
                    else ""
                ),
                "posted_price_micro_per_kwh": records.posted_prices.get(period, ""),
                "min_price_micro_per_kwh": min(prices) if prices else "",
                "max_price_micro_per_kwh": max(prices) if prices else "",
                "generation_wh": devices.get(period, (0, 0))[0],
                "consumption_wh": devices.get(period, (0, 0))[1],
                "exported_wh": exported,
                "imported_wh": imported,
                "grid_import_wh": max(0, imported - exported),
                "grid_export_wh": max(0, exported - imported),
                "settled_grid_supplied_wh": int(summary.get("grid_supplied_wh", 0)),
                "settled_grid_taken_wh": int(summary.get("grid_taken_wh", 0)),
                "penalties_micro": int(summary.get("penalties_micro", 0)),
                "feed_in_price_micro_per_kwh": parameters["feed_in_price_micro_per_kwh"],
                "grid_price_micro_per_kwh": parameters["grid_price_micro_per_kwh"],
                "cap_price_micro_per_kwh": parameters["cap_price_micro_per_kwh"],
            }
        )
    return rows


def price_statistics(trades: Sequence[Row]) -> dict[str, Any]:
    energy = sum(t["energy_wh"] for t in trades)
    if energy == 0:
        return {"trades": 0, "traded_wh": 0}
    mean = sum(t["energy_wh"] * t["price_micro_per_kwh"] for t in trades) / energy
    variance = sum(t["energy_wh"] * (t["price_micro_per_kwh"] - mean) ** 2 for t in trades) / energy
    return {
        "trades": len(trades),
        "traded_wh": energy,
        "mean_micro_per_kwh": round(mean),
        "std_micro_per_kwh": round(math.sqrt(variance)),
        "min_micro_per_kwh": min(t["price_micro_per_kwh"] for t in trades),
        "max_micro_per_kwh": max(t["price_micro_per_kwh"] for t in trades),
    }


def money_kpis(records: ChainRecords) -> dict[str, Any]:
    """Community cost against grid-only, sellers' revenue against feed-in-only (micro-units)."""
    community_cost = grid_only_cost = 0
    seller_revenue = seller_feed_in_only = 0
    sellers: set[str] = set()
    for s in records.statements:
        parameters = records.parameters[s["period"]]
        grid_price = parameters["grid_price_micro_per_kwh"]
        feed_in = parameters["feed_in_price_micro_per_kwh"]
        community_cost += s["paid_micro"] + s["penalised_micro"] - s["received_micro"]
        grid_only_cost += trade_value_micro(s["consumed_wh"], grid_price) - trade_value_micro(
            s["delivered_wh"], feed_in
        )
        if s["sold_wh"] > 0:
            sellers.add(s["member"])
            shortfall = trade_value_micro(s["shortfall_wh"], grid_price)
            seller_revenue += s["received_micro"] - shortfall - s["penalised_micro"]
            seller_feed_in_only += trade_value_micro(s["delivered_wh"], feed_in)
    return {
        "community_cost_micro": community_cost,
        "grid_only_cost_micro": grid_only_cost,
        "community_savings_micro": grid_only_cost - community_cost,
        "community_savings_ratio": ratio(grid_only_cost - community_cost, abs(grid_only_cost)),
        "sellers": len(sellers),
        "sellers_revenue_micro": seller_revenue,
        "sellers_feed_in_only_micro": seller_feed_in_only,
        "sellers_revenue_gain_ratio": ratio(
            seller_revenue - seller_feed_in_only, seller_feed_in_only
        ),
    }


def transaction_kpis(records: ChainRecords) -> dict[str, Any]:
    by_method: dict[str, dict[str, int]] = {}
    for (contract, method, result), count in sorted(records.transaction_counts.items()):
        by_method.setdefault(f"{contract}.{method}", {})[result] = count
    total = sum(records.transaction_counts.values())
    ok = sum(c for (_, _, r), c in records.transaction_counts.items() if r == "ok")
    return {"total": total, "ok": ok, "refused": total - ok, "by_method": by_method}


def compute_kpis(
    records: ChainRecords,
    device_rows: DeviceData,
    scenario_name: str,
    seed: int,
    chain_file_bytes: int,
) -> dict[str, Any]:
    """Every KPI of a run, as a JSON-ready mapping."""
    rows = period_rows(records, device_rows)
    generation = sum(r["generation_wh"] for r in rows)
    consumption = sum(r["consumption_wh"] for r in rows)
    grid_import = sum(r["grid_import_wh"] for r in rows)
    grid_export = sum(r["grid_export_wh"] for r in rows)
    imbalance = sum(
        s["shortfall_wh"] + s["unmet_wh"] + s["surplus_wh"] + s["excess_wh"]
        for s in records.statements
    )
    members = member_trades(records.trades)
    mechanisms = sorted({t["mechanism"] for t in members})
    self_sufficiency = ratio(consumption - grid_import, consumption)
    self_consumption = ratio(generation - grid_export, generation)
    return {
        "scenario": scenario_name,
        "seed": seed,
        "periods": len(records.periods),
        "households": device_totals(device_rows)[1],
        "energy": {
            "generation_wh": generation,
            "consumption_wh": consumption,
            "exported_wh": sum(r["exported_wh"] for r in rows),
            "imported_wh": sum(r["imported_wh"] for r in rows),
            "traded_wh": sum(r["traded_wh"] for r in rows),
            "regulator_wh": sum(r["regulator_wh"] for r in rows),
            "grid_bid_wh": sum(r["grid_bid_wh"] for r in rows),
            "grid_import_wh": grid_import,
            "grid_export_wh": grid_export,
            "self_sufficiency": self_sufficiency,
            "self_consumption": self_consumption,
            "imbalance_wh": imbalance,
            "peak_grid_import_wh": max((r["grid_import_wh"] for r in rows), default=0),
        },
        "money": money_kpis(records),
        "prices": {
            **price_statistics(members),
            "mean_of_period_means_micro_per_kwh": _mean_of_means(rows),
            "period_means_std_micro_per_kwh": _std_of_means(rows),
            "by_mechanism": {
                m: price_statistics([t for t in members if t["mechanism"] == m]) for m in mechanisms
            },
        },
        "chain": {
            "chain_id": records.chain_id,
            "height": records.height,
            "head_hash": records.head_hash,
            "chain_file_bytes": chain_file_bytes,
            "transaction_bytes": records.transaction_bytes,
            "transactions": transaction_kpis(records),
            "device_data_anchors": len(records.anchors),
        },
        **_currency_sections(records),
    }


def _currency_sections(records: ChainRecords) -> dict[str, Any]:
    """The ``currency`` section (issued = live + expired + burned, micro-units) when units
    expire, and the ``certificates`` section (Wh) when the community issues certificates;
    neither otherwise, so other scenarios' KPI files keep their shape."""
    sections: dict[str, Any] = {}
    if records.supply is not None:
        sections["currency"] = {
            name: records.supply[name]
            for name in (
                "issued_micro",
                "live_micro",
                "expired_micro",
                "burned_micro",
                "lifetime_days",
                "reconciles",
            )
        }
    if records.certificates is not None:
        sections["certificates"] = dict(records.certificates)
    return sections


def _std_of_means(rows: list[dict[str, Any]]) -> int | None:
    """Standard deviation of the period mean prices: how much the price moves between periods."""
    means = [r["mean_price_micro_per_kwh"] for r in rows if r["mean_price_micro_per_kwh"] != ""]
    if not means:
        return None
    centre = sum(means) / len(means)
    return round(math.sqrt(sum((m - centre) ** 2 for m in means) / len(means)))


def _mean_of_means(rows: list[dict[str, Any]]) -> int | None:
    means = [r["mean_price_micro_per_kwh"] for r in rows if r["mean_price_micro_per_kwh"] != ""]
    return round(sum(means) / len(means)) if means else None


def privacy_kpis(
    records: ChainRecords, stealth_outputs: list[dict[str, Any]], day_ahead_orders: list[Any]
) -> dict[str, Any]:
    """What a private run hid (issue 15): sealed orders placed, revealed and dropped
    unrevealed (from the day-ahead books), and the stealth payouts settlement made (count,
    total micro-units, the members' one-time accounts)."""
    counts = records.transaction_counts
    sealed = [o for o in day_ahead_orders if o.sealed is not None]
    payouts = [o for o in stealth_outputs if o["kind"] == "payout"]
    return {
        "sealed_orders": counts.get(("market", "place_sealed_day_ahead_order", "ok"), 0),
        "sealed_revealed": sum(1 for o in sealed if o.sealed.revealed),
        "sealed_unrevealed": sum(1 for o in sealed if o.status == "unrevealed"),
        "plain_day_ahead_orders": len(day_ahead_orders) - len(sealed),
        "stealth_payouts": len(payouts),
        "stealth_payout_micro": sum(o["amount_micro"] for o in payouts),
    }
