"""A scenario's checks: every value in range, before anything is built.

Decoding has already refused unknown fields and wrong types (`simulation.scenario_files`);
`check_scenario` refuses a value out of range with a `ScenarioError` naming the field path,
as in ``members[3].battery.capacity_wh: must not be negative``.

A scenario is bounded so that a typo cannot grow a run until it is killed: at most
`MAX_HOUSEHOLDS` households in all, `MAX_PERIODS` periods and `MAX_ESTIMATED_TRANSACTIONS`
transactions as `estimated_transactions` counts them (and a file of
`simulation.scenario_files.MAX_SCENARIO_BYTES`).
"""

from __future__ import annotations

import re

from gridledger.agents.devices import BDEW_PROFILES
from gridledger.agents.flexible import CONTROLS, DelayableLoad
from gridledger.agents.forecast import FORECASTERS
from gridledger.contracts.market_parameters import WINDOW_FIELDS, TradingWindows, check_windows
from gridledger.contracts.parameters_errors import InvalidParameter
from gridledger.ledger.genesis import MAX_LIFETIME_DAYS
from gridledger.simulation.scenario import (
    MarketSpec,
    MemberSpec,
    Scenario,
    ScenarioError,
    SeriesSpec,
    member_names,
    start_seconds,
)

TRADING_ROLES = ("consumer", "producer", "prosumer", "storage")
MECHANISMS = ("high_low", "continuous", "call_auction")
STAGES = ("day_ahead", "intraday")
"""Market stages a scenario may run (seed 002 §5.3.3): the day-ahead call auction of each
day's periods, then each period's own (intraday) market until its gate closure."""

MAX_HOUSEHOLDS = 10_000
"""Households in a scenario, its groups' ``count`` summed."""
MAX_PERIODS = 35_136
"""Periods of a horizon: a leap year of 15-minute periods."""
MAX_ESTIMATED_TRANSACTIONS = 20_000_000
"""Transactions a run may be estimated to write (some GB of chain)."""
TRANSACTIONS_PER_HOUSEHOLD_PERIOD = 4
"""A household's orders, meter reading and settlement in a period, as estimated."""
TRANSACTIONS_PER_PERIOD = 8
"""The operator's and regulator's transactions in a period (clearing, prices), as estimated."""


def _require(condition: bool, field: str, reason: str) -> None:
    if not condition:
        raise ScenarioError(field, reason)


def _check_member(member: MemberSpec, where: str, horizon_periods: int) -> None:
    _require(
        member.role in TRADING_ROLES, f"{where}.role", f"must be one of {', '.join(TRADING_ROLES)}"
    )
    _require(
        re.fullmatch(r"[A-Za-z0-9_.-]{1,48}", member.name) is not None,
        f"{where}.name",
        "must be 1 to 48 letters, digits, '.', '_' or '-'",
    )
    _require(member.count >= 1, f"{where}.count", "must be at least 1")
    _require(
        member.count <= MAX_HOUSEHOLDS, f"{where}.count", f"must be at most {MAX_HOUSEHOLDS:,}"
    )
    _require(0 <= member.size_variation < 1, f"{where}.size_variation", "must be in [0, 1)")
    _require(member.balance_micro >= 0, f"{where}.balance_micro", "must not be negative")
    if member.role == "consumer":
        _require(member.pv is None, f"{where}.pv", "a consumer has no generation; use prosumer")
        _require(
            member.battery is None, f"{where}.battery", "a consumer has no storage; use prosumer"
        )
    if member.pv is not None:
        pv = member.pv
        _require(pv.peak_power_w >= 0, f"{where}.pv.peak_power_w", "must not be negative")
        _require(0 <= pv.variation <= 1, f"{where}.pv.variation", "must be in [0, 1]")
        _require(
            pv.series is not None or pv.peak_power_w > 0,
            f"{where}.pv",
            "give peak_power_w (clear-sky model) or a series",
        )
        if pv.series is not None:
            _check_series(pv.series, f"{where}.pv.series")
    if member.load is not None:
        load = member.load
        _require(
            load.profile in BDEW_PROFILES,
            f"{where}.load.profile",
            f"must be one of {', '.join(BDEW_PROFILES)}",
        )
        _require(load.annual_kwh >= 0, f"{where}.load.annual_kwh", "must not be negative")
        _require(0 <= load.variation <= 1, f"{where}.load.variation", "must be in [0, 1]")
        if load.series is not None:
            _check_series(load.series, f"{where}.load.series")
    if member.battery is not None:
        b = member.battery
        for name in ("capacity_wh", "max_charge_w", "max_discharge_w"):
            _require(getattr(b, name) >= 0, f"{where}.battery.{name}", "must not be negative")
        _require(
            0 < b.round_trip_efficiency_permille <= 1000,
            f"{where}.battery.round_trip_efficiency_permille",
            "must be in (0, 1000]",
        )
        _require(
            0 <= b.initial_state_of_charge_wh <= b.capacity_wh,
            f"{where}.battery.initial_state_of_charge_wh",
            "must be in [0, capacity_wh]",
        )
    for index, delayable in enumerate(member.flexible):
        try:
            DelayableLoad(
                delayable.kind,
                delayable.energy_wh,
                delayable.ready_hour,
                delayable.deadline_hour,
                delayable.max_power_w,
            )
        except ValueError as error:
            raise ScenarioError(f"{where}.flexible[{index}]", str(error)) from error
        _require(
            delayable.control in CONTROLS,
            f"{where}.flexible[{index}].control",
            f"must be one of {', '.join(CONTROLS)}",
        )
    f = member.forecast
    _require(
        f.kind in FORECASTERS, f"{where}.forecast.kind", f"must be one of {', '.join(FORECASTERS)}"
    )
    _require(f.window >= 1, f"{where}.forecast.window", "must be at least 1")
    _require(f.season >= 1, f"{where}.forecast.season", "must be at least 1")
    del horizon_periods


