"""Conservation in every settled period of the issue 13 scenarios (day-ahead + intraday,
flexible demand and storage): re-checked from what the chain holds, not from the runner.

Per period: every member's energy splits exactly into traded, grid and imbalance parts
(sold = delivered + shortfall, exported = delivered + surplus, bought = consumed +
excess, imported = consumed + unmet); the period's metered and grid energy balance;
what buyers paid for trades is what left escrow and what sellers received; what the grid
account got and paid is what the statements charge and credit. Over the run: the money
supply is unchanged and the escrow and clearing accounts end empty.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gridledger.client import EmbeddedClient
from gridledger.client.privacy import scan_outputs, stealth_keys_of
from gridledger.contracts.market_state import ESCROW
from gridledger.contracts.settlement import CLEARING
from gridledger.contracts.tokens import balance_of, total_supply
from gridledger.ledger import load_genesis
from gridledger.simulation.community import expand_members, member_keys
from gridledger.simulation.scenario import Scenario, with_periods
from gridledger.simulation.scenario_files import load_scenario
from gridledger.simulation.simulate import simulate
from tests.conservation import assert_period_conserved

SCENARIOS = {
    "community40_day_ahead": 30,  # crosses into the second day: two day-ahead auctions
    "community40_intraday": 6,
    "community40_flexible": 30,  # a whole day of delayable loads and arbitrage
    "community40_inflexible": 30,
    "community30_private": 6,  # sealed bids and stealth payouts
}


def check_period(client: EmbeddedClient, period: int) -> None:
    summary = client.settlement(period).summary
    assert summary is not None, f"period {period} was not settled"
    statements = client.statements(period).statements
    trades = client.market_trades(period).trades
    for s in statements:
        assert s.sold_wh == s.sold_delivered_wh + s.shortfall_wh, s
        assert s.delivered_wh == s.sold_delivered_wh + s.surplus_wh, s
        assert s.bought_wh == s.bought_consumed_wh + s.excess_wh, s
        assert s.consumed_wh == s.bought_consumed_wh + s.unmet_wh, s
        assert s.net_micro == s.received_micro - s.paid_micro - s.penalised_micro, s
    members = [t for t in trades if t.kind in ("order", "bilateral")]
    assert sum(s.sold_wh for s in statements) == sum(t.energy_wh for t in members)
    assert sum(s.bought_wh for s in statements) == sum(t.energy_wh for t in members)
    exported = sum(s.delivered_wh for s in statements)
    imported = sum(s.consumed_wh for s in statements)
    assert exported + summary.grid_supplied_wh == imported + summary.grid_taken_wh
    value = sum(t.value_micro for t in members)
    assert sum(s.paid_trades_micro for s in statements) == value == summary.escrow_paid_micro
    assert sum(s.received_trades_micro for s in statements) == value
    charged = sum(s.grid_charge_micro + s.penalised_micro for s in statements)
    owed_now = summary.debt_added_micro - summary.debt_repaid_micro
    assert charged - owed_now == summary.grid_received_micro
    assert sum(s.grid_credit_micro for s in statements) == summary.grid_paid_micro


def payout_owners(client: EmbeddedClient, scenario: Scenario) -> dict[str, str]:
    """Each stealth payout's one-time account and the member whose scan finds it."""
    if not scenario.privacy.stealth_payouts:
        return {}
    owners: dict[str, str] = {}
    for spec in expand_members(scenario):
        keys = member_keys(scenario, spec.name)
        for own in scan_outputs(client, stealth_keys_of(keys)):
            owners[own.output.one_time_account] = keys.address
    assert owners
    return owners


@pytest.mark.parametrize(("name", "periods"), sorted(SCENARIOS.items()))
def test_every_settled_period_conserves_energy_and_money(
    name: str, periods: int, tmp_path: Path
) -> None:
    out = tmp_path / name
    scenario = with_periods(load_scenario(name), periods)
    kpis = simulate(scenario, out)
    assert kpis["chain"]["transactions"]["refused"] == 0
    community = out / "community"
    genesis = load_genesis((community / "genesis.json").read_bytes())
    supply = sum(m.balance_micro for m in genesis.members)
    client = EmbeddedClient.open(community / "chain.sqlite", genesis)
    try:
        rows = (out / "periods.csv").read_text().splitlines()[1:]
        settled = [int(row.split(",", 1)[0]) for row in rows]
        assert len(settled) == periods
        owners = payout_owners(client, scenario)
        for period in settled:
            check_period(client, period)
            assert_period_conserved(client, period, owners)  # the settle transaction's moves
        state = client.node.state
        assert total_supply(state) == client.head().total_supply_micro == supply
        assert balance_of(state, ESCROW) == 0
        assert balance_of(state, CLEARING) == 0
    finally:
        client.close()
