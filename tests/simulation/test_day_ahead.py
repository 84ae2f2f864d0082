"""The day-ahead stage in a simulation: its steps, the intraday remainder, and a run with the
day-ahead auction alone."""

from __future__ import annotations

from pathlib import Path

from gridledger.agents.household import Position
from gridledger.simulation.day_ahead import day_ahead_steps, intraday_position, products_of_day
from gridledger.simulation.simulate import simulate
from gridledger.simulation.steps import DAY_AHEAD_CLEAR, DAY_AHEAD_ORDERS, ORDERS, schedule
from tests.simulation.small import small_scenario

DAY = 19_877  # 2024-06-03
FIRST = DAY * 24


def test_one_gate_per_delivery_day_the_day_before() -> None:
    scenario = small_scenario(
        periods=20, market={"mechanism": "continuous", "stages": ["day_ahead", "intraday"]}
    )
    periods = range(FIRST + 8, FIRST + 28)  # 08:00 on day 1 to 03:00 on day 2
    gate = DAY * 86_400 - 43_200
    assert day_ahead_steps(scenario, periods) == [
        (gate - 60, "day_ahead_orders", DAY),
        (gate, "day_ahead_clear", DAY),
        (gate + 86_400 - 60, "day_ahead_orders", DAY + 1),
        (gate + 86_400, "day_ahead_clear", DAY + 1),
    ]
    assert products_of_day(DAY + 1, periods, 3600) == [
        FIRST + 24,
        FIRST + 25,
        FIRST + 26,
        FIRST + 27,
    ]
    kinds = {step.kind for step in schedule(scenario)}
    assert {DAY_AHEAD_ORDERS, DAY_AHEAD_CLEAR, ORDERS} <= kinds
    assert not {DAY_AHEAD_ORDERS, DAY_AHEAD_CLEAR} & {s.kind for s in schedule(small_scenario())}


def test_intraday_trades_what_the_day_ahead_left_open() -> None:
    assert intraday_position(Position(3_000, 0), 2_000) == Position(1_000, 0)
    assert intraday_position(Position(3_000, 0), 4_000) == Position(0, 1_000)  # buy back
    assert intraday_position(Position(0, 2_000), -500) == Position(0, 1_500)  # bought 500
    assert intraday_position(Position(0, 0), 0) == Position(0, 0)


def test_the_day_ahead_stage_alone_places_no_intraday_orders(tmp_path: Path) -> None:
    scenario = small_scenario(
        periods=4, market={"mechanism": "continuous", "stages": ["day_ahead"]}
    )
    kpis = simulate(scenario, tmp_path / "out")
    methods = kpis["chain"]["transactions"]["by_method"]
    assert "market.place_order" not in methods
    assert methods["market.place_day_ahead_order"]["ok"] > 0
    assert methods["market.clear_day_ahead"] == {"ok": 1}
    assert kpis["chain"]["transactions"]["refused"] == 0
    assert set(kpis["prices"]["by_mechanism"]) == {"day_ahead"}
