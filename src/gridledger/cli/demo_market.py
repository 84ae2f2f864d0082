"""The demo's trading day: five households trade three hourly periods on the chain.

Every step is a signed transaction in a block stamped with the demo's clock, which the
script moves through yesterday's late morning (UTC), as the simulation runner moves its
own (`gridledger.simulation.runner`):

1. orders, ten minutes before each period's gate closure: each household signs
   ``market.place_order`` for what its panels, battery or load will do;
2. matching, at gate closure: the operator sends ``market.clear`` and the chain matches
   the book (seed 000's high-low matching, each trade at the midpoint);
3. readings, just after the period: each household's smart meter signs what it measured
   (``metering.record_reading``); at noon a cloud takes 30 % of carol's output, so she
   delivers less than she sold;
4. settlement, when the meter window closes: the operator sends ``settlement.settle``;
   carol's shortfall is bought from the grid at the grid price for her buyers and charged
   to her (seed 003's error compensation).

The households' plans (orders, loads) are the script's; everything after them, matching,
prices, statements and charges, is the chain's, read back through the client.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.table import Table

from gridledger.client import Wallet
from gridledger.client.market_replies import StatementReply, TradeReply
from gridledger.client.replies import TransactionReply
from gridledger.crypto import KeyPair
from gridledger.market import trade_value_micro

if TYPE_CHECKING:  # the node (and its contracts, numpy): only `gridledger demo` loads it
    from gridledger.client.embedded import EmbeddedClient

HOUR_S = 3600
DAY_S = 86_400
FIRST_HOUR_UTC = 11
"""The first period delivers from 11:00 UTC yesterday."""
HOURS = 3
ORDERS_LEAD_S = 600
"""Orders are placed this long before gate closure."""
READINGS_AFTER_S = 60
"""Meters report this long after a period ends."""

UNIT = 1_000_000
"""Micro-units per unit of the community currency."""

HOUSEHOLDS = (
    ("alice", "prosumer", "4 kW of solar panels on a family home"),
    ("bob", "consumer", "a flat with an electric cooker, no panels"),
    ("carol", "producer", "6 kW of solar panels on a barn"),
    ("dave", "storage", "a 10 kWh battery: charges at noon, sells in the afternoon"),
    ("erin", "prosumer", "the new member: 4.8 kW of solar panels"),
)

Order = tuple[str, str, int, int]
"""(household, side, energy in Wh, limit price in micro-units per kWh)."""

ORDERS: tuple[tuple[Order, ...], ...] = (
    (  # 11:00, sunny
        ("carol", "sell", 2500, 780_000),
        ("alice", "sell", 1200, 790_000),
        ("bob", "buy", 1800, 840_000),
        ("dave", "buy", 1500, 800_000),
    ),
    (  # 12:00, carol's panels will be under a cloud
        ("carol", "sell", 3000, 775_000),
        ("erin", "sell", 800, 782_000),
        ("alice", "sell", 600, 795_000),
        ("bob", "buy", 2200, 845_000),
        ("dave", "buy", 1800, 805_000),
    ),
    (  # 13:00, the battery sells back
        ("dave", "sell", 1500, 800_000),
        ("carol", "sell", 1200, 785_000),
        ("bob", "buy", 2000, 835_000),
        ("alice", "buy", 600, 820_000),
    ),
)
OWN_LOAD_WH: tuple[dict[str, int], ...] = (
    {"bob": 300, "erin": 150},
    {"bob": 250, "alice": 100},
    {"bob": 400, "erin": 200},
)
"""Consumption beyond what a household bought, per hour (it comes from the grid)."""
CLOUD = ("carol", 1, 70)
"""(household, hour, percent of its offer its panels deliver): the demo's shortfall."""


class DemoClock:
    """The node's clock: the time the script sets, or the wall clock once it lets go."""

    def __init__(self, ms: int) -> None:
        self.ms: int | None = ms

    def __call__(self) -> int:
        return time.time_ns() // 1_000_000 if self.ms is None else self.ms

    def at(self, seconds: int) -> None:
        self.ms = seconds * 1000

    def release(self) -> None:
        """From now on, the wall clock (the demo's day lies before it)."""
        self.ms = None


