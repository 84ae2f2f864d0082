"""A household: its devices, its forecaster, and what its meter will read.

Per delivery period the simulation asks a household twice:

- before gate closure, `expected_position`: the surplus it expects to sell and
  the deficit it expects to buy, from its forecasts of generation and load and
  a planned self-consumption dispatch of its battery (on a copy: nothing
  changes);
- after the period, `deliver`: the actual generation and load (the device
  model times a random weather and behaviour factor drawn from the scenario's
  seed), the battery really dispatched, and the meter's export and import.

Self-consumption dispatch: surplus charges the battery first, a deficit is met
from it first; the rest crosses the meter. A household whose strategy trades
from its battery (a speculator) dispatches it to honour its trades instead:
it discharges to deliver what it sold beyond its own surplus and charges with
what it bought beyond its own need.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from gridledger.agents.devices import Battery
from gridledger.agents.flexible import FlexibleDemand
from gridledger.agents.forecast import Forecaster
from gridledger.agents.interfaces import EnergyProfile, StorageView


@dataclass(frozen=True)
class Position:
    """Energy a household expects to sell (surplus) or buy (deficit) in a period, in Wh."""

    surplus_wh: int
    deficit_wh: int


@dataclass(frozen=True)
class Metered:
    """One period as it happened: devices, battery and the meter's reading (Wh)."""

    generation_wh: int
    consumption_wh: int
    charged_wh: int
    """Taken into the battery (before losses)."""
    discharged_wh: int
    state_of_charge_wh: int
    """After the period (0 without a battery)."""
    exported_wh: int
    imported_wh: int


@dataclass(frozen=True)
class Variation:
    """How far actual generation and load stray from the device model, as fractions.

    PV is the model times a factor drawn uniformly from ``[1 - pv, 1]`` (clouds
    only take away from a clear sky); load from ``[1 - load, 1 + load]``.
    """

    pv: float = 0.0
    load: float = 0.0

    def __post_init__(self) -> None:
        if not 0 <= self.pv <= 1:
            raise ValueError(f"pv variation must be in [0, 1], got {self.pv}")
        if not 0 <= self.load <= 1:
            raise ValueError(f"load variation must be in [0, 1], got {self.load}")


def dispatch_self_consumption(
    net_wh: int, battery: Battery | None, seconds: int
) -> tuple[int, int]:
    """Charge with surplus, discharge for a deficit; returns (charged_wh, discharged_wh)."""
    if battery is None or net_wh == 0:
        return 0, 0
    if net_wh > 0:
        return battery.charge(net_wh, seconds), 0
    return 0, battery.discharge(-net_wh, seconds)


def dispatch_to_trades(
    net_wh: int, committed_export_wh: int, battery: Battery | None, seconds: int
) -> tuple[int, int]:
    """Move the battery so the meter's net export comes as close as it can to what was
    traded (``sold - bought``); returns (charged_wh, discharged_wh)."""
    if battery is None:
        return 0, 0
    gap = committed_export_wh - net_wh
    if gap > 0:
        return 0, battery.discharge(gap, seconds)
    if gap < 0:
        return battery.charge(-gap, seconds), 0
    return 0, 0


def split_net(net_wh: int) -> tuple[int, int]:
    """(export, import) of a net position: one of them is zero."""
    return (net_wh, 0) if net_wh >= 0 else (0, -net_wh)


SCALE_PERIODS = 24
"""Delivered periods whose realised energy over the models' scales a day-ahead forecast."""


