"""``GET /v1/market/periods/{period}/price``: the price the operator posted with the pricing
contract (seed 003), read back over HTTP from a real node over SQLite, and through
`EmbeddedClient` with the same answers.

The operator posts with a signed ``pricing.post_price`` through ``POST /v1/transactions``;
block time is the test's clock, so postings land before the period's gate closure.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import msgspec
import pytest

from gridledger.api.server import BackgroundServer
from gridledger.client import ClientError, EmbeddedClient
from gridledger.node import CutterConfig, Node, SQLiteStorage
from tests.api.test_market_api import WAIT_S, Clock, Market, assert_error
from tests.community import GENESIS_TIME_MS, NEXT_PERIOD, address, gate_closure_s, make_genesis
from tests.signing import signed_client, signer

P = NEXT_PERIOD


def price_args(
    period: int, price: int, supply_wh: int = 4000, demand_wh: int = 6000
) -> dict[str, int]:
    return {
        "period": period,
        "price_micro_per_kwh": price,
        "supply_wh": supply_wh,
        "demand_wh": demand_wh,
    }


@pytest.fixture
def priced(tmp_path: Path) -> Iterator[Market]:
    clock = Clock(GENESIS_TIME_MS + 1_000)
    node = Node.create(
        SQLiteStorage(tmp_path / "chain.sqlite"),
        make_genesis(),
        cutter=CutterConfig(timeout_ms=5),
        clock_ms=clock,
    )
    server = BackgroundServer(node)
    url = server.start()
    try:
        with (
            httpx.Client(base_url=url, timeout=WAIT_S, auth=signer()) as http,
            signed_client(url) as client,
        ):
            yield Market(url, node, clock, http, client)
    finally:
        server.stop()
        node.close()


def test_a_posted_price_and_its_revision_are_readable(priced: Market) -> None:
    m = priced
    first = m.ok("operator", "pricing", "post_price", price_args(P, 800_000))
    view = m.get(f"/v1/market/periods/{P}/price")
    assert view["period"] == P and view["price_micro_per_kwh"] == 800_000
    assert (view["supply_wh"], view["demand_wh"], view["revision"]) == (4000, 6000, 0)
    assert view["operator"] == address("operator") and view["height"] == first["height"]
    assert view["phase"] == "open" and view["window"]["gate_closure_s"] == gate_closure_s(P)

    m.ok("operator", "pricing", "post_price", price_args(P, 812_345, 5000, 5500))
    again = m.get(f"/v1/market/periods/{P}/price")
    assert (again["price_micro_per_kwh"], again["revision"]) == (812_345, 1)
    assert msgspec.to_builtins(m.client.market_price(P)) == again
    assert EmbeddedClient(m.node).market_price(P) == m.client.market_price(P)


def test_a_refused_posting_leaves_nothing_posted(priced: Market) -> None:
    m = priced
    refused = m.call("alice", "pricing", "post_price", price_args(P, 800_000))
    assert refused["error"] == "not_authorised"
    outside = m.call("operator", "pricing", "post_price", price_args(P, 900_000))
    assert outside["error"] == "price_outside_band"
    assert outside["details"]["price"] == 900_000
    assert_error(m.http.get(f"/v1/market/periods/{P}/price"), 404, "not_found", "no price", str(P))


def test_no_price_and_bad_periods_are_4xx(priced: Market) -> None:
    m = priced
    response = m.http.get(f"/v1/market/periods/{P + 3}/price")
    assert_error(response, 404, "not_found", f"period {P + 3}", "pricing.post_price")
    assert response.json()["kind"] == "price"
    assert_error(m.http.get("/v1/market/periods/-1/price"), 400, "invalid_request", "period")
    big = f"/v1/market/periods/{2**64}/price"
    assert_error(m.http.get(big), 400, "invalid_request", "64 bits")
    assert_error(m.http.get("/v1/market/periods/soon/price"), 422, "invalid_request", "period")
    with pytest.raises(ClientError) as raised:
        EmbeddedClient(m.node).market_price(P + 3)
    assert raised.value.status == 404 and raised.value.body["kind"] == "price"
    spec = m.get("/openapi.json")
    assert "get" in spec["paths"]["/v1/market/periods/{period}/price"]
