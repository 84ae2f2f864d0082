"""The supply report, an account's lots and certificates of origin over a real served node:
who may read what, the figures after one settled period, and bad input."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from gridledger.api.server import BackgroundServer
from gridledger.client import ClientError, HttpClient, Wallet
from gridledger.client.signing import RequestSigner
from gridledger.contracts.currency_lots import DAY_SECONDS
from gridledger.node import CutterConfig, Node, SQLiteStorage
from tests.api.test_market_api import Clock
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

P = NEXT_PERIOD
GENESIS_DAY = GENESIS_TIME_MS // 1000 // DAY_SECONDS


@dataclass
class Served:
    url: str

    def as_(self, name: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30.0, auth=RequestSigner(key(name)))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Units live 3 days; certificates on; alice sells 1000 Wh to carol and delivers 800."""
    directory = tmp_path_factory.mktemp("certificates")
    clock = Clock(GENESIS_TIME_MS + 1_000)
    genesis = make_genesis(
        parameters={"tokens": {"lifetime_days": 3}, "certificates": {"enabled": True}}
    )
    node = Node.create(
        SQLiteStorage(directory / "chain.sqlite"),
        genesis,
        cutter=CutterConfig(timeout_ms=5),
        clock_ms=clock,
    )
    server = BackgroundServer(node)
    url = server.start()
    try:

        def ok(name: str, contract: str, method: str, args: dict[str, Any]) -> None:
            with HttpClient(url, keys=key(name)) as client:
                reply = Wallet(key(name), client).call(
                    contract, method, args, wait=True, timeout_ms=20_000
                )
                view = msgspec.to_builtins(reply)
                assert view["code"] == 0, view

        ok("alice", "market", "place_order", order_args("sell", 1000, 780_000, P))
        ok("carol", "market", "place_order", order_args("buy", 1000, 820_000, P))
        clock.at(gate_closure_s(P))
        ok("alice", "market", "clear", {"period": P})
        clock.at(period_start_s(P + 1) + 10)
        ok(
            "alice-meter-1",
            "metering",
            "record_reading",
            reading_args("alice-meter-1", "alice", P, 800, 0),
        )
        ok("operator", "settlement", "fund_grid", {"amount_micro": 5_000_000})
        clock.at(meter_window_close_s(P))
        ok("carol", "settlement", "settle", {"period": P})
        yield Served(url)
    finally:
        server.stop()
        node.close()


def test_the_supply_report_reconciles_for_any_member(served: Served) -> None:
    with served.as_("dave") as http:
        supply = http.get("/v1/currency/supply").json()
    assert supply["lifetime_days"] == 3 and supply["reconciles"] is True
    assert supply["issued_micro"] == 13_750_000
    assert supply["live_micro"] + supply["expired_micro"] + supply["burned_micro"] == 13_750_000
    with served.as_("mallory") as http:
        refused = http.get("/v1/currency/supply")
    assert refused.status_code == 403 and refused.json()["error"] == "not_a_member"


def test_an_account_shows_what_expires_when(served: Served) -> None:
    with served.as_("alice") as http:
        account = http.get(f"/v1/accounts/{address('alice')}").json()
    assert account["lifetime_days"] == 3
    [lot] = account["lots"]
    assert lot["issued_at_s"] == GENESIS_DAY * DAY_SECONDS
    assert lot["expires_at_s"] == (GENESIS_DAY + 3) * DAY_SECONDS
    assert lot["amount_micro"] == account["balance_micro"] and lot["expired"] is False


def test_the_buyer_holds_the_certificate_and_reads_its_hourly_report(served: Served) -> None:
    with HttpClient(served.url, keys=key("carol")) as client:
        found = client.certificates(address("carol"))
        report = client.certificate_report(address("carol"))
    assert found.enabled
    [holding] = found.holdings
    assert (holding.period, holding.producer, holding.energy_wh) == (P, address("alice"), 800)
    assert found.totals.certified_wh == 800 and found.totals.to_buyers_wh == 800
    [hour] = report.hours
    # carol sent no reading: she is taken to have consumed what she bought
    assert (hour.period, hour.consumed_wh, hour.held_wh, hour.matched_wh) == (P, 1000, 800, 800)
    assert report.matching_score_bp == 8000 and report.claimed_score_bp == 0


def test_a_household_reads_only_its_own_certificates_and_auditors_read_any(
    served: Served,
) -> None:
    carol = address("carol")
    with served.as_("dave") as http:
        for path in (f"/v1/certificates/{carol}", f"/v1/certificates/{carol}/report"):
            response = http.get(path)
            assert response.status_code == 403 and response.json()["error"] == "forbidden"
    with served.as_("regulator") as http:
        assert http.get(f"/v1/certificates/{carol}").json()["holdings"][0]["energy_wh"] == 800


@pytest.mark.parametrize("path", ["/v1/certificates/nobody", "/v1/certificates/nobody/report"])
def test_a_malformed_address_is_a_400(served: Served, path: str) -> None:
    with served.as_("regulator") as http:
        response = http.get(path)
    assert response.status_code == 400 and response.json()["error"] == "invalid_address"
    with HttpClient(served.url, keys=key("regulator")) as client, pytest.raises(ClientError):
        client.certificate_report("nobody")


def test_the_supply_report_counts_units_past_their_life_until_returned(tmp_path: Path) -> None:
    """Four days on, every genesis unit is past its life; an issue to dave returns his, the
    others' wait for their next write or settlement."""
    clock = Clock(GENESIS_TIME_MS + 1_000)
    genesis = make_genesis(parameters={"tokens": {"lifetime_days": 3}})
    node = Node.create(
        SQLiteStorage(tmp_path / "chain.sqlite"),
        genesis,
        cutter=CutterConfig(timeout_ms=5),
        clock_ms=clock,
    )
    server = BackgroundServer(node)
    url = server.start()
    try:
        with HttpClient(url, keys=key("operator")) as client:
            clock.at(GENESIS_TIME_MS // 1000 + 4 * DAY_SECONDS)
            minted = Wallet(key("operator"), client).call(
                "tokens", "mint", {"to": address("dave"), "amount_micro": 5}, wait=True
            )
            assert msgspec.to_builtins(minted)["code"] == 0
            supply = client.supply()
        assert supply.reconciles and supply.expired_micro == 250_000  # dave's, returned
        # the operator's, alice's, bob's and carol's are still held, past their life
        assert supply.past_life_micro == 10_000_000 + 1_000_000 + 500_000 + 2_000_000
        assert supply.live_micro == supply.past_life_micro + 5
    finally:
        server.stop()
        node.close()
