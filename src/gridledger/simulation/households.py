"""From a scenario's member specs to households with devices, forecasters and strategies.

`build_household` gives a household its devices over the horizon; the runner wraps each in
an `Agent` with its strategy, keys and randomness. `expected_prices` is what a household
with delayable loads plans them on.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from gridledger.agents.devices import (
    Battery,
    PvSite,
    SeriesProfile,
    bdew_load_profile,
    clear_sky_pv_profile,
    series_profile,
)
from gridledger.agents.flexible import DelayableLoad, FlexibleDemand
from gridledger.agents.forecast import make_forecaster
from gridledger.agents.household import Household, Variation
from gridledger.agents.interfaces import PriceBand, Strategy
from gridledger.client import Wallet
from gridledger.crypto import KeyPair
from gridledger.simulation.community import HouseholdSpec
from gridledger.simulation.scenario import (
    MemberSpec,
    PvSpec,
    Scenario,
    SiteSpec,
    draws_key,
    start_seconds,
)


def pv_site(site: SiteSpec, pv: PvSpec) -> PvSite:
    return PvSite(
        site.latitude_deg,
        site.longitude_deg,
        site.altitude_m,
        pv.tilt_deg,
        pv.azimuth_deg,
        site.performance_ratio,
    )


def build_household(
    scenario: Scenario, spec: HouseholdSpec, trades_from_storage: bool
) -> Household:
    """A household's devices over the scenario's horizon (profiles computed once, cached)."""
    start = start_seconds(scenario.horizon)
    duration = scenario.horizon.periods * scenario.market.period_seconds
    group = spec.group
    pv: SeriesProfile | None = None
    if group.pv is not None:
        if group.pv.series is not None:
            given = group.pv.series
            pv = series_profile(start, given.step_seconds, given.energy_wh)
        else:
            site = pv_site(scenario.site, group.pv)
            pv = clear_sky_pv_profile(site, start, duration, group.pv.peak_power_w)
        if spec.size_factor != 1.0:
            pv = pv.scaled(spec.size_factor)
    load: SeriesProfile | None = None
    if group.load is not None:
        if group.load.series is not None:
            given = group.load.series
            load = series_profile(start, given.step_seconds, given.energy_wh)
        else:
            load = bdew_load_profile(group.load.profile, group.load.annual_kwh, start, duration)
        if spec.size_factor != 1.0:
            load = load.scaled(spec.size_factor)
    battery = None
    if group.battery is not None:
        b = group.battery
        battery = Battery(
            b.capacity_wh,
            b.max_charge_w,
            b.max_discharge_w,
            b.round_trip_efficiency_permille,
            b.initial_state_of_charge_wh,
        )
    forecast = group.forecast
    return Household(
        name=spec.name,
        pv=pv,
        load=load,
        battery=battery,
        forecaster=make_forecaster(forecast.kind, forecast.window, forecast.season),
        variation=Variation(
            pv=0.0 if group.pv is None else group.pv.variation,
            load=0.0 if group.load is None else group.load.variation,
        ),
        trades_from_storage=trades_from_storage and battery is not None,
        flexible=flexible_demand(
            group,
            start_seconds(scenario.horizon)
            + scenario.horizon.periods * scenario.market.period_seconds,
        ),
        seed=f"{draws_key(scenario)}/{scenario.seed}",
    )


def flexible_demand(group: MemberSpec, until_s: int) -> FlexibleDemand | None:
    """The group's delayable loads (None without any); one control for the household,
    ``immediate`` if any of its loads asks for it. Only the windows that lie wholly in the
    horizon (ending by ``until_s``) are served."""
    if not group.flexible:
        return None
    loads = tuple(
        DelayableLoad(f.kind, f.energy_wh, f.ready_hour, f.deadline_hour, f.max_power_w)
        for f in group.flexible
    )
    immediate = any(f.control == "immediate" for f in group.flexible)
    return FlexibleDemand(loads, "immediate" if immediate else "smart", until_s=until_s)


@dataclass
class Agent:
    """One household member: devices, strategy, keys and randomness."""

    name: str
    role: str
    household: Household
    strategy: Strategy
    wallet: Wallet
    meter: KeyPair
    meter_wallet: Wallet
    rng: random.Random


def expected_prices(
    household: Household, band: PriceBand, profile: tuple[int | None, ...], seconds: int
) -> Callable[[list[int]], list[int]]:
    """The price a household with delayable loads expects for each period start it is asked:
    the feed-in price where its own device models give a surplus (its own energy is worth
    only that), else the community's price in that period of the day
    (`runner.Runner.hourly_profile`), else the grid price."""

    def prices(starts: list[int]) -> list[int]:
        expected = []
        for start in starts:
            generation, load = household.model_wh(start, seconds)
            if household.pv is not None and generation > load:
                expected.append(band.feed_in_micro_per_kwh)
                continue
            known = profile[(start // seconds) % len(profile)] if profile else None
            expected.append(band.grid_micro_per_kwh if known is None else known)
        return expected

    return prices