def demo_day_start_s(now_s: int) -> int:
    """Midnight UTC of the day before `now_s`: the demo trades on yesterday's late morning,
    so the whole day lies in the past and a node started later stamps its blocks after it."""
    return (now_s // DAY_S - 1) * DAY_S


def genesis_time_ms(now_s: int) -> int:
    """The community starts an hour before the first orders (10:00 UTC yesterday)."""
    return (demo_day_start_s(now_s) + (FIRST_HOUR_UTC - 1) * HOUR_S) * 1000


class DemoRefused(Exception):
    """The node refused one of the demo's transactions (at admission or in its block)."""

    def __init__(self, transaction_id: str, reason: str) -> None:
        self.transaction_id = transaction_id
        self.reason = reason
        super().__init__(f"the node refused demo transaction {transaction_id[:16]}: {reason}")


def commit_at(client: EmbeddedClient, clock: DemoClock, time_s: int, raws: Sequence[bytes]) -> int:
    """Submit `raws`, cut blocks stamped `time_s` until they are committed; the blocks cut.

    Every transaction must be admitted and committed with result ok (`DemoRefused`
    otherwise): the demo's steps are meant to go through. The clock is set first, so a
    block the API's cutter may cut meanwhile bears the same time.
    """
    clock.at(time_s)
    batch = client.submit_batch(list(raws))
    for admitted in batch.results:
        if admitted.status == "rejected":
            raise DemoRefused(admitted.id, admitted.message or str(admitted.error))
    cut = len(client.commit(time_s * 1000))
    for admitted in batch.results:
        receipt = client.transaction(admitted.id)
        if not isinstance(receipt, TransactionReply):
            raise DemoRefused(admitted.id, "not committed")
        if receipt.code != 0:
            raise DemoRefused(admitted.id, f"{receipt.result}: {receipt.message}")
    return cut


@dataclass(frozen=True)
class Member:
    """A household's wallet and its smart meter's key, both over the embedded client."""

    name: str
    wallet: Wallet
    meter: KeyPair
    meter_wallet: Wallet


@dataclass(frozen=True)
class DayResult:
    periods: list[int]
    shortfall_period: int
    blocks: int


class TradingDay:
    """Runs the trading day on `client`, cutting each step's block at its time on `clock`."""

    def __init__(
        self,
        client: EmbeddedClient,
        clock: DemoClock,
        members: dict[str, Member],
        operator: Wallet,
        first_period: int,
    ) -> None:
        self.client = client
        self.clock = clock
        self.members = members
        self.operator = operator
        length = client.parameters(first_period).parameters.period_seconds
        if length != HOUR_S:
            raise ValueError(f"the demo trades hourly periods; this community's last {length} s")
        self.periods = [first_period + hour for hour in range(HOURS)]
        self.blocks = 0

    def commit(self, time_s: int, raws: list[bytes]) -> None:
        self.blocks += commit_at(self.client, self.clock, time_s, raws)

    def run(self) -> DayResult:
        """Every step of every period, in time order."""
        periods = self.periods
        steps: list[tuple[int, int, Callable[[int, int], None]]] = []
        for hour, period in enumerate(periods):
            start = period * HOUR_S
            gate = start - self.gate_closure_s(period)
            steps.append((gate - ORDERS_LEAD_S, hour, self.place_orders))
            steps.append((gate, hour, self.match))
            steps.append((start + HOUR_S + READINGS_AFTER_S, hour, self.read_meters))
            steps.append((start + HOUR_S + self.meter_window_s(period), hour, self.settle))
        for time_s, hour, step in sorted(steps, key=lambda s: (s[0], s[1])):
            step(periods[hour], time_s)
        return DayResult(periods, periods[CLOUD[1]], self.blocks)

    def gate_closure_s(self, period: int) -> int:
        return self.client.parameters(period).parameters.gate_closure_seconds

    def meter_window_s(self, period: int) -> int:
        return self.client.parameters(period).parameters.meter_window_seconds

    # -- the steps ---------------------------------------------------------------------------

    def place_orders(self, period: int, time_s: int) -> None:
        hour = self.hour_of(period)
        raws = [
            self.members[name].wallet.sign(
                "market",
                "place_order",
                {"side": side, "energy_wh": energy, "price_micro_per_kwh": price, "period": period},
            )
            for name, side, energy, price in ORDERS[hour]
        ]
        self.commit(time_s, raws)

    def match(self, period: int, time_s: int) -> None:
        self.commit(time_s, [self.operator.sign("market", "clear", {"period": period})])

    def read_meters(self, period: int, time_s: int) -> None:
        from gridledger.contracts.metering import reading_message

        hour = self.hour_of(period)
        chain_id = self.client.chain_id()
        raws = []
        trades = self.client.market_trades(period).trades
        for name, member in self.members.items():
            exported, imported = metered(name, hour, trades, member.wallet.address)
            address = member.wallet.address
            message = reading_message(chain_id, address, period, exported, imported)
            args = {
                "member": address,
                "period": period,
                "exported_wh": exported,
                "imported_wh": imported,
                "meter_key": member.meter.public_key.hex(),
                "signature": member.meter.sign(message).hex(),
            }
            raws.append(member.meter_wallet.sign("metering", "record_reading", args))
        self.commit(time_s, raws)

    def settle(self, period: int, time_s: int) -> None:
        self.commit(time_s, [self.operator.sign("settlement", "settle", {"period": period})])

    def hour_of(self, period: int) -> int:
        return period - self.periods[0]


def metered(name: str, hour: int, trades: Sequence[TradeReply], address: str) -> tuple[int, int]:
    """What `name`'s meter measures in `hour` (exported, imported Wh): a seller exports all it
    offered (what it did not sell goes to the grid), except under the cloud; a buyer imports
    what it bought and its own load beyond that."""
    offered = sum(e for who, side, e, _ in ORDERS[hour] if who == name and side == "sell")
    bought = sum(t.energy_wh for t in trades if t.buyer == address)
    exported = offered
    cloud_name, cloud_hour, percent = CLOUD
    if (name, hour) == (cloud_name, cloud_hour):
        exported = offered * percent // 100
    return exported, bought + OWN_LOAD_WH[hour].get(name, 0)


# -- what the demo prints -----------------------------------------------------------------


def kwh(energy_wh: int) -> str:
    return f"{energy_wh / 1000:,.3f}"


def units(amount_micro: int) -> str:
    return f"{amount_micro / UNIT:,.4f}"


def hour_label(period: int) -> str:
    return time.strftime("%H:%M", time.gmtime(period * HOUR_S))


def households_table() -> Table:
    table = Table("household", "role", "what it has", title="The households")
    for name, role, devices in HOUSEHOLDS:
        table.add_row(name, role, devices)
    return table


def orders_table(client: EmbeddedClient, periods: Sequence[int], names: dict[str, str]) -> Table:
    """Every order of the day as the chain holds it after matching."""
    table = Table(
        "hour", "order", "household", "side", "kWh", "limit", "filled kWh", "status",
        title="Orders, each a signed market.place_order (limits in units/kWh)",
    )  # fmt: skip
    for period in periods:
        for order in client.market_orders(period).orders:
            table.add_row(
                hour_label(period),
                order.order_id.removeprefix(f"{period}-"),
                names.get(order.owner, order.owner),
                order.side,
                kwh(order.energy_wh),
                units(order.price_micro_per_kwh),
                kwh(order.filled_wh),
                order.status,
            )
    return table


def trades_table(client: EmbeddedClient, periods: Sequence[int], names: dict[str, str]) -> Table:
    """Every trade of the day: the matching's result."""
    table = Table(
        "hour", "trade", "seller", "buyer", "kWh", "bid", "ask", "price", "value",
        title="Trades: the operator's market.clear at gate closure matched the highest bid "
        "with the lowest ask, at their midpoint (prices in units/kWh, values in units)",
    )  # fmt: skip
    for period in periods:
        for trade in client.market_trades(period).trades:
            table.add_row(
                hour_label(period),
                trade.trade_id.removeprefix(f"{period}-"),
                names.get(trade.seller, trade.seller),
                names.get(trade.buyer, trade.buyer),
                kwh(trade.energy_wh),
                units(trade.bid_price_micro_per_kwh),
                units(trade.ask_price_micro_per_kwh),
                units(trade.price_micro_per_kwh),
                units(trade.value_micro),
            )
    return table


def periods_table(client: EmbeddedClient, periods: Sequence[int]) -> Table:
    """Each period's metering and settlement, as the chain recorded them."""
    table = Table(
        "hour", "meters", "exported", "imported", "traded", "from grid", "to grid",
        "settled in block", title="Meter readings (signed by each meter) and settlement, in kWh",
    )  # fmt: skip
    for period in periods:
        statements = client.statements(period).statements
        summary = client.settlement(period).summary
        if summary is None:
            raise RuntimeError(f"period {period} was not settled")
        table.add_row(
            hour_label(period),
            str(sum(1 for s in statements if s.reading == "metered")),
            kwh(sum(s.delivered_wh for s in statements)),
            kwh(sum(s.consumed_wh for s in statements)),
            kwh(summary.traded_wh),
            kwh(summary.grid_supplied_wh),
            kwh(summary.grid_taken_wh),
            str(summary.height),
        )
    return table


def statement_rows(s: StatementReply, grid_price: int) -> list[tuple[str, str]]:
    """A statement as (what, value) rows, the shortfall's imbalance charge spelled out."""
    imbalance = trade_value_micro(s.shortfall_wh, grid_price)
    mean = s.received_trades_micro * 1000 // s.sold_wh if s.sold_wh else 0
    rows = [
        ("energy sold (kWh)", kwh(s.sold_wh)),
        ("energy exported, metered (kWh)", kwh(s.delivered_wh)),
        ("delivered to buyers (kWh)", kwh(s.sold_delivered_wh)),
        ("shortfall, bought from the grid for the buyers (kWh)", kwh(s.shortfall_wh)),
        ("surplus sold to the grid (kWh)", kwh(s.surplus_wh)),
        ("mean price of its trades (units/kWh)", units(mean)),
        ("received for its trades (units)", units(s.received_trades_micro)),
        (
            f"imbalance charge: shortfall x grid price {units(grid_price)} (units)",
            units(imbalance),
        ),
        ("other grid energy charged (units)", units(s.grid_charge_micro - imbalance)),
        ("credited for feed-in (units)", units(s.grid_credit_micro)),
        ("breakdown penalty (units)", units(s.penalised_micro)),
        ("net for the period (units)", units(s.net_micro)),
    ]
    return rows


def statement_table(client: EmbeddedClient, period: int, member: Member) -> Table:
    statement = client.statement(period, member.wallet.address)
    grid_price = client.parameters(period).parameters.grid_price_micro_per_kwh
    table = Table(
        "", "value", title=f"{member.name}'s settlement statement, {hour_label(period)} UTC"
    )
    for what, value in statement_rows(statement, grid_price):
        table.add_row(what, value)
    return table


def shortfall_line(client: EmbeddedClient, period: int, member: Member) -> str:
    s = client.statement(period, member.wallet.address)
    return (
        f"[yellow]shortfall[/yellow]: a cloud passed over {member.name}'s panels at "
        f"{hour_label(period)} UTC; her meter signed {kwh(s.delivered_wh)} kWh exported of the "
        f"{kwh(s.sold_wh)} kWh she sold, {kwh(s.shortfall_wh)} kWh short. Her buyers still got "
        "their energy (from the grid) at the trade price; she pays the grid for it."
    )
