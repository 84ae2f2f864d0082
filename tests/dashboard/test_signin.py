"""Signing in to the dashboard in a real headless Chromium, against a real node: with a key
file chosen in the page or a one-time login link printed by `gridledger dashboard login`;
signing out (the node refuses the token afterwards); what an anonymous visitor and a
household see (its own statements only; others' trades without identities); the live
stream after sign-in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, FilePayload, Page, Request, expect

from gridledger.client.signing import RequestSigner
from gridledger.node.keystore import encrypted_content, write_key
from tests.community import address, key, order_args
from tests.dashboard.browser import new_page
from tests.dashboard.scenario import OPEN, LiveCommunity, P
from tests.dashboard.signin import key_file, sign_in
from tests.node.harness import run_cli


@pytest.fixture
def errors() -> list[str]:
    return []


@pytest.fixture
def page(browser: Browser, errors: list[str]) -> Iterator[Page]:
    opened = new_page(browser, errors)
    yield opened
    opened.context.close()
    # the only errors a page may log are the node's refusals it shows (401/403 answers)
    assert [e for e in errors if "status of 40" not in e] == [], errors


def session_of(page: Page) -> dict[str, str]:
    kept = page.evaluate("sessionStorage.getItem('gridledger-session')")
    assert kept, "no session kept in the tab"
    session: dict[str, str] = json.loads(kept)
    return session


def read_as(url: str, token: str, path: str) -> httpx.Response:
    return httpx.get(f"{url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def login_link(tmp_path: Path, community: LiveCommunity, name: str) -> str:
    """The link `gridledger dashboard login -k keys/NAME.key --url URL` prints."""
    path = write_key(tmp_path / "keys", name, key(name))
    done = run_cli("dashboard", "login", "-k", str(path), "--url", community.url)
    assert done.returncode == 0, done.stderr
    [link] = [w for w in done.stdout.split() if "#login=" in w]
    assert link.startswith(f"{community.url}/dashboard/#login=")
    return link


def test_an_anonymous_visitor_sees_the_sign_in_view_and_no_member_data(
    page: Page, community: LiveCommunity
) -> None:
    answered: list[tuple[str, int]] = []

    def seen(request: Request) -> None:
        response = request.response()
        if "/v1/" in request.url and response is not None:
            answered.append((request.url.split("/v1/", 1)[1], response.status))

    page.on("requestfinished", seen)
    page.goto(f"{community.url}/dashboard/#/market")
    expect(page.locator("#signin")).to_be_visible()
    expect(page.locator("#signin-head")).to_contain_text(f"block {community.client.head().height}")
    expect(page.locator("nav")).to_be_hidden()
    expect(page.locator("#who")).to_be_hidden()
    for route in ("overview", "chain", f"chain/account/{address('carol')}"):
        page.evaluate(f"location.hash = '#/{route}'")
        expect(page.locator("#signin")).to_be_visible()
    text = page.locator("body").inner_text()
    for name in ("alice", "carol", "dave"):
        assert name not in text and address(name) not in text
    assert answered and all(path.startswith("head") for path, _ in answered), answered
    assert all(status == 200 for _, status in answered), answered


def test_sign_in_with_a_key_file_and_sign_out(page: Page, community: LiveCommunity) -> None:
    sign_in(page, community.url, "carol", "market")
    carol = address("carol")
    expect(page.locator("#who")).to_contain_text(f"carol / {carol[:12]}")
    expect(page.locator("#who")).to_contain_text("(consumer)")
    expect(page.locator("#member-statements tr", has_text=str(P))).to_contain_text("metered")
    session = session_of(page)
    assert session["address"] == carol and session["role"] == "consumer"
    # the key stays out of every storage: only the session is kept, in this tab
    seed = key("carol").seed.hex()
    stored = page.evaluate(
        """() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage),
                                 document.cookie])"""
    )
    assert seed not in stored and "seed" not in stored
    assert page.evaluate("localStorage.length") == 0
    assert read_as(community.url, session["token"], f"/v1/accounts/{carol}").status_code == 200

    page.click("#sign-out")
    expect(page.locator("#signin")).to_be_visible()
    expect(page.locator("#signin-message")).to_contain_text("You have signed out")
    expect(page.locator("#who")).to_be_hidden()
    assert page.evaluate("sessionStorage.length") == 0
    refused = read_as(community.url, session["token"], f"/v1/accounts/{carol}")
    assert refused.status_code == 401, refused.text
    page.reload()  # nothing left to sign in with
    expect(page.locator("#signin")).to_be_visible()


def test_a_reload_keeps_the_session_of_the_tab(page: Page, community: LiveCommunity) -> None:
    sign_in(page, community.url, "regulator", "energy")
    page.reload()
    expect(page.locator("#who")).to_contain_text("signed in as regulator")
    expect(page.locator("#energy-table")).to_contain_text("settled")


def test_sign_in_with_a_one_time_login_link(
    browser: Browser, page: Page, community: LiveCommunity, tmp_path: Path
) -> None:
    link = login_link(tmp_path, community, "dave")
    page.goto(link)
    expect(page.locator("#who")).to_contain_text("signed in as dave")
    expect(page.locator("#who")).to_contain_text("(consumer)")
    expect(page.locator("#connection")).to_contain_text("live")
    assert "login=" not in page.url  # the code is taken out of the address bar
    assert "login=" not in page.evaluate("JSON.stringify(history.state) + location.href")
    expect(page.locator("#members tr", has_text="dave")).to_contain_text("(you)")

    again = new_page(browser)  # a login link works once
    again.goto(link)
    expect(again.locator("#signin-message .error")).to_contain_text("cannot sign you in")
    assert "login=" not in again.url
    again.context.close()


def test_a_login_link_pasted_into_the_sign_in_view(
    page: Page, community: LiveCommunity, tmp_path: Path
) -> None:
    link = login_link(tmp_path, community, "bob")
    page.goto(f"{community.url}/dashboard/")
    page.fill("#login-link", link)
    page.press("#login-link", "Enter")
    expect(page.locator("#who")).to_contain_text("signed in as bob")


def test_key_files_the_browser_cannot_use_are_refused_with_the_reason(
    page: Page, community: LiveCommunity
) -> None:
    page.goto(f"{community.url}/dashboard/")
    message = page.locator("#signin-message")
    carol = key("carol")
    encrypted = json.loads(encrypted_content("carol", carol, b"a passphrase", "interactive"))
    files = {
        "encrypted key files cannot be used in the browser; use a login link": encrypted,
        'no 64-digit hex "seed"': {"name": "carol", "public_key": carol.public_key.hex()},
        "does not match its seed": {
            "name": "carol",
            "seed": carol.seed.hex(),
            "public_key": key("dave").public_key.hex(),
        },
    }
    for reason, content in files.items():
        chosen = FilePayload(
            name="carol.key", mimeType="application/json", buffer=json.dumps(content).encode()
        )
        page.set_input_files("#key-file", files=[chosen])
        expect(message).to_contain_text(reason)
    page.set_input_files(
        "#key-file", files=[FilePayload(name="notes.txt", mimeType="text/plain", buffer=b"hi")]
    )
    expect(message).to_contain_text("not JSON")
    page.set_input_files("#key-file", files=[key_file("mallory")])  # a key, but no member's
    expect(message).to_contain_text("refused to sign you in")
    expect(message).to_contain_text("not_a_member")
    expect(page.locator("#who")).to_be_hidden()


def test_a_member_sees_only_its_own_statements(page: Page, community: LiveCommunity) -> None:
    sign_in(page, community.url, "carol", "market")
    member = page.locator("#member")
    expect(member).to_be_disabled()
    expect(member.locator("option")).to_have_count(1)
    expect(member).to_have_value(address("carol"))
    expect(page.locator("#member-private")).to_contain_text("other members' are private")
    statement = page.locator("#member-statements tr", has_text=str(P))
    expect(statement).to_contain_text("1.000 kWh")  # carol bought 1 kWh in P
    expect(page.locator("#member-orders")).to_contain_text(f"{OPEN}-3")

    token = session_of(page)["token"]
    alice = address("alice")
    for path in (
        f"/v1/dashboard/members/{alice}",
        f"/v1/settlement/periods/{P}/statements/{alice}",
        f"/v1/accounts/{alice}",
    ):
        answer = read_as(community.url, token, path)
        assert answer.status_code == 403, (path, answer.status_code, answer.text)
    mine = read_as(community.url, token, f"/v1/dashboard/members/{address('carol')}")
    assert mine.status_code == 200 and mine.json()["statements"]

    # alice's own account page is hers: the explorer says it is private
    page.evaluate(f"location.hash = '#/chain/account/{alice}'")
    expect(page.locator("main .error")).to_contain_text("private")
    # the overview lists the members, with balances of carol's own only
    page.evaluate("location.hash = '#/overview'")
    expect(page.locator("#members-private")).to_be_visible()
    expect(page.locator("#members tr", has_text="carol")).to_contain_text("(you)")
    expect(page.locator("#members tr", has_text="alice")).to_contain_text("private")


def test_a_member_sees_others_trades_without_their_identities(
    page: Page, community: LiveCommunity
) -> None:
    sign_in(page, community.url, "dave", "market")
    row = page.locator("#trades-table tr", has_text=f"{P}-t0")  # carol bought from alice
    expect(row).to_contain_text("another member")
    expect(row).to_contain_text("1.000 kWh")
    expect(row).not_to_contain_text("carol")
    expect(row).not_to_contain_text("alice")
    page.evaluate("location.hash = '#/chain'")
    expect(page.locator("#chain-private")).to_be_visible()
    expect(page.locator("#recent-transactions")).to_contain_text("private")


def test_live_updates_arrive_after_sign_in(page: Page, community: LiveCommunity) -> None:
    sign_in(page, community.url, "carol", "market")
    page.evaluate("window.notReloaded = true")
    placed = community.ok("carol", "market", "place_order", order_args("buy", 100, 805_000, OPEN))
    [trade] = [e.attributes for e in placed.events if e.name == "trade"]
    row = page.locator("#trades-table tr", has_text=trade["trade_id"])
    expect(row).to_contain_text("0.100 kWh")
    expect(row).to_contain_text("carol (you)")
    head = community.client.head().height
    expect(page.locator("#connection")).to_contain_text(f"block {head}")
    assert page.evaluate("window.notReloaded === true")


def test_the_page_signs_with_the_same_ed25519_as_the_node(
    page: Page, community: LiveCommunity
) -> None:
    """TweetNaCl in the page and the node's Ed25519 give the same (deterministic) signature."""
    page.goto(f"{community.url}/dashboard/")
    expect(page.locator("#signin")).to_be_visible()
    carol = key("carol")
    message = "gridledger-login:gridledger-test:" + "ab" * 32
    signed = page.evaluate(
        """([seedHex, text]) => {
            const seed = Uint8Array.from(seedHex.match(/../g), (h) => parseInt(h, 16));
            const pair = nacl.sign.keyPair.fromSeed(seed);
            const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
            const signature = nacl.sign.detached(new TextEncoder().encode(text), pair.secretKey);
            return [hex(pair.publicKey), hex(signature)];
        }""",
        [carol.seed.hex(), message],
    )
    assert signed == [carol.public_key.hex(), carol.sign(message.encode()).hex()]


