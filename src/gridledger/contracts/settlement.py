"""The settlement contract: where energy, capital and information meet (DESIGN.md).

``settle(period)`` may be sent by any active member, once per period, and only
after the period's meter window has closed (``meter_window_seconds`` after the
period ends). If nobody cleared the period's book, settlement clears it first.

Which members: every member on the roster with a trade or a meter reading in
the period (sorted by address). A member who sent no reading is treated as
having exported 0 Wh and imported exactly what it bought: a consumer is
assumed to have used what it paid for, and a seller delivered nothing (so it
pays for its shortfall and the breakdown penalty).

Per member, with S sold, B bought (trades), E exported, I imported (meter):

- delivered to buyers ``min(E, S)``; shortfall ``S - min(E, S)`` is supplied by
  the grid at the grid price and charged to the seller (seed 003 error
  compensation); the buyers still receive their energy and pay the trade price,
  which goes to the seller in full;
- surplus ``E - min(E, S)`` goes to the grid at the feed-in price (seed 003
  supply–demand compensation);
- bought energy consumed ``min(I, B)``; unmet demand ``I - min(I, B)`` comes
  from the grid at the grid price; energy bought but not consumed
  (``B - min(I, B)``) was injected by its seller all the same and goes to the
  grid at the feed-in price, credited to the buyer;
- grid purchases and sales are valued once per member:
  ``trade_value_micro(grid_bought_wh, grid_price)`` and
  ``trade_value_micro(grid_sold_wh, feed_in_price)``;
- a seller who had trades (S > 0) and exported nothing (E = 0) pays the
  breakdown penalty σ (seed 000 eq. 1) to the grid account: the grid is the
  party that covered the breakdown.

The grid. The token account ``grid`` is the outside grid's account in the
community currency, held for the utility by the operator. Balances never go
negative, the grid's included: members' payments for grid energy and
penalties go into it, feed-in payments come out of it, the operator funds it
(``fund_grid``) and sweeps it (``withdraw_grid``) to settle with the utility
off chain. A settlement that would overdraw it is refused with
INSUFFICIENT_FUNDS (nothing changes; fund the grid and settle again).

Debts. A member whose net payment exceeds its balance pays what it has; the
rest is recorded as its debt to the grid (``debt/<member>``), and the grid
receives that much less. Later settlements in the member's favour repay the
debt to the grid first.

Money moves through the clearing account ``settlement:clearing``: every
account whose net is negative pays into it, then every account whose net is
positive is paid from it, so no balance ever dips below zero mid-way and the
clearing account ends at zero.

Every settlement must balance or it is refused (`settlement_errors`):

- energy, per member: S = delivered + shortfall, E = delivered + surplus,
  B = consumed + excess, I = consumed + unmet (traded + grid + imbalance =
  metered); for the period: Σ S = Σ B and Σ E + grid supplied = Σ I + grid taken;
- money: the net changes of all accounts (members, grid, escrow) sum to zero;
  what buyers pay for trades equals what sellers receive and what leaves
  escrow; what the grid is owed (charges + penalties) equals what it receives
  plus new debt minus repayments.

State (namespace ``settlement``):

- ``period/<period>`` → `PeriodSettlement`
- ``statement/<period>/<member>`` → `Statement`
- ``debt/<member>`` → int, micro-units owed to the grid (absent means zero)
"""

from __future__ import annotations

import msgspec

from gridledger.contracts import market
from gridledger.contracts.errors import AmountOutOfRange, NegativeValue
from gridledger.contracts.market_errors import PeriodAlreadySettled
from gridledger.contracts.market_state import ESCROW
from gridledger.contracts.membership import require_role, roster
from gridledger.contracts.metering import meter_window, read_reading
from gridledger.contracts.parameters import MarketParameters, parameters_for
from gridledger.contracts.registry import Contract
from gridledger.contracts.settlement_errors import (
    ClearingNotEmpty,
    EnergyUnbalanced,
    MeterWindowOpen,
    MoneyUnbalanced,
)
from gridledger.contracts.tokens import balance_of, move
from gridledger.ledger import Context, InsufficientFunds, StateReader, decode
from gridledger.ledger.encoding import MAX_INTEGER
from gridledger.market import trade_value_micro

NAMESPACE = "settlement"
contract = Contract(NAMESPACE)

