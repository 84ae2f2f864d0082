"""Plots of a run (PNG, matplotlib's Agg backend: no display needed).

``traded_energy.png`` and ``mean_price.png`` are the counterparts of seed 000's
Figs. 8 (total sales) and 9 (trading price); ``energy_flows.png`` shows
generation, load and what crossed the community's grid connection.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

PLOTS = ("traded_energy.png", "mean_price.png", "energy_flows.png")


def _pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend (imported late: it is slow to import)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _times(rows: list[dict[str, Any]]) -> list[Any]:
    return [datetime.datetime.fromtimestamp(r["start_s"], tz=datetime.UTC) for r in rows]


def _finish(figure: Any, axes: Any, path: Path, ylabel: str, title: str) -> None:
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(loc="best", fontsize="small")
    figure.autofmt_xdate()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    _pyplot().close(figure)


def plot_traded_energy(rows: list[dict[str, Any]], path: Path) -> None:
    figure, axes = _pyplot().subplots(figsize=(9, 4))
    times = _times(rows)
    axes.step(times, [r["imported_wh"] / 1000 for r in rows], where="post", label="metered demand")
    axes.step(times, [r["bid_wh"] / 1000 for r in rows], where="post", label="bid", alpha=0.6)
    axes.step(times, [r["ask_wh"] / 1000 for r in rows], where="post", label="offered", alpha=0.6)
    axes.step(times, [r["traded_wh"] / 1000 for r in rows], where="post", label="traded", lw=2)
    _finish(figure, axes, path, "kWh per period", "Traded quantity per period")


def plot_mean_price(rows: list[dict[str, Any]], path: Path) -> None:
    figure, axes = _pyplot().subplots(figsize=(9, 4))
    times = _times(rows)
    unit = 1_000_000
    prices = [
        r["mean_price_micro_per_kwh"] / unit if r["mean_price_micro_per_kwh"] != "" else None
        for r in rows
    ]
    axes.plot(times, [float("nan") if p is None else p for p in prices], "o-", label="mean price")
    if any(r.get("posted_price_micro_per_kwh", "") != "" for r in rows):
        posted = [
            r["posted_price_micro_per_kwh"] / unit
            if r.get("posted_price_micro_per_kwh", "") != ""
            else float("nan")
            for r in rows
        ]
        axes.plot(times, posted, "x", label="posted (operator)", markersize=9)
    for key, label, style in (
        ("feed_in_price_micro_per_kwh", "feed-in", ":"),
        ("grid_price_micro_per_kwh", "grid", "--"),
        ("cap_price_micro_per_kwh", "cap", "-."),
    ):
        axes.plot(times, [r[key] / unit for r in rows], style, label=label, alpha=0.7)
    _finish(figure, axes, path, "units per kWh", "Mean trading price per period")


def plot_energy_flows(rows: list[dict[str, Any]], path: Path) -> None:
    figure, axes = _pyplot().subplots(figsize=(9, 4))
    times = _times(rows)
    for key, label in (
        ("generation_wh", "generation"),
        ("consumption_wh", "consumption"),
        ("grid_import_wh", "grid import"),
        ("grid_export_wh", "grid export"),
        ("traded_wh", "traded in the community"),
    ):
        axes.step(times, [r[key] / 1000 for r in rows], where="post", label=label)
    _finish(figure, axes, path, "kWh per period", "Energy flows")


def write_plots(rows: list[dict[str, Any]], directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    made = []
    for name, draw in zip(
        PLOTS, (plot_traded_energy, plot_mean_price, plot_energy_flows), strict=True
    ):
        draw(rows, directory / name)
        made.append(directory / name)
    return made
