"""The dashboard's governance page in a real headless Chromium, against a real node whose
community voted (a motion counted, one still open, an admission vetoed), trades in a
time-attributed currency and certifies its energy: what the page shows is what the API
holds, and a new ballot appears without a reload."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from gridledger.api.server import BackgroundServer
from gridledger.client import HttpClient
from gridledger.node import CutterConfig, Node, SQLiteStorage
from tests.community import (
    GENESIS_TIME_MS,
    REGISTRATIONS,
    address,
    application_of,
    gate_closure_s,
    key,
    make_genesis,
    meter_window_close_s,
    order_args,
    period_start_s,
    reading_args,
)
from tests.dashboard.browser import new_page
from tests.dashboard.scenario import Clock, LiveCommunity, P
from tests.dashboard.signin import sign_in

DAY_MS = 86_400_000


def propose(live: LiveCommunity, who: str, kind: str, deadline_ms: int, **extra: str) -> None:
    live.ok(who, "governance", "propose", {"kind": kind, "deadline_ms": deadline_ms, **extra})


@pytest.fixture(scope="module")
def voted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCommunity]:
    directory = tmp_path_factory.mktemp("governance")
    clock = Clock(GENESIS_TIME_MS + 1_000)
    genesis = make_genesis(
        parameters={
            "governance": {"founding_until_ms": 0},
            "tokens": {"lifetime_days": 30},
            "certificates": {"enabled": True},
        }
    )
    node = Node.create(
        SQLiteStorage(directory / "chain.sqlite"),
        genesis,
        cutter=CutterConfig(timeout_ms=5),
        clock_ms=clock,
    )
    server = BackgroundServer(node)
    url = server.start()
    live = LiveCommunity(url, node, server, clock, HttpClient(url, keys=key("regulator")))
    try:
        # a trade, a reading, a settlement: supply, lots and certificates
        live.ok("alice", "market", "place_order", order_args("sell", 1000, 780_000, P))
        live.ok("carol", "market", "place_order", order_args("buy", 1000, 820_000, P))
        clock.at(gate_closure_s(P))
        live.ok("alice", "market", "clear", {"period": P})
        clock.at(period_start_s(P + 1) + 10)
        reading = reading_args("alice-meter-1", "alice", P, 1000, 0)
        live.ok("alice-meter-1", "metering", "record_reading", reading)
        live.ok("operator", "settlement", "fund_grid", {"amount_micro": 5_000_000})
        clock.at(meter_window_close_s(P))
        live.ok("carol", "settlement", "settle", {"period": P})
        now_ms = clock.ms
        # proposal 0: a motion, counted after its deadline
        propose(live, "alice", "motion", now_ms + 60_000, text="buy a community battery")
        for voter, choice in (("alice", "yes"), ("bob", "yes"), ("carol", "yes"), ("dave", "no")):
            live.ok(voter, "governance", "vote", {"proposal_id": 0, "choice": choice})
        # proposal 1: erin's admission, vetoed by the regulator
        arguments, _ = application_of("erin", "prosumer", dict(REGISTRATIONS["prosumer"]))
        live.ok("erin", "membership", "apply", arguments)
        propose(live, "alice", "admission", now_ms + DAY_MS, subject=address("erin"))
        veto = {"proposal_id": 1, "reason": "identity not verified"}
        live.ok("regulator", "governance", "veto", veto)
        # proposal 2: a motion still open, one vote so far
        propose(live, "bob", "motion", now_ms + 2 * DAY_MS, text="plant a tree")
        live.ok("carol", "governance", "vote", {"proposal_id": 2, "choice": "abstain"})
        clock.at(now_ms // 1000 + 120)
        live.ok("dave", "governance", "tally", {"proposal_id": 0})
        yield live
    finally:
        live.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    errors: list[str] = []
    opened = new_page(browser, errors)
    yield opened
    opened.context.close()
    assert errors == [], errors


def test_proposals_votes_tallies_deadlines_and_vetoes(page: Page, voted: LiveCommunity) -> None:
    sign_in(page, voted.url, "carol", "governance")
    rows = page.locator("#proposals tbody tr")
    expect(rows).to_have_count(3)
    counted = rows.nth(0)
    expect(counted).to_contain_text("buy a community battery")
    expect(counted).to_contain_text("3 yes, 1 no, 0 abstain of 6; quorum yes, majority yes")
    expect(counted).to_contain_text("passed")
    expect(counted).to_contain_text("closed")
    vetoed = rows.nth(1)
    expect(vetoed).to_contain_text("admission")
    expect(vetoed).to_contain_text("vetoed: identity not verified")
    expect(page.locator("#vetoes tbody tr")).to_have_count(1)
    expect(page.locator("#vetoes")).to_contain_text("identity not verified")
    open_one = rows.nth(2)
    expect(open_one).to_contain_text("plant a tree")
    expect(open_one).to_contain_text("closes in 47 h")
    expect(open_one).to_contain_text("not counted")
    expect(page.locator("#rules")).to_contain_text("50%")
    expect(page.locator("#rules")).to_contain_text("founding phase")


def test_supply_and_certificates_beside_the_votes(page: Page, voted: LiveCommunity) -> None:
    supply = voted.client.supply()
    sign_in(page, voted.url, "carol", "governance")
    shown = page.locator("#supply")
    expect(shown).to_contain_text(f"{supply.issued_micro / 1e6:,.2f} units")
    expect(shown).to_contain_text("30 days")
    expect(shown).to_contain_text("issued = live + expired + burned")
    certificates = page.locator("#certificates")
    # carol bought alice's 1000 Wh and, with no reading, consumed what she bought
    expect(certificates).to_contain_text("100.00%")
    expect(certificates).to_contain_text("1.000 kWh")


def test_a_new_ballot_appears_without_a_reload(page: Page, voted: LiveCommunity) -> None:
    sign_in(page, voted.url, "dave", "governance")
    open_one = page.locator("#proposals tbody tr").nth(2)
    expect(open_one).to_contain_text("plant a tree")
    voted.ok("alice", "governance", "vote", {"proposal_id": 2, "choice": "yes"})
    expect(open_one.locator("td").nth(6)).to_have_text("1")  # the yes column
