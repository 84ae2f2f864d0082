"""Each page of the dashboard in a real headless Chromium, against a real node with a
community that traded, metered and settled (`tests.dashboard.scenario`), signed in as the
regulator (who reads everything): what it shows is what the API holds; a trade appears
without a reload; "verify" checks a transaction's inclusion in the browser and catches a
tampered proof."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from gridledger.client.cosigning import multisig_call
from gridledger.client.replies import TransactionReply
from tests.community import address, key, order_args
from tests.dashboard.browser import new_page
from tests.dashboard.scenario import OPEN, LiveCommunity, P
from tests.dashboard.signin import sign_in


@pytest.fixture
def errors() -> list[str]:
    return []


@pytest.fixture
def page(browser: Browser, errors: list[str]) -> Iterator[Page]:
    opened = new_page(browser, errors)
    yield opened
    opened.context.close()
    assert errors == [], errors  # no script error on any page


def units(micro: int) -> str:
    return f"{micro / 1e6:,.2f} units"


def open_page(page: Page, community: LiveCommunity, route: str) -> None:
    """Open `route` signed in as the regulator, who reads everything (as an auditor)."""
    sign_in(page, community.url, "regulator", route)


def test_overview_shows_members_today_and_the_chain(page: Page, community: LiveCommunity) -> None:
    open_page(page, community, "overview")
    carol = page.locator("#members tr", has_text="carol")
    expect(carol).to_contain_text("consumer")
    expect(carol).to_contain_text("active")
    balance = community.client.account(address("carol")).balance_micro
    expect(carol).to_contain_text(units(balance))
    expect(page.locator("#members tbody tr")).to_have_count(6)
    today = page.locator("#today")
    expect(today).to_contain_text("1.000 kWh")  # traded in period P
    expect(today).to_contain_text("0.780 units/kWh")  # its mean price
    expect(today).to_contain_text("0.770 units/kWh")  # feed-in
    expect(today).to_contain_text("0.850 units/kWh")  # grid and cap
    expect(today).to_contain_text("83.3%")  # 1000 of 1200 Wh consumed came from inside
    head = community.client.head().height
    expect(page.locator("main")).to_contain_text(f"solo, final = head ({head})")
    expect(page.locator("#peers")).to_contain_text("solo")


def test_market_shows_the_book_the_tape_and_a_members_orders(
    page: Page, community: LiveCommunity
) -> None:
    open_page(page, community, "market")
    expect(page.locator("#book-bids")).to_contain_text("0.790 units/kWh")
    expect(page.locator("#book-bids")).to_contain_text("0.780 units/kWh")
    asks = page.locator("#book-asks")
    expect(asks.locator("tbody tr").first).to_contain_text("0.800 units/kWh")
    expect(asks).to_contain_text("0.830 units/kWh")
    expect(page.locator("#book-phase")).to_have_text("open")
    expect(page.locator("#period")).to_have_value(str(OPEN))
    tape = page.locator("#trades-table")
    expect(tape).to_contain_text(f"{P}-t0")
    expect(tape.locator("tr", has_text=f"{P}-t0")).to_contain_text("carol")
    expect(tape.locator("tr", has_text=f"{P}-t0")).to_contain_text("alice")
    expect(page.locator("#depth-chart canvas")).to_be_visible()
    expect(page.locator("#price-chart canvas")).to_be_visible()

    page.select_option("#member", address("carol"))
    expect(page.locator("#member-orders")).to_contain_text(f"{OPEN}-3")
    statement = page.locator("#member-statements tr", has_text=str(P))
    expect(statement).to_contain_text("metered")
    expect(statement).to_contain_text("1.000 kWh")  # bought
    expect(statement).to_contain_text(units(950_000))  # paid: trade + shortfall from the grid

    page.select_option("#period", str(P))
    expect(page.locator("#book-phase")).to_have_text("settled")


def test_energy_page_shows_each_period(page: Page, community: LiveCommunity) -> None:
    open_page(page, community, "energy")
    row = page.locator("#energy-table tr", has_text=f"{P}")
    expect(row).to_contain_text("settled")
    cells = row.locator("td")
    expect(cells.nth(3)).to_have_text("2")  # readings
    expect(cells.nth(4)).to_have_text("1.000 kWh")  # generation (alice's meter)
    expect(cells.nth(5)).to_have_text("1.200 kWh")  # consumption (carol's meter)
    expect(cells.nth(6)).to_have_text("1.000 kWh")  # traded inside
    expect(cells.nth(7)).to_have_text("0.200 kWh")  # from the grid
    expect(cells.nth(8)).to_have_text("0.000 kWh")  # to the grid
    expect(page.locator("#energy-chart canvas")).to_be_visible()


def test_chain_explorer_searches_blocks_transactions_and_members(
    page: Page, community: LiveCommunity
) -> None:
    open_page(page, community, "chain")
    head = community.client.head().height
    expect(page.locator("#blocks tbody tr").first).to_contain_text(str(head))
    latest = (community.client.block(head).transactions or [])[0]
    row = page.locator("#recent-transactions tbody tr").first
    expect(row).to_contain_text(f"{latest.transaction['contract']}.{latest.transaction['method']}")
    expect(row).to_contain_text(f"{latest.code} {latest.result}")

    page.fill("#search", community.transactions["carol_buy"])
    page.press("#search", "Enter")
    expect(page.locator("#result")).to_contain_text("0 ok")
    expect(page.locator("#arguments")).to_contain_text('"price_micro_per_kwh": 820000')
    expect(page.locator("#events")).to_contain_text("market.trade")

    refused = community.client.transaction(community.transactions["refused_transfer"])
    assert isinstance(refused, TransactionReply)
    page.fill("#search", refused.id)
    page.press("#search", "Enter")
    expect(page.locator("#result")).to_contain_text(f"{refused.code} {refused.result}")

    page.fill("#search", "carol")
    page.press("#search", "Enter")
    expect(page.locator("#account")).to_contain_text(
        units(community.client.account(address("carol")).balance_micro)
    )
    expect(page.locator("#account-transactions")).to_contain_text(
        community.transactions["carol_buy"][:16]
    )

    page.fill("#search", str(refused.height))
    page.press("#search", "Enter")
    expect(page.locator("#block-header")).to_contain_text(refused.block.hash)
    expect(page.locator("#block-transactions")).to_contain_text("tokens.transfer")

    page.fill("#search", "nobody-at-all")
    page.press("#search", "Enter")
    expect(page.locator(".error")).to_contain_text("nothing matches")


def test_verify_checks_a_real_transaction_in_the_browser(
    page: Page, community: LiveCommunity
) -> None:
    tx_id = community.transactions["batched_payment"]
    view = community.client.transaction(tx_id)
    assert isinstance(view, TransactionReply)
    assert view.proof.size == 3 and len(view.proof.path) == 2
    open_page(page, community, f"chain/tx/{tx_id}")
    page.click("#verify-button")
    expect(page.locator("#verify-result")).to_contain_text("Verified in this browser")
    expect(page.locator("ul.checks li.ok")).to_have_count(5)
    expect(page.locator("#verify")).to_contain_text(view.block.transactions_root)
    expect(page.locator("#verify")).to_contain_text("Web Crypto")


def test_verify_fails_for_a_tampered_proof(page: Page, community: LiveCommunity) -> None:
    tx_id = community.transactions["batched_payment"]

    def tamper(route: Route) -> None:
        body = route.fetch().json()
        path = body["proof"]["path"]
        path[0] = path[0][:-1] + ("0" if path[0][-1] != "0" else "1")
        route.fulfill(json=body)

    page.route(f"**/v1/transactions/{tx_id}", tamper)
    open_page(page, community, f"chain/tx/{tx_id}")
    page.click("#verify-button")
    expect(page.locator("#verify-result")).to_contain_text("Verification FAILED")
    failed = page.locator("ul.checks li.bad")
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("Merkle proof leads to the header's transactions root")


def test_results_page_shows_kpis_and_plots(page: Page, community: LiveCommunity) -> None:
    open_page(page, community, "results")
    expect(page.locator("#runs")).to_contain_text("energy.self_sufficiency = 64.0%")
    page.click("#runs a")
    kpis = page.locator("#kpis")
    expect(kpis.locator("tr", has_text="energy.traded_wh")).to_contain_text("412.500 kWh")
    expect(kpis.locator("tr", has_text="prices.mean_micro_per_kwh")).to_contain_text(
        "0.812 units/kWh"
    )
    expect(kpis.locator("tr", has_text="prices.trades")).to_contain_text("96")
    image = page.locator("#plots img")
    expect(image).to_have_count(1)
    image.scroll_into_view_if_needed()
    page.wait_for_function("document.querySelector('#plots img').naturalWidth > 0")
    expect(page.locator("#tables")).to_contain_text("trades.csv")


def test_a_trade_made_through_the_api_appears_without_a_reload(
    page: Page, community: LiveCommunity
) -> None:
    open_page(page, community, "market")
    expect(page.locator("#book-asks tbody tr").first).to_contain_text("0.400 kWh")
    page.evaluate("window.notReloaded = true")
    placed = community.ok("carol", "market", "place_order", order_args("buy", 250, 810_000, OPEN))
    [trade] = [e.attributes for e in placed.events if e.name == "trade"]
    row = page.locator("#trades-table tr", has_text=trade["trade_id"])
    expect(row).to_contain_text("0.250 kWh")
    expect(row).to_contain_text("carol")
    expect(page.locator("#book-asks tbody tr").first).to_contain_text("0.150 kWh")
    assert page.evaluate("window.notReloaded === true")


def test_the_pages_own_sha256_agrees_with_web_crypto(page: Page, community: LiveCommunity) -> None:
    """The stand-in for pages without Web Crypto (plain http to another machine)."""
    open_page(page, community, "overview")
    mismatches = page.evaluate(
        """async () => {
            const { sha256Fallback, bytesToHex } = await import("./verify.js");
            const bad = [];
            for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 70000]) {
                const data = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 255);
                const ours = bytesToHex(sha256Fallback(data));
                const digest = await crypto.subtle.digest("SHA-256", data);
                const theirs = bytesToHex(new Uint8Array(digest));
                if (ours !== theirs) bad.push(n);
            }
            return bad;
        }"""
    )
    assert mismatches == []
    empty = page.evaluate(
        """async () => {
            const { sha256Fallback, bytesToHex } = await import("./verify.js");
            return bytesToHex(sha256Fallback(new Uint8Array(0)));
        }"""
    )
    assert empty == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_the_explorer_shows_a_correction_beside_its_trade_and_audit_flags(
    page: Page, community: LiveCommunity
) -> None:
    """Seed 004 §2.3: a correction signed by buyer, seller and regulator is shown with the trade
    as recorded; a flagged transaction shows its audit flag."""
    trade_id = f"{P}-t0"
    args = {
        "trade_id": trade_id,
        "sequence": 0,
        "refund_micro": 1_000,
        "energy_wh": 990,
        "reason": "meter drift confirmed by the regulator",
    }
    signers = [key("carol"), key("alice"), key("regulator")]
    raw = multisig_call(
        community.client, key("carol").public_key, signers, ("corrections", "correct", args)
    )
    corrected = community.client.submit(raw, wait=True)
    assert isinstance(corrected, TransactionReply) and corrected.code == 0, corrected
    flagged = community.transactions["carol_buy"]
    community.ok(
        "regulator",
        "corrections",
        "flag",
        {"kind": "transaction", "subject": flagged, "reason": "sample audit"},
    )
    open_page(page, community, f"chain/tx/{corrected.id}")
    expect(page.locator("#signers")).to_contain_text(address("alice"))
    expect(page.locator("#original-trade")).to_contain_text("1000 Wh")
    expect(page.locator("#original-trade")).to_contain_text("never rewritten")
    expect(page.locator("#corrections li")).to_have_count(1)
    expect(page.locator("#corrections")).to_contain_text("energy 990 Wh (was 1000)")
    page.goto(f"{community.url}/dashboard/#/chain/tx/{flagged}")  # signed in already
    expect(page.locator("#flags")).to_contain_text("sample audit")