def test_a_member_sees_who_among_the_auditors_read_its_data(
    page: Page, community: LiveCommunity
) -> None:
    carol = address("carol")
    signer = RequestSigner(key("regulator"))
    with httpx.Client(base_url=community.url, timeout=10, auth=signer) as regulator:
        assert regulator.get(f"/v1/dashboard/members/{carol}").status_code == 200
    sign_in(page, community.url, "carol", "market")
    reads = page.locator("#access-log")
    expect(reads.locator("tr", has_text="orders and statements").first).to_contain_text("regulator")


def test_a_member_verifies_its_own_transaction_and_not_anothers(
    page: Page, community: LiveCommunity
) -> None:
    sign_in(page, community.url, "carol", f"chain/tx/{community.transactions['carol_buy']}")
    expect(page.locator("#arguments")).to_contain_text('"price_micro_per_kwh": 820000')
    page.click("#verify-button")
    expect(page.locator("#verify-result")).to_contain_text("Verified in this browser")
    # dave's refused payment is not carol's: the explorer says it is private
    page.evaluate(f"location.hash = '#/chain/tx/{community.transactions['refused_transfer']}'")
    expect(page.locator("main .error")).to_contain_text("private")


def test_a_session_ended_at_the_node_takes_the_page_back_to_sign_in(
    page: Page, community: LiveCommunity
) -> None:
    """An expired token is answered as an ended one: 401, and the page says so."""
    sign_in(page, community.url, "carol", "energy")
    token = session_of(page)["token"]
    ended = httpx.delete(
        f"{community.url}/v1/auth/session",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert ended.status_code == 204
    community.ok("alice", "tokens", "transfer", {"to": address("bob"), "amount_micro": 1})
    expect(page.locator("#signin")).to_be_visible()
    expect(page.locator("#signin-message")).to_contain_text("Your session has ended")
    expect(page.locator("#signin-message")).to_contain_text("sign in again")
    assert page.evaluate("sessionStorage.length") == 0


def test_an_encrypted_key_signs_in_through_a_login_link(
    page: Page, community: LiveCommunity, tmp_path: Path
) -> None:
    """The page cannot open an encrypted key file; `gridledger dashboard login` can, and its
    link signs the page in."""
    passphrase = b"correct horse battery staple"
    path = write_key(tmp_path / "keys", "carol", key("carol"), passphrase, "interactive")
    secret = tmp_path / "passphrase"
    secret.write_bytes(passphrase + b"\n")
    secret.chmod(0o600)
    login = ("--passphrase-file", str(secret), "dashboard", "login", "-k", str(path))
    done = run_cli(*login, "--url", community.url)
    assert done.returncode == 0, done.stderr
    [link] = [w for w in done.stdout.split() if "#login=" in w]

    page.goto(f"{community.url}/dashboard/")
    encrypted = FilePayload(name="carol.key", mimeType="application/json", buffer=path.read_bytes())
    page.set_input_files("#key-file", files=[encrypted])
    expect(page.locator("#signin-message")).to_contain_text("use a login link")
    page.goto(link)
    expect(page.locator("#who")).to_contain_text("signed in as carol")
