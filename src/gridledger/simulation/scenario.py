"""Scenario files: a community, its market, its horizon and a seed, in YAML.

A scenario names its members (or groups of alike members, with ``count``),
their role, devices, forecaster and bidding strategy; the market's mechanism,
period length and prices; the horizon (start and number of periods); and the
seed every random draw derives from. Decoding is strict: an unknown field, a
wrong type or a value out of range is a `ScenarioError` naming the field path,
as in ``members[3].battery.capacity_wh: expected int, got str``.

Units are the ledger's: watts, watt-hours, micro-units, micro-units per kWh;
``annual_kwh`` for standard load profiles as their users quote them.

A scenario is bounded so that a typo cannot grow a run until it is killed: at most
`MAX_HOUSEHOLDS` households in all, `MAX_PERIODS` periods, `MAX_ESTIMATED_TRANSACTIONS`
transactions as `estimated_transactions` counts them, and a file of `MAX_SCENARIO_BYTES`.
All are checked before anything is built.
"""

from __future__ import annotations

import datetime
import re
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec
import yaml

from gridledger.agents.devices import BDEW_PROFILES
from gridledger.agents.flexible import CONTROLS, DelayableLoad
from gridledger.agents.forecast import FORECASTERS
from gridledger.contracts.parameters import (
    WINDOW_FIELDS,
    InvalidParameter,
    TradingWindows,
    check_windows,
)
from gridledger.ledger.genesis import MAX_LIFETIME_DAYS

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
MAX_SCENARIO_BYTES = 16 * 1024 * 1024
"""A scenario file's size."""


class ScenarioError(Exception):
    """A scenario is wrong; ``field`` is the path of the offending field ("" for the file)."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}" if field else reason)


class Strict(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Base of every scenario section: immutable, and a misspelt key is an error, not ignored."""


class SeriesSpec(Strict, frozen=True):
    """A given series: whole watt-hours per step, from the horizon's start, repeated."""

    energy_wh: list[int]
    step_seconds: int = 3600


class PvSpec(Strict, frozen=True):
    """PV: a given series, or pvlib's clear-sky model for the scenario's site."""

    peak_power_w: int = 0
    tilt_deg: float = 30.0
    azimuth_deg: float = 180.0
    series: SeriesSpec | None = None
    variation: float = 0.0
    """Clouds: actual output is the model times a factor in [1 - variation, 1]."""


class LoadSpec(Strict, frozen=True):
    """Load: a given series, or a BDEW standard load profile with an annual energy."""

    profile: str = "h0"
    annual_kwh: int = 0
    series: SeriesSpec | None = None
    variation: float = 0.0
    """Behaviour: actual load is the model times a factor in [1 - variation, 1 + variation]."""


class BatterySpec(Strict, frozen=True):
    capacity_wh: int
    max_charge_w: int
    max_discharge_w: int
    round_trip_efficiency_permille: int = 900
    initial_state_of_charge_wh: int = 0


class FlexibleSpec(Strict, frozen=True):
    """A delayable load (`agents.flexible.DelayableLoad`): ``ev`` or ``heat_pump``, the energy
    it needs every day between ``ready_hour`` and ``deadline_hour`` (UTC; a deadline at or
    before the ready hour is the next day), its power limit, and how it is controlled:
    ``smart`` (moves to the hours it expects cheap) or ``immediate`` (full power when ready,
    the uncontrolled baseline)."""

    kind: str
    energy_wh: int
    ready_hour: int
    deadline_hour: int
    max_power_w: int
    control: str = "smart"


class StrategySpec(Strict, frozen=True):
    kind: str = "zero_intelligence"
    params: dict[str, Any] = {}


class ForecastSpec(Strict, frozen=True):
    kind: str = "persistence"
    window: int = 3
    season: int = 1


class MemberSpec(Strict, frozen=True):
    name: str
    role: str
    count: int = 1
    """Members alike but for ``size_variation``: named ``<name>-001`` … when more than one."""
    size_variation: float = 0.0
    """Each copy's PV peak and annual load are scaled by a factor in [1 - v, 1 + v]."""
    balance_micro: int = 1_000_000_000
    pv: PvSpec | None = None
    load: LoadSpec | None = None
    battery: BatterySpec | None = None
    flexible: list[FlexibleSpec] = []
    """Delayable loads (EV charging, a heat pump) on top of ``load``."""
    strategy: StrategySpec = StrategySpec()
    forecast: ForecastSpec = ForecastSpec()


