"""community30_private: sealed day-ahead bids and stealth payouts for everyone clear the same
trades and pay every member the same money as the same households in plain view."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from gridledger.client.privacy import scan_outputs, stealth_keys_of
from gridledger.simulation.runner import Runner, run_scenario
from gridledger.simulation.scenario import PrivacySpec, ScenarioError, with_periods
from gridledger.simulation.scenario_files import decode_scenario, load_scenario
from gridledger.simulation.steps import DAY_AHEAD_CLEAR, DAY_AHEAD_REVEAL

PERIODS = 24
"""One delivery day (the shipped scenario runs two): both runs together take about a minute."""


def runs(tmp: Path) -> Iterator[tuple[Runner, Runner]]:
    private = with_periods(load_scenario("community30_private"), PERIODS)
    plain = msgspec.structs.replace(
        private, privacy=PrivacySpec(sealed_orders=False, stealth_payouts=False)
    )
    sealed_runner, _ = run_scenario(private, tmp / "private")
    plain_runner, _ = run_scenario(plain, tmp / "plain")
    try:
        yield sealed_runner, plain_runner
    finally:
        sealed_runner.close()
        plain_runner.close()


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runner, Runner]]:
    yield from runs(tmp_path_factory.mktemp("private"))


def trades_of(runner: Runner) -> list[tuple[Any, ...]]:
    return [
        (
            t.period,
            t.buy_order_id,
            t.sell_order_id,
            t.buyer,
            t.seller,
            t.energy_wh,
            t.price_micro_per_kwh,
            t.value_micro,
        )
        for period in runner.periods
        for t in runner.client.market_trades(period).trades
    ]


def test_both_clear_the_same_trades(both: tuple[Runner, Runner]) -> None:
    private, plain = both
    traded = trades_of(plain)
    assert len(traded) > 50
    assert trades_of(private) == traded
    day = private.periods[0] * 3600 // 86_400
    orders = private.client.market_day_ahead(day).orders
    assert orders and all(o.sealed is not None and o.sealed.revealed for o in orders)
    assert all(o.sealed is None for o in plain.client.market_day_ahead(day).orders)


def test_every_member_gets_the_same_money(both: tuple[Runner, Runner]) -> None:
    """Per member: the stealth outputs its scan finds hold exactly what settlement paid it in
    plain view beyond what its own account shows in the private run; so its own balance plus
    its outputs is its plain balance. One payout per settled period at most, none to others."""
    private, plain = both
    found_any = 0
    seen: set[str] = set()
    for secret_agent, plain_agent in zip(private.agents, plain.agents, strict=True):
        address = plain_agent.wallet.address
        assert secret_agent.wallet.address == address
        found = scan_outputs(private.client, stealth_keys_of(secret_agent.wallet.keys))
        assert {o.output.kind for o in found} <= {"payout"}
        periods = [o.output.period for o in found]
        assert len(periods) == len(set(periods)) and set(periods) <= set(private.periods)
        accounts = {o.output.one_time_account for o in found}
        assert not accounts & seen  # nobody else's scan finds them
        seen |= accounts
        outputs = sum(o.output.amount_micro for o in found)
        mine = private.client.account(address).balance_micro
        assert mine + outputs == plain.client.account(address).balance_micro, secret_agent.name
        found_any += len(found)
    assert found_any > 0
    assert found_any == private.client.stealth_outputs(0, 10_000).count


def test_the_private_run_has_reveals_and_waits_for_the_window() -> None:
    scenario = with_periods(load_scenario("community30_private"), PERIODS)
    from gridledger.simulation.steps import schedule

    steps = schedule(scenario)
    [reveal] = [s for s in steps if s.kind == DAY_AHEAD_REVEAL]
    [clear] = [s for s in steps if s.kind == DAY_AHEAD_CLEAR]
    assert clear.time_s - reveal.time_s == scenario.market.sealed_reveal_window_seconds == 600


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"privacy": {"sealed_orders": True}}, "privacy.sealed_orders"),
        (
            {"market": {"sealed_reveal_window_seconds": 60}},
            "market.sealed_reveal_window_seconds",
        ),
        (
            {
                "market": {
                    "stages": ["day_ahead"],
                    "mechanism": "continuous",
                    "sealed_reveal_window_seconds": 43_000,
                }
            },
            "market.sealed_reveal_window_seconds",
        ),
        ({"privacy": {"sealed_max_energy_wh": 1}}, "privacy.sealed_max_energy_wh"),
    ],
)
def test_bad_privacy_settings_are_refused(changes: dict[str, Any], field: str) -> None:
    from tests.simulation.small import small_data

    with pytest.raises(ScenarioError, match=field.replace(".", r"\.")):
        decode_scenario(small_data(**changes))


def test_simulate_reports_what_a_private_run_hid(tmp_path: Path) -> None:
    from gridledger.simulation.simulate import simulate

    shipped = with_periods(load_scenario("community30_private"), 3)
    sunny = msgspec.structs.replace(shipped.horizon, start="2024-06-03T11:00:00Z")
    scenario = msgspec.structs.replace(shipped, horizon=sunny)  # three hours around noon
    kpis = simulate(scenario, tmp_path / "out")
    privacy = kpis["privacy"]
    placed = kpis["chain"]["transactions"]["by_method"]["market.place_sealed_day_ahead_order"]
    assert privacy["sealed_orders"] == placed["ok"] == privacy["sealed_revealed"] > 0
    assert privacy["sealed_unrevealed"] == privacy["plain_day_ahead_orders"] == 0
    assert privacy["stealth_payouts"] > 0 and privacy["stealth_payout_micro"] > 0
    assert "stealth payouts" in (tmp_path / "out" / "report.html").read_text()
    plain = msgspec.structs.replace(scenario, privacy=PrivacySpec())
    assert "privacy" not in simulate(plain, tmp_path / "plain")
