"""Devices: integrated profiles, clear-sky PV, BDEW loads and a battery that stays in bounds."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.agents.devices import (
    Battery,
    PvSite,
    SeriesProfile,
    bdew_load_profile,
    clear_sky_pv_profile,
    series_profile,
    step_energies,
)

JUNE_3_2024 = int(datetime.datetime(2024, 6, 3, tzinfo=datetime.UTC).timestamp())
BERLIN = PvSite(52.52, 13.40, 34.0)


def test_series_sums_whole_steps_and_prorates_partial_ones() -> None:
    profile = series_profile(0, 3600, [1000, 2000, 3000])
    assert profile.energy_wh(0, 3600) == 1000
    assert profile.energy_wh(0, 7200) == 3000
    assert profile.energy_wh(1800, 3600) == 500 + 1000
    assert profile.energy_wh(900, 900) == 250


def test_series_repeats_after_its_end_and_before_its_start() -> None:
    profile = series_profile(3600, 3600, [100, 200])
    assert profile.energy_wh(3600 + 7200, 3600) == 100
    assert profile.energy_wh(3600 + 3 * 3600, 3600) == 200
    assert profile.energy_wh(0, 3600) == 200


@settings(deadline=None)
@given(
    values=st.lists(st.integers(0, 50_000), min_size=1, max_size=30),
    start=st.integers(-100_000, 100_000),
    first=st.integers(0, 20_000),
    second=st.integers(0, 20_000),
)
def test_series_integration_is_additive_to_within_rounding(
    values: list[int], start: int, first: int, second: int
) -> None:
    profile = series_profile(0, 900, values)
    whole = profile.energy_wh(start, first + second)
    parts = profile.energy_wh(start, first) + profile.energy_wh(start + first, second)
    assert whole >= 0
    assert abs(whole - parts) <= 1


def test_series_refuses_negative_energy_and_empty_series() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        SeriesProfile(0, 3600, (1.0, -1.0))
    with pytest.raises(ValueError, match="at least one step"):
        SeriesProfile(0, 3600, ())


@settings(deadline=None)
@given(
    values=st.lists(st.floats(0, 5_000, allow_nan=False), min_size=1, max_size=30),
    factor=st.floats(0, 3, allow_nan=False),
    start=st.integers(-100_000, 100_000),
    seconds=st.integers(0, 40_000),
)
def test_packed_series_answers_what_float_tuples_did(
    values: list[float], factor: float, start: int, seconds: int
) -> None:
    """The sums the series kept as a tuple of floats, computed the same way."""
    profile = SeriesProfile(0, 900, tuple(values)).scaled(factor)
    energies = [v * factor for v in values]
    cumulative = [0.0]
    for energy in energies:
        cumulative.append(cumulative[-1] + energy)

    def since(time_s: int) -> float:
        cycles, within = divmod(time_s, 900 * len(energies))
        step, into = divmod(within, 900)
        return cycles * cumulative[-1] + cumulative[step] + energies[step] * into / 900

    assert profile.energy_wh(start, seconds) == max(0, round(since(start + seconds) - since(start)))


def test_a_series_is_hashable_and_equal_by_its_values() -> None:
    packed = SeriesProfile(60, 900, (1.0, 2.5)).scaled(2.0)
    again = SeriesProfile(60, 900, [2.0, 5.0])
    assert packed == again and hash(packed) == hash(again)
    assert packed != SeriesProfile(60, 900, (2.0, 5.5))
    assert list(packed.energy_per_step_wh) == [2.0, 5.0]


def test_clear_sky_pv_is_dark_at_night_bright_at_noon_and_scales_with_peak() -> None:
    five = clear_sky_pv_profile(BERLIN, JUNE_3_2024, 86_400, 5000)
    ten = clear_sky_pv_profile(BERLIN, JUNE_3_2024, 86_400, 10_000)
    hourly = step_energies(five, JUNE_3_2024, 3600, 24)
    assert hourly[0] == 0 and hourly[23] == 0  # midnight UTC in Berlin
    assert max(hourly) == max(hourly[9:13])  # solar noon is about 11:00 UTC
    assert 3000 < max(hourly) < 5000  # a 5 kWp roof on a clear June day
    day_five, day_ten = five.energy_wh(JUNE_3_2024, 86_400), ten.energy_wh(JUNE_3_2024, 86_400)
    assert abs(day_ten - 2 * day_five) <= 1
    again = clear_sky_pv_profile(BERLIN, JUNE_3_2024, 86_400, 5000)
    assert step_energies(again, JUNE_3_2024, 3600, 24) == hourly


def test_bdew_household_profile_uses_its_annual_energy() -> None:
    year_start = int(datetime.datetime(2023, 1, 1, tzinfo=datetime.UTC).timestamp())
    profile = bdew_load_profile("h0", 3500, year_start, 365 * 86_400)
    total = profile.energy_wh(year_start, 365 * 86_400)
    assert abs(total - 3_500_000) < 3_500_000 * 0.01
    day = step_energies(profile, JUNE_3_2024 - 365 * 86_400, 3600, 24)
    assert min(day) > 0


def test_bdew_refuses_an_unknown_profile() -> None:
    with pytest.raises(ValueError, match="not one of"):
        bdew_load_profile("x9", 1000, JUNE_3_2024, 3600)


def test_battery_books_losses_on_charging_and_respects_power() -> None:
    battery = Battery(10_000, 2000, 3000, round_trip_efficiency_permille=900)
    assert battery.charge(5000, 3600) == 2000  # the 2 kW limit for an hour
    assert battery.state_of_charge_wh == 1800
    assert battery.discharge(5000, 3600) == 1800  # all it holds
    assert battery.state_of_charge_wh == 0
    assert battery.max_discharge_wh(3600) == 0


def test_battery_refuses_bad_construction() -> None:
    with pytest.raises(ValueError, match="state_of_charge_wh"):
        Battery(1000, 1, 1, 900, 2000)
    with pytest.raises(ValueError, match="round_trip_efficiency_permille"):
        Battery(1000, 1, 1, 0)


@settings(max_examples=200, deadline=None)
@given(
    capacity=st.integers(0, 50_000),
    charge_w=st.integers(0, 20_000),
    discharge_w=st.integers(0, 20_000),
    efficiency=st.integers(1, 1000),
    start_share=st.floats(0, 1),
    operations=st.lists(
        st.tuples(st.booleans(), st.integers(-1000, 60_000), st.integers(0, 7200)), max_size=40
    ),
)
def test_battery_state_of_charge_never_leaves_its_bounds(
    capacity: int,
    charge_w: int,
    discharge_w: int,
    efficiency: int,
    start_share: float,
    operations: list[tuple[bool, int, int]],
) -> None:
    battery = Battery(capacity, charge_w, discharge_w, efficiency, int(capacity * start_share))
    for charging, energy, seconds in operations:
        before = battery.state_of_charge_wh
        if charging:
            limit = battery.max_charge_wh(seconds)
            taken = battery.charge(energy, seconds)
            assert 0 <= taken <= max(0, min(energy, limit))
            assert battery.state_of_charge_wh == before + taken * efficiency // 1000
        else:
            limit = battery.max_discharge_wh(seconds)
            given_out = battery.discharge(energy, seconds)
            assert 0 <= given_out <= max(0, min(energy, limit))
            assert battery.state_of_charge_wh == before - given_out
        assert 0 <= battery.state_of_charge_wh <= battery.capacity_wh
