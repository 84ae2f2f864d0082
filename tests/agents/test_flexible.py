"""Delayable loads: the plan is cheapest-first and within limits, every window's need is met by
its deadline whatever the prices, and the uncontrolled baseline draws at once."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.agents.flexible import (
    DelayableLoad,
    FlexibleDemand,
    plan_consumption,
    window_of,
)

DAY = 19_877 * 86_400
"""2024-06-03 00:00 UTC."""
HOUR = 3_600


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 30_000),
    st.lists(st.tuples(st.integers(0, 8_000), st.integers(0, 400)), min_size=1, max_size=24),
)
def test_the_plan_is_cheapest_first_and_within_limits(need, slots) -> None:
    limits = [limit for limit, _ in slots]
    prices = [price for _, price in slots]
    plan = plan_consumption(need, limits, prices)
    assert sum(plan) == min(need, sum(limits))
    assert all(0 <= p <= limit for p, limit in zip(plan, limits, strict=True))
    # no energy sits in a slot while a strictly cheaper slot still has room
    for i, used in enumerate(plan):
        if used:
            assert all(prices[j] >= prices[i] or plan[j] == limits[j] for j in range(len(plan)))


def test_equal_prices_spread_the_load() -> None:
    assert plan_consumption(1_200, [1_000, 1_000, 1_000], [5, 5, 5]) == [400, 400, 400]
    assert plan_consumption(1_000, [1_000, 1_000, 1_000], [5, 4, 5]) == [0, 1_000, 0]


def test_windows_may_cross_midnight() -> None:
    ev = DelayableLoad("ev", 10_000, 17, 7, 7_400)
    assert ev.window_hours == 14
    assert window_of(ev, DAY + 18 * HOUR) == (DAY + 17 * HOUR, DAY + 31 * HOUR)
    assert window_of(ev, DAY + 3 * HOUR) == (DAY - 7 * HOUR, DAY + 7 * HOUR)
    assert window_of(ev, DAY + 12 * HOUR) is None
    heat_pump = DelayableLoad("heat_pump", 6_000, 0, 24, 3_000)
    assert window_of(heat_pump, DAY + 23 * HOUR) == (DAY, DAY + 24 * HOUR)


def run_days(demand: FlexibleDemand, prices: list[int], days: int = 2) -> list[int]:
    """Hour by hour from DAY for ``days`` days; the hourly prices repeat every day."""
    drawn = []
    for hour in range(24 * days):
        start = DAY + hour * HOUR
        drawn.append(
            demand.decide_wh(start, HOUR, lambda starts: [prices[(s // HOUR) % 24] for s in starts])
        )
    return drawn


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(0, 500_000), min_size=24, max_size=24),
    st.sampled_from(["smart", "immediate"]),
)
def test_every_whole_window_gets_its_energy_by_the_deadline(prices, control) -> None:
    ev = DelayableLoad("ev", 10_000, 17, 7, 3_700)
    heat_pump = DelayableLoad("heat_pump", 6_000, 0, 24, 3_000)
    demand = FlexibleDemand((ev, heat_pump), control, until_s=DAY + 2 * 24 * HOUR)
    drawn = run_days(demand, prices)
    assert all(0 <= d <= 3_700 + 3_000 for d in drawn)
    # day 1: the heat pump's window [0, 24) and the EV's [17, 31): both whole, both met
    assert demand.drawn_wh[(1, DAY)] == 6_000
    assert demand.drawn_wh[(0, DAY + 17 * HOUR)] == 10_000
    # the EV's window that began before the first hour, or ends after the horizon, is not ours
    assert (0, DAY - 7 * HOUR) not in demand.drawn_wh
    assert (0, DAY + 41 * HOUR) not in demand.drawn_wh
    assert sum(drawn) == 6_000 * 2 + 10_000


def test_smart_moves_to_cheap_hours_and_immediate_draws_at_once() -> None:
    night_cheap = [100] * 7 + [900] * 17  # 00:00-07:00 cheap
    heat_pump = DelayableLoad("heat_pump", 6_000, 0, 24, 3_000)
    smart = run_days(FlexibleDemand((heat_pump,), "smart"), night_cheap, days=1)
    assert sum(smart[:7]) == 6_000  # all of it in the cheap night hours, spread
    assert max(smart) < 3_000
    immediate = run_days(FlexibleDemand((heat_pump,), "immediate"), night_cheap, days=1)
    assert immediate[:2] == [3_000, 3_000] and sum(immediate) == 6_000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("boiler", 1, 0, 1, 1), "kind"),
        (("ev", 0, 0, 1, 1), "energy_wh"),
        (("ev", 1, 24, 1, 1), "ready_hour"),
        (("ev", 1, 0, 25, 1), "deadline_hour"),
        (("ev", 1, 0, 1, 0), "max_power_w"),
        (("ev", 8_000, 17, 18, 7_400), "cannot be drawn"),
    ],
)
def test_bad_loads_are_refused_by_name(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DelayableLoad(*args)
    with pytest.raises(ValueError, match="control"):
        FlexibleDemand((), "sometimes")
