"""`gridledger market ...`: orders, books, trades, meter readings, clearing, settlement and
statements, as tables and as JSON, against a running node (--url) and offline (--dir).

The served node is an in-process `Node` on a clock the test moves (block time is what the
contracts see), over the SQLite chain of a community directory whose key files are the
reproducible test keys; commands run in process with typer's CliRunner.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from gridledger.api.server import BackgroundServer
from gridledger.cli import app
from gridledger.ledger import dump_genesis
from gridledger.node import CutterConfig, Node, SQLiteStorage
from gridledger.node.keystore import read_key, write_key
from tests.api.test_market_api import Clock
from tests.community import (
    FOUNDERS,
    GENESIS_TIME_MS,
    NEXT_PERIOD,
    address,
    gate_closure_s,
    key,
    make_genesis,
    meter_window_close_s,
    period_start_s,
)
from tests.node.harness import free_port, one_line

P = NEXT_PERIOD
runner = CliRunner()


def cli(*args: str) -> Result:
    result = runner.invoke(app, ["market", *args], env={"COLUMNS": "220", "NO_COLOR": "1"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"gridledger market {' '.join(args)} raised {result.exception!r}")
    return result


def ok(*args: str) -> str:
    result = cli(*args)
    assert result.exit_code == 0, (args, result.output)
    return one_line(result.stdout)


def ok_json(*args: str) -> Any:
    result = cli(*args, "--json")
    assert result.exit_code == 0, (args, result.output)
    return json.loads(result.stdout)


def fails(*args: str, code: int = 1) -> str:
    result = cli(*args)
    assert result.exit_code == code, (args, result.exit_code, result.output)
    assert "Traceback" not in result.output
    return one_line(result.stderr)


def write_test_community(directory: Path) -> None:
    """genesis.json and key files of `tests.community` (founders and alice's meter)."""
    directory.mkdir(parents=True)
    (directory / "genesis.json").write_bytes(dump_genesis(make_genesis()) + b"\n")
    for name in [*FOUNDERS, "alice-meter-1"]:
        write_key(directory / "keys", name, key(name))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str, Clock, BackgroundServer]]:
    directory = tmp_path / "community"
    write_test_community(directory)
    clock = Clock(GENESIS_TIME_MS + 1_000)
    node = Node.create(
        SQLiteStorage(directory / "chain.sqlite"),
        make_genesis(),
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


def test_a_period_from_orders_to_statements(
    served: tuple[Path, str, Clock, BackgroundServer],
) -> None:
    directory, url, clock, server = served
    at = ("--dir", str(directory), "--url", url)
    ro = (*at, "-k", "regulator")  # reads are signed; writes sign with their -k

    current = ok_json("current", *ro)
    assert (current["period"], current["open_period"]) == (P - 1, P)
    assert f"next period open for orders: {P}" in ok("current", *ro)
    nothing = ok_json("trades", *ro)  # no trades anywhere yet: the period open for orders
    assert (nothing["period"], nothing["trades"]) == (P, [])

    # orders: the period defaults to the next one open
    sold = ok("sell", "-k", "alice", "--energy-wh", "1000", "--price", "780000", *at)
    assert f"{P}-0" in sold and "sell" in sold and "open" in sold and "780,000" in sold
    bought = ok_json("buy", "-k", "carol", "--energy-wh", "600", "--price", "820000", *at)
    assert bought["code"] == 0 and bought["order"]["order_id"] == f"{P}-1"
    assert bought["order"]["escrow_micro"] == 492_000
    ok("buy", "-k", "dave", "--energy-wh", "100", "--price", "790000", "--period", str(P), *at)

    book = ok("book", *ro)
    assert f"period {P} book (high_low)" in book and "phase open" in book
    assert "820,000" in book and "790,000" in book and "780,000" in book
    assert "3 open of 3 order(s)" in book
    as_json = ok_json("book", str(P), *ro)
    assert [b["price_micro_per_kwh"] for b in as_json["bids"]] == [820_000, 790_000]
    assert as_json["asks"] == [{"price_micro_per_kwh": 780_000, "residual_wh": 1000, "orders": 1}]

    # another member's order: dave may not even read it (the contract would refuse too)
    assert "forbidden" in fails("cancel", f"{P}-0", "-k", "dave", *at)
    assert "no order '999-0'" in fails("cancel", "999-0", "-k", "dave", *at)
    cancelled = ok_json("cancel", f"{P}-2", "-k", "dave", *at)
    assert cancelled["code"] == 0 and cancelled["order"]["status"] == "cancelled"

    mine = ok_json("orders", str(P), "--owner", "carol", *ro)
    assert [o["order_id"] for o in mine["orders"]] == [f"{P}-1"]
    by_address = ok_json("orders", str(P), "--owner", address("dave"), *ro)
    assert [o["status"] for o in by_address["orders"]] == ["cancelled"]
    table = ok("orders", str(P), *ro)
    assert "alice" in table and "carol" in table and "cancelled" in table and "492,000" in table

    # gate closure: orders are refused, the book is cleared
    clock.at(gate_closure_s(P))
    late = fails(
        "buy", "-k", "carol", "--energy-wh", "5", "--price", "800000", "--period", str(P),
        *at, code=2,
    )  # fmt: skip
    assert "refused (period_closed)" in late and "gate closure" in late
    assert f"period {P} cleared: 1 trade(s), 600 Wh" in ok("clear", str(P), "-k", "bob", *at)
    assert "already cleared" in fails("clear", str(P), "-k", "bob", *at, code=2)
    trades = ok("trades", str(P), *ro)
    assert "carol" in trades and "alice" in trades and "800,000" in trades
    assert "1 trade(s), 600 Wh, 480,000 µ" in trades
    [trade] = ok_json("trades", str(P), *ro)["trades"]
    assert (trade["buyer"], trade["seller"], trade["energy_wh"]) == (
        address("carol"),
        address("alice"),
        600,
    )
    assert "cleared" in ok("book", str(P), *ro)
    newest = ok_json("trades", *ro)  # P's gate has closed: the newest period with trades
    assert (newest["period"], newest["trades"]) == (P, [trade])

    # the meter window: alice's meter reports (the period defaults to the one that ended)
    clock.at(period_start_s(P + 1) + 60)
    reading = ok_json(
        "reading", "--meter-key", "alice-meter-1", "--member", "alice",
        "--exported-wh", "550", "--imported-wh", "0", *at,
    )  # fmt: skip
    assert reading["code"] == 0 and reading["transaction"]["args"]["period"] == P
    assert "cannot be replaced" in fails(
        "reading", "--meter-key", "alice-meter-1", "--member", "alice", "--period", str(P),
        "--exported-wh", "600", "--imported-wh", "0", *at, code=2,
    )  # fmt: skip
    assert "meter window" in fails("settle", str(P), "-k", "carol", *at, code=2)
    assert "is not settled" in fails("statement", str(P), *ro)

    # settlement after the meter window
    runner.invoke(
        app,
        ["submit", "settlement", "fund_grid", "-k", "operator", *at, "--arg", "amount_micro=10"],
    )
    clock.at(meter_window_close_s(P))
    settled = ok("settle", str(P), "-k", "carol", *at)
    assert f"period {P} settled in block" in settled and "600 Wh traded" in settled

    table = ok("statement", str(P), *ro)
    for text in ("alice", "carol", "metered", "missing", "bought Wh", "penalised µ", "480,000"):
        assert text in table, text
    statements = ok_json("statement", str(P), *ro)
    assert statements["settled"] and len(statements["statements"]) == 2
    alice = ok_json("statement", str(P), "alice", *ro)
    assert (alice["sold_wh"], alice["delivered_wh"], alice["shortfall_wh"]) == (600, 550, 50)
    assert alice["received_trades_micro"] == 480_000 and alice["penalised_micro"] == 0
    assert alice["grid_charge_micro"] == 42_500  # 50 Wh short at the grid price
    one = ok("statement", str(P), "alice", *ro)
    assert f"period {P}: alice" in one and "shortfall_wh" in one and "42,500" in one
    assert "has no statement" in fails("statement", str(P), "dave", *ro)
    assert "neither an address nor a key name" in fails("statement", str(P), "zed", *ro)
    assert "does not fit in 64 bits" in fails("book", str(2**64), *ro)
    assert "period -5 is negative" in fails("book", *ro, "--", "-5")
    assert "period -5 is negative" in fails("statement", *ro, "--", "-5")

    # offline: the same answers straight from the chain file
    server.stop()
    offline = ("--dir", str(directory))
    assert ok_json("statement", str(P), *offline) == statements
    assert ok_json("statement", str(P), "alice", *offline) == alice
    assert ok_json("trades", str(P), *offline)["trades"] == [trade]
    assert ok_json("trades", *offline)["trades"] == [trade]  # the chain's time, not the clock's


def test_offline_orders_on_a_new_community(tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    assert runner.invoke(app, ["init", "--dir", str(directory)]).exit_code == 0
    where = ("--dir", str(directory))
    period = ok_json("current", *where)["open_period"]
    placed = ok_json("sell", "-k", "alice", "--energy-wh", "2000", "--price", "790000", *where)
    assert placed["order"]["order_id"] == f"{period}-0"
    ok("buy", "-k", "bob", "--energy-wh", "500", "--price", "800000", *where)
    book = ok_json("book", *where)
    assert book["period"] == period and len(book["bids"]) == len(book["asks"]) == 1
    assert "cancelled" in one_line(
        json.dumps(ok_json("cancel", f"{period}-0", "-k", "alice", *where)["order"])
    )
    assert ok_json("book", *where)["asks"] == []
    bob = read_key(directory / "keys" / "bob.key").address
    assert [o["owner"] for o in ok_json("orders", "--owner", "bob", *where)["orders"]] == [bob]
    # a consumer cannot sell: committed, refused by the contract, exit 2 with the reason
    assert "refused (not_authorised)" in fails(
        "sell", "-k", "bob", "--energy-wh", "1", "--price", "800000", *where, code=2
    )
    nobody = ("buy", "-k", "nobody", "--energy-wh", "1", "--price", "1")
    assert "no such key file" in fails(*nobody, *where)
    assert "gridledger init" in fails("book", "--dir", str(tmp_path / "nowhere"))


def test_unreachable_node_is_a_clear_error() -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    assert "no node answered" in fails("book", "5", "--url", dead)
    assert "no node answered" in fails("statement", "5", "--url", dead)
