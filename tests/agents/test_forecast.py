"""Forecasters: persistence, moving average and the device model, with their fallbacks."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.agents.forecast import DeviceModel, MovingAverage, Persistence, make_forecaster


def test_persistence_repeats_the_value_one_season_back() -> None:
    history = [10, 20, 30, 40]
    assert Persistence().forecast_wh(history, 0) == 40
    assert Persistence(season=3).forecast_wh(history, 0) == 20


def test_moving_average_averages_the_same_season_offsets() -> None:
    history = [10, 20, 30, 40, 50, 60]
    assert MovingAverage(window=3).forecast_wh(history, 0) == 50
    assert MovingAverage(window=2, season=2).forecast_wh(history, 0) == 40  # (50 + 30) / 2


def test_too_little_history_falls_back_to_the_device_model() -> None:
    assert Persistence(season=24).forecast_wh([5] * 23, 700) == 700
    assert MovingAverage(window=3, season=24).forecast_wh([], 800) == 800
    assert DeviceModel().forecast_wh([1, 2, 3], 900) == 900


def test_make_forecaster_refuses_unknown_kinds_and_bad_windows() -> None:
    assert make_forecaster("moving_average", 4, 24) == MovingAverage(4, 24)
    with pytest.raises(ValueError, match="not one of"):
        make_forecaster("oracle")
    with pytest.raises(ValueError, match="window"):
        MovingAverage(window=0)


@settings(deadline=None)
@given(
    history=st.lists(st.integers(0, 100_000), max_size=60),
    window=st.integers(1, 10),
    season=st.integers(1, 30),
    default=st.integers(0, 100_000),
)
def test_forecasts_stay_within_what_they_were_given(
    history: list[int], window: int, season: int, default: int
) -> None:
    known = [*history, default]
    for forecaster in (Persistence(season), MovingAverage(window, season)):
        value = forecaster.forecast_wh(history, default)
        assert min(known) <= value <= max(known)