GRID = "grid"
CLEARING = "settlement:clearing"


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


class PeriodSettlement(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    period: int
    height: int
    timestamp_ms: int
    settled_by: str
    members: list[str]
    trades: int
    traded_wh: int
    exported_wh: int
    imported_wh: int
    grid_supplied_wh: int
    grid_taken_wh: int
    escrow_paid_micro: int
    grid_received_micro: int
    grid_paid_micro: int
    penalties_micro: int
    debt_added_micro: int
    debt_repaid_micro: int
    grid_price_micro_per_kwh: int
    feed_in_price_micro_per_kwh: int
    breakdown_penalty_micro: int


def settlement_key(period: int) -> str:
    return f"period/{period:012d}"


def statement_key(period: int, member: str) -> str:
    return f"statement/{period:012d}/{member}"


def debt_key(member: str) -> str:
    return f"debt/{member}"


def read_settlement(state: StateReader, period: int) -> PeriodSettlement | None:
    raw = state.get(NAMESPACE, settlement_key(period))
    return None if raw is None else decode(raw, PeriodSettlement)


def read_statement(state: StateReader, period: int, member: str) -> Statement | None:
    raw = state.get(NAMESPACE, statement_key(period, member))
    return None if raw is None else decode(raw, Statement)


def statements_for_period(state: StateReader, period: int) -> list[Statement]:
    settled = read_settlement(state, period)
    if settled is None:
        return []
    found = (read_statement(state, period, m) for m in settled.members)
    return [s for s in found if s is not None]


def debt_of(state: StateReader, member: str) -> int:
    raw = state.get(NAMESPACE, debt_key(member))
    return 0 if raw is None else decode(raw, int)


class _Position:
    """One member's trades and meter reading for the period."""

    __slots__ = ("bought", "paid", "received", "sold", "trades")

    def __init__(self) -> None:
        self.bought = self.sold = self.paid = self.received = self.trades = 0


def _statement(
    member: str,
    period: int,
    position: _Position,
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


def _check_energy(
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


class SettleArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    period: int


@contract.method(SettleArgs)
def settle(context: Context, args: SettleArgs) -> None:
    """Settle a delivery period once, after its meter window (any active member)."""
    period = args.period
    if period < 0:
        raise NegativeValue("period", period)
    state = context.overlay
    now_s = context.timestamp_ms // 1000
    _, closes = meter_window(state, period)
    if now_s < closes:
        raise MeterWindowOpen(period, closes, now_s)
    if read_settlement(state, period) is not None:
        raise PeriodAlreadySettled(period)
    params = parameters_for(state, period)
    trades = market.close_for_settlement(context, period)

    positions: dict[str, _Position] = {}
    for trade in trades:
        buyer = positions.setdefault(trade.buyer, _Position())
        seller = positions.setdefault(trade.seller, _Position())
        buyer.bought += trade.energy_wh
        buyer.paid += trade.value_micro
        buyer.trades += 1
        seller.sold += trade.energy_wh
        seller.received += trade.value_micro
        seller.trades += 1
    statements: list[Statement] = []
    for member in sorted(set(roster(state)) | set(positions)):
        found = read_reading(state, period, member)
        if found is None and member not in positions:
            continue
        reading = None if found is None else (found.exported_wh, found.imported_wh)
        statements.append(
            _statement(member, period, positions.get(member, _Position()), reading, params)
        )
    grid_supplied = sum(s.grid_bought_wh for s in statements)
    grid_taken = sum(s.grid_sold_wh for s in statements)
    _check_energy(period, statements, grid_supplied, grid_taken)

    escrow_paid = sum(t.value_micro for t in trades)
    net: dict[str, int] = {ESCROW: -escrow_paid, GRID: 0}
    final: list[Statement] = []
    for s in statements:
        grid_due = s.grid_charge_micro + s.penalised_micro - s.grid_credit_micro
        net[GRID] += grid_due
        member_net = s.net_micro + s.paid_trades_micro  # trades were paid from escrow
        debt = debt_of(state, s.member)
        added = repaid = 0
        if member_net < 0:
            balance = balance_of(state, s.member)
            if balance < -member_net:
                added = -member_net - balance
                member_net = -balance
        elif debt > 0:
            repaid = min(member_net, debt)
            member_net -= repaid
        net[GRID] += repaid - added
        net[s.member] = member_net
        if added or repaid:
            debt = debt + added - repaid
            if debt:
                context.write(NAMESPACE, debt_key(s.member), debt)
            else:
                context.delete(NAMESPACE, debt_key(s.member))
        final.append(msgspec.structs.replace(s, debt_added_micro=added, debt_repaid_micro=repaid))

    charges = sum(s.grid_charge_micro for s in final)
    credits = sum(s.grid_credit_micro for s in final)
    penalties = sum(s.penalised_micro for s in final)
    added_total = sum(s.debt_added_micro for s in final)
    repaid_total = sum(s.debt_repaid_micro for s in final)
    paid_trades = sum(s.paid_trades_micro for s in final)
    received_trades = sum(s.received_trades_micro for s in final)
    if sum(net.values()) != 0 or not (
        paid_trades == received_trades == escrow_paid
        and net[GRID] + added_total - repaid_total == charges + penalties - credits
    ):
        raise MoneyUnbalanced(
            period,
            f"nets {sorted(net.items())}, trades paid {paid_trades} "
            f"received {received_trades} escrow {escrow_paid}, grid charges {charges} "
            f"penalties {penalties} credits {credits} debt +{added_total} -{repaid_total}",
        )
    if balance_of(state, GRID) + net[GRID] < 0:
        raise InsufficientFunds(GRID, balance_of(state, GRID), -net[GRID])
    _transfer_nets(context, net, period)

    for s in final:
        context.write(NAMESPACE, statement_key(period, s.member), s)
    record = PeriodSettlement(
        period=period,
        height=context.height,
        timestamp_ms=context.timestamp_ms,
        settled_by=context.sender,
        members=[s.member for s in final],
        trades=len(trades),
        traded_wh=sum(t.energy_wh for t in trades),
        exported_wh=sum(s.delivered_wh for s in final),
        imported_wh=sum(s.consumed_wh for s in final),
        grid_supplied_wh=grid_supplied,
        grid_taken_wh=grid_taken,
        escrow_paid_micro=escrow_paid,
        grid_received_micro=charges + penalties + repaid_total - added_total,
        grid_paid_micro=credits,
        penalties_micro=penalties,
        debt_added_micro=added_total,
        debt_repaid_micro=repaid_total,
        grid_price_micro_per_kwh=params.grid_price_micro_per_kwh,
        feed_in_price_micro_per_kwh=params.feed_in_price_micro_per_kwh,
        breakdown_penalty_micro=params.breakdown_penalty_micro,
    )
    context.write(NAMESPACE, settlement_key(period), record)
    context.emit(
        NAMESPACE,
        "settled",
        period=period,
        members=len(final),
        trades=len(trades),
        traded_wh=record.traded_wh,
        grid_supplied_wh=grid_supplied,
        grid_taken_wh=grid_taken,
    )


def _transfer_nets(context: Context, net: dict[str, int], period: int) -> None:
    """Pay every negative net into the clearing account, then every positive net out of it."""
    reason = f"settlement {period}"
    for account in sorted(net):
        if net[account] < 0:
            move(context, account, CLEARING, -net[account], reason)
    for account in sorted(net):
        if net[account] > 0:
            move(context, CLEARING, account, net[account], reason)
    left = balance_of(context.overlay, CLEARING)
    if left != 0:
        raise ClearingNotEmpty(period, left)


class GridFundsArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    amount_micro: int
    reference: str = ""


def _check_amount(amount_micro: int) -> None:
    if amount_micro <= 0:
        raise AmountOutOfRange(amount_micro, 1, MAX_INTEGER)


@contract.method(GridFundsArgs)
def fund_grid(context: Context, args: GridFundsArgs) -> None:
    """The operator moves currency into the grid account (to pay feed-in)."""
    require_role(context, ("operator",), "fund the grid account")
    _check_amount(args.amount_micro)
    move(context, context.sender, GRID, args.amount_micro, f"fund grid {args.reference}".strip())


@contract.method(GridFundsArgs)
def withdraw_grid(context: Context, args: GridFundsArgs) -> None:
    """The operator takes currency out of the grid account (to pay the utility off chain)."""
    require_role(context, ("operator",), "withdraw from the grid account")
    _check_amount(args.amount_micro)
    move(
        context, GRID, context.sender, args.amount_micro, f"withdraw grid {args.reference}".strip()
    )
