"""`gridledger market day-ahead buy|sell|cancel|clear|show` against a served node on the
test's clock, a community offering the day-ahead auction; and the hostile cases: the wrong
gate, after the gate, all-or-none where it is not offered, a community without the auction."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from gridledger.api.server import BackgroundServer
from gridledger.ledger import dump_genesis
from gridledger.node import CutterConfig, Node, SQLiteStorage
from gridledger.node.keystore import write_key
from tests.api.test_market_api import Clock
from tests.cli import test_market
from tests.cli.test_market import fails, ok, ok_json
from tests.community import FOUNDERS, GENESIS_TIME_MS, key, make_genesis

DAY = 19_677
GATE = DAY * 86_400 - 43_200
FIRST = DAY * 24
Served = tuple[Path, str, Clock, BackgroundServer]
served = test_market.served
"""A node whose community offers no day-ahead auction (`tests.cli.test_market`)."""


@pytest.fixture
def day_ahead(tmp_path: Path) -> Iterator[Served]:
    directory = tmp_path / "community"
    directory.mkdir()
    genesis = make_genesis(
        parameters={"market": {"mechanism": "continuous", "day_ahead_gate_seconds": 43_200}}
    )
    (directory / "genesis.json").write_bytes(dump_genesis(genesis) + b"\n")
    for name in [*FOUNDERS, "alice-meter-1"]:
        write_key(directory / "keys", name, key(name))
    clock = Clock(GENESIS_TIME_MS + 1_000)
    node = Node.create(
        SQLiteStorage(directory / "chain.sqlite"),
        genesis,
        cutter=CutterConfig(timeout_ms=5),
        clock_ms=clock,
    )
    server = BackgroundServer(node)
    url = server.start()
    try:
        yield directory, url, clock, server
    finally:
        server.stop()
        node.close()


def test_orders_until_the_gate_then_the_clear_and_its_result(day_ahead: Served) -> None:
    directory, url, clock, _ = day_ahead
    at = ("--dir", str(directory), "--url", url)
    clock.at(GATE - 600)
    sold = ok("day-ahead", "sell", "-k", "alice", "--energy-wh", "1000", "--price", "780000",
              "--period", str(FIRST), *at)  # fmt: skip
    assert f"day-ahead order da{DAY}-0: sell 1,000 Wh at 780,000 µ/kWh" in sold
    bought = ok("day-ahead", "buy", "-k", "carol", "--energy-wh", "600", "--price", "820000",
                "--period", str(FIRST), "--all-or-none", *at)  # fmt: skip
    assert "600 Wh (all or none)" in bought and "escrowed 492,000 µ" in bought
    ok("day-ahead", "buy", "-k", "dave", "--energy-wh", "100", "--price", "790000",
       "--period", str(FIRST), *at)  # fmt: skip
    ok("day-ahead", "buy", "-k", "dave", "--energy-wh", "50", "--price", "790000",
       "--period", str(FIRST + 1), *at)  # fmt: skip
    ok("day-ahead", "cancel", f"da{DAY}-3", "-k", "dave", *at)

    # a household sees its own orders only; the regulator, as auditor, every one
    mine = ok_json("day-ahead", "show", str(DAY), "-k", "carol", *at)
    assert [o["order_id"] for o in mine["orders"]] == [f"da{DAY}-1"]
    assert (mine["gate_s"], mine["cleared"], len(mine["products"])) == (GATE, False, 24)
    everyone = ok("day-ahead", "show", "--period", str(FIRST + 5), "-k", "regulator", *at)
    assert f"day {DAY}" in everyone and "open" in everyone and "cancelled" in everyone

    # the wrong gate: too early to clear
    early = fails("day-ahead", "clear", str(DAY), "-k", "operator", *at, code=2)
    assert "refused (day_ahead_gate_not_reached)" in early and str(GATE) in early

    clock.at(GATE)
    late = fails("day-ahead", "buy", "-k", "dave", "--energy-wh", "100", "--price", "790000",
                 "--period", str(FIRST), *at, code=2)  # fmt: skip
    assert "refused (day_ahead_gate_closed)" in late and "intraday" in late
    cancelled_late = fails("day-ahead", "cancel", f"da{DAY}-0", "-k", "alice", *at, code=2)
    assert "refused (day_ahead_gate_closed)" in cancelled_late

    cleared = ok("day-ahead", "clear", str(DAY), "-k", "operator", *at)
    assert f"day {DAY} cleared: 2 trade(s), 700 Wh" in cleared
    assert f"period {FIRST}: 785,000 µ/kWh, 700 Wh" in cleared
    again = fails("day-ahead", "clear", str(DAY), "-k", "operator", *at, code=2)
    assert "refused (day_ahead_already_cleared)" in again
    shown = ok_json("day-ahead", "show", str(DAY), "-k", "regulator", *at)
    assert [(o["status"], o["filled_wh"]) for o in shown["orders"]] == [
        ("unfilled", 700),  # 700 of its 1,000 Wh: the rest closed unfilled at the gate
        ("filled", 600),
        ("filled", 100),
        ("cancelled", 0),
    ]
    trades = ok_json("trades", str(FIRST), "-k", "regulator", *at)
    assert {t["mechanism"] for t in trades["trades"]} == {"day_ahead"}


def test_all_or_none_in_a_periods_own_market_is_refused_with_its_code(day_ahead: Served) -> None:
    directory, url, _, _ = day_ahead
    at = ("--dir", str(directory), "--url", url)
    refused = fails("buy", "-k", "carol", "--energy-wh", "100", "--price", "800000",
                    "--all-or-none", *at, code=2)  # fmt: skip
    assert "refused (all_or_none_not_supported)" in refused and "day-ahead" in refused


def test_bad_arguments_are_one_line(day_ahead: Served) -> None:
    directory, url, _, _ = day_ahead
    at = ("--dir", str(directory), "--url", url)
    assert "not negative" in fails("day-ahead", "show", "--period", "-1", "-k", "carol", *at)
    assert "one of the two" in fails("day-ahead", "show", "-k", "carol", *at)
    assert "one of the two" in fails(
        "day-ahead", "show", str(DAY), "--period", "1", "-k", "carol", *at
    )
    unknown = fails("day-ahead", "cancel", "da1-x", "-k", "carol", *at, code=2)
    assert "refused (unknown_order)" in unknown
    zero = fails("day-ahead", "buy", "-k", "carol", "--energy-wh", "0", "--price", "1",
                 "--period", str(FIRST), *at, code=2)  # fmt: skip
    assert "refused (energy_out_of_range)" in zero
    sell = fails("day-ahead", "sell", "-k", "carol", "--energy-wh", "10", "--price", "1",
                 "--period", str(FIRST), *at, code=2)  # fmt: skip
    assert "refused (not_authorised)" in sell


def test_a_community_without_the_auction_says_so(served: Served) -> None:
    directory, url, _, _ = served
    at = ("--dir", str(directory), "--url", url)
    refused = fails("day-ahead", "buy", "-k", "carol", "--energy-wh", "100", "--price", "1",
                    "--period", str(FIRST), *at, code=2)  # fmt: skip
    assert "refused (day_ahead_not_offered)" in refused
    assert "runs no day-ahead auction" in ok("day-ahead", "show", str(DAY), "-k", "carol", *at)


@pytest.fixture
def sealed(tmp_path: Path) -> Iterator[Served]:
    directory = tmp_path / "community"
    directory.mkdir()
    market = {
        "mechanism": "continuous",
        "day_ahead_gate_seconds": 43_200,
        "sealed_reveal_window_seconds": 600,
        "sealed_non_reveal_fee_micro": 1_000,
    }
    genesis = make_genesis(parameters={"market": market})
    (directory / "genesis.json").write_bytes(dump_genesis(genesis) + b"\n")
    for name in [*FOUNDERS, "alice-meter-1"]:
        write_key(directory / "keys", name, key(name))
    clock = Clock(GENESIS_TIME_MS + 1_000)
    node = Node.create(
        SQLiteStorage(directory / "chain.sqlite"),
        genesis,
        cutter=CutterConfig(timeout_ms=5),
        clock_ms=clock,
    )
    server = BackgroundServer(node)
    url = server.start()
    try:
        yield directory, url, clock, server
    finally:
        server.stop()
        node.close()


def test_sealed_orders_hide_until_revealed_then_clear(sealed: Served) -> None:
    directory, url, clock, _ = sealed
    at = ("--dir", str(directory), "--url", url)
    clock.at(GATE - 600)
    sold = ok("day-ahead", "sell", "-k", "alice", "--energy-wh", "1000", "--price", "780000",
              "--period", str(FIRST), "--sealed", "--max-energy-wh", "2000", *at)  # fmt: skip
    assert f"sealed day-ahead order da{DAY}-0" in sold and "escrowed 1,000 µ" in sold
    openings = directory / "keys" / "alice.openings.json"
    assert oct(openings.stat().st_mode & 0o777) == "0o600"
    assert f"da{DAY}-0" in json.loads(openings.read_text())
    ok("day-ahead", "buy", "-k", "carol", "--energy-wh", "600", "--price", "820000",
       "--period", str(FIRST), *at)  # fmt: skip
    # before the gate: a commitment, no price, the stated maximum only
    shown = ok_json("day-ahead", "show", str(DAY), "-k", "regulator", *at)
    first = shown["orders"][0]
    assert (first["status"], first["price_micro_per_kwh"]) == ("sealed", 0)
    assert len(first["sealed"]["price_commitment"]) == 66 and not first["sealed"]["revealed"]
    assert "sealed" in ok("day-ahead", "show", str(DAY), "-k", "regulator", *at)
    early = fails("day-ahead", "reveal", f"da{DAY}-0", "-k", "alice", *at, code=2)
    assert "refused (reveal_before_gate)" in early
    missing = fails("day-ahead", "buy", "-k", "carol", "--energy-wh", "6", "--price", "820000",
                    "--period", str(FIRST), "--sealed", *at)  # fmt: skip
    assert "--max-energy-wh" in missing
    clock.at(GATE + 10)
    waiting = fails("day-ahead", "clear", str(DAY), "-k", "operator", *at, code=2)
    assert "refused (reveal_window_open)" in waiting
    assert "no opening of order" in fails("day-ahead", "reveal", "da1-1", "-k", "alice", *at)
    assert f"revealed da{DAY}-0" in ok("day-ahead", "reveal", "-k", "alice", *at)
    assert json.loads(openings.read_text()) == {}
    clock.at(GATE + 600)
    cleared = ok("day-ahead", "clear", str(DAY), "-k", "operator", *at)
    assert f"period {FIRST}: 800,000 µ/kWh, 600 Wh" in cleared


def test_an_openings_file_others_can_read_is_refused(sealed: Served) -> None:
    directory, url, clock, _ = sealed
    at = ("--dir", str(directory), "--url", url)
    openings = directory / "keys" / "alice.openings.json"
    openings.write_text("{}")
    openings.chmod(0o644)
    clock.at(GATE + 10)
    refused = fails("day-ahead", "reveal", "-k", "alice", *at)
    assert "chmod 600" in refused
    openings.chmod(0o600)
    openings.write_text('{"da1-0": {"price_micro_per_kwh": "x"}}')
    assert "malformed" in fails("day-ahead", "reveal", "-k", "alice", *at) or "integers" in fails(
        "day-ahead", "reveal", "-k", "alice", *at
    )
