"""One member's settlement of one period: positions from trades, statements, the energy check.

The arithmetic of `settlement.settle` (the rules are in `gridledger.contracts.settlement`'s
docstring): what each member bought and sold, what it metered, what the grid
made up and what it is charged or credited, and the check that energy balances.

A member's position counts all its trades, those with a standing offer
included (kinds ``regulator`` and ``grid``); the standing offers' pseudo-owners
get no position and no statement: their energy comes from or goes to the
grid, and their money is the grid account's (`StandingFlows`).
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from gridledger.contracts.market_parameters import MarketParameters, standing_offers_in_force
from gridledger.contracts.market_state import KIND_GRID, KIND_REGULATOR, Trade
from gridledger.contracts.membership import roster
from gridledger.contracts.metering import read_reading
from gridledger.contracts.settlement_errors import EnergyUnbalanced
from gridledger.ledger import StateReader
from gridledger.ledger.encoding import omit_empty_last_field
from gridledger.market import GRID, REGULATOR, trade_value_micro


@omit_empty_last_field
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
    """shortfall + unmet, bought from outside the community: the shortfall from the grid at
    the grid price; the unmet demand from the regulator's standing offer at the cap while
    it is in force (then the regulator's trade of reason ``unmet_demand`` records it),
    else from the grid at the grid price."""
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
    regulator_charge_micro: int = 0
    """The part of ``grid_charge_micro`` that pays the regulator for unmet demand, at the
    cap (0 when the grid served it; then left out of the encoding, so statements
    recorded before the standing offers traded keep their bytes)."""


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
    """The member's statement; unmet demand at the cap while the regulator's offer is in force.

    Outside energy is valued once per member at one price when it has one (the
    grid's); with the regulator serving the unmet demand, the shortfall and the
    unmet demand are valued each at its own price.
    """
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
    regulator_charge = 0
    if unmet and standing_offers_in_force(p):
        regulator_charge = trade_value_micro(unmet, p.cap_price_micro_per_kwh)
        charge = trade_value_micro(shortfall, p.grid_price_micro_per_kwh) + regulator_charge
    else:
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
        regulator_charge_micro=regulator_charge,
    )


@dataclass(frozen=True, slots=True)
class StandingFlows:
    """The standing offers' trades made at the clear: energy (Wh) and value (micro-units).

    The regulator's sales come from the grid and are paid (from the buyers' escrow)
    into the grid account; the grid's purchases go to the grid and are paid out of
    the grid account. What the regulator pays for energy it does not produce -
    the difference between the cap and what the utility charges - is the grid
    account's business, settled with the utility off chain.
    """

    regulator_wh: int = 0
    regulator_micro: int = 0
    grid_wh: int = 0
    grid_micro: int = 0

    @classmethod
    def of(cls, trades: list[Trade]) -> StandingFlows:
        regulator = [t for t in trades if t.kind == KIND_REGULATOR]
        grid = [t for t in trades if t.kind == KIND_GRID]
        return cls(
            regulator_wh=sum(t.energy_wh for t in regulator),
            regulator_micro=sum(t.value_micro for t in regulator),
            grid_wh=sum(t.energy_wh for t in grid),
            grid_micro=sum(t.value_micro for t in grid),
        )


def check_energy(
    period: int,
    statements: list[Statement],
    grid_supplied: int,
    grid_taken: int,
    flows: StandingFlows = StandingFlows(),
) -> None:
    """Refuse unless traded + grid + imbalance = metered, per member and for the period.

    Members' trades balance among themselves: Σ sold − sold to the grid = Σ bought −
    bought from the regulator. ``grid_supplied`` and ``grid_taken`` include the
    standing offers' energy (``flows``).
    """
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
    if (
        sold - flows.grid_wh != bought - flows.regulator_wh
        or exported + grid_supplied != imported + grid_taken
    ):
        raise EnergyUnbalanced(
            period,
            "",
            f"sold {sold} (to the grid {flows.grid_wh}) vs bought {bought} (from the "
            f"regulator {flows.regulator_wh}) Wh; exported {exported} + grid supplied "
            f"{grid_supplied} vs imported {imported} + grid taken {grid_taken} Wh",
        )


def positions_of(trades: list[Trade]) -> dict[str, Position]:
    """Each member's bought and sold energy, payments and trade count, from the period's trades.

    The standing offers' pseudo-owners (``REGULATOR``, ``GRID``) are not members: they get
    no position.
    """
    positions: dict[str, Position] = {}
    for trade in trades:
        if trade.buyer != GRID:
            buyer = positions.setdefault(trade.buyer, Position())
            buyer.bought += trade.energy_wh
            buyer.paid += trade.value_micro
            buyer.trades += 1
        if trade.seller != REGULATOR:
            seller = positions.setdefault(trade.seller, Position())
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
    "StandingFlows",
    "Statement",
    "check_energy",
    "member_statements",
    "positions_of",
    "statement_of",
]