@dataclass
class Household:
    """A member's devices and forecaster, and its own history of generation and load."""

    name: str
    pv: EnergyProfile | None
    load: EnergyProfile | None
    battery: Battery | None
    forecaster: Forecaster
    variation: Variation = Variation()
    trades_from_storage: bool = False
    seed: str = ""
    """Mixed into the per-period random factors so that reruns draw the same ones."""
    generation_history_wh: list[int] = field(default_factory=list)
    consumption_history_wh: list[int] = field(default_factory=list)
    flexible: FlexibleDemand | None = None
    """Delayable loads (EV, heat pump): what they draw is decided before each period
    (`plan_flexible`) and is then known exactly, on top of the load profile."""
    model_history_wh: list[tuple[int, int]] = field(default_factory=list)
    """The device models' (generation, load) of the last `SCALE_PERIODS` delivered periods,
    beside the history: how far the realised values fell from the models
    (`day_ahead_positions`, which reads no further back; older ones are dropped, 10 KB a
    household a day)."""
    _flexible_wh: dict[int, int] = field(default_factory=dict, init=False, repr=False)
    """Energy the delayable loads draw, by period start (decided, not yet delivered)."""
    _planned_model_wh: dict[tuple[int, int], tuple[int, int]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    """Model values computed for `expected_position`, kept until the interval is delivered
    (the models are pure: computing them once per period instead of twice)."""

    def model_wh(self, start_s: int, seconds: int) -> tuple[int, int]:
        """(generation, load) of the device models over the interval."""
        known = self._planned_model_wh.get((start_s, seconds))
        if known is not None:
            return known
        generation = 0 if self.pv is None else self.pv.energy_wh(start_s, seconds)
        load = 0 if self.load is None else self.load.energy_wh(start_s, seconds)
        return generation, load

    def forecast_wh(self, start_s: int, seconds: int) -> tuple[int, int]:
        """(generation, load) the household expects over the interval, from its forecaster."""
        model_generation, model_load = self.model_wh(start_s, seconds)
        self._planned_model_wh[(start_s, seconds)] = (model_generation, model_load)
        generation = self.forecaster.forecast_wh(self.generation_history_wh, model_generation)
        load = self.forecaster.forecast_wh(self.consumption_history_wh, model_load)
        return (0 if self.pv is None else generation), (0 if self.load is None else load)

    def expected_position(self, start_s: int, seconds: int) -> Position:
        """What the household expects to sell or buy, with a planned self-consumption dispatch."""
        generation, load = self.forecast_wh(start_s, seconds)
        net = generation - load - self._flexible_wh.get(start_s, 0)
        if not self.trades_from_storage:
            planned = None if self.battery is None else self.battery.copy()
            charged, discharged = dispatch_self_consumption(net, planned, seconds)
            net = net - charged + discharged
        surplus, deficit = split_net(net)
        return Position(surplus, deficit)

    def day_ahead_positions(
        self, from_s: int, product_starts_s: list[int], seconds: int
    ) -> list[Position]:
        """The positions of ``product_starts_s`` (ascending) as forecast a day ahead.

        From the device models (a day ahead the weather and behaviour of the day are
        unknown) scaled by what the last day taught: the realised generation over the
        model's in the last 24 delivered periods, and the same for the load (1 before
        any period was delivered); with the battery dispatched for self-consumption on a copy
        from ``from_s`` (the period the forecast is made in) through the last product,
        so each product sees the state of charge the hours before it leave.
        """
        planned = None if self.battery is None or self.trades_from_storage else self.battery.copy()
        recent = self.model_history_wh[-SCALE_PERIODS:]
        model_generation = sum(g for g, _ in recent)
        model_load = sum(c for _, c in recent)
        pv_scale = (
            sum(self.generation_history_wh[-SCALE_PERIODS:]) / model_generation
            if model_generation
            else 1.0
        )
        load_scale = (
            sum(self.consumption_history_wh[-SCALE_PERIODS:]) / model_load if model_load else 1.0
        )
        wanted = set(product_starts_s)
        positions: list[Position] = []
        start = min(from_s, product_starts_s[0]) if product_starts_s else from_s
        last = product_starts_s[-1] if product_starts_s else from_s - seconds
        while start <= last:
            generation, load = self.model_wh(start, seconds)
            net = (0 if self.pv is None else round(generation * pv_scale)) - (
                0 if self.load is None else round(load * load_scale)
            )
            charged, discharged = dispatch_self_consumption(net, planned, seconds)
            if start in wanted:
                positions.append(Position(*split_net(net - charged + discharged)))
            start += seconds
        return positions

    def plan_flexible(
        self, start_s: int, seconds: int, expected_prices: Callable[[list[int]], list[int]]
    ) -> int:
        """Decide what the delayable loads draw in the period starting ``start_s`` (Wh)."""
        if self.flexible is None:
            return 0
        drawn = self.flexible.decide_wh(start_s, seconds, expected_prices)
        self._flexible_wh[start_s] = drawn
        return drawn

    def storage_view(self, seconds: int) -> StorageView | None:
        """The battery as a storage-trading strategy sees it (None without one)."""
        if self.battery is None or not self.trades_from_storage:
            return None
        return StorageView(
            self.battery.state_of_charge_wh,
            self.battery.capacity_wh,
            self.battery.max_charge_wh(seconds),
            self.battery.max_discharge_wh(seconds),
        )

    def actual_wh(self, period: int, start_s: int, seconds: int) -> tuple[int, int]:
        """(generation, load) as they happen: the model times this period's random factors."""
        model_generation, model_load = self.model_wh(start_s, seconds)
        self._planned_model_wh.pop((start_s, seconds), None)
        self.model_history_wh.append((model_generation, model_load))
        if len(self.model_history_wh) > SCALE_PERIODS:
            del self.model_history_wh[0]
        draw = random.Random(f"{self.seed}/{self.name}/{period}")
        pv_factor = 1 - self.variation.pv * draw.random()
        load_factor = 1 + self.variation.load * (2 * draw.random() - 1)
        return round(model_generation * pv_factor), round(model_load * load_factor)

    def deliver(
        self, period: int, start_s: int, seconds: int, committed_export_wh: int = 0
    ) -> Metered:
        """Run the period: devices, battery dispatch, and the meter's export and import.

        ``committed_export_wh`` (sold minus bought) matters only to a household
        that trades from its battery.
        """
        generation, base_load = self.actual_wh(period, start_s, seconds)
        load = base_load + self._flexible_wh.pop(start_s, 0)  # as decided, to the Wh
        net = generation - load
        if self.trades_from_storage:
            charged, discharged = dispatch_to_trades(
                net, committed_export_wh, self.battery, seconds
            )
        else:
            charged, discharged = dispatch_self_consumption(net, self.battery, seconds)
        exported, imported = split_net(net - charged + discharged)
        self.generation_history_wh.append(generation)
        self.consumption_history_wh.append(base_load)  # what the forecaster learns from
        return Metered(
            generation_wh=generation,
            consumption_wh=load,
            charged_wh=charged,
            discharged_wh=discharged,
            state_of_charge_wh=0 if self.battery is None else self.battery.state_of_charge_wh,
            exported_wh=exported,
            imported_wh=imported,
        )
