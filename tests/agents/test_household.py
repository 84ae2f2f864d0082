"""Households: expected positions, self-consumption dispatch and what the meter reads."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.agents.devices import Battery, series_profile
from gridledger.agents.forecast import DeviceModel, Persistence
from gridledger.agents.household import (
    Household,
    Variation,
    dispatch_self_consumption,
    dispatch_to_trades,
)


def household(
    pv: list[int], load: list[int], battery: Battery | None = None, **options: object
) -> Household:
    return Household(
        name="h",
        pv=series_profile(0, 3600, pv),
        load=series_profile(0, 3600, load),
        battery=battery,
        forecaster=options.pop("forecaster", DeviceModel()),  # type: ignore[arg-type]
        **options,  # type: ignore[arg-type]
    )


def test_expected_position_plans_the_battery_without_touching_it() -> None:
    battery = Battery(5000, 3000, 3000, 1000, 0)
    home = household([4000], [1000], battery)
    position = home.expected_position(0, 3600)
    assert (position.surplus_wh, position.deficit_wh) == (0, 0)  # 3 kWh go into the battery
    assert battery.state_of_charge_wh == 0


def test_deliver_charges_surplus_then_meets_the_deficit_from_the_battery() -> None:
    battery = Battery(10_000, 3000, 3000, 1000, 0)
    home = household([5000, 0], [1000, 4000], battery)
    day = home.deliver(0, 0, 3600)
    assert (day.charged_wh, day.exported_wh, day.imported_wh) == (3000, 1000, 0)
    night = home.deliver(1, 3600, 3600)
    assert (night.discharged_wh, night.exported_wh, night.imported_wh) == (3000, 0, 1000)
    assert home.generation_history_wh == [5000, 0]
    assert home.consumption_history_wh == [1000, 4000]


def test_variation_is_drawn_from_the_seed_and_period() -> None:
    home = household([5000], [1000], variation=Variation(pv=0.5, load=0.2), seed="s")
    twin = household([5000], [1000], variation=Variation(pv=0.5, load=0.2), seed="s")
    first = [home.actual_wh(p, 0, 3600) for p in range(5)]
    assert first == [twin.actual_wh(p, 0, 3600) for p in range(5)]
    assert len(set(first)) > 1
    assert all(2500 <= g <= 5000 and 800 <= c <= 1200 for g, c in first)


def test_persistence_forecast_follows_what_happened() -> None:
    home = household([1000, 3000], [0], forecaster=Persistence())
    home.deliver(0, 0, 3600)
    assert home.expected_position(3600, 3600).surplus_wh == 1000  # last period, not the model


def test_a_planned_period_delivers_what_an_unplanned_one_does() -> None:
    """The device models computed for the plan are reused when the period is delivered."""
    options = {"variation": Variation(pv=0.4, load=0.3), "seed": "s"}
    planned = household([4000, 500, 2500], [900, 3000, 1200], Battery(6000, 2000, 2000), **options)
    unplanned = household(
        [4000, 500, 2500], [900, 3000, 1200], Battery(6000, 2000, 2000), **options
    )
    for period in range(6):
        start = period * 3600
        planned.expected_position(start, 3600)
        planned.expected_position(start + 3600, 3600)  # plans run ahead of deliveries
        assert planned.deliver(period, start, 3600) == unplanned.deliver(period, start, 3600)
    assert planned.model_wh(3600, 3600) == unplanned.model_wh(3600, 3600)


def test_a_storage_trader_dispatches_to_honour_its_trades() -> None:
    battery = Battery(10_000, 5000, 5000, 1000, 6000)
    home = household([0], [0], battery, trades_from_storage=True)
    assert home.storage_view(3600) is not None
    sold = home.deliver(0, 0, 3600, committed_export_wh=2500)
    assert (sold.discharged_wh, sold.exported_wh) == (2500, 2500)
    bought = home.deliver(1, 3600, 3600, committed_export_wh=-1000)
    assert (bought.charged_wh, bought.imported_wh) == (1000, 1000)


@settings(deadline=None)
@given(
    net=st.integers(-50_000, 50_000),
    capacity=st.integers(0, 20_000),
    power=st.integers(0, 10_000),
    soc_share=st.floats(0, 1),
    target=st.integers(-20_000, 20_000),
)
def test_dispatch_moves_the_meter_towards_its_goal_without_overshooting(
    net: int, capacity: int, power: int, soc_share: float, target: int
) -> None:
    own = Battery(capacity, power, power, 900, int(capacity * soc_share))
    charged, discharged = dispatch_self_consumption(net, own, 3600)
    metered = net - charged + discharged
    assert charged == 0 or discharged == 0
    assert 0 <= own.state_of_charge_wh <= capacity
    assert abs(metered) <= abs(net) and metered * net >= 0  # less exchange, same direction

    trader = Battery(capacity, power, power, 900, int(capacity * soc_share))
    charged, discharged = dispatch_to_trades(net, target, trader, 3600)
    metered = net - charged + discharged
    assert charged == 0 or discharged == 0
    assert 0 <= trader.state_of_charge_wh <= capacity
    assert abs(metered - target) <= abs(net - target)
    assert (metered - net) * (target - net) >= 0  # towards the target, never past it
    assert abs(metered - net) <= abs(target - net)
