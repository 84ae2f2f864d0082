"""Forecasters: what a household expects to make and use next period (seed 001 §4.4, DAS).

Seed 001's Data Analytic System gives each agent a forecast of the energy it
will have to sell or need to buy in the next window, from its own past. Two
classic baselines are here, both over a household's own metered history:

- persistence: next period's value is the last period's at the same time of
  day (``season`` periods ago; a day of hourly periods is 24), or simply the
  last one (``season=1``);
- moving average: the mean of the last ``window`` values at the same season
  offset.

Until there is a value ``season`` periods back, each falls back to the given
``default_wh``: the household passes its device model's value (the
clear-sky PV output, the standard load profile), which is also the third
forecaster, ``model``, that never learns. Forecasts are whole watt-hours, never negative.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class Forecaster(Protocol):
    def forecast_wh(self, history_wh: Sequence[int], default_wh: int) -> int:
        """The next value of ``history_wh`` (oldest first), or ``default_wh`` without history."""
        ...


@dataclass(frozen=True)
class Persistence:
    """Next = the value ``season`` periods ago (1: the last period; 24: same hour yesterday)."""

    season: int = 1

    def __post_init__(self) -> None:
        if self.season < 1:
            raise ValueError(f"season must be at least 1, got {self.season}")

    def forecast_wh(self, history_wh: Sequence[int], default_wh: int) -> int:
        if len(history_wh) < self.season:
            return max(0, default_wh)
        return max(0, history_wh[-self.season])


@dataclass(frozen=True)
class MovingAverage:
    """Next = the mean of the last ``window`` values taken every ``season`` periods."""

    window: int = 3
    season: int = 1

    def __post_init__(self) -> None:
        if self.window < 1:
            raise ValueError(f"window must be at least 1, got {self.window}")
        if self.season < 1:
            raise ValueError(f"season must be at least 1, got {self.season}")

    def forecast_wh(self, history_wh: Sequence[int], default_wh: int) -> int:
        samples = list(history_wh[-self.season :: -self.season][: self.window])
        if len(history_wh) < self.season or not samples:
            return max(0, default_wh)
        return max(0, round(sum(samples) / len(samples)))


@dataclass(frozen=True)
class DeviceModel:
    """No learning: the forecast is the device model's value (clear sky, standard load
    profile), which the household passes as ``default_wh``."""

    def forecast_wh(self, history_wh: Sequence[int], default_wh: int) -> int:
        return max(0, default_wh)


FORECASTERS = ("persistence", "moving_average", "model")


def make_forecaster(kind: str, window: int = 3, season: int = 1) -> Forecaster:
    """A forecaster by name: ``persistence``, ``moving_average`` or ``model``."""
    if kind == "persistence":
        return Persistence(season)
    if kind == "moving_average":
        return MovingAverage(window, season)
    if kind == "model":
        return DeviceModel()
    raise ValueError(f"forecaster {kind!r} is not one of {', '.join(FORECASTERS)}")