class MarketSpec(Strict, frozen=True):
    mechanism: str = "call_auction"
    period_seconds: int = 3600
    gate_closure_seconds: int = 300
    meter_window_seconds: int = 900
    feed_in_price_micro_per_kwh: int = 770_000
    grid_price_micro_per_kwh: int = 850_000
    cap_price_micro_per_kwh: int = 850_000
    breakdown_penalty_micro: int = 1_000_000
    negotiation_seconds: int | None = None
    """Seed 001's negotiation window (None: the chain's default, 55 minutes)."""
    commit_seconds: int | None = None
    """Seed 001's commit window (None: the chain's default, 5 minutes)."""
    amend_seconds: int | None = None
    """Seed 003's time to amend or withdraw an order (None: until gate closure)."""
    stages: list[str] = msgspec.field(default_factory=lambda: ["intraday"])
    """Which market stages run, in `STAGES`: ``[intraday]`` (each period's own market, the
    default), ``[day_ahead, intraday]`` or ``[day_ahead]``. Imbalance settlement always runs."""
    day_ahead_gate_seconds: int = 43_200
    """With ``day_ahead``: its gate closes this long before each delivery day (UTC) starts."""
    sealed_reveal_window_seconds: int | None = None
    """The community takes sealed day-ahead orders, revealed in this window after the gate
    (the clear waits for its end); None: it takes none (issue 15)."""
    sealed_non_reveal_fee_micro: int = 0
    """With a reveal window: the fee an unrevealed sealed order pays to the grid account."""


class PrivacySpec(Strict, frozen=True):
    """What the households hide (docs/privacy.md); the switch between a private run and the
    same households in plain view. Both off: nothing changes on the chain."""

    sealed_orders: bool = False
    """Day-ahead orders are sealed (commitments and range proofs), revealed after the gate;
    needs ``market.sealed_reveal_window_seconds``."""
    stealth_payouts: bool = False
    """Every household registers stealth keys and is paid by settlement to a fresh one-time
    account each period."""
    sealed_max_energy_wh: int = 20_000
    """The public upper bound stated with each sealed order (a larger order states its own
    energy: the bound must hold it)."""


class HorizonSpec(Strict, frozen=True):
    start: str
    """ISO 8601 time of the first delivery period's start (UTC unless an offset is given)."""
    periods: int


class SiteSpec(Strict, frozen=True):
    latitude_deg: float = 52.52
    longitude_deg: float = 13.40
    altitude_m: float = 34.0
    performance_ratio: float = 0.85


class OperatorSpec(Strict, frozen=True):
    """The market operator: a pricing agent posting prices, or none (plain order book)."""

    kind: str = "none"
    params: dict[str, Any] = {}


class RegulatorSpec(Strict, frozen=True):
    """The regulator's cap policy: ``none`` (the cap stays) or ``cap`` (seed 000 §2.2 (4))."""

    kind: str = "none"
    params: dict[str, Any] = {}


class CurrencySpec(Strict, frozen=True):
    """The community currency (seed 004 §3.4)."""

    lifetime_days: int = 0
    """Units expire this many days after the day they were issued (0: never)."""
    daily_issue_micro: int = 0
    """What the operator issues to every household at the start of each day after the
    first (the currency's renewal, seed 004 §3.4)."""


class CertificatesSpec(Strict, frozen=True):
    """Certificates of origin for the energy delivered (issue 14)."""

    enabled: bool = False
    retire_at_end: bool = False
    """After the last settlement every household retires what it holds, with a claim."""