def _check_series(series: SeriesSpec, where: str) -> None:
    _require(len(series.energy_wh) > 0, f"{where}.energy_wh", "must hold at least one value")
    _require(all(e >= 0 for e in series.energy_wh), f"{where}.energy_wh", "must not be negative")
    _require(series.step_seconds > 0, f"{where}.step_seconds", "must be positive")


def check_scenario(scenario: Scenario) -> None:
    """Raise `ScenarioError` naming the first field out of range."""
    _require(
        re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", scenario.name) is not None,
        "name",
        "must be 1 to 40 letters, digits, '.', '_' or '-'",
    )
    _require(len(scenario.members) > 0, "members", "a scenario needs at least one member")
    _require(scenario.horizon.periods >= 1, "horizon.periods", "must be at least 1")
    _require(
        scenario.horizon.periods <= MAX_PERIODS,
        "horizon.periods",
        f"must be at most {MAX_PERIODS:,}",
    )
    try:
        start = start_seconds(scenario.horizon)
    except ValueError as error:
        raise ScenarioError("horizon.start", f"not an ISO 8601 time ({error})") from error
    m = scenario.market
    _require(
        m.mechanism in MECHANISMS, "market.mechanism", f"must be one of {', '.join(MECHANISMS)}"
    )
    _require(
        m.period_seconds >= 60 and 86_400 % m.period_seconds == 0,
        "market.period_seconds",
        "must be at least 60 and divide a day",
    )
    _require(
        start % m.period_seconds == 0,
        "horizon.start",
        f"must fall on a period boundary (a multiple of {m.period_seconds} s)",
    )
    _require(
        0 <= m.gate_closure_seconds < m.period_seconds,
        "market.gate_closure_seconds",
        "must be in [0, period_seconds)",
    )
    _require(
        0 < m.meter_window_seconds <= 7 * 86_400,
        "market.meter_window_seconds",
        "must be in (0, 7 days]",
    )
    _require(
        0 <= m.feed_in_price_micro_per_kwh <= m.grid_price_micro_per_kwh,
        "market.grid_price_micro_per_kwh",
        "must be at least the feed-in price",
    )
    _require(
        m.feed_in_price_micro_per_kwh <= m.cap_price_micro_per_kwh,
        "market.cap_price_micro_per_kwh",
        "must be at least the feed-in price",
    )
    _require(
        m.breakdown_penalty_micro >= 0, "market.breakdown_penalty_micro", "must not be negative"
    )
    _check_windows(m)
    _check_stages(m)
    _check_privacy(scenario)
    _require(scenario.grid_funding_micro >= 0, "grid_funding_micro", "must not be negative")
    _require(
        not scenario.treasurer or is_household(scenario, scenario.treasurer),
        "treasurer",
        f"{scenario.treasurer!r} is not one of the scenario's households",
    )
    _require(
        0 <= scenario.currency.lifetime_days <= MAX_LIFETIME_DAYS,
        "currency.lifetime_days",
        f"must be in [0, {MAX_LIFETIME_DAYS}] days (0: units never expire)",
    )
    _require(
        scenario.currency.daily_issue_micro >= 0,
        "currency.daily_issue_micro",
        "must not be negative",
    )
    for index, member in enumerate(scenario.members):
        _check_member(member, f"members[{index}]", scenario.horizon.periods)
    check_size(scenario)
    names: set[str] = set()
    for index, member in enumerate(scenario.members):
        where = f"members[{index}]"
        for name in member_names(member):
            _require(
                name not in names and name not in ("operator", "regulator"),
                f"{where}.name",
                f"name {name!r} is used twice (operator and regulator are built in)",
            )
            names.add(name)


