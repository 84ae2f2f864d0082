"""The simulation runner: households trade on an embedded node, in simulated time.

Every period goes through the market's whole life on the chain, each step a
block stamped with the simulated clock (Unix milliseconds):

1. orders, shortly before gate closure (``gate_closure_seconds`` before the
   period starts): each household's strategy sees its expected position and
   the community's price history and its bids are signed as
   ``market.place_order``;
2. clearing, at gate closure: the operator sends ``market.clear``;
3. readings, just after the period ends: the devices run (actual generation,
   load, battery dispatch), each household's meter key signs its export and
   import (``metering.record_reading``), and the operator anchors the SHA-256
   of the period's raw device data (``metering.anchor_batch``; the data goes
   to ``device_data.csv``, as seed 001 §4.3 keeps raw data off chain);
4. settlement, when the meter window closes: the operator sends
   ``settlement.settle`` and every strategy learns its outcome, read back from
   the chain.

With ``market.stages: [day_ahead, ...]`` each delivery day also has its day-ahead
orders and clear the day before (`simulation.day_ahead`), and the orders of step 1 are
only what the day-ahead trades left open. Households with delayable loads decide what
those draw in the period just before step 1 (`agents.flexible`), on the prices they
expect (`expected_prices`).

Steps of neighbouring periods interleave; they run in time order. Agents and
the runner use only the client (`EmbeddedClient`, which opens the node and cuts
blocks at simulated times); the runner never imports the node.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from gridledger.agents.household import Household, Metered, Position
from gridledger.agents.interfaces import Bid, MarketView, Outcome, PriceBand, Strategy
from gridledger.client import EmbeddedClient, Wallet
from gridledger.client.market_replies import (
    OrderReply,
    ParametersReply,
    StatementReply,
    TradeReply,
)
from gridledger.client.privacy import register_keys_args
from gridledger.contracts.metering import reading_message
from gridledger.crypto import KeyPair
from gridledger.market import SealedOpening, trade_value_micro
from gridledger.simulation.bilateral import (
    agreements,
    offer_transactions,
    trading_steps,
    uses_bilateral,
)
from gridledger.simulation.community import (
    OPERATOR,
    REGULATOR,
    build_genesis,
    expand_members,
    member_keys,
    meter_keys,
    write_community,
)
from gridledger.simulation.day_ahead import (
    day_ahead_steps,
    day_ahead_transactions,
    intraday_position,
    reveal_transactions,
    uses_day_ahead,
    uses_intraday,
)
from gridledger.simulation.device_rows import DeviceRows
from gridledger.simulation.households import build_household
from gridledger.simulation.scenario import Scenario, ScenarioError, draws_key, start_seconds
from gridledger.simulation.strategies import STORAGE_TRADING, make_regulator, make_strategy

SELLING_ROLES = ("producer", "prosumer", "storage")
"""Roles that may sell: a consumer that bought more day-ahead than it needs keeps it."""

# step kinds, in the order they run when they fall on the same second
ORDERS, CLEAR, READINGS, SETTLE = 0, 1, 2, 3
OFFERS, AGREEMENTS = 4, 5
"""Seed 001's bilateral steps, only in scenarios with a ``bilateral`` strategy."""
DAY_AHEAD_ORDERS, DAY_AHEAD_CLEAR = 6, 7
"""The day-ahead stage's steps (their ``period`` is the delivery day), only in scenarios
whose ``market.stages`` name ``day_ahead`` (`simulation.day_ahead`)."""
DAY_AHEAD_REVEAL = 8
"""Sealed orders' reveals (``privacy.sealed_orders``), at the gate."""
ISSUE = 9
"""The operator's daily issue to every household (scenarios with ``currency.daily_issue_micro``)."""
DAY_SECONDS = 86_400


WORKER_PROCESSES_FROM = 5_000
"""Households from which a run starts the node's worker processes (signature checks and
lane sums off the main thread: about 15 % less time for the orders and readings of a
3,000-household run, for ~2 s of start-up, which a small community would not win back).
Where the checks run changes no result."""