class Scenario(Strict, frozen=True):
    name: str
    members: list[MemberSpec]
    horizon: HorizonSpec
    seed: int = 0
    description: str = ""
    market: MarketSpec = MarketSpec()
    site: SiteSpec = SiteSpec()
    operator: OperatorSpec = OperatorSpec()
    regulator: RegulatorSpec = RegulatorSpec()
    privacy: PrivacySpec = PrivacySpec()
    grid_funding_micro: int = 1_000_000_000_000
    """What the operator moves into the grid account at the start, to pay feed-in."""
    treasurer: str = ""
    """A household (by name) holding the third key of the issuer's and the grid account's
    policies, 2 of operator, regulator and it (`gridledger.contracts.policies`); empty: the
    genesis names no policy (the runs never issue currency, and the shipped scenarios keep
    their head hashes)."""
    currency: CurrencySpec = CurrencySpec()
    certificates: CertificatesSpec = CertificatesSpec()
    draws_from: str = ""
    """The name the random draws (weather, behaviour, the strategies' choices) derive from,
    with ``seed``; empty: the scenario's own name. Scenarios that compare two market
    designs on one community name the same, so both see the same clouds and loads."""


def draws_key(scenario: Scenario) -> str:
    """What the scenario's random draws are keyed by: ``draws_from`` or its name."""
    return scenario.draws_from or scenario.name


def start_seconds(horizon: HorizonSpec) -> int:
    """The horizon's start in Unix seconds."""
    text = horizon.start.replace("Z", "+00:00")
    moment = datetime.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return int(moment.timestamp())


_PATH = re.compile(r"^(?P<reason>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)


def _field_error(error: msgspec.ValidationError) -> ScenarioError:
    """msgspec's "Expected `int`, got `str` - at `$.members[3].x`" as members[3].x: expected…"""
    match = _PATH.match(str(error))
    reason = str(error) if match is None else match["reason"]
    path = "" if match is None or match["path"] is None else match["path"].lstrip(".")
    reason = reason.replace("`", "")
    return ScenarioError(path, reason[:1].lower() + reason[1:])


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


def member_names(member: MemberSpec) -> list[str]:
    """The names of a member group's households."""
    if member.count == 1:
        return [member.name]
    return [f"{member.name}-{i:03d}" for i in range(1, member.count + 1)]


def decode_scenario(data: Any) -> Scenario:
    """A checked `Scenario` from decoded YAML (a mapping)."""
    if not isinstance(data, dict):
        raise ScenarioError("", "a scenario is a YAML mapping of fields")
    try:
        scenario = msgspec.convert(data, Scenario)
    except msgspec.ValidationError as error:
        raise _field_error(error) from error
    check_scenario(scenario)
    return scenario


def parse_scenario(text: str) -> Scenario:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ScenarioError("", f"not valid YAML: {error}") from error
    return decode_scenario(data)


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


def shipped_scenarios() -> list[str]:
    """Names of the scenarios shipped with gridledger."""
    folder = resources.files("gridledger.simulation") / "scenarios"
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A scenario from a YAML file, or by the name of a shipped scenario."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return parse_scenario(_read_scenario_file(path))
    name = str(name_or_path)
    if name not in shipped_scenarios():
        raise ScenarioError(
            "",
            f"no scenario file {name!r} and no shipped scenario of that name "
            f"(shipped: {', '.join(shipped_scenarios())})",
        )
    folder = resources.files("gridledger.simulation") / "scenarios"
    return parse_scenario((folder / f"{name}.yaml").read_text())


def _read_scenario_file(path: Path) -> str:
    """A scenario file's text: UTF-8, at most `MAX_SCENARIO_BYTES`."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_SCENARIO_BYTES + 1)
    except OSError as error:
        raise ScenarioError("", f"cannot read {path}: {error.strerror or error}") from error
    if len(data) > MAX_SCENARIO_BYTES:
        raise ScenarioError("", f"{path} is larger than {MAX_SCENARIO_BYTES:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ScenarioError(
            "", f"{path} is not a UTF-8 text file (byte {error.start} is not UTF-8)"
        ) from error


def with_periods(scenario: Scenario, periods: int) -> Scenario:
    """The same scenario over its first ``periods`` periods (a shortened run); it may only
    shorten it."""
    if periods < 1:
        raise ScenarioError("--periods", "must be at least 1")
    if periods > scenario.horizon.periods:
        raise ScenarioError(
            "--periods",
            f"may only shorten the scenario, which has {scenario.horizon.periods:,} periods "
            f"(got {periods:,})",
        )
    return msgspec.structs.replace(
        scenario, horizon=msgspec.structs.replace(scenario.horizon, periods=periods)
    )
