"""The day-ahead stage in a simulation: households bid the next day's hours at its gate.

With ``market.stages`` naming ``day_ahead`` the community's genesis offers the
day-ahead auction (`contracts.market_day_ahead`) and the runner adds two steps
per delivery day of the horizon:

1. orders, a minute before the day's gate (``day_ahead_gate_seconds`` before the
   day starts, noon the day before by default): every household forecasts each
   hour of the day from its device models alone (clear-sky PV, standard load
   profile: a day ahead it knows nothing of the day's clouds and behaviour) with
   its battery dispatched for self-consumption on a copy, and its strategy bids
   each hour's position as ``market.place_day_ahead_order``;
2. the clear, at the gate: the operator sends ``market.clear_day_ahead``.

With ``privacy.sealed_orders`` the orders of step 1 are sealed (`sealed_transaction`:
commitments and range proofs, blindings derived from the scenario's seed so that runs
repeat), every household reveals them at the gate (``day_ahead_reveal``), and the clear
waits for the end of the reveal window (``market.sealed_reveal_window_seconds``; with a
window named the clear is at its end even with plain orders, so that the plain twin of a
private scenario clears at the same moment).

Then, with ``intraday`` also named, each period's own market runs as before,
and a household bids there only the difference between its hour-ahead
forecast and what it bought or sold the day before (`intraday_position`): the
intraday market corrects the day-ahead forecast error. Settlement charges
what is left at the imbalance terms, as always.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gridledger.agents.household import Position, split_net
from gridledger.agents.interfaces import MarketView
from gridledger.market import seal_order
from gridledger.simulation.scenario import Scenario, draws_key

__all__ = [
    "day_ahead_steps",
    "day_ahead_transactions",
    "intraday_position",
    "products_of_day",
    "reveal_transactions",
    "uses_day_ahead",
    "uses_intraday",
]

DAY_SECONDS = 86_400
ORDER_LEAD_SECONDS = 60
"""Day-ahead orders are sent this long before the gate."""


def uses_day_ahead(scenario: Scenario) -> bool:
    return "day_ahead" in scenario.market.stages


def uses_intraday(scenario: Scenario) -> bool:
    return "intraday" in scenario.market.stages


def day_of(period: int, period_seconds: int) -> int:
    return period * period_seconds // DAY_SECONDS


def products_of_day(day: int, periods: Iterable[int], period_seconds: int) -> list[int]:
    """The periods of ``periods`` that belong to delivery day ``day``, ascending."""
    return sorted(p for p in periods if day_of(p, period_seconds) == day)


def day_ahead_steps(scenario: Scenario, periods: Iterable[int]) -> list[tuple[int, str, int]]:
    """(time_s, "day_ahead_orders" | "day_ahead_clear", day) for each delivery day."""
    market = scenario.market
    days = sorted({day_of(p, market.period_seconds) for p in periods})
    steps = []
    window = market.sealed_reveal_window_seconds
    for day in days:
        gate = day * DAY_SECONDS - market.day_ahead_gate_seconds
        steps.append((gate - ORDER_LEAD_SECONDS, "day_ahead_orders", day))
        if scenario.privacy.sealed_orders:
            steps.append((gate, "day_ahead_reveal", day))
        steps.append((gate if window is None else gate + window, "day_ahead_clear", day))
    return steps


def sealed_seed(runner: Any, agent: Any, period: int, side: str) -> bytes:
    """What a simulated household derives its blindings from (`seal_order`): reproducible
    runs need them fixed; a real member draws them at random (the CLI does)."""
    scenario = runner.scenario
    text = f"{draws_key(scenario)}/{scenario.seed}/{agent.name}/sealed/{period}/{side}"
    return text.encode()


def sealed_transaction(runner: Any, agent: Any, args: dict[str, Any]) -> bytes:
    """The household's order ``args`` sealed (`market.place_sealed_day_ahead_order`); its
    opening is kept by the runner under the price commitment, for the reveal."""
    band = runner.band(args["period"])
    energy = args["energy_wh"]
    maximum = max(runner.scenario.privacy.sealed_max_energy_wh, energy)
    order, opening = seal_order(
        agent.wallet.address,
        args["side"],
        args["period"],
        args["price_micro_per_kwh"],
        energy,
        maximum,
        band.feed_in_micro_per_kwh,
        band.cap_micro_per_kwh,
        seed=sealed_seed(runner, agent, args["period"], args["side"]),
    )
    runner.sealed_openings[order.price_commitment.hex()] = (agent, opening)
    raw: bytes = agent.wallet.sign("market", "place_sealed_day_ahead_order", order.place_args())
    return raw


def reveal_transactions(runner: Any, day: int) -> list[bytes]:
    """Every household's reveal of its sealed orders of ``day``, in order-id order."""
    raws = []
    for order in runner.client.market_day_ahead(day).orders:
        if order.sealed is None or order.sealed.revealed:
            continue
        agent, opening = runner.sealed_openings.pop(order.sealed.price_commitment)
        raws.append(
            agent.wallet.sign(
                "market", "reveal_day_ahead_order", opening.reveal_args(order.order_id)
            )
        )
    return raws


def day_ahead_transactions(runner: Any, day: int, time_s: int) -> list[bytes]:
    """Every household's ``place_day_ahead_order`` for the products of ``day``."""
    seconds = runner.scenario.market.period_seconds
    products = products_of_day(day, runner.periods, seconds)
    if not products:
        return []
    now_period_start = time_s // seconds * seconds
    bands = {p: runner.band(p) for p in products}
    raws: list[bytes] = []
    for agent in runner.agents:
        positions = agent.household.day_ahead_positions(
            now_period_start, [p * seconds for p in products], seconds
        )
        for period, position in zip(products, positions, strict=True):
            view = MarketView(
                period=period,
                prices=bands[period],
                price_history_micro_per_kwh=tuple(runner.price_history),
                surplus_wh=position.surplus_wh,
                deficit_wh=position.deficit_wh,
            )
            for bid in agent.strategy.bid(view, agent.rng):
                args = {
                    "side": bid.side,
                    "energy_wh": bid.energy_wh,
                    "price_micro_per_kwh": bid.price_micro_per_kwh,
                    "period": period,
                }
                if runner.scenario.privacy.sealed_orders:
                    raws.append(sealed_transaction(runner, agent, args))
                else:
                    raws.append(agent.wallet.sign("market", "place_day_ahead_order", args))
    return raws


def intraday_position(expected: Position, committed_export_wh: int) -> Position:
    """What is left to trade intraday: the expected net export less what was sold day-ahead
    (plus what was bought), as surplus or deficit."""
    surplus, deficit = split_net(expected.surplus_wh - expected.deficit_wh - committed_export_wh)
    return Position(surplus, deficit)