@dataclass(frozen=True, order=True)
class Step:
    time_s: int
    kind: int
    period: int


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


class OperatorAgent(Protocol):
    """A market operator that acts on the chain before each period's orders (seed 003)."""

    def before_orders(self, runner: Runner, period: int) -> None: ...

    def posted_price(self, period: int) -> int | None:
        """The price posted for ``period``, as read back from the chain (None if none)."""
        ...


@dataclass
class RunSummary:
    periods: list[int]
    height: int
    head_hash: str
    device_rows: DeviceRows = field(default_factory=DeviceRows)


Progress = Callable[[int, int, str], None]
"""Called with (steps done, steps in all, what just ran)."""


def schedule(scenario: Scenario) -> list[Step]:
    """Every step of every period, in the order they run."""
    market = scenario.market
    length = market.period_seconds
    first = start_seconds(scenario.horizon) // length
    lead = min(60, max(1, (length - market.gate_closure_seconds) // 2))
    after = min(60, market.meter_window_seconds // 2)
    steps: list[Step] = []
    for period in range(first, first + scenario.horizon.periods):
        start = period * length
        steps.append(Step(start - market.gate_closure_seconds - lead, ORDERS, period))
        steps.append(Step(start - market.gate_closure_seconds, CLEAR, period))
        steps.append(Step(start + length + after, READINGS, period))
        steps.append(Step(start + length + market.meter_window_seconds, SETTLE, period))
    if scenario.currency.daily_issue_micro:
        horizon_start = first * length
        horizon_end = (first + scenario.horizon.periods) * length
        day = horizon_start // DAY_SECONDS + 1
        while day * DAY_SECONDS < horizon_end:
            steps.append(Step(day * DAY_SECONDS, ISSUE, day * DAY_SECONDS // length))
            day += 1
    if uses_bilateral(scenario):
        kinds = {"offers": OFFERS, "agreements": AGREEMENTS}
        periods = range(first, first + scenario.horizon.periods)
        steps.extend(Step(t, kinds[k], p) for t, k, p in trading_steps(scenario, periods))
    if uses_day_ahead(scenario):
        periods = range(first, first + scenario.horizon.periods)
        stage = {
            "day_ahead_orders": DAY_AHEAD_ORDERS,
            "day_ahead_reveal": DAY_AHEAD_REVEAL,
            "day_ahead_clear": DAY_AHEAD_CLEAR,
        }
        steps.extend(Step(t, stage[k], d) for t, k, d in day_ahead_steps(scenario, periods))
    return sorted(steps)


def period_band(parameters: ParametersReply) -> PriceBand:
    p = parameters.parameters
    return PriceBand(
        p.feed_in_price_micro_per_kwh, p.grid_price_micro_per_kwh, p.cap_price_micro_per_kwh
    )


def mean_price(trades: Sequence[TradeReply]) -> int | None:
    """Volume-weighted mean trade price (micro-units per kWh), None without trades."""
    energy: int = sum(t.energy_wh for t in trades)
    if energy == 0:
        return None
    value: int = sum(t.energy_wh * t.price_micro_per_kwh for t in trades)
    return round(value / energy)


class Runner:
    """Runs one scenario on a fresh community in ``directory`` (which must not hold one)."""

    def __init__(
        self,
        scenario: Scenario,
        directory: Path,
        operator_agent: OperatorAgent | None = None,
        block_transactions: int = 2000,
    ) -> None:
        self.scenario = scenario
        self.directory = directory
        self.households = expand_members(scenario)
        self.steps = schedule(scenario)
        self.periods = sorted(
            {
                s.period
                for s in self.steps
                if s.kind not in (DAY_AHEAD_ORDERS, DAY_AHEAD_REVEAL, DAY_AHEAD_CLEAR)
            }
        )
        self.day_ahead = uses_day_ahead(scenario)
        self.intraday = uses_intraday(scenario)
        genesis_time_ms = (self.steps[0].time_s - 10) * 1000
        self.genesis = build_genesis(scenario, self.households, genesis_time_ms)
        directory.mkdir(parents=True, exist_ok=True)
        if (directory / "genesis.json").exists():
            raise ScenarioError("", f"{directory} already holds a community; choose a new --out")
        write_community(directory, scenario, self.households, self.genesis)
        self.client = EmbeddedClient.open(
            directory / "chain.sqlite", self.genesis, max_block_transactions=block_transactions
        )
        if len(self.households) >= WORKER_PROCESSES_FROM:
            # the signature checks and the state hash's lane sums in worker processes, the
            # checks of a step's later blocks while its earlier ones execute
            # (`EmbeddedClient.submit_and_commit`): the second core works too
            self.client.node.verifier.start_processes_and_wait()
        self.operator = Wallet(member_keys(scenario, OPERATOR), self.client)
        self.regulator = Wallet(member_keys(scenario, REGULATOR), self.client)
        self.operator_agent = operator_agent
        self.agents = [self._agent(spec) for spec in self.households]
        regulator = scenario.regulator
        self.cap_policy = make_regulator(regulator.kind, dict(regulator.params))
        self.price_history: list[int] = []
        self.period_prices: dict[int, int] = {}
        """The mean trade price of each cleared period that traded."""
        self.uses_profiles = any(
            group.flexible or group.strategy.kind == "arbitrage" for group in scenario.members
        )
        """Some household plans on the hourly price profile (delayable loads, arbitrage)."""
        self.device_rows = DeviceRows()
        self.time_s = genesis_time_ms // 1000
        self.sealed_openings: dict[str, tuple[Agent, SealedOpening]] = {}
        """Sealed orders' openings by price commitment (hex), until their reveal."""

    def _agent(self, spec: Any) -> Agent:
        group = spec.group
        where = f"members[{spec.group_index}].strategy"
        strategy = make_strategy(
            group.strategy.kind, dict(group.strategy.params), where, self.operator_agent
        )
        trades_from_storage = group.strategy.kind in STORAGE_TRADING
        meter = meter_keys(self.scenario, spec.name)
        return Agent(
            name=spec.name,
            role=group.role,
            household=build_household(self.scenario, spec, trades_from_storage),
            strategy=strategy,
            wallet=Wallet(member_keys(self.scenario, spec.name), self.client),
            meter=meter,
            meter_wallet=Wallet(meter, self.client),
            rng=random.Random(
                f"{draws_key(self.scenario)}/{self.scenario.seed}/{spec.name}/strategy"
            ),
        )

    # -- the clock ---------------------------------------------------------------------------

    def commit(self, time_s: int, raws: list[bytes]) -> None:
        """Submit ``raws`` and cut blocks stamped ``time_s`` until they are all committed."""
        self.time_s = max(self.time_s, time_s)
        result = self.client.submit_and_commit(raws, self.time_s * 1000)
        if result.rejected:
            refused = next(r for r in result.results if r.status == "rejected")
            raise RuntimeError(f"the node refused a simulation transaction: {refused}")

    def run(self, progress: Progress | None = None) -> RunSummary:
        """Run every step; returns the periods run and the chain head."""
        self.commit(
            self.time_s + 1,
            [
                self.operator.sign(
                    "settlement",
                    "fund_grid",
                    {"amount_micro": self.scenario.grid_funding_micro, "reference": "simulation"},
                )
            ]
            if self.scenario.grid_funding_micro
            else [],
        )
        if self.scenario.privacy.stealth_payouts:  # every household is paid in stealth
            self.commit(
                self.time_s + 1,
                [
                    agent.wallet.sign(
                        "privacy", "register_keys", register_keys_args(agent.wallet.keys, True)
                    )
                    for agent in self.agents
                ],
            )
        actions = {
            ORDERS: self.place_orders,
            CLEAR: self.clear,
            READINGS: self.record_readings,
            SETTLE: self.settle,
            OFFERS: self.publish_offers,
            AGREEMENTS: self.sign_agreements,
            DAY_AHEAD_ORDERS: self.place_day_ahead_orders,
            DAY_AHEAD_CLEAR: self.clear_day_ahead,
            ISSUE: self.issue_daily,
            DAY_AHEAD_REVEAL: self.reveal_day_ahead,
        }
        names = {ORDERS: "orders", CLEAR: "clear", READINGS: "readings", SETTLE: "settle"}
        names |= {OFFERS: "offers", AGREEMENTS: "agreements", ISSUE: "issue"}
        names |= {DAY_AHEAD_ORDERS: "day-ahead orders", DAY_AHEAD_CLEAR: "day-ahead clear"}
        names |= {DAY_AHEAD_REVEAL: "day-ahead reveals"}
        for done, step in enumerate(self.steps, start=1):
            actions[step.kind](step.period, step.time_s)
            if progress is not None:
                progress(done, len(self.steps), f"{names[step.kind]} {step.period}")
        if self.scenario.certificates.retire_at_end:
            self.retire_certificates()
        head = self.client.head()
        return RunSummary(list(self.periods), head.height, head.hash, self.device_rows)

    # -- the steps ---------------------------------------------------------------------------

    def issue_daily(self, period: int, time_s: int) -> None:
        """The operator issues the day's currency to every household (seed 004 §3.4)."""
        amount = self.scenario.currency.daily_issue_micro
        self.commit(
            time_s,
            [
                self.operator.sign(
                    "tokens",
                    "mint",
                    {"to": agent.wallet.address, "amount_micro": amount, "reference": "daily"},
                )
                for agent in self.agents
            ],
        )

    def retire_certificates(self) -> None:
        """Every household retires the certificates it holds, for its own consumption."""
        raws = [
            agent.wallet.sign(
                "certificates",
                "retire",
                {
                    "period": holding.period,
                    "producer": holding.producer,
                    "energy_wh": holding.energy_wh,
                    "beneficiary": agent.name,
                    "purpose": "household consumption",
                },
            )
            for agent in self.agents
            for holding in self.client.certificates(agent.wallet.address).holdings
        ]
        self.commit(self.time_s + 1, raws)

    def place_orders(self, period: int, time_s: int) -> None:
        self.regulate(period, time_s - 2)
        if self.operator_agent is not None:
            self.time_s = max(self.time_s, time_s - 1)
            self.operator_agent.before_orders(self, period)
        band = period_band(self.client.parameters(period))
        raws: list[bytes] = []
        profile = self.hourly_profile(period) if self.uses_profiles else ()
        seconds = self.scenario.market.period_seconds
        for agent in self.agents:
            if agent.household.flexible is not None:
                prices = expected_prices(agent.household, band, profile, seconds)
                agent.household.plan_flexible(period * seconds, seconds, prices)
        if not self.intraday:
            self.commit(time_s, raws)
            return
        committed = (
            committed_exports(self.client.market_trades(period).trades) if self.day_ahead else {}
        )
        for agent in self.agents:
            view = self.view(agent, period, band)
            if self.day_ahead:  # bid what the day-ahead trades left open
                left = intraday_position(
                    Position(view.surplus_wh, view.deficit_wh),
                    committed.get(agent.wallet.address, 0),
                )
                surplus = left.surplus_wh if agent.role in SELLING_ROLES else 0
                view = replace(view, surplus_wh=surplus, deficit_wh=left.deficit_wh)
            if profile:
                view = replace(
                    view,
                    hourly_prices_micro_per_kwh=profile,
                    period_of_day=period % len(profile),
                )
            for bid in agent.strategy.bid(view, agent.rng):
                raws.append(agent.wallet.sign("market", "place_order", order_args(bid, period)))
        self.commit(time_s, raws)

    def hourly_profile(self, period: int, days: int = 7) -> tuple[int | None, ...]:
        """The mean of the period mean prices in each period of the day over the ``days``
        days before ``period`` (None where nothing traded)."""
        per_day = 86_400 // self.scenario.market.period_seconds
        sums = [0] * per_day
        counts = [0] * per_day
        for earlier in range(period - days * per_day, period):
            price = self.period_prices.get(earlier)
            if price is not None:
                sums[earlier % per_day] += price
                counts[earlier % per_day] += 1
        return tuple(s // c if c else None for s, c in zip(sums, counts, strict=True))

    def band(self, period: int) -> PriceBand:
        """The period's price band as the chain states it."""
        return period_band(self.client.parameters(period))

    def place_day_ahead_orders(self, day: int, time_s: int) -> None:
        """Every household's day-ahead bids for the products of ``day`` (`simulation.day_ahead`)."""
        self.commit(time_s, day_ahead_transactions(self, day, time_s))

    def reveal_day_ahead(self, day: int, time_s: int) -> None:
        """Every household opens its sealed orders of ``day`` at the gate."""
        self.commit(time_s, reveal_transactions(self, day))

    def clear_day_ahead(self, day: int, time_s: int) -> None:
        """The operator clears the day-ahead auction of ``day`` at its gate."""
        self.commit(time_s, [self.operator.sign("market", "clear_day_ahead", {"day": day})])

    def view(self, agent: Agent, period: int, band: PriceBand | None = None) -> MarketView:
        """What ``agent`` knows of ``period`` before trading: its expected position, prices."""
        seconds = self.scenario.market.period_seconds
        position = agent.household.expected_position(period * seconds, seconds)
        return MarketView(
            period=period,
            prices=band or period_band(self.client.parameters(period)),
            price_history_micro_per_kwh=tuple(self.price_history),
            surplus_wh=position.surplus_wh,
            deficit_wh=position.deficit_wh,
            storage=agent.household.storage_view(seconds),
        )

    def publish_offers(self, period: int, time_s: int) -> None:
        """Seed 001 MakeOffer, in the negotiation window (`simulation.bilateral`)."""
        self.commit(time_s, offer_transactions(self, period))

    def sign_agreements(self, period: int, time_s: int) -> None:
        """Seed 001 AllowTransaction, each block at its agreements' signing time."""
        signed = agreements(self, period)
        for at_s in sorted(signed):
            self.commit(at_s, signed[at_s])

    def regulate(self, period: int, time_s: int) -> None:
        """The regulator posts a new cap for ``period`` (still in the future) if its policy
        proposes one (seed 000 §2.2 (4): damp price swings)."""
        from gridledger.agents.regulator import change_market_arguments

        if self.cap_policy is None:
            return
        band = period_band(self.client.parameters(period))
        proposal = self.cap_policy.propose(period, band, tuple(self.price_history))
        if proposal is not None:
            args = change_market_arguments(proposal)
            self.commit(time_s, [self.regulator.sign("parameters", "change_market", args)])

    def clear(self, period: int, time_s: int) -> None:
        self.commit(time_s, [self.operator.sign("market", "clear", {"period": period})])
        price = mean_price(self.client.market_trades(period).trades)
        if price is not None:
            self.price_history.append(price)
            self.period_prices[period] = price

    def record_readings(self, period: int, time_s: int) -> None:
        seconds = self.scenario.market.period_seconds
        start = period * seconds
        committed = committed_exports(self.client.market_trades(period).trades)
        chain_id = self.client.chain_id()
        raws: list[bytes] = []
        rows: list[dict[str, int | str]] = []
        for agent in self.agents:
            address = agent.wallet.address
            metered = agent.household.deliver(period, start, seconds, committed.get(address, 0))
            rows.append(device_row(period, address, agent.name, metered))
            message = reading_message(
                chain_id, address, period, metered.exported_wh, metered.imported_wh
            )
            args = {
                "member": address,
                "period": period,
                "exported_wh": metered.exported_wh,
                "imported_wh": metered.imported_wh,
                "meter_key": agent.meter.public_key.hex(),
                "signature": agent.meter.sign(message).hex(),
            }
            raws.append(agent.meter_wallet.sign("metering", "record_reading", args))
        raws.append(
            self.operator.sign(
                "metering",
                "anchor_batch",
                {
                    "sha256": self.device_rows.add(period, rows),
                    "label": f"device data, period {period}",
                    "record_count": len(rows),
                },
            )
        )
        self.commit(time_s, raws)

    def settle(self, period: int, time_s: int) -> None:
        self.commit(time_s, [self.operator.sign("settlement", "settle", {"period": period})])
        trades = self.client.market_trades(period).trades
        outcomes = outcomes_of(
            period,
            self.client.market_orders(period).orders,
            trades,
            self.client.statements(period).statements,
            period_band(self.client.parameters(period)).grid_micro_per_kwh,
        )
        nothing = Outcome(period, 0, 0, 0, 0, 0, 0, 0, mean_price(trades))
        for agent in self.agents:
            agent.strategy.learn(outcomes.get(agent.wallet.address, nothing))

    def close(self) -> None:
        self.client.close()


def order_args(bid: Bid, period: int) -> dict[str, Any]:
    return {
        "side": bid.side,
        "energy_wh": bid.energy_wh,
        "price_micro_per_kwh": bid.price_micro_per_kwh,
        "period": period,
    }


def committed_exports(trades: Sequence[TradeReply]) -> dict[str, int]:
    """Per member, energy sold minus energy bought in the period's trades (Wh)."""
    net: dict[str, int] = {}
    for trade in trades:
        net[trade.seller] = net.get(trade.seller, 0) + trade.energy_wh
        net[trade.buyer] = net.get(trade.buyer, 0) - trade.energy_wh
    return net


def device_row(period: int, address: str, name: str, metered: Metered) -> dict[str, int | str]:
    return {
        "period": period,
        "member": address,
        "name": name,
        "generation_wh": metered.generation_wh,
        "consumption_wh": metered.consumption_wh,
        "charged_wh": metered.charged_wh,
        "discharged_wh": metered.discharged_wh,
        "state_of_charge_wh": metered.state_of_charge_wh,
        "exported_wh": metered.exported_wh,
        "imported_wh": metered.imported_wh,
    }


def outcomes_of(
    period: int,
    orders: Sequence[OrderReply],
    trades: Sequence[TradeReply],
    statements: Sequence[StatementReply],
    grid_price_micro_per_kwh: int,
) -> dict[str, Outcome]:
    """What became of every member's bids in a settled period, from the chain's records.

    Members without orders, trades or a statement are absent (their outcome is all zeros).
    """
    price = mean_price(trades)
    totals: dict[str, dict[str, int]] = {}

    def of(member: str) -> dict[str, int]:
        return totals.setdefault(member, dict.fromkeys(OUTCOME_FIELDS, 0))

    for order in orders:
        side = "offered_wh" if order.side == "sell" else "wanted_wh"
        of(order.owner)[side] += order.energy_wh
    for trade in trades:
        seller, buyer = of(trade.seller), of(trade.buyer)
        seller["sold_wh"] += trade.energy_wh
        seller["sold_value_micro"] += trade.value_micro
        buyer["bought_wh"] += trade.energy_wh
        buyer["bought_value_micro"] += trade.value_micro
    for statement in statements:
        shortfall = trade_value_micro(statement.shortfall_wh, grid_price_micro_per_kwh)
        of(statement.member)["penalty_micro"] += statement.penalised_micro + shortfall
    return {
        member: Outcome(period=period, mean_price_micro_per_kwh=price, **values)
        for member, values in totals.items()
    }


OUTCOME_FIELDS = (
    "offered_wh",
    "sold_wh",
    "wanted_wh",
    "bought_wh",
    "sold_value_micro",
    "bought_value_micro",
    "penalty_micro",
)


def run_scenario(
    scenario: Scenario,
    directory: Path,
    progress: Progress | None = None,
    operator_agent: OperatorAgent | None = None,
) -> tuple[Runner, RunSummary]:
    """Run a scenario into ``directory``; the caller reads results and then closes the runner."""
    runner = Runner(scenario, directory, operator_agent)
    try:
        summary = runner.run(progress)
    except BaseException:
        runner.close()
        raise
    return runner, summary


def expected_prices(
    household: Household, band: PriceBand, profile: tuple[int | None, ...], seconds: int
) -> Callable[[list[int]], list[int]]:
    """The price a household with delayable loads expects for each period start it is asked:
    the feed-in price where its own device models give a surplus (its own energy is worth
    only that), else the community's price in that period of the day (`Runner.hourly_profile`),
    else the grid price."""

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
