"""The market's and settlement's API, against a real node over SQLite served by
`BackgroundServer`.

Block time is what the contracts see, so the node runs on a clock the test moves: through
a period's gate closure, into its meter window and past it. Orders, cancellations,
clearing, readings and settlement are signed transactions sent through
``POST /v1/transactions`` (`Wallet` over `HttpClient`); everything is read back through the
``/v1/market`` and ``/v1/settlement`` routes, and `EmbeddedClient` must give the same answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from gridledger.api.server import BackgroundServer
from gridledger.client import EmbeddedClient, HttpClient, Wallet
from gridledger.node import CutterConfig, Node, SQLiteStorage
from tests.community import (
    GENESIS_TIME_MS,
    NEXT_PERIOD,
    address,
    gate_closure_s,
    key,
    make_genesis,
    meter_window_close_s,
    order_args,
    period_start_s,
    reading_args,
)
from tests.signing import signed_client, signer

WAIT_S = 30.0
P = NEXT_PERIOD
MAX_PERIOD = 2**63 - 1


class Clock:
    """The node's clock: block timestamps are whatever the test sets."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms

    def at(self, seconds: int) -> None:
        self.ms = seconds * 1000


@dataclass
class Market:
    url: str
    node: Node
    clock: Clock
    http: httpx.Client
    client: HttpClient
    wallets: dict[str, Wallet] = field(default_factory=dict)

    def get(self, path: str, **params: Any) -> Any:
        response = self.http.get(path, params=params)
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response.json()

    def call(self, name: str, contract: str, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """Sign as `name`, submit through POST /v1/transactions and wait for the commit."""
        if name not in self.wallets:
            self.wallets[name] = Wallet(key(name), self.client)
        reply = self.wallets[name].call(contract, method, args, wait=True, timeout_ms=20_000)
        view: dict[str, Any] = msgspec.to_builtins(reply)
        assert view["status"] == "committed", view
        return view

    def ok(self, name: str, contract: str, method: str, args: dict[str, Any]) -> dict[str, Any]:
        view = self.call(name, contract, method, args)
        assert view["code"] == 0, (method, view["result"], view["message"])
        return view


@pytest.fixture
def market(tmp_path: Path) -> Iterator[Market]:
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


def assert_error(response: httpx.Response, status: int, error: str, *mentions: str) -> None:
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert body["error"] == error, body
    for text in mentions:
        assert text in body["message"], (text, body)


def level(price: int, residual_wh: int, orders: int) -> dict[str, int]:
    return {"price_micro_per_kwh": price, "residual_wh": residual_wh, "orders": orders}


def test_trading_a_period_from_orders_to_statements(market: Market) -> None:
    m = market
    now = m.get("/v1/market/current")
    assert now["period"] == P - 1 and now["open_period"] == P
    assert now["now_s"] == GENESIS_TIME_MS // 1000 and now["phase"] == "delivery"

    parameters = m.get("/v1/market/parameters", period=P)
    assert parameters["parameters"]["mechanism"] == "high_low"
    assert parameters["window"] == {
        "start_s": period_start_s(P),
        "gate_closure_s": gate_closure_s(P),
        "end_s": period_start_s(P + 1),
        "meter_window_end_s": meter_window_close_s(P),
    }
    assert m.get("/v1/market/parameters")["period"] == P - 1  # default: the current period

    # -- orders, before gate closure
    placed = m.ok("alice", "market", "place_order", order_args("sell", 1000, 780_000, P))
    [event] = [e for e in placed["events"] if e["name"] == "order_placed"]
    assert event["attributes"]["order_id"] == f"{P}-0"
    m.ok("bob", "market", "place_order", order_args("sell", 500, 800_000, P))
    m.ok("carol", "market", "place_order", order_args("buy", 1000, 820_000, P))
    m.ok("carol", "market", "place_order", order_args("buy", 100, 820_000, P))
    m.ok("dave", "market", "place_order", order_args("buy", 200, 790_000, P))

    book = m.get(f"/v1/market/periods/{P}/book")
    assert book["bids"] == [level(820_000, 1100, 2), level(790_000, 200, 1)]
    assert book["asks"] == [level(780_000, 1000, 1), level(800_000, 500, 1)]
    assert (book["mechanism"], book["mechanism_fixed"]) == ("high_low", True)
    assert (book["cleared"], book["settled"], book["phase"]) == (False, False, "open")
    assert (book["orders"], book["open_orders"], book["trades"]) == (5, 5, 0)
    assert book["window"]["gate_closure_s"] == gate_closure_s(P)

    carol_orders = m.get(f"/v1/market/periods/{P}/orders", owner=address("carol"))["orders"]
    assert [o["order_id"] for o in carol_orders] == [f"{P}-2", f"{P}-3"]
    assert carol_orders[0]["escrow_micro"] == 820_000 and carol_orders[0]["status"] == "open"
    assert len(m.get(f"/v1/market/periods/{P}/orders")["orders"]) == 5
    assert m.get(f"/v1/market/orders/{P}-4")["owner"] == address("dave")

    m.ok("dave", "market", "cancel_order", {"order_id": f"{P}-4"})
    assert m.get(f"/v1/market/orders/{P}-4")["status"] == "cancelled"
    assert m.get(f"/v1/market/periods/{P}/book")["bids"] == [level(820_000, 1100, 2)]
    refused = m.call("dave", "market", "cancel_order", {"order_id": f"{P}-0"})
    assert refused["result"] == refused["error"] == "not_order_owner"
    assert refused["details"] == {
        "order_id": f"{P}-0",
        "owner": address("alice"),
        "sender": address("dave"),
    }

    m.ok(
        "bob",
        "market",
        "publish_offer",
        {"energy_wh": 200, "price_micro_per_kwh": 800_000, "period": P},
    )
    [offer] = m.get(f"/v1/market/periods/{P}/offers")["offers"]
    assert (offer["offer_id"], offer["seller"], offer["status"]) == (
        f"{P}-o0",
        address("bob"),
        "open",
    )

    # -- gate closure: no more orders; the book is cleared (high-low, midpoint prices)
    m.clock.at(gate_closure_s(P))
    late = m.call("dave", "market", "place_order", order_args("buy", 100, 800_000, P))
    assert late["error"] == "period_closed" and "gate closure" in late["message"]
    assert late["details"]["gate_closure_s"] == gate_closure_s(P)
    assert m.get(f"/v1/market/periods/{P}/book")["phase"] == "gate_closed"
    m.ok("alice", "market", "clear", {"period": P})

    trades = m.get(f"/v1/market/periods/{P}/trades")
    got = [
        (t["buyer"], t["seller"], t["energy_wh"], t["price_micro_per_kwh"], t["value_micro"])
        for t in trades["trades"]
    ]
    assert got == [
        (address("carol"), address("alice"), 1000, 800_000, 800_000),
        (address("carol"), address("bob"), 100, 810_000, 81_000),
    ]
    assert (trades["count"], trades["traded_wh"], trades["value_micro"]) == (2, 1100, 881_000)
    book = m.get(f"/v1/market/periods/{P}/book")
    assert book["cleared"] and book["bids"] == [] and book["asks"] == []
    assert book["cleared_height"] >= 1 and book["trades"] == 2
    assert m.get(f"/v1/market/orders/{P}-1")["status"] == "unfilled"
    assert m.get(f"/v1/market/orders/{P}-1")["filled_wh"] == 100

    # -- the meter window: alice's meter reports, bob and carol send nothing
    m.clock.at(period_start_s(P + 1) + 10)
    m.ok(
        "alice-meter-1",
        "metering",
        "record_reading",
        reading_args("alice-meter-1", "alice", P, 1000, 0),
    )
    early = m.call("carol", "settlement", "settle", {"period": P})
    assert early["error"] == "meter_window_open" and "meter window" in early["message"]
    summary = m.get(f"/v1/settlement/periods/{P}")
    assert (summary["settled"], summary["summary"], summary["phase"]) == (False, None, "metering")
    assert m.get(f"/v1/settlement/periods/{P}/statements") == {
        "period": P,
        "settled": False,
        "statements": [],
    }
    assert_error(
        m.http.get(f"/v1/settlement/periods/{P}/statements/{address('alice')}"),
        404,
        "not_settled",
        str(meter_window_close_s(P)),
    )

    # -- settlement after the meter window
    m.ok("operator", "settlement", "fund_grid", {"amount_micro": 5_000_000})
    m.clock.at(meter_window_close_s(P))
    m.ok("carol", "settlement", "settle", {"period": P})

    summary = m.get(f"/v1/settlement/periods/{P}")
    assert summary["settled"] and summary["phase"] == "settled"
    assert summary["summary"]["traded_wh"] == 1100 and summary["summary"]["trades"] == 2
    assert summary["summary"]["settled_by"] == address("carol")
    assert summary["summary"]["penalties_micro"] == 1_000_000
    statements = m.get(f"/v1/settlement/periods/{P}/statements")["statements"]
    assert sorted(s["member"] for s in statements) == sorted(
        address(n) for n in ("alice", "bob", "carol")
    )

    alice = m.get(f"/v1/settlement/periods/{P}/statements/{address('alice')}")
    assert alice["reading"] == "metered"
    assert (alice["sold_wh"], alice["delivered_wh"], alice["bought_wh"]) == (1000, 1000, 0)
    assert (alice["received_micro"], alice["paid_micro"], alice["penalised_micro"]) == (
        800_000,
        0,
        0,
    )
    bob = m.get(f"/v1/settlement/periods/{P}/statements/{address('bob')}")
    assert (bob["reading"], bob["sold_wh"], bob["delivered_wh"], bob["shortfall_wh"]) == (
        "missing",
        100,
        0,
        100,
    )
    assert bob["penalised_micro"] == 1_000_000 and bob["received_micro"] == 81_000
    assert bob["paid_micro"] == 85_000  # the shortfall, bought from the grid at the grid price
    assert bob["debt_now_micro"] == bob["debt_added_micro"] > 0
    carol = m.get(f"/v1/settlement/periods/{P}/statements/{address('carol')}")
    assert (carol["bought_wh"], carol["paid_micro"], carol["net_micro"]) == (
        1100,
        881_000,
        -881_000,
    )

    assert m.get(f"/v1/market/periods/{P}/book")["settled"]
    again = m.call("alice", "settlement", "settle", {"period": P})
    assert again["error"] == "period_already_settled" and "already settled" in again["message"]
    assert again["details"] == {"period": P}

    # nobody else traded or metered: no statement for dave
    assert_error(
        m.http.get(f"/v1/settlement/periods/{P}/statements/{address('dave')}"), 404, "not_found"
    )

    # the in-process client answers with the same shapes as the HTTP API
    local = EmbeddedClient(m.node)
    assert local.market_book(P) == m.client.market_book(P)
    assert local.market_orders(P, address("carol")) == m.client.market_orders(P, address("carol"))
    assert local.market_trades(P) == m.client.market_trades(P)
    assert local.market_offers(P) == m.client.market_offers(P)
    assert local.settlement(P) == m.client.settlement(P)
    assert local.statements(P) == m.client.statements(P)
    assert local.statement(P, address("bob")) == m.client.statement(P, address("bob"))
    assert local.parameters(P) == m.client.parameters(P)
    assert local.market_order(f"{P}-0") == m.client.market_order(f"{P}-0")
    current = m.client.market_current()
    assert local.market_current() == current
    assert current.period == P + 1 and current.phase == "delivery"
    # and the replies are the served JSON, key for key
    assert msgspec.to_builtins(current) == m.get("/v1/market/current")
    for path, answer in [
        (f"/v1/market/periods/{P}/book", local.market_book(P)),
        (f"/v1/market/periods/{P}/trades", local.market_trades(P)),
        (f"/v1/settlement/periods/{P}", local.settlement(P)),
        (
            f"/v1/settlement/periods/{P}/statements/{address('bob')}",
            local.statement(P, address("bob")),
        ),
        (f"/v1/market/orders/{P}-0", local.market_order(f"{P}-0")),
    ]:
        assert msgspec.to_builtins(answer) == m.get(path), path


def test_continuous_orders_trade_on_arrival(tmp_path: Path) -> None:
    clock = Clock(GENESIS_TIME_MS + 1_000)
    genesis = make_genesis(parameters={"market": {"mechanism": "continuous"}})
    node = Node.create(
        SQLiteStorage(tmp_path / "chain.sqlite"),
        genesis,
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
            m = Market(url, node, clock, http, client)
            m.ok("alice", "market", "place_order", order_args("sell", 300, 790_000, P))
            m.ok("carol", "market", "place_order", order_args("buy", 500, 800_000, P))
            book = m.get(f"/v1/market/periods/{P}/book")
            assert book["mechanism"] == "continuous"
            assert book["bids"] == [level(800_000, 200, 1)] and book["asks"] == []
            [trade] = m.get(f"/v1/market/periods/{P}/trades")["trades"]
            assert (trade["energy_wh"], trade["price_micro_per_kwh"]) == (300, 790_000)
            assert trade["price_rule"] and trade["mechanism"] == "continuous"
    finally:
        server.stop()
        node.close()


BAD_REQUESTS = [
    ("/v1/market/periods/-1/book", 400, "invalid_request", "period"),
    (f"/v1/market/periods/{MAX_PERIOD + 1}/book", 400, "invalid_request", "64 bits"),
    ("/v1/market/periods/1e3/book", 422, "invalid_request", "period"),
    ("/v1/market/periods/x/trades", 422, "invalid_request", "period"),
    ("/v1/market/periods/-7/orders", 400, "invalid_request", "period"),
    ("/v1/market/periods/-7/trades", 400, "invalid_request", "period"),
    ("/v1/market/periods/-7/offers", 400, "invalid_request", "period"),
    (f"/v1/market/periods/{P}/orders?owner=alice", 400, "invalid_address", "owner"),
    ("/v1/market/parameters?period=-2", 400, "invalid_request", "period"),
    (f"/v1/market/parameters?period={2**64}", 400, "invalid_request", "64 bits"),
    ("/v1/market/parameters?period=soon", 422, "invalid_request", "period"),
    ("/v1/market/orders/472223-99", 404, "not_found", "472223-99"),
    ("/v1/market/orders/nonsense", 404, "not_found", "nonsense"),
    (f"/v1/market/orders/{'x' * 65}", 400, "invalid_request", "order_id"),
    ("/v1/settlement/periods/-1", 400, "invalid_request", "period"),
    (f"/v1/settlement/periods/{2**70}/statements", 400, "invalid_request", "64 bits"),
    (f"/v1/settlement/periods/{P}/statements/bob", 400, "invalid_address", "member"),
    (f"/v1/settlement/periods/{P}/statements/gl{'z' * 40}", 400, "invalid_address", "member"),
    (f"/v1/settlement/periods/{P}/statements/gl{'0' * 40}", 404, "not_settled", str(P)),
    ("/v1/market/day-ahead/-1", 400, "invalid_request", "day"),
    ("/v1/market/day-ahead/10000001", 400, "invalid_request", "day"),
    ("/v1/market/day-ahead/tomorrow", 422, "invalid_request", "day"),
]


def test_bad_input_is_a_4xx_naming_the_field(market: Market) -> None:
    for path, status, error, mention in BAD_REQUESTS:
        assert_error(market.http.get(path), status, error, mention)
    # the largest period the ledger can encode is fine, it is just empty
    book = market.get(f"/v1/market/periods/{MAX_PERIOD}/book")
    assert book["bids"] == [] and book["phase"] == "open" and not book["mechanism_fixed"]
    assert market.get(f"/v1/settlement/periods/{MAX_PERIOD}/statements")["statements"] == []
    # a community without the day-ahead auction says so, for any day
    auction = market.get("/v1/market/day-ahead/19677")
    assert (auction["offered"], auction["gate_s"], auction["orders"]) == (False, None, [])
    assert len(auction["products"]) == 24


def test_routes_are_documented_with_how_to_write(market: Market) -> None:
    spec = market.get("/openapi.json")
    paths = spec["paths"]
    for path in (
        "/v1/market/current",
        "/v1/market/parameters",
        "/v1/market/periods/{period}/book",
        "/v1/market/periods/{period}/orders",
        "/v1/market/periods/{period}/trades",
        "/v1/market/periods/{period}/offers",
        "/v1/market/orders/{order_id}",
        "/v1/settlement/periods/{period}",
        "/v1/settlement/periods/{period}/statements",
        "/v1/settlement/periods/{period}/statements/{member}",
    ):
        assert "get" in paths[path], path
    book = paths["/v1/market/periods/{period}/book"]["get"]["description"]
    assert "POST /v1/transactions" in book and "place_order" in book and "cancel_order" in book


def test_reads_start_from_the_chains_time_when_the_clock_has_moved_on(market: Market) -> None:
    """A chain that stopped (a simulated community's, the demo's) is read from its own last
    periods: the newest period with trades, and the dashboard's periods up to the one open
    by the head block's time, however far the node's clock has moved on (issue 13)."""
    m = market
    first = m.client.market_current()
    assert first.latest_trades_period is None
    assert first.chain_open_period == first.open_period == P
    m.ok("alice", "market", "place_order", order_args("sell", 400, 790_000, P))
    m.ok("carol", "market", "place_order", order_args("buy", 300, 810_000, P))
    m.clock.at(gate_closure_s(P))
    m.ok("operator", "market", "clear", {"period": P})
    m.ok("dave", "market", "place_order", order_args("buy", 200, 780_000, P + 1))
    head_open = m.client.market_current().chain_open_period
    assert head_open == P + 1

    m.clock.at(period_start_s(P) + 400 * 86_400)  # a year on, and no block since
    current = m.client.market_current()
    assert current.open_period > P + 24 * 300
    assert current.chain_open_period == head_open
    assert current.latest_trades_period == P
    assert m.get("/v1/market/current")["latest_trades_period"] == P

    periods = m.get("/v1/dashboard/periods", count=3)
    assert periods["open_period"] == head_open
    assert [row["period"] for row in periods["periods"]][-2:] == [P, P + 1]
    assert periods["periods"][-2]["trades"] == 1
    assert periods["periods"][-1]["open_orders"] == 1
    dave = m.get(f"/v1/dashboard/members/{address('dave')}")
    assert [order["order_id"] for order in dave["open_orders"]] == [f"{P + 1}-0"]
