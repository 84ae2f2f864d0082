"""When the node cannot be reached, the page says so, readably, and reconnects when it is
back, still signed in; when the node restarted (its sessions are kept in memory, so a
restart signs everyone out), the page says the session ended and asks to sign in again."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from gridledger.api.auth import Gate
from gridledger.api.server import BackgroundServer
from tests.dashboard.browser import new_page
from tests.dashboard.scenario import OPEN, LiveCommunity
from tests.dashboard.signin import sign_in


def gate_of(server: BackgroundServer) -> Gate:
    gate: Gate = server.app.state.gate
    return gate


def serve_again(community: LiveCommunity, port: int, keep_sessions: bool) -> None:
    """Serve the same node on the same port. With `keep_sessions` the new server keeps the
    old one's sessions, as when only the network between page and node was down."""
    before = gate_of(community.server)
    community.server = BackgroundServer(community.node, port=port)
    if keep_sessions:
        gate_of(community.server).authenticator = before.authenticator
    community.server.start()


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

    # a reload while the node is down still shows the page, signed in, saying what is wrong
    page.reload()
    expect(page.locator("nav")).to_contain_text("Market")
    expect(page.locator("#who")).to_contain_text("signed in as operator")
    expect(page.locator("main .error")).to_contain_text("Cannot reach the node")
    expect(status).to_contain_text("connection to the node lost")

    # the node back on the same port: the page reconnects by itself, no reload, and the
    # session still holds
    page.evaluate("window.notReloaded = true")
    serve_again(community, port, keep_sessions=True)
    expect(status).to_contain_text("live", timeout=30_000)
    page.evaluate("location.hash = '#/market'")
    expect(page.locator("#period")).to_have_value(str(OPEN))
    expect(page.locator("main .error")).to_have_count(0)
    expect(page.locator("#who")).to_contain_text("signed in as operator")
    assert page.evaluate("window.notReloaded === true")

    # a restarted node has forgotten every session: back to sign-in, saying why
    community.server.stop()
    expect(status).to_contain_text("connection to the node lost")
    serve_again(community, port, keep_sessions=False)
    expect(page.locator("#signin")).to_be_visible(timeout=30_000)
    expect(page.locator("#signin-message")).to_contain_text("Your session has ended")
    expect(page.locator("#who")).to_be_hidden()
    sign_in(page, community.url, "operator", "market")
    expect(page.locator("#period")).to_have_value(str(OPEN))
    page.context.close()
