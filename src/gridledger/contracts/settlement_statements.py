"""One member's settlement of one period: positions from trades, statements, the energy check.

The arithmetic of `settlement.settle` (the rules are in `gridledger.contracts.settlement`'s
docstring): what each member bought and sold, what it metered, what the grid
made up and what it is charged or credited, and the check that energy balances.
"""

from __future__ import annotations

import msgspec

from gridledger.contracts.market_state import Trade
from gridledger.contracts.membership import roster
from gridledger.contracts.metering import read_reading
from gridledger.contracts.parameters import MarketParameters
from gridledger.contracts.settlement_errors import EnergyUnbalanced
from gridledger.ledger import StateReader
from gridledger.market import trade_value_micro


class Statement(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """One member's settlement of one period (energy in Wh, money in micro-units)."""

    member: str
    period: int
    reading: str
    """``"metered"`` or ``"missing"`` (then exported 0, imported = bought)."""
    trades: int
    bought_wh: int
    sold_wh: int
    delivered_wh: int
    """Exported (metered, or 0 without a reading)."""
    consumed_wh: int
    """Imported (metered, or = bought without a reading)."""
    sold_delivered_wh: int
    shortfall_wh: int
    surplus_wh: int
    bought_consumed_wh: int
    unmet_wh: int
    excess_wh: int
    grid_bought_wh: int
    """shortfall + unmet, bought from the grid at the grid price."""
    grid_sold_wh: int
    """surplus + excess, sold to the grid at the feed-in price."""
    paid_trades_micro: int
    received_trades_micro: int
    grid_charge_micro: int
    grid_credit_micro: int
    penalised_micro: int
    paid_micro: int
    """paid_trades + grid_charge (the penalty is separate)."""
    received_micro: int
    """received_trades + grid_credit."""
    net_micro: int
    """received - paid - penalised: the change of the member's wealth."""
    debt_added_micro: int
    debt_repaid_micro: int


class Position:
    """One member's trades in the period: energy bought and sold, money paid and received."""

    __slots__ = ("bought", "paid", "received", "sold", "trades")

    def __init__(self) -> None:
        self.bought = self.sold = self.paid = self.received = self.trades = 0


def statement_of(
    member: str,
    period: int,
    position: Position,
    reading: tuple[int, int] | None,
    p: MarketParameters,
) -> Statement:
    sold, bought = position.sold, position.bought
    exported, imported = reading if reading is not None else (0, bought)
    sold_delivered = min(exported, sold)
    bought_consumed = min(imported, bought)
    shortfall = sold - sold_delivered
    surplus = exported - sold_delivered
    unmet = imported - bought_consumed
    excess = bought - bought_consumed
    grid_bought = shortfall + unmet
    grid_sold = surplus + excess
    charge = trade_value_micro(grid_bought, p.grid_price_micro_per_kwh)
    credit = trade_value_micro(grid_sold, p.feed_in_price_micro_per_kwh)
    penalty = p.breakdown_penalty_micro if sold > 0 and exported == 0 else 0
    paid = position.paid + charge
    received = position.received + credit
    return Statement(
        member=member,
        period=period,
        reading="metered" if reading is not None else "missing",
        trades=position.trades,
        bought_wh=bought,
        sold_wh=sold,
        delivered_wh=exported,
        consumed_wh=imported,
        sold_delivered_wh=sold_delivered,
        shortfall_wh=shortfall,
        surplus_wh=surplus,
        bought_consumed_wh=bought_consumed,
        unmet_wh=unmet,
        excess_wh=excess,
        grid_bought_wh=grid_bought,
        grid_sold_wh=grid_sold,
        paid_trades_micro=position.paid,
        received_trades_micro=position.received,
        grid_charge_micro=charge,
        grid_credit_micro=credit,
        penalised_micro=penalty,
        paid_micro=paid,
        received_micro=received,
        net_micro=received - paid - penalty,
        debt_added_micro=0,
        debt_repaid_micro=0,
    )


def check_energy(
    period: int, statements: list[Statement], grid_supplied: int, grid_taken: int
) -> None:
    for s in statements:
        if not (
            s.sold_wh == s.sold_delivered_wh + s.shortfall_wh
            and s.delivered_wh == s.sold_delivered_wh + s.surplus_wh
            and s.bought_wh == s.bought_consumed_wh + s.excess_wh
            and s.consumed_wh == s.bought_consumed_wh + s.unmet_wh
            and min(s.shortfall_wh, s.surplus_wh, s.unmet_wh, s.excess_wh) >= 0
        ):
            raise EnergyUnbalanced(period, s.member, str(s))
    sold = sum(s.sold_wh for s in statements)
    bought = sum(s.bought_wh for s in statements)
    exported = sum(s.delivered_wh for s in statements)
    imported = sum(s.consumed_wh for s in statements)
    if sold != bought or exported + grid_supplied != imported + grid_taken:
        raise EnergyUnbalanced(
            period,
            "",
            f"sold {sold} vs bought {bought} Wh; exported {exported} + grid supplied "
            f"{grid_supplied} vs imported {imported} + grid taken {grid_taken} Wh",
        )


def positions_of(trades: list[Trade]) -> dict[str, Position]:
    """Each member's bought and sold energy, payments and trade count, from the period's trades."""
    positions: dict[str, Position] = {}
    for trade in trades:
        buyer = positions.setdefault(trade.buyer, Position())
        seller = positions.setdefault(trade.seller, Position())
        buyer.bought += trade.energy_wh
        buyer.paid += trade.value_micro
        buyer.trades += 1
        seller.sold += trade.energy_wh
        seller.received += trade.value_micro
        seller.trades += 1
    return positions


def member_statements(
    state: StateReader, period: int, positions: dict[str, Position], params: MarketParameters
) -> list[Statement]:
    """A statement for every member with a trade or a reading in the period, by address."""
    statements: list[Statement] = []
    for member in sorted(set(roster(state)) | set(positions)):
        found = read_reading(state, period, member)
        if found is None and member not in positions:
            continue
        reading = None if found is None else (found.exported_wh, found.imported_wh)
        statements.append(
            statement_of(member, period, positions.get(member, Position()), reading, params)
        )
    return statements


__all__ = [
    "Position",
    "Statement",
    "check_energy",
    "member_statements",
    "positions_of",
    "statement_of",
]