def households(scenario: Scenario) -> int:
    """How many households the scenario has, its groups' ``count`` summed."""
    return sum(member.count for member in scenario.members)


def estimated_transactions(scenario: Scenario) -> int:
    """An upper estimate of the transactions a run of `scenario` writes."""
    per_period = households(scenario) * TRANSACTIONS_PER_HOUSEHOLD_PERIOD + TRANSACTIONS_PER_PERIOD
    return scenario.horizon.periods * per_period


def check_size(scenario: Scenario) -> None:
    """Refuse a scenario with more households or (estimated) transactions than the limits."""
    total = households(scenario)
    _require(
        total <= MAX_HOUSEHOLDS,
        "members",
        f"{total:,} households in all; a scenario may have at most {MAX_HOUSEHOLDS:,}",
    )
    estimate = estimated_transactions(scenario)
    _require(
        estimate <= MAX_ESTIMATED_TRANSACTIONS,
        "horizon.periods",
        f"{scenario.horizon.periods:,} periods of {total:,} households are an estimated "
        f"{estimate:,} transactions; a run may have at most {MAX_ESTIMATED_TRANSACTIONS:,} "
        "(fewer periods or households)",
    )


def is_household(scenario: Scenario, name: str) -> bool:
    """Whether `name` is one of `member_names` of a group, without listing them all."""
    for group in scenario.members:
        if group.count == 1:
            if name == group.name:
                return True
            continue
        number = name.removeprefix(f"{group.name}-")
        numbered = number != name and number.isdigit() and 1 <= int(number) <= group.count
        if numbered and name == f"{group.name}-{int(number):03d}":
            return True
    return False


def _check_stages(market: MarketSpec) -> None:
    """Known stages, each once; the day-ahead gate before every period's own gate closure."""
    _require(len(market.stages) > 0, "market.stages", f"name at least one of {', '.join(STAGES)}")
    for index, stage in enumerate(market.stages):
        _require(stage in STAGES, f"market.stages[{index}]", f"must be one of {', '.join(STAGES)}")
    _require(len(set(market.stages)) == len(market.stages), "market.stages", "names a stage twice")
    _require(
        market.gate_closure_seconds < market.day_ahead_gate_seconds <= 2 * 86_400,
        "market.day_ahead_gate_seconds",
        "must be in (gate_closure_seconds, 172800]: after it the day's first hour is closed",
    )


def _check_privacy(scenario: Scenario) -> None:
    """Sealed orders need the day-ahead stage and a reveal window that ends before the day's
    first hour closes; the stated bound is at least 2 Wh."""
    market, privacy = scenario.market, scenario.privacy
    window = market.sealed_reveal_window_seconds
    if window is not None:
        _require(
            "day_ahead" in market.stages,
            "market.sealed_reveal_window_seconds",
            "sealed orders need the day_ahead stage",
        )
        limit = market.day_ahead_gate_seconds - market.gate_closure_seconds
        _require(
            0 < window < limit,
            "market.sealed_reveal_window_seconds",
            f"must be in (0, {limit}): the reveal window ends before the day's first hour closes",
        )
    _require(
        market.sealed_non_reveal_fee_micro >= 0,
        "market.sealed_non_reveal_fee_micro",
        "must not be negative",
    )
    if privacy.sealed_orders:
        _require(
            window is not None,
            "privacy.sealed_orders",
            "needs market.sealed_reveal_window_seconds (and the day_ahead stage)",
        )
    _require(
        privacy.sealed_max_energy_wh >= 2, "privacy.sealed_max_energy_wh", "must be at least 2"
    )


def _check_windows(market: MarketSpec) -> None:
    """Seed 001's and seed 003's windows, by the chain's own rule (`check_windows`)."""
    named = {n: getattr(market, n) for n in WINDOW_FIELDS if getattr(market, n) is not None}
    try:
        check_windows(TradingWindows(**named))
    except InvalidParameter as error:
        raise ScenarioError(f"market.{error.parameter}", error.requirement) from error
