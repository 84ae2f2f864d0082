"""A scenario's data types: a community, its market, its horizon and a seed, as in YAML.

A scenario names its members (or groups of alike members, with ``count``),
their role, devices, forecaster and bidding strategy; the market's mechanism,
period length and prices; the horizon (start and number of periods); and the
seed every random draw derives from. Every section is a frozen `msgspec.Struct`
that refuses unknown fields; reading a file and checking the values are
`simulation.scenario_files` and `simulation.scenario_checks`.

Units are the ledger's: watts, watt-hours, micro-units, micro-units per kWh;
``annual_kwh`` for standard load profiles as their users quote them.
"""

from __future__ import annotations

import datetime
from typing import Any

import msgspec


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
    """Which market stages run, in `scenario_checks.STAGES`: ``[intraday]`` (each period's own
    market, the default), ``[day_ahead, intraday]`` or ``[day_ahead]``. Imbalance settlement
    always runs."""
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


def member_names(member: MemberSpec) -> list[str]:
    """The names of a member group's households."""
    if member.count == 1:
        return [member.name]
    return [f"{member.name}-{i:03d}" for i in range(1, member.count + 1)]


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
