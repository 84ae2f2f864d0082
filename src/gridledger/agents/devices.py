"""Household devices: PV generation, load and a battery, in the ledger's integer units.

A profile (`SeriesProfile`) is a series of energies per fixed step, repeated
after its end, so a day's 24 hourly values serve a week. It answers
`EnergyProfile.energy_wh` for any interval by integrating: whole steps add up,
partial steps count in proportion to their overlap. The series may come from a
scenario file, from pvlib's clear-sky model for a site (`clear_sky_pv_profile`)
or from demandlib's BDEW standard load profiles (`bdew_load_profile`). Both
models run once per horizon and the result is cached, so a thousand households
that share a site share one pvlib run.

`Battery` keeps its state of charge an integer in ``[0, capacity_wh]`` whatever
it is asked: losses are booked when charging (``round_trip_efficiency_permille``
of what goes in is stored; what is stored comes out whole), so every quantity
stays an integer and the round trip is exactly the stated efficiency.
"""

from __future__ import annotations

import functools
import math
import warnings
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field

SECONDS_PER_HOUR = 3600


@dataclass(frozen=True)
class SeriesProfile:
    """Energy per step of ``step_seconds`` from ``start_s`` (Unix seconds), repeated cyclically.

    ``energy_per_step_wh`` may hold fractions (models give them); what
    `energy_wh` answers is rounded once, to whole watt-hours. The series and its running
    sums are kept as packed doubles (``array('d')``, 8 bytes a step instead of a float
    object and a pointer, 32): every household has its own scaled copy, and the same
    doubles give the same sums, so the energies answered are unchanged.
    """

    start_s: int
    step_seconds: int
    energy_per_step_wh: Sequence[float]
    _cumulative: array[float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.step_seconds <= 0:
            raise ValueError(f"step_seconds must be positive, got {self.step_seconds}")
        if not self.energy_per_step_wh:
            raise ValueError("energy_per_step_wh must hold at least one step")
        if any(not math.isfinite(e) or e < 0 for e in self.energy_per_step_wh):
            raise ValueError("energy_per_step_wh must hold finite, non-negative energies")
        energies = array("d", self.energy_per_step_wh)
        cumulative = array("d", [0.0])
        total = 0.0
        for energy in energies:
            total += energy
            cumulative.append(total)
        object.__setattr__(self, "energy_per_step_wh", energies)
        object.__setattr__(self, "_cumulative", cumulative)

    def __hash__(self) -> int:
        """As when the series was a tuple (an ``array`` is not hashable)."""
        return hash((self.start_s, self.step_seconds, tuple(self.energy_per_step_wh)))

    @property
    def cycle_seconds(self) -> int:
        return self.step_seconds * len(self.energy_per_step_wh)

    def _energy_since_start(self, time_s: int) -> float:
        """Energy from ``start_s`` to ``time_s`` (negative before the start)."""
        cycles, within = divmod(time_s - self.start_s, self.cycle_seconds)
        step, into = divmod(within, self.step_seconds)
        partial = self.energy_per_step_wh[step] * into / self.step_seconds
        return cycles * self._cumulative[-1] + self._cumulative[step] + partial

    def energy_wh(self, start_s: int, seconds: int) -> int:
        """Energy over ``[start_s, start_s + seconds)`` in whole watt-hours (>= 0)."""
        if seconds < 0:
            raise ValueError(f"seconds must not be negative, got {seconds}")
        total = self._energy_since_start(start_s + seconds) - self._energy_since_start(start_s)
        return max(0, round(total))

    def scaled(self, factor: float) -> SeriesProfile:
        """The same shape times ``factor`` (a bigger roof, a bigger household)."""
        if not math.isfinite(factor) or factor < 0:
            raise ValueError(f"factor must be finite and non-negative, got {factor}")
        scaled = array("d", [e * factor for e in self.energy_per_step_wh])
        return SeriesProfile(self.start_s, self.step_seconds, scaled)


@dataclass(frozen=True)
class PvSite:
    """Where a PV system is and how it is mounted (pvlib's clear-sky model)."""

    latitude_deg: float
    longitude_deg: float
    altitude_m: float = 0.0
    tilt_deg: float = 30.0
    azimuth_deg: float = 180.0
    """Compass direction the panels face (180 = south)."""
    performance_ratio: float = 0.85
    """AC output over the rated output at the plane-of-array irradiance (losses, inverter)."""


CLEAR_SKY_STEP_SECONDS = 300
"""pvlib is evaluated at the middle of every five minutes: fine enough for 15-minute periods."""


@functools.lru_cache(maxsize=64)
def clear_sky_pv_profile(
    site: PvSite, start_s: int, duration_s: int, peak_power_w: int
) -> SeriesProfile:
    """PV energy per five minutes over ``[start_s, start_s + duration_s)`` for a clear sky.

    Plane-of-array irradiance from pvlib's Ineichen clear-sky model (with its
    default Linke turbidity), times ``peak_power_w / 1000 W/m²`` and the
    performance ratio, integrated over each step at its midpoint.
    """
    if peak_power_w < 0:
        raise ValueError(f"peak_power_w must not be negative, got {peak_power_w}")
    unit = _clear_sky_per_kilowatt(site, start_s, duration_s)
    return unit.scaled(peak_power_w / 1000)


@functools.lru_cache(maxsize=16)
def _clear_sky_per_kilowatt(site: PvSite, start_s: int, duration_s: int) -> SeriesProfile:
    import pandas as pd
    import pvlib

    steps = max(1, -(-duration_s // CLEAR_SKY_STEP_SECONDS))
    middle = start_s + CLEAR_SKY_STEP_SECONDS // 2
    times = pd.to_datetime(
        [middle + i * CLEAR_SKY_STEP_SECONDS for i in range(steps)], unit="s", utc=True
    )
    location = pvlib.location.Location(
        site.latitude_deg, site.longitude_deg, "UTC", site.altitude_m
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pvlib's own deprecations are not ours to fail on
        sky = location.get_clearsky(times)
        sun = location.get_solarposition(times)
        irradiance = pvlib.irradiance.get_total_irradiance(
            site.tilt_deg,
            site.azimuth_deg,
            sun["apparent_zenith"],
            sun["azimuth"],
            sky["dni"],
            sky["ghi"],
            sky["dhi"],
        )
    hours = CLEAR_SKY_STEP_SECONDS / SECONDS_PER_HOUR
    energies = tuple(
        max(0.0, float(w)) * site.performance_ratio * hours  # W/m² x 1 kWp / 1000 W/m² = W
        for w in irradiance["poa_global"].fillna(0.0)
    )
    return SeriesProfile(start_s, CLEAR_SKY_STEP_SECONDS, energies)


BDEW_PROFILES = ("h0", "g0", "g1", "g2", "g3", "g4", "g5", "g6", "l0", "l1", "l2")
"""demandlib's BDEW standard load profiles (h0: households, g*: trade, l*: farms)."""


@functools.lru_cache(maxsize=64)
def bdew_load_profile(
    profile: str, annual_kwh: int, start_s: int, duration_s: int
) -> SeriesProfile:
    """Load per 15 minutes over the horizon from a BDEW standard load profile.

    demandlib's profile is for the calendar year of ``start_s`` (holidays
    ignored) in local time; a horizon crossing New Year wraps to that year's
    start. Scaled so that the whole year uses ``annual_kwh``.
    """
    if profile not in BDEW_PROFILES:
        raise ValueError(f"profile {profile!r} is not one of {', '.join(BDEW_PROFILES)}")
    if annual_kwh < 0:
        raise ValueError(f"annual_kwh must not be negative, got {annual_kwh}")
    unit = _bdew_year(profile, _year_of(start_s))
    year_start = unit.start_s
    first = (start_s - year_start) // unit.step_seconds
    steps = -(-(start_s + duration_s - year_start) // unit.step_seconds) - first
    count = len(unit.energy_per_step_wh)
    energies = tuple(
        unit.energy_per_step_wh[(first + i) % count] * annual_kwh / 1000 for i in range(steps)
    )
    return SeriesProfile(year_start + first * unit.step_seconds, unit.step_seconds, energies)


def _year_of(time_s: int) -> int:
    import datetime

    return datetime.datetime.fromtimestamp(time_s, tz=datetime.UTC).year


@functools.lru_cache(maxsize=8)
def _bdew_year(profile: str, year: int) -> SeriesProfile:
    """A year of the profile for 1 MWh a year, in Wh per 15 minutes, from 1 January 00:00 UTC."""
    import datetime

    from demandlib import bdew

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        power_kw = bdew.ElecSlp(year).get_scaled_power_profiles({profile: 1000})[profile]
    start = int(datetime.datetime(year, 1, 1, tzinfo=datetime.UTC).timestamp())
    quarter_hours = 0.25
    energies = tuple(max(0.0, float(kw)) * 1000 * quarter_hours for kw in power_kw)
    return SeriesProfile(start, 900, energies)


def series_profile(start_s: int, step_seconds: int, energy_wh: list[int]) -> SeriesProfile:
    """A profile from a given series of whole watt-hours per step (from a scenario)."""
    return SeriesProfile(start_s, step_seconds, tuple(float(e) for e in energy_wh))


def step_energies(profile: SeriesProfile, start_s: int, step_s: int, count: int) -> list[int]:
    """``count`` consecutive integrated energies of ``step_s`` from ``start_s``."""
    return [profile.energy_wh(start_s + i * step_s, step_s) for i in range(count)]


class Battery:
    """A battery whose integer state of charge never leaves ``[0, capacity_wh]``.

    Power limits bound what moves in a period (``power_w x seconds / 3600``);
    ``round_trip_efficiency_permille`` of what is charged is stored.
    """

    def __init__(
        self,
        capacity_wh: int,
        max_charge_w: int,
        max_discharge_w: int,
        round_trip_efficiency_permille: int = 900,
        state_of_charge_wh: int = 0,
    ) -> None:
        for name, value in (
            ("capacity_wh", capacity_wh),
            ("max_charge_w", max_charge_w),
            ("max_discharge_w", max_discharge_w),
        ):
            if value < 0:
                raise ValueError(f"{name} must not be negative, got {value}")
        if not 0 < round_trip_efficiency_permille <= 1000:
            raise ValueError(
                "round_trip_efficiency_permille must be in (0, 1000], got "
                f"{round_trip_efficiency_permille}"
            )
        if not 0 <= state_of_charge_wh <= capacity_wh:
            raise ValueError(
                f"state_of_charge_wh {state_of_charge_wh} must be in [0, {capacity_wh}]"
            )
        self._capacity_wh = capacity_wh
        self.max_charge_w = max_charge_w
        self.max_discharge_w = max_discharge_w
        self.efficiency_permille = round_trip_efficiency_permille
        self._state_of_charge_wh = state_of_charge_wh

    @property
    def state_of_charge_wh(self) -> int:
        return self._state_of_charge_wh

    @property
    def capacity_wh(self) -> int:
        return self._capacity_wh

    def copy(self) -> Battery:
        """An independent battery in the same state (to plan without touching this one)."""
        return Battery(
            self._capacity_wh,
            self.max_charge_w,
            self.max_discharge_w,
            self.efficiency_permille,
            self._state_of_charge_wh,
        )

    def max_charge_wh(self, seconds: int) -> int:
        """Most energy it can take in over ``seconds``: the power limit and the headroom."""
        by_power = self.max_charge_w * max(0, seconds) // SECONDS_PER_HOUR
        headroom = self._capacity_wh - self._state_of_charge_wh
        return min(by_power, headroom * 1000 // self.efficiency_permille)

    def max_discharge_wh(self, seconds: int) -> int:
        """Most energy it can give out over ``seconds``: the power limit and the charge."""
        by_power = self.max_discharge_w * max(0, seconds) // SECONDS_PER_HOUR
        return min(by_power, self._state_of_charge_wh)

    def charge(self, energy_wh: int, seconds: int) -> int:
        """Take in up to ``energy_wh``; returns what was taken (the stored gain is less)."""
        taken = min(max(0, energy_wh), self.max_charge_wh(seconds))
        stored = taken * self.efficiency_permille // 1000
        self._state_of_charge_wh = min(self._capacity_wh, self._state_of_charge_wh + stored)
        return taken

    def discharge(self, energy_wh: int, seconds: int) -> int:
        """Give out up to ``energy_wh``; returns what was delivered."""
        delivered = min(max(0, energy_wh), self.max_discharge_wh(seconds))
        self._state_of_charge_wh -= delivered
        return delivered
