"""``report.html``: one self-contained page with the KPIs and the plots (linked relatively)."""

from __future__ import annotations

import html
import json
from typing import Any

from gridledger.simulation.plots import PLOTS

UNIT = 1_000_000


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def _units(micro: int | None) -> str:
    return "–" if micro is None else f"{micro / UNIT:,.2f}"


def _price(micro_per_kwh: int) -> str:
    return f"{micro_per_kwh / UNIT:.4f}"


def _kwh(wh: int) -> str:
    return f"{wh / 1000:,.1f} kWh"


def kpi_rows(kpis: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs, formatted for people; kpis.json keeps the exact integers."""
    energy, money, prices, chain = kpis["energy"], kpis["money"], kpis["prices"], kpis["chain"]
    transactions = chain["transactions"]
    return [
        ("scenario", f"{kpis['scenario']} (seed {kpis['seed']})"),
        ("households, periods", f"{kpis['households']}, {kpis['periods']}"),
        ("generation", _kwh(energy["generation_wh"])),
        ("consumption", _kwh(energy["consumption_wh"])),
        ("traded in the community", _kwh(energy["traded_wh"])),
        (
            "from the regulator / to the grid's bid",
            f"{_kwh(energy['regulator_wh'])} / {_kwh(energy['grid_bid_wh'])}",
        ),
        (
            "grid import / export",
            f"{_kwh(energy['grid_import_wh'])} / {_kwh(energy['grid_export_wh'])}",
        ),
        ("self-sufficiency", _percent(energy["self_sufficiency"])),
        ("self-consumption", _percent(energy["self_consumption"])),
        (
            "community cost (grid-only)",
            f"{_units(money['community_cost_micro'])} ({_units(money['grid_only_cost_micro'])})",
        ),
        (
            "community savings",
            f"{_units(money['community_savings_micro'])} "
            f"({_percent(money['community_savings_ratio'])})",
        ),
        (
            "sellers' revenue (feed-in only)",
            f"{_units(money['sellers_revenue_micro'])} "
            f"({_units(money['sellers_feed_in_only_micro'])}), "
            f"gain {_percent(money['sellers_revenue_gain_ratio'])}",
        ),
        ("trades", str(prices["trades"])),
        (
            "mean price (std, min–max) per kWh",
            "–"
            if not prices["trades"]
            else f"{_price(prices['mean_micro_per_kwh'])} ({_price(prices['std_micro_per_kwh'])}, "
            f"{_price(prices['min_micro_per_kwh'])}–{_price(prices['max_micro_per_kwh'])})",
        ),
        ("chain height", str(chain["height"])),
        ("head hash", chain["head_hash"]),
        (
            "transactions (ok / refused)",
            f"{transactions['total']} ({transactions['ok']} / {transactions['refused']})",
        ),
        ("chain file", f"{chain['chain_file_bytes']:,} bytes"),
        *_privacy_rows(kpis.get("privacy")),
    ]


def _privacy_rows(privacy: dict[str, Any] | None) -> list[tuple[str, str]]:
    """A private run's rows (`kpis.privacy_kpis`); none for other runs."""
    if privacy is None:
        return []
    return [
        (
            "sealed day-ahead orders (revealed / unrevealed)",
            f"{privacy['sealed_orders']} ({privacy['sealed_revealed']} / "
            f"{privacy['sealed_unrevealed']})",
        ),
        (
            "stealth payouts",
            f"{privacy['stealth_payouts']}, {_units(privacy['stealth_payout_micro'])}",
        ),
    ]


def render_report(kpis: dict[str, Any], description: str) -> str:
    rows = "\n".join(
        f"<tr><th>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
        for label, value in kpi_rows(kpis)
    )
    by_method = "\n".join(
        f"<tr><th>{html.escape(name)}</th><td>{html.escape(json.dumps(results))}</td></tr>"
        for name, results in kpis["chain"]["transactions"]["by_method"].items()
    )
    images = "\n".join(f'<figure><img src="plots/{name}" alt="{name}"></figure>' for name in PLOTS)
    title = f"gridledger simulation: {kpis['scenario']}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; max-width: 60rem; }}
table {{ border-collapse: collapse; margin-bottom: 2rem; }}
th, td {{ text-align: left; padding: .25rem .75rem; border-bottom: 1px solid #ddd; }}
td {{ font-family: ui-monospace, monospace; word-break: break-all; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>{html.escape(description)}</p>
<p>Every figure here was read back from the chain in <code>community/</code>
(re-check it with <code>gridledger verify --dir community</code>); exact values are in
<code>kpis.json</code>, per-period data in <code>periods.csv</code>.</p>
<h2>Key figures</h2>
<table>{rows}</table>
<h2>Transactions by contract method and result</h2>
<table>{by_method}</table>
<h2>Plots</h2>
{images}
</body></html>
"""
