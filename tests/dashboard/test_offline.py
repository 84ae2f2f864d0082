"""When the node stops, the page says so, readably, and reconnects when it is back."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from gridledger.api.server import BackgroundServer
from tests.dashboard.browser import new_page
from tests.dashboard.scenario import OPEN, LiveCommunity
from tests.dashboard.signin import sign_in


def test_pages_say_the_node_is_gone_and_reconnect_when_it_is_back(
    browser: Browser, community: LiveCommunity
) -> None:
    page = new_page(browser)
    sign_in(page, community.url, "operator", "overview")
    status = page.locator("#connection")
    expect(page.locator("#members")).to_contain_text("carol")
    # the service worker has kept the page's files (it controls the page once they are kept)
    page.wait_for_function("navigator.serviceWorker.controller !== null")

    port = int(community.url.rsplit(":", 1)[1])
    community.server.stop()
    expect(status).to_contain_text("connection to the node lost")
    expect(status).to_contain_text("reconnecting")
    # what was shown stays, under a readable notice of the failed refresh
    expect(page.locator(".notice .error")).to_contain_text("Cannot reach the node")
    expect(page.locator("#members")).to_contain_text("carol")

    for route in ("market", "energy", "chain", "results"):
        page.evaluate(f"location.hash = '#/{route}'")
        error = page.locator("main .error")
        expect(error).to_contain_text("Cannot reach the node")
        expect(error).to_contain_text("Is it running?")

    # a reload while the node is down still shows the page, saying what is wrong
    page.reload()
    expect(page.locator("nav")).to_contain_text("Market")
    expect(page.locator("main .error")).to_contain_text("Cannot reach the node")
    expect(status).to_contain_text("connection to the node lost")

    # the same node back on the same port: the page reconnects by itself, no reload
    page.evaluate("window.notReloaded = true")
    community.server = BackgroundServer(community.node, port=port)
    community.server.start()
    expect(status).to_contain_text("live", timeout=30_000)
    page.evaluate("location.hash = '#/market'")
    expect(page.locator("#period")).to_have_value(str(OPEN))
    expect(page.locator("main .error")).to_have_count(0)
    assert page.evaluate("window.notReloaded === true")
    page.context.close()
