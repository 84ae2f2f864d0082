"""Delayable demand (seed 000 §2.2 (2): "consumption can have a certain degree of delay, but
the overall energy must be satisfied"): EV charging and a heat pump that move to cheap hours.

A `DelayableLoad` needs ``energy_wh`` in every window from ``ready_hour`` to
``deadline_hour`` (UTC hours; a deadline at or before the ready hour is the next
day: an EV plugged in at 17:00 and needed at 07:00), drawing at most
``max_power_w``. `FlexibleDemand` decides, a period at a time, how much each load
draws in the coming period:

- ``immediate`` (the uncontrolled baseline): full power from the moment it is
  ready until the need is met, as a car charges when plugged in;
- ``smart`` (demand response): it plans the rest of the window on the prices it
  expects (`plan_consumption`) and draws this period what the plan gives it. The
  plan is made again every period with what is left, and every plan fits the
  window, so the need is always met by the deadline.

Everything is integer Wh; the plan is a pure function (hypothesis-tested).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "CONTROLS",
    "LOAD_KINDS",
    "DelayableLoad",
    "FlexibleDemand",
    "plan_consumption",
    "window_of",
]

LOAD_KINDS = ("ev", "heat_pump")
CONTROLS = ("smart", "immediate")
DAY_SECONDS = 86_400
HOUR_SECONDS = 3_600
PLAN_CHUNK_WH = 100
"""The plan hands out energy in pieces of this size (the last piece of a slot may be less)."""


@dataclass(frozen=True)
class DelayableLoad:
    """A load that needs ``energy_wh`` between ``ready_hour`` and ``deadline_hour`` every day."""

    kind: str
    energy_wh: int
    ready_hour: int
    deadline_hour: int
    max_power_w: int

    def __post_init__(self) -> None:
        if self.kind not in LOAD_KINDS:
            raise ValueError(f"kind must be one of {', '.join(LOAD_KINDS)}, got {self.kind!r}")
        if self.energy_wh <= 0:
            raise ValueError(f"energy_wh must be positive, got {self.energy_wh}")
        if not 0 <= self.ready_hour <= 23:
            raise ValueError(f"ready_hour must be in [0, 23], got {self.ready_hour}")
        if not 0 <= self.deadline_hour <= 24:
            raise ValueError(f"deadline_hour must be in [0, 24], got {self.deadline_hour}")
        if self.max_power_w <= 0:
            raise ValueError(f"max_power_w must be positive, got {self.max_power_w}")
        hours = self.window_hours
        if self.energy_wh > self.max_power_w * hours:
            raise ValueError(
                f"energy_wh {self.energy_wh} cannot be drawn in {hours} h at "
                f"{self.max_power_w} W (at most {self.max_power_w * hours} Wh)"
            )

    @property
    def window_hours(self) -> int:
        """Hours from ready to deadline (24 when they are the same hour)."""
        return (self.deadline_hour - self.ready_hour) % 24 or 24


def window_of(load: DelayableLoad, time_s: int) -> tuple[int, int] | None:
    """The ``[start_s, end_s)`` window of ``load`` that contains ``time_s``, or None."""
    day = time_s // DAY_SECONDS
    length = load.window_hours * HOUR_SECONDS
    for start_day in (day, day - 1):
        start = start_day * DAY_SECONDS + load.ready_hour * HOUR_SECONDS
        if start <= time_s < start + length:
            return start, start + length
    return None


def plan_consumption(need_wh: int, limits_wh: Sequence[int], prices: Sequence[int]) -> list[int]:
    """Energy per slot that meets ``need_wh`` at the least expected cost, within each limit.

    Energy goes out in pieces of `PLAN_CHUNK_WH`, each to the slot with the lowest
    expected price that still has room; among equal prices to the slot with the least
    planned so far (spreading the load), then the earliest. If the need exceeds the
    slots' room, every slot is filled to its limit.
    """
    if len(limits_wh) != len(prices):
        raise ValueError(f"{len(limits_wh)} limits but {len(prices)} prices")
    if need_wh < 0 or any(limit < 0 for limit in limits_wh):
        raise ValueError("need and limits must not be negative")
    plan = [0] * len(limits_wh)
    left = min(need_wh, sum(limits_wh))
    while left > 0:
        slot = min(
            (i for i in range(len(plan)) if plan[i] < limits_wh[i]),
            key=lambda i: (prices[i], plan[i], i),
        )
        piece = min(PLAN_CHUNK_WH, left, limits_wh[slot] - plan[slot])
        plan[slot] += piece
        left -= piece
    return plan


@dataclass
class FlexibleDemand:
    """A household's delayable loads and how they are controlled."""

    loads: tuple[DelayableLoad, ...]
    control: str = "smart"
    first_s: int | None = None
    """The start of the first period decided: windows that began before it are not ours."""
    until_s: int | None = None
    """The end of the simulated time: windows that end after it are left out, so that every
    window counted is whole and each control meets the same needs."""
    drawn_wh: dict[tuple[int, int], int] = field(default_factory=dict)
    """Energy drawn so far per (load index, window start)."""

    def __post_init__(self) -> None:
        if self.control not in CONTROLS:
            raise ValueError(f"control must be one of {', '.join(CONTROLS)}, got {self.control!r}")

    def decide_wh(
        self, start_s: int, seconds: int, expected_prices: Callable[[list[int]], list[int]]
    ) -> int:
        """Energy all loads draw in ``[start_s, start_s + seconds)``; recorded as drawn.

        ``expected_prices`` gives the price expected for each period start it is handed
        (only asked under smart control).
        """
        if self.first_s is None:
            self.first_s = start_s
        total = 0
        for index, load in enumerate(self.loads):
            window = window_of(load, start_s)
            if window is None or window[0] < self.first_s:
                continue
            if self.until_s is not None and window[1] > self.until_s:
                continue
            start, end = window
            drawn = self.drawn_wh.get((index, start), 0)
            need = load.energy_wh - drawn
            if need <= 0:
                continue
            limit = load.max_power_w * seconds // HOUR_SECONDS
            if self.control == "immediate":
                now = min(limit, need)
            else:
                slots = list(range(start_s, end, seconds))
                limits = [min(limit, (end - s) * load.max_power_w // HOUR_SECONDS) for s in slots]
                now = plan_consumption(need, limits, expected_prices(slots))[0]
            self.drawn_wh[(index, start)] = drawn + now
            total += now
        return total
