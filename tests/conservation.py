"""The conservation checks of a settled period, re-done from what the chain recorded (issue 13:
"the existing conservation checks hold in every settled period").

The settlement contract refuses a settlement that does not balance (`check_energy`,
`check_money`); these checks do not take its word. From the period's statements, trades and
summary, and from the token moves its ``settle`` transaction emitted, they check:

- energy, per member: sold = delivered to buyers + shortfall, exported = delivered +
  surplus, bought = consumed + excess, imported = consumed + unmet, none negative;
- energy, for the period: Σ sold − sold to the grid = Σ bought − bought from the regulator,
  and Σ exported + grid supplied = Σ imported + grid taken;
- money: the settlement's token moves sum to zero and leave the clearing account empty;
  each member's move is its net (plus its trades, paid from escrow earlier, and its debts),
  the grid account's is what it received less what it paid, and escrow pays out exactly
  what the period's trades were worth.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from gridledger.client import EmbeddedClient
from gridledger.client.market_replies import SettlementSummaryReply, StatementReply
from gridledger.contracts.market_state import REASON_UNMET

GRID = "grid"
ESCROW = "market:escrow"
CLEARING = "settlement:clearing"


def settled_periods(client: EmbeddedClient, periods: Iterable[int]) -> list[int]:
    """Those of `periods` that are settled."""
    return [period for period in periods if client.statements(period).settled]


def assert_energy_balances(
    period: int,
    statements: list[StatementReply],
    summary: SettlementSummaryReply,
    flows: dict[str, int],
) -> None:
    for s in statements:
        assert s.sold_wh == s.sold_delivered_wh + s.shortfall_wh, (period, s)
        assert s.delivered_wh == s.sold_delivered_wh + s.surplus_wh, (period, s)
        assert s.bought_wh == s.bought_consumed_wh + s.excess_wh, (period, s)
        assert s.consumed_wh == s.bought_consumed_wh + s.unmet_wh, (period, s)
        assert min(s.shortfall_wh, s.surplus_wh, s.unmet_wh, s.excess_wh) >= 0, (period, s)
    sold = sum(s.sold_wh for s in statements)
    bought = sum(s.bought_wh for s in statements)
    exported = sum(s.delivered_wh for s in statements)
    imported = sum(s.consumed_wh for s in statements)
    assert sold - flows["grid"] == bought - flows["regulator"], period
    assert exported + summary.grid_supplied_wh == imported + summary.grid_taken_wh, period


def settlement_moves(client: EmbeddedClient, period: int, height: int) -> dict[str, int]:
    """Net token moves per account of the ``settle`` transaction of `period` in block `height`."""
    block = client.block(height)
    [settle] = [
        t
        for t in block.transactions or []
        if t.transaction.get("contract") == "settlement"
        and t.transaction.get("method") == "settle"
        and t.transaction.get("args") == {"period": period}
        and t.code == 0
    ]
    net: dict[str, int] = {}
    for event in settle.events:
        if (event.contract, event.name) != ("tokens", "moved"):
            continue
        amount = event.attributes["amount_micro"]
        net[event.attributes["source"]] = net.get(event.attributes["source"], 0) - amount
        net[event.attributes["target"]] = net.get(event.attributes["target"], 0) + amount
    return net


def assert_money_balances(
    period: int,
    statements: list[StatementReply],
    summary: SettlementSummaryReply,
    moves: dict[str, int],
    escrowed_micro: int,
) -> None:
    assert sum(moves.values()) == 0, (period, moves)
    assert moves.get(CLEARING, 0) == 0, (period, moves)
    assert moves.get(ESCROW, 0) == -summary.escrow_paid_micro == -escrowed_micro, (period, moves)
    assert moves.get(GRID, 0) == summary.grid_received_micro - summary.grid_paid_micro, period
    for s in statements:
        expected = s.net_micro + s.paid_trades_micro + s.debt_added_micro - s.debt_repaid_micro
        assert moves.get(s.member, 0) == expected, (period, s.member, moves, s)
    members = {s.member for s in statements}
    assert set(moves) <= members | {GRID, ESCROW, CLEARING}, (period, moves)


def fold_owners(moves: dict[str, int], owners: Mapping[str, str]) -> dict[str, int]:
    """Moves to a stealth payout's one-time account counted as moves to its member (``owners``
    maps the account to the member whose view key found it)."""
    folded: dict[str, int] = {}
    for account, amount in moves.items():
        owner = owners.get(account, account)
        folded[owner] = folded.get(owner, 0) + amount
    return folded


def assert_period_conserved(
    client: EmbeddedClient, period: int, owners: Mapping[str, str] | None = None
) -> None:
    """Every conservation check of one settled period; with stealth payouts, ``owners`` names
    the member of each one-time account (`fold_owners`)."""
    summary = client.settlement(period).summary
    assert summary is not None, f"period {period} is not settled"
    statements = client.statements(period).statements
    # the regulator's trades serving unmet demand are recorded by the settlement itself and
    # charged in the statements; the flows and escrow are the trades made at the clear
    trades = [t for t in client.market_trades(period).trades if t.reason != REASON_UNMET]
    flows = {
        kind: sum(t.energy_wh for t in trades if t.kind == kind) for kind in ("grid", "regulator")
    }
    assert_energy_balances(period, statements, summary, flows)
    escrowed = sum(t.value_micro for t in trades if t.kind != "grid")
    moves = fold_owners(settlement_moves(client, period, summary.height), owners or {})
    assert_money_balances(period, statements, summary, moves, escrowed)
