"""`gridledger market price PERIOD`: the price the operator posted (pricing contract, seed 003),
as a line and as JSON, against a running node (--url) and offline (--dir).

The operator posts with ``gridledger submit pricing post_price``; the node is an in-process
`Node` on the test's clock over the SQLite chain of a community directory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from gridledger.api.server import BackgroundServer
from gridledger.cli import app
from gridledger.node import CutterConfig, Node, SQLiteStorage
from tests.api.test_market_api import Clock
from tests.cli.test_market import fails, ok, ok_json, runner, write_test_community
from tests.community import GENESIS_TIME_MS, NEXT_PERIOD, address, make_genesis

P = NEXT_PERIOD


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str, BackgroundServer]]:
    directory = tmp_path / "community"
    write_test_community(directory)
    node = Node.create(
        SQLiteStorage(directory / "chain.sqlite"),
        make_genesis(),
        cutter=CutterConfig(timeout_ms=5),
        clock_ms=Clock(GENESIS_TIME_MS + 1_000),
    )
    server = BackgroundServer(node)
    url = server.start()
    try:
        yield directory, url, server
    finally:
        server.stop()
        node.close()


def post(at: tuple[str, ...], period: int, price: int) -> None:
    args = {"period": period, "price_micro_per_kwh": price, "supply_wh": 3000, "demand_wh": 4500}
    result = runner.invoke(
        app, ["submit", "pricing", "post_price", "-k", "operator", "--args", json.dumps(args), *at]
    )
    assert result.exit_code == 0, result.output


def test_the_posted_price_online_and_offline(served: tuple[Path, str, BackgroundServer]) -> None:
    directory, url, server = served
    at = ("--dir", str(directory), "--url", url)
    ro = (*at, "-k", "regulator")  # reads are signed; writes sign with their -k
    assert f"no price is posted for period {P}" in fails("price", str(P), *ro)

    post(at, P, 805_000)
    post(at, P, 810_500)
    line = ok("price", str(P), *ro)
    assert f"period {P}: 810,500 µ/kWh posted by operator" in line
    assert "revision 1" in line and "3,000 Wh" in line and "4,500 Wh" in line
    assert "phase open" in line
    view = ok_json("price", str(P), *ro)
    assert (view["period"], view["price_micro_per_kwh"], view["revision"]) == (P, 810_500, 1)
    assert view["operator"] == address("operator")

    server.stop()
    offline = ("--dir", str(directory))
    assert ok_json("price", str(P), *offline) == view
    assert "810,500 µ/kWh" in ok("price", str(P), *offline)
    assert f"no price is posted for period {P + 1}" in fails("price", str(P + 1), *offline)
    assert "period -3 is negative" in fails("price", *offline, "--", "-3")
    assert "does not fit in 64 bits" in fails("price", str(2**64), *offline)
