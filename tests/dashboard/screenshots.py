"""Screenshots of each dashboard page for the README (docs/screenshots/*.png).

    PYTHONPATH=. .venv/bin/python -m tests.dashboard.screenshots [docs/screenshots]

It starts a real node with the test community (`tests.dashboard.scenario`), trades and
settles a few more periods on it so the charts have something to draw, photographs the
sign-in view, signs in as the regulator (who sees everything) and photographs each page
in headless Chromium.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect

from tests.community import (
    gate_closure_s,
    meter_window_close_s,
    order_args,
    period_start_s,
    reading_args,
)
from tests.dashboard.browser import chromium, new_page
from tests.dashboard.scenario import OPEN, LiveCommunity, start_community, write_results
from tests.dashboard.signin import sign_in
from tests.node.harness import gridledger_command

SUN = [1800, 2600, 3100, 2400, 1500]
"""What alice's panels export in each extra period, in Wh."""


def trade_more_periods(c: LiveCommunity) -> int:
    """Trade, meter and settle len(SUN) more periods after the scenario's; return the
    period open for orders at the end (with resting orders in its book)."""
    periods = [OPEN + i for i in range(len(SUN))]
    dave = c.wallet("dave").address
    carol = c.wallet("carol").address
    for to in (dave, carol):
        c.ok(
            "operator",
            "tokens",
            "mint",
            {"to": to, "amount_micro": 8_000_000, "reference": "top-up"},
        )
    for i, period in enumerate(periods):
        ask = 780_000 + 10_000 * (i % 3)
        c.ok("alice", "market", "place_order", order_args("sell", SUN[i] - 300, ask, period))
        c.ok(
            "carol", "market", "place_order", order_args("buy", 900 + 150 * i, ask + 25_000, period)
        )
        c.ok("dave", "market", "place_order", order_args("buy", 500, ask + 15_000, period))
    c.ok("operator", "settlement", "fund_grid", {"amount_micro": 2_000_000})
    for i, period in enumerate(periods):
        c.clock.at(period_start_s(period + 1) + 10)
        c.ok(
            "alice-meter-1",
            "metering",
            "record_reading",
            reading_args("alice-meter-1", "alice", period, SUN[i], 200),
        )
        c.ok(
            "carol-meter-1",
            "metering",
            "record_reading",
            reading_args("carol-meter-1", "carol", period, 0, 1400 + 100 * i),
        )
        c.clock.at(meter_window_close_s(period))
        c.ok("carol", "settlement", "settle", {"period": period})
    open_period = periods[-1] + 2
    c.clock.at(gate_closure_s(open_period) - 1200)
    for name, side, energy_wh, price in (
        ("alice", "sell", 1200, 800_000),
        ("alice", "sell", 600, 820_000),
        ("bob", "sell", 400, 840_000),
        ("carol", "buy", 700, 790_000),
        ("dave", "buy", 300, 780_000),
        ("carol", "buy", 500, 770_000),
    ):
        c.ok(name, "market", "place_order", order_args(side, energy_wh, price, open_period))
    return open_period


def simulate(out: Path) -> bool:
    """A real, shortened run of a shipped scenario (`gridledger simulate`), if it works."""
    command = [*gridledger_command(), "simulate", "seed003_pv5", "--out", str(out), "-n", "6", "-q"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        print(f"no real simulation run for the screenshot: {done.stderr[-500:]}")
    return done.returncode == 0


def take(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="gridledger-screens-"))
    results = write_results(work / "results")
    real_run = simulate(results / "seed003_pv5")
    community = start_community(work, results)
    shots: list[Path] = []
    try:
        trade_more_periods(community)
        with chromium() as browser:
            page = new_page(browser)
            expect.set_options(timeout=15_000)

            def shoot(route: str, name: str, ready: str) -> None:
                page.goto(f"{community.url}/dashboard/#/{route}")
                expect(page.locator("#connection")).to_contain_text("live")
                expect(page.locator(ready).first).to_be_visible()
                page.wait_for_load_state("networkidle")
                path = out / f"{name}.png"
                page.screenshot(path=str(path), full_page=True)
                shots.append(path)

            page.goto(f"{community.url}/dashboard/")
            expect(page.locator("#signin-head")).to_contain_text("block")
            path = out / "signin.png"
            box = page.locator("footer").bounding_box()
            height = 1000 if box is None else int(box["y"] + box["height"]) + 16
            page.screenshot(path=str(path), clip={"x": 0, "y": 0, "width": 1400, "height": height})
            shots.append(path)
            sign_in(page, community.url, "regulator")
            shoot("overview", "overview", "#members")
            page.goto(f"{community.url}/dashboard/#/market")
            expect(page.locator("#book-bids")).to_be_visible()
            page.select_option("#member", community.wallet("carol").address)
            expect(page.locator("#member-statements")).to_be_visible()
            shoot("market", "market", "#member-statements")
            shoot("energy", "energy", "#energy-table")
            shoot("chain", "chain", "#blocks")
            tx_id = community.transactions["batched_payment"]
            page.goto(f"{community.url}/dashboard/#/chain/tx/{tx_id}")
            page.click("#verify-button")
            expect(page.locator("#verify-result")).to_contain_text("Verified")
            path = out / "verify.png"
            page.screenshot(path=str(path), full_page=True)
            shots.append(path)
            run = "seed003_pv5" if real_run else "sunny-week"
            shoot(f"results/{run}", "results", "#plots img")
            # a household's own view: its orders and statements, others' trades anonymous
            page.click("#sign-out")
            expect(page.locator("#signin")).to_be_visible()
            sign_in(page, community.url, "carol", "market")
            shoot("market", "member", "#member-statements")
    finally:
        community.stop()
    return shots


if __name__ == "__main__":
    for shot in take(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")):
        print(shot)
