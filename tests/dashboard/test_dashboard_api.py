"""The dashboard's read-only API views and the results routes, against a real node with a
community that traded, metered and settled a period (`tests.dashboard.scenario`), read as
the regulator (signed requests); an anonymous caller gets the page's files and nothing
else."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gridledger.client.signing import RequestSigner
from gridledger.crypto import sha256
from gridledger.dashboard import STATIC_DIR
from gridledger.ledger import BlockHeader, block_hash, decode
from tests.community import address, key
from tests.dashboard.scenario import OPEN, LiveCommunity, P


@pytest.fixture(scope="module")
def http(community: LiveCommunity) -> Iterator[httpx.Client]:
    signer = RequestSigner(key("regulator"))
    with httpx.Client(base_url=community.url, timeout=30, auth=signer) as client:
        yield client


def get(http: httpx.Client, path: str) -> Any:
    response = http.get(path)
    assert response.status_code == 200, (path, response.status_code, response.text)
    return response.json()


def test_periods_show_trades_meters_and_grid_exchange(http: httpx.Client) -> None:
    data = get(http, "/v1/dashboard/periods?count=4")
    assert data["open_period"] == OPEN
    rows = {row["period"]: row for row in data["periods"]}
    assert sorted(rows) == [OPEN - 3, OPEN - 2, OPEN - 1, OPEN]
    settled = rows[P]
    assert (settled["trades"], settled["traded_wh"], settled["value_micro"]) == (1, 1000, 780_000)
    assert settled["mean_price_micro_per_kwh"] == 780_000
    assert (settled["readings"], settled["generation_wh"], settled["consumption_wh"]) == (
        2,
        1000,
        1200,
    )
    assert settled["settled"] and settled["phase"] == "settled"
    assert (settled["grid_supplied_wh"], settled["grid_taken_wh"]) == (200, 0)
    assert settled["feed_in_price_micro_per_kwh"] == 770_000
    open_row = rows[OPEN]
    assert open_row["phase"] == "open" and open_row["open_orders"] == 4
    assert open_row["grid_supplied_wh"] is None and open_row["trades"] == 0
    one = get(http, f"/v1/dashboard/periods?to_period={P}&count=1")["periods"]
    assert [row["period"] for row in one] == [P]


def test_overview_has_members_balances_and_today(http: httpx.Client) -> None:
    data = get(http, "/v1/dashboard/overview")
    members = {m["name"]: m for m in data["members"]}
    assert set(members) == {"regulator", "operator", "alice", "bob", "carol", "dave"}
    assert members["carol"]["role"] == "consumer" and members["carol"]["status"] == "active"
    assert (
        members["carol"]["balance_micro"]
        == get(http, f"/v1/accounts/{address('carol')}")["balance_micro"]
    )
    today = data["today"]
    assert (today["traded_wh"], today["mean_price_micro_per_kwh"]) == (1000, 780_000)
    assert today["self_sufficiency_percent"] == round(100 * 1000 / 1200, 1)
    assert data["prices"]["cap_price_micro_per_kwh"] == 850_000


def test_member_activity_lists_open_orders_and_statements(http: httpx.Client) -> None:
    carol = get(http, f"/v1/dashboard/members/{address('carol')}")
    assert [(o["period"], o["side"], o["residual_wh"]) for o in carol["open_orders"]] == [
        (OPEN, "buy", 200)
    ]
    [statement] = carol["statements"]
    assert (statement["period"], statement["bought_wh"], statement["consumed_wh"]) == (
        P,
        1000,
        1200,
    )
    assert statement["paid_micro"] == 780_000 + 200 * 850_000 // 1000


def test_header_bytes_hash_to_the_block_hash(http: httpx.Client) -> None:
    head = get(http, "/v1/head")["height"]
    for height in (0, head):
        view = get(http, f"/v1/dashboard/blocks/{height}/header")
        raw = bytes.fromhex(view["header_hex"])
        header = decode(raw, BlockHeader)
        assert header.height == height
        assert sha256(raw).hex() == view["hash"] == block_hash(header).hex()
        assert (
            view["hash"] == get(http, f"/v1/blocks/{height}?transactions=false")["header"]["hash"]
        )


@pytest.mark.parametrize(
    ("path", "status", "error"),
    [
        ("/v1/dashboard/periods?count=0", 400, "invalid_request"),
        ("/v1/dashboard/periods?count=169", 400, "invalid_request"),
        ("/v1/dashboard/periods?to_period=-1", 400, "invalid_request"),
        ("/v1/dashboard/members/carol", 400, "invalid_address"),
        (f"/v1/dashboard/members/gl{'0' * 40}", 404, "not_found"),
        ("/v1/dashboard/blocks/-1/header", 400, "invalid_request"),
        ("/v1/dashboard/blocks/999999/header", 404, "not_found"),
        ("/v1/results/not-a-run", 404, "not_found"),
        ("/v1/results/..", 404, "not_found"),
        ("/v1/results/.hidden", 400, "invalid_request"),
        ("/v1/results/..%2F..%2Fetc", 404, "not_found"),
        ("/v1/results/sunny-week/files/..%2Fsecret.txt", 400, "invalid_request"),
        ("/v1/results/sunny-week/files/..%2F..%2Fsecret.txt", 400, "invalid_request"),
        ("/v1/results/sunny-week/files/%2Fetc%2Fpasswd", 400, "invalid_request"),
        ("/v1/results/sunny-week/files/plots%2F..%2F..%2Fsecret.txt", 400, "invalid_request"),
        ("/v1/results/sunny-week/files/community/genesis.json", 404, "not_found"),
        ("/v1/results/sunny-week/files/kpis.py", 400, "invalid_request"),
        ("/v1/results/sunny-week/files/plots/missing.png", 404, "not_found"),
        ("/dashboard/missing.js", 404, "not_found"),
    ],
)
def test_bad_requests_are_a_4xx_with_a_reason(
    http: httpx.Client, path: str, status: int, error: str
) -> None:
    response = http.get(path)
    assert response.status_code == status, (path, response.text)
    body = response.json()
    assert body["error"] == error and body["message"], body


def test_results_are_listed_and_served_read_only(http: httpx.Client) -> None:
    runs = get(http, "/v1/results")["runs"]
    assert [r["name"] for r in runs] == ["sunny-week"]  # not-a-run has no kpis.json
    run = get(http, "/v1/results/sunny-week")
    assert run["kpis"]["energy"]["traded_wh"] == 412_500
    assert run["plots"] == ["plots/prices.png"] and run["tables"] == ["trades.csv"]
    assert run["report"] == "report.html"
    assert not any(f.startswith("community/") for f in run["files"])
    plot = http.get("/v1/results/sunny-week/files/plots/prices.png")
    assert plot.status_code == 200 and plot.headers["content-type"] == "image/png"
    assert plot.content.startswith(b"\x89PNG")
    assert http.post("/v1/results/sunny-week/files/plots/prices.png").status_code == 405


def test_the_page_and_its_vendored_assets_are_served(http: httpx.Client) -> None:
    assert http.get("/dashboard").status_code in (307, 308)
    page = http.get("/dashboard/")
    assert page.status_code == 200 and '<script type="module" src="app.js">' in page.text
    assert "http://" not in page.text.replace("http://www.w3.org", "")  # no CDN
    chart = http.get("/dashboard/vendor/chart.umd.min.js")
    assert chart.status_code == 200 and "Chart.js v4" in chart.text[:200]
    for module in ("app.js", "api.js", "live.js", "verify.js", "charts.js", "pages/chain.js"):
        assert http.get(f"/dashboard/{module}").status_code == 200, module


def test_the_service_worker_keeps_every_file_of_the_page() -> None:
    """sw.js precaches the page's files for a reload while the node is down: all of them."""
    static = STATIC_DIR
    worker = (static / "sw.js").read_text()
    listed = set(re.findall(r'^  "([^"]+)",$', worker, flags=re.MULTILINE))
    files = {
        path.relative_to(static).as_posix()
        for path in static.rglob("*")
        if path.suffix in (".js", ".css", ".html") and path.name != "sw.js"
    }
    assert files and files <= listed, files - listed
    assert listed - files == {"./"}


def test_an_anonymous_caller_gets_the_page_but_none_of_its_data(community: LiveCommunity) -> None:
    with httpx.Client(base_url=community.url, timeout=30) as anonymous:
        assert anonymous.get("/dashboard/").status_code == 200
        for asset in ("app.js", "auth.js", "signin.js", "vendor/tweetnacl-fast.min.js"):
            assert anonymous.get(f"/dashboard/{asset}").status_code == 200, asset
        for path in (
            "/v1/dashboard/overview",
            "/v1/dashboard/periods",
            f"/v1/dashboard/members/{address('carol')}",
            "/v1/dashboard/blocks/1/header",
            "/v1/results",
            "/v1/results/sunny-week/files/plots/prices.png",
        ):
            answer = anonymous.get(path)
            assert answer.status_code == 401, (path, answer.status_code)
            assert answer.json()["error"] == "unauthenticated"
