"""A small scenario for the simulation tests: three households, a few hourly periods."""

from __future__ import annotations

from typing import Any

from gridledger.simulation.scenario import Scenario
from gridledger.simulation.scenario_files import decode_scenario


def small_data(periods: int = 4, seed: int = 1, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "small",
        "seed": seed,
        "horizon": {"start": "2024-06-03T08:00:00Z", "periods": periods},
        "market": {"mechanism": "call_auction", "breakdown_penalty_micro": 100_000},
        "members": [
            {
                "name": "sunny",
                "role": "prosumer",
                "count": 2,
                "size_variation": 0.2,
                "pv": {"series": {"energy_wh": [6000, 7000, 6500, 5000]}, "variation": 0.3},
                "load": {"series": {"energy_wh": [800, 900, 700, 1000]}, "variation": 0.2},
                "battery": {"capacity_wh": 4000, "max_charge_w": 1500, "max_discharge_w": 1500},
                "forecast": {"kind": "persistence"},
            },
            {
                "name": "flat",
                "role": "consumer",
                "load": {"series": {"energy_wh": [5000, 6000, 5500, 7000]}, "variation": 0.1},
                "forecast": {"kind": "model"},
            },
        ],
    }
    data.update(changes)
    return data


def small_scenario(periods: int = 4, seed: int = 1, **changes: Any) -> Scenario:
    return decode_scenario(small_data(periods, seed, **changes))
