"""The runner on a real embedded node: every step on chain, results read back, reproducible."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.client import EmbeddedClient
from gridledger.client.market_replies import OrderReply, StatementReply, TradeReply
from gridledger.crypto import KeyPair
from gridledger.ledger import load_genesis
from gridledger.node import SQLiteStorage
from gridledger.node.verify import verify_storage
from gridledger.simulation.community import member_keys
from gridledger.simulation.device_rows import (
    DEVICE_DATA_FIELDS,
    device_batch_digest,
    device_rows_csv,
)
from gridledger.simulation.period_outcomes import outcomes_of
from gridledger.simulation.records import DeviceDataMismatch, check_device_data, read_chain
from gridledger.simulation.scenario import ScenarioError
from gridledger.simulation.scenario_files import decode_scenario
from gridledger.simulation.simulate import simulate
from gridledger.simulation.steps import CLEAR, ORDERS, READINGS, SETTLE, schedule
from tests.simulation.small import small_data, small_scenario


def rows(path: Path) -> list[dict[str, str]]:
    with path.open() as file:
        return list(csv.DictReader(file))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("run") / "out"
    return out, simulate(small_scenario(), out)


def test_each_period_orders_before_gate_closure_then_clears_reads_and_settles() -> None:
    steps = schedule(small_scenario(periods=2))
    first = steps[0].period
    kinds = [(s.kind, s.period - first) for s in steps]
    assert kinds.index((ORDERS, 0)) < kinds.index((CLEAR, 0)) < kinds.index((READINGS, 0))
    assert kinds.index((READINGS, 0)) < kinds.index((SETTLE, 0))
    times = {(s.kind, s.period - first): s.time_s for s in steps}
    start = first * 3600
    assert times[(ORDERS, 0)] < start - 300 == times[(CLEAR, 0)]
    assert start + 3600 <= times[(READINGS, 0)] < start + 3600 + 900 == times[(SETTLE, 0)]


def test_every_transaction_is_accepted_and_counted_by_method(
    run: tuple[Path, dict[str, Any]],
) -> None:
    _, kpis = run
    transactions = kpis["chain"]["transactions"]
    assert transactions["refused"] == 0
    by_method = transactions["by_method"]
    assert by_method["metering.record_reading"] == {"ok": 3 * 4}
    assert by_method["settlement.settle"] == {"ok": 4}
    assert by_method["market.clear"] == {"ok": 4}
    assert by_method["metering.anchor_batch"] == {"ok": 4}
    assert by_method["market.place_order"]["ok"] >= 4


def test_results_agree_with_an_independent_read_of_the_chain(
    run: tuple[Path, dict[str, Any]],
) -> None:
    out, kpis = run
    community = out / "community"
    genesis = load_genesis((community / "genesis.json").read_bytes())
    client = EmbeddedClient.open(community / "chain.sqlite", genesis)
    try:
        periods = [int(r["period"]) for r in rows(out / "periods.csv")]
        trades = [t for p in periods for t in client.market_trades(p).trades]
        assert [r["trade_id"] for r in rows(out / "trades.csv")] == [t.trade_id for t in trades]
        assert kpis["energy"]["traded_wh"] == sum(t.energy_wh for t in trades) > 0
        statements = [s for p in periods for s in client.statements(p).statements]
        assert len(rows(out / "settlements.csv")) == len(statements) == 3 * 4
        assert client.head().hash == kpis["chain"]["head_hash"]
        balances = {r["address"]: int(r["final_micro"]) for r in rows(out / "balances.csv")}
        for address, balance in balances.items():
            assert client.account(address).balance_micro == balance
    finally:
        client.close()
    report = verify_storage(SQLiteStorage(community / "chain.sqlite"))
    assert report.head_hash.hex() == kpis["chain"]["head_hash"]


def json_view_records(client: EmbeddedClient, height: int) -> dict[str, Any]:
    """Transaction counts, bytes and anchors by walking the JSON block view of every block."""
    counts: Counter[tuple[str, str, str]] = Counter()
    size = 0
    anchors: dict[int, str] = {}
    for h in range(1, height + 1):
        for entry in client.block(h, transactions=True).transactions or []:
            body = entry.transaction
            size += body["size_bytes"]
            counts[(body["contract"], body["method"], entry.result)] += 1
            if body["method"] == "anchor_batch" and entry.code == 0:
                anchors[int(body["args"]["label"].rsplit(" ", 1)[1])] = body["args"]["sha256"]
    return {"counts": counts, "bytes": size, "anchors": anchors}


def test_reading_stored_blocks_agrees_with_the_json_block_view(
    run: tuple[Path, dict[str, Any]],
) -> None:
    out, kpis = run
    community = out / "community"
    client = EmbeddedClient.open(
        community / "chain.sqlite", load_genesis((community / "genesis.json").read_bytes())
    )
    try:
        periods = [int(r["period"]) for r in rows(out / "periods.csv")]
        records = read_chain(client, periods)
        viewed = json_view_records(client, records.height)
    finally:
        client.close()
    assert records.transaction_counts == viewed["counts"]
    assert records.transaction_bytes == viewed["bytes"] > 0
    assert records.anchors == viewed["anchors"] and len(records.anchors) == 4
    assert kpis["chain"]["transactions"]["total"] == sum(viewed["counts"].values())


def test_device_data_csv_is_what_a_dict_writer_writes() -> None:
    row = {f: index for index, f in enumerate(DEVICE_DATA_FIELDS)} | {"name": 'a "b", c'}
    rows: list[dict[str, int | str]] = [row, {**row, "period": 8}]
    expected = io.StringIO()
    writer = csv.DictWriter(expected, DEVICE_DATA_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    assert device_rows_csv(rows) == expected.getvalue()
    assert device_rows_csv(rows, header=False) == expected.getvalue().split("\n", 1)[1]
    short: list[dict[str, int | str]] = [{"period": 7, "member": "gl0"}]
    assert device_rows_csv(short, header=False) == "7,gl0,,,,,,,,\n"


def test_metered_energy_matches_the_device_data_anchored_on_chain(
    run: tuple[Path, dict[str, Any]],
) -> None:
    out, kpis = run
    devices = rows(out / "device_data.csv")
    assert kpis["energy"]["exported_wh"] == sum(int(r["exported_wh"]) for r in devices)
    assert kpis["energy"]["imported_wh"] == sum(int(r["imported_wh"]) for r in devices)
    assert kpis["energy"]["generation_wh"] == sum(int(r["generation_wh"]) for r in devices)
    assert kpis["chain"]["device_data_anchors"] == 4


def test_tampered_device_data_does_not_match_its_anchor() -> None:
    batch: list[dict[str, int | str]] = [
        {"period": 7, "member": "gl0", "name": "a", "generation_wh": 5, "consumption_wh": 1}
    ]
    anchors = {7: device_batch_digest(batch)}
    check_device_data(batch, anchors, device_batch_digest)
    batch[0]["generation_wh"] = 6
    with pytest.raises(DeviceDataMismatch, match="period 7"):
        check_device_data(batch, anchors, device_batch_digest)


def test_the_results_folder_has_every_file(run: tuple[Path, dict[str, Any]]) -> None:
    out, kpis = run
    for name in (
        "orders.csv",
        "trades.csv",
        "periods.csv",
        "settlements.csv",
        "balances.csv",
        "kpis.json",
        "report.html",
        "plots/traded_energy.png",
        "plots/mean_price.png",
        "plots/energy_flows.png",
        "community/genesis.json",
        "community/keys/operator.key",
        "community/keys/sunny-001-meter.key",
    ):
        assert (out / name).exists(), name
    assert json.loads((out / "kpis.json").read_text()) == kpis
    report = (out / "report.html").read_text()
    assert kpis["chain"]["head_hash"] in report and 'src="plots/mean_price.png"' in report


def test_same_scenario_and_seed_give_the_same_chain(
    run: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    out, kpis = run
    again = simulate(small_scenario(), tmp_path / "again")
    assert again == kpis
    assert (tmp_path / "again" / "trades.csv").read_text() == (out / "trades.csv").read_text()
    other = simulate(small_scenario(seed=2), tmp_path / "other")
    assert other["chain"]["head_hash"] != kpis["chain"]["head_hash"]


def test_an_output_folder_in_use_is_refused(run: tuple[Path, dict[str, Any]]) -> None:
    out, _ = run
    with pytest.raises(ScenarioError, match="not empty"):
        simulate(small_scenario(), out)


def test_simulation_keys_sign_exactly_as_key_pairs_do() -> None:
    scenario = small_scenario()
    keys = member_keys(scenario, "sunny-001")
    plain = KeyPair(keys.seed, keys.public_key)
    for message in (b"", b"reading", bytes(range(256)) * 5):
        assert keys.sign(message) == plain.sign(message)


R = TypeVar("R", bound=msgspec.Struct)


def reply(reply_type: type[R], **fields: Any) -> R:
    """A reply with the given fields, every other field zero, empty or None."""
    empty: dict[Any, Any] = {str: "", int: 0, bool: False}
    zero = {info.name: empty.get(info.type) for info in msgspec.structs.fields(reply_type)}
    return reply_type(**{**zero, **fields})


def test_outcomes_sum_each_members_orders_trades_and_charges() -> None:
    orders = [
        reply(OrderReply, owner="s", side="sell", energy_wh=3000),
        reply(OrderReply, owner="b", side="buy", energy_wh=2500),
        reply(OrderReply, owner="b", side="buy", energy_wh=500),
    ]
    trades = [
        reply(
            TradeReply,
            seller="s",
            buyer="b",
            energy_wh=2000,
            value_micro=1_600_000,
            price_micro_per_kwh=800_000,
        ),
        reply(
            TradeReply,
            seller="s",
            buyer="b",
            energy_wh=1000,
            value_micro=900_000,
            price_micro_per_kwh=900_000,
        ),
    ]
    statements = [reply(StatementReply, member="s", shortfall_wh=1000, penalised_micro=50_000)]
    outcomes = outcomes_of(9, orders, trades, statements, 1_000_000)
    seller, buyer = outcomes["s"], outcomes["b"]
    assert (seller.offered_wh, seller.sold_wh, seller.sold_value_micro) == (3000, 3000, 2_500_000)
    assert seller.penalty_micro == 1_000_000 + 50_000
    assert (buyer.wanted_wh, buyer.bought_wh, buyer.bought_value_micro) == (3000, 3000, 2_500_000)
    assert buyer.mean_price_micro_per_kwh == seller.mean_price_micro_per_kwh == 833_333


@settings(deadline=None)
@given(
    length=st.sampled_from([60, 300, 900, 1800, 3600, 7200]),
    gate_share=st.floats(0, 0.99),
    window=st.integers(1, 7200),
    periods=st.integers(1, 6),
)
def test_every_step_falls_in_its_window_for_any_timing(
    length: int, gate_share: float, window: int, periods: int
) -> None:
    gate = int(length * gate_share)
    data = small_data(periods=periods)
    data["horizon"]["start"] = "2024-06-03T00:00:00Z"
    data["market"].update(
        period_seconds=length, gate_closure_seconds=gate, meter_window_seconds=window
    )
    steps = schedule(decode_scenario(data))
    assert steps == sorted(steps) and len(steps) == 4 * periods
    for step in steps:
        start, end = step.period * length, (step.period + 1) * length
        if step.kind == ORDERS:
            assert step.time_s < start - gate
        elif step.kind == CLEAR:
            assert step.time_s == start - gate
        elif step.kind == READINGS:
            assert end <= step.time_s < end + window
        else:
            assert step.time_s == end + window
