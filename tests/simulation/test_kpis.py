"""KPIs from chain records: energy shares, money against the grid, prices, transactions."""

from __future__ import annotations

from collections import Counter
from typing import Any

from gridledger.simulation.kpis import compute_kpis, money_kpis, price_statistics
from gridledger.simulation.records import ChainRecords

PARAMETERS = {
    "period_seconds": 3600,
    "feed_in_price_micro_per_kwh": 500_000,
    "grid_price_micro_per_kwh": 1_000_000,
    "cap_price_micro_per_kwh": 1_000_000,
}


def statement(member: str, **values: int) -> dict[str, Any]:
    base = {
        "member": member,
        "period": 1,
        "sold_wh": 0,
        "bought_wh": 0,
        "delivered_wh": 0,
        "consumed_wh": 0,
        "shortfall_wh": 0,
        "surplus_wh": 0,
        "unmet_wh": 0,
        "excess_wh": 0,
        "paid_micro": 0,
        "received_micro": 0,
        "penalised_micro": 0,
    }
    return {**base, **values}


def records() -> ChainRecords:
    """Seller exports 3 kWh and sells 2 kWh at 0.8; buyer imports 4 kWh (2 traded, 2 grid)."""
    return ChainRecords(
        chain_id="c",
        height=9,
        head_hash="ab",
        periods=[1],
        parameters={1: PARAMETERS},
        orders=[
            {"period": 1, "side": "sell", "energy_wh": 3000},
            {"period": 1, "side": "buy", "energy_wh": 4000},
        ],
        trades=[
            {
                "period": 1,
                "kind": "order",
                "mechanism": "continuous",
                "energy_wh": 2000,
                "price_micro_per_kwh": 800_000,
            }
        ],
        settlements=[{"period": 1, "exported_wh": 3000, "imported_wh": 4000}],
        statements=[
            statement(
                "s", sold_wh=2000, delivered_wh=3000, surplus_wh=1000, received_micro=2_100_000
            ),
            statement("b", bought_wh=2000, consumed_wh=4000, unmet_wh=2000, paid_micro=3_600_000),
        ],
        transaction_counts=Counter({("market", "place_order", "ok"): 2}),
    )


def test_money_against_grid_only_and_feed_in_only() -> None:
    money = money_kpis(records())
    # grid only: the buyer pays 4.0, the seller gets 1.5 -> 2.5; community: 3.6 - 2.1 = 1.5
    assert money["grid_only_cost_micro"] == 2_500_000
    assert money["community_cost_micro"] == 1_500_000
    assert money["community_savings_micro"] == 1_000_000
    assert money["community_savings_ratio"] == 0.4
    assert money["sellers"] == 1
    assert money["sellers_revenue_micro"] == 2_100_000
    assert money["sellers_feed_in_only_micro"] == 1_500_000


def test_energy_shares_use_the_physical_grid_exchange() -> None:
    device_rows = [
        {"period": 1, "member": "s", "generation_wh": 3500, "consumption_wh": 500},
        {"period": 1, "member": "b", "generation_wh": 0, "consumption_wh": 4000},
    ]
    kpis = compute_kpis(records(), device_rows, "t", 5, 1234)
    energy = kpis["energy"]
    assert energy["grid_import_wh"] == 1000 and energy["grid_export_wh"] == 0
    assert energy["self_sufficiency"] == 1 - 1000 / 4500
    assert energy["self_consumption"] == 1.0
    assert energy["imbalance_wh"] == 3000  # the seller's unsold 1 kWh, the buyer's unmet 2 kWh
    assert energy["peak_grid_import_wh"] == 1000
    prices = kpis["prices"]
    assert prices["by_mechanism"]["continuous"]["mean_micro_per_kwh"] == 800_000
    assert prices["period_means_std_micro_per_kwh"] == 0  # one period: no movement
    assert kpis["chain"]["transactions"] == {
        "total": 2,
        "ok": 2,
        "refused": 0,
        "by_method": {"market.place_order": {"ok": 2}},
    }
    assert (kpis["scenario"], kpis["seed"], kpis["households"]) == ("t", 5, 2)


def test_price_statistics_are_volume_weighted() -> None:
    stats = price_statistics(
        [
            {"energy_wh": 3000, "price_micro_per_kwh": 100},
            {"energy_wh": 1000, "price_micro_per_kwh": 500},
        ]
    )
    assert stats["mean_micro_per_kwh"] == 200
    assert (stats["min_micro_per_kwh"], stats["max_micro_per_kwh"]) == (100, 500)
    assert stats["std_micro_per_kwh"] == round((0.75 * 100**2 + 0.25 * 300**2) ** 0.5)
    assert price_statistics([]) == {"trades": 0, "traded_wh": 0}
