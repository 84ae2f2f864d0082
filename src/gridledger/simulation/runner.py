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
expect (`households.expected_prices`).

Steps of neighbouring periods interleave; they run in time order (`steps.schedule`).
What each step signs is built in `simulation.step_transactions`, what it reads back in
`simulation.period_outcomes`; the runner holds the clock and the run's state. Agents and
the runner use only the client (`EmbeddedClient`, which opens the node and cuts
blocks at simulated times); the runner never imports the node.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from gridledger.agents.household import Position
from gridledger.agents.interfaces import MarketView, Outcome, PriceBand
from gridledger.client import Wallet
from gridledger.market import SealedOpening
from gridledger.simulation.bilateral import (
    agreements,
    offer_transactions,
)
from gridledger.simulation.community import (
    OPERATOR,
    REGULATOR,
    build_genesis,
    expand_members,
    member_keys,
    meter_keys,
    open_community,
)
from gridledger.simulation.day_ahead import (
    day_ahead_transactions,
    intraday_position,
    reveal_transactions,
    uses_day_ahead,
    uses_intraday,
)
from gridledger.simulation.device_rows import DeviceRows
from gridledger.simulation.households import Agent, build_household, expected_prices
from gridledger.simulation.period_outcomes import (
    committed_exports,
    mean_price,
    outcomes_of,
    period_band,
)
from gridledger.simulation.scenario import Scenario, draws_key
from gridledger.simulation.step_transactions import (
    daily_issue_transactions,
    grid_funding_transactions,
    order_args,
    reading_transactions,
    retirement_transactions,
    stealth_registrations,
)
from gridledger.simulation.steps import (
    AGREEMENTS,
    CLEAR,
    DAY_AHEAD_CLEAR,
    DAY_AHEAD_ORDERS,
    DAY_AHEAD_REVEAL,
    ISSUE,
    OFFERS,
    ORDERS,
    READINGS,
    SETTLE,
    STEP_NAMES,
    schedule,
)
from gridledger.simulation.strategies import STORAGE_TRADING, make_regulator, make_strategy

SELLING_ROLES = ("producer", "prosumer", "storage")
"""Roles that may sell: a consumer that bought more day-ahead than it needs keeps it."""


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
        self.client = open_community(
            directory, scenario, self.households, self.genesis, block_transactions
        )
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
        self.commit(self.time_s + 1, grid_funding_transactions(self.scenario, self.operator))
        if self.scenario.privacy.stealth_payouts:  # every household is paid in stealth
            self.commit(self.time_s + 1, stealth_registrations(self.agents))
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
        for done, step in enumerate(self.steps, start=1):
            actions[step.kind](step.period, step.time_s)
            if progress is not None:
                progress(done, len(self.steps), f"{STEP_NAMES[step.kind]} {step.period}")
        if self.scenario.certificates.retire_at_end:
            self.retire_certificates()
        head = self.client.head()
        return RunSummary(list(self.periods), head.height, head.hash, self.device_rows)

    # -- the steps ---------------------------------------------------------------------------

    def issue_daily(self, period: int, time_s: int) -> None:
        """The operator issues the day's currency to every household (seed 004 §3.4)."""
        amount = self.scenario.currency.daily_issue_micro
        self.commit(time_s, daily_issue_transactions(self.operator, self.agents, amount))

    def retire_certificates(self) -> None:
        """Every household retires the certificates it holds, for its own consumption."""
        self.commit(self.time_s + 1, retirement_transactions(self.client, self.agents))

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
        """Every household's meter reading of ``period`` and the anchor of its device data."""
        seconds = self.scenario.market.period_seconds
        committed = committed_exports(self.client.market_trades(period).trades)
        chain_id = self.client.chain_id()
        raws = reading_transactions(
            self.agents, self.operator, self.device_rows, chain_id, period, seconds, committed
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
