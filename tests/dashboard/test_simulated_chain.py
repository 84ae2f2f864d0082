"""The dashboard of a simulated community follows the chain's time, not the wall clock
(issue 13, part 7): `gridledger node` serves the chain `gridledger simulate` wrote for June
2024, and every page starts from the chain's own latest periods, years before today."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from gridledger.client import EmbeddedClient
from gridledger.ledger import load_genesis
from gridledger.simulation.simulate import simulate
from tests.dashboard.browser import new_page
from tests.dashboard.test_node_command import login_link_in
from tests.node.harness import NodeProcess
from tests.simulation.small import small_scenario

PERIODS = 4


@dataclass(frozen=True)
class SimulatedChain:
    community: Path
    periods: list[int]
    """The simulated delivery periods, oldest first (June 2024)."""
    traded: dict[int, list[str]]
    """Trade ids per simulated period that has trades, as the chain holds them."""
    members_trades: int
    """How many of them are between members (not the standing offers')."""


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> SimulatedChain:
    out = tmp_path_factory.mktemp("simulated") / "run"
    simulate(small_scenario(PERIODS), out)
    community = out / "community"
    genesis = load_genesis((community / "genesis.json").read_bytes())
    with EmbeddedClient.open(community / "chain.sqlite", genesis, hold_lock=False) as client:
        first = client.market_current().chain_open_period - PERIODS - 2
        periods = [p for p in range(first, first + PERIODS + 2) if client.statements(p).settled]
        trades = {p: client.market_trades(p).trades for p in periods}
    traded = {p: [t.trade_id for t in made] for p, made in trades.items() if made}
    among_members = sum(1 for made in trades.values() for t in made if t.kind == "order")
    assert len(periods) == PERIODS, periods
    assert traded, "the small scenario trades"
    return SimulatedChain(community, periods, traded, among_members)


@pytest.fixture
def page(
    simulated: SimulatedChain, start_node: Callable[..., NodeProcess], browser: Browser
) -> Iterator[Page]:
    """The dashboard of a node serving the simulated chain on the wall clock, signed in as
    the regulator through the link `gridledger node --login` prints."""
    node = start_node(simulated.community, "--login", "regulator")
    errors: list[str] = []
    opened = new_page(browser, errors)
    opened.goto(login_link_in(node.logs(), node.url))
    expect(opened.locator("#who")).to_contain_text("signed in as regulator")
    expect(opened.locator("#connection")).to_contain_text("live")
    yield opened
    opened.context.close()
    assert errors == [], errors


def chart_data(page: Page, holder: str) -> dict[str, Any]:
    """The labels and datasets a page's Chart.js chart in `holder` draws."""
    data: dict[str, Any] = page.evaluate(
        """(holder) => {
            const chart = document.querySelector(holder).chart;
            return {
                labels: chart.data.labels,
                datasets: Object.fromEntries(chart.data.datasets.map((d) => [d.label, d.data])),
            };
        }""",
        holder,
    )
    return data


def test_the_market_page_shows_the_simulated_market(page: Page, simulated: SimulatedChain) -> None:
    page.goto(page.url.split("#")[0] + "#/market")
    newest = max(simulated.traded)
    expect(page.locator("#period")).to_have_value(str(newest))  # not today's empty period
    expect(page.locator("#book-phase")).to_have_text("settled")
    expect(page.locator("#book-info")).to_contain_text(" open of ")
    assert not page.locator("#book-info").inner_text().rstrip().endswith("open of 0")
    tape = page.locator("#trades-table tbody tr")
    expect(tape.first).to_be_visible()
    shown = tape.all_inner_texts()
    every_trade = [trade for ids in simulated.traded.values() for trade in ids]
    assert len(shown) == len(every_trade)
    assert all(any(trade in row for row in shown) for trade in every_trade)

    expect(page.locator("#price-chart canvas")).to_be_visible()
    prices = chart_data(page, "#price-chart")
    assert any(label.startswith("06-03 ") for label in prices["labels"]), prices["labels"]
    means = [value for value in prices["datasets"]["mean trade price"] if value is not None]
    assert len(means) == len(simulated.traded)
    assert all(value > 0 for value in means)


def test_the_energy_and_overview_pages_show_the_simulated_periods(
    page: Page, simulated: SimulatedChain
) -> None:
    page.goto(page.url.split("#")[0] + "#/energy")
    for period in simulated.periods:
        expect(page.locator("#energy-table tr", has_text=str(period))).to_contain_text("settled")
    energy = chart_data(page, "#energy-chart")
    assert any(label.startswith("06-03 ") for label in energy["labels"])

    page.goto(page.url.split("#")[0] + "#/overview")
    expect(page.locator("main")).to_contain_text("Today on the chain: the 24 hours up to its")
    expect(page.locator("main")).to_contain_text("06-03")  # the chain's day, not the wall's
    expect(page.locator("#today")).to_contain_text(f"{simulated.members_trades} trades")
