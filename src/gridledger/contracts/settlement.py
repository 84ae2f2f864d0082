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

The standing offers (seed 000 §2.2 (4); `market_parameters.standing_offers_in_force`:
while the regulator's cap is below the grid price):

- trades with a standing offer made at the clear count in the member's S and B
  like any trade: a member who bought from the regulator (kind ``regulator``)
  paid the cap from its escrow, a member who sold to the grid (kind ``grid``)
  is paid the feed-in price by the grid account;
- the member's unmet demand is served by the regulator at the cap in force,
  never above it: settlement records it as a trade of kind ``regulator`` and
  reason ``unmet_demand`` (`market.record_unmet_demand`) and charges it at the
  cap (``regulator_charge_micro``, part of ``grid_charge_micro``); the
  shortfall is still charged at the grid price;
- the regulator produces nothing: the energy it sells comes from the grid, and
  what its trades are paid goes into the grid account. What the regulator pays
  for that energy (the utility's price, above the cap) is the grid account's
  business, settled between the operator, the regulator and the utility off
  chain; on chain the grid account receives the cap and nothing else.

With the cap at or above the grid price the standing offers do not trade and
the unmet demand comes from the grid at the grid price, which is then at most
the cap.

The grid. The token account ``grid`` is the outside grid's account in the
community currency, held for the utility by the operator. Balances never go
negative, the grid's included: members' payments for grid energy and
penalties go into it, feed-in payments come out of it, the operator funds it
(``fund_grid``, from its own balance) and the grid's policy account sweeps it
(``withdraw_grid``, to a member who settles with the utility off chain; by default 2
of the operator, the regulator and a treasurer sign, `gridledger.contracts.policies`;
in a community without a ``grid`` policy the operator alone, to itself). A
settlement that would overdraw it is refused with INSUFFICIENT_FUNDS (nothing
changes; fund the grid and settle again).

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
  metered); for the period: Σ S − sold to the grid = Σ B − bought from the
  regulator and Σ E + grid supplied = Σ I + grid taken (grid supplied and taken
  include the standing offers' energy);
- money: the net changes of all accounts (members, grid, escrow) sum to zero;
  what buyers pay for trades equals what leaves escrow, and equals what sellers
  receive less what the grid paid them plus what the regulator was paid; what
  the grid is owed (charges + penalties + the regulator's sales − its
  purchases) equals what it receives plus new debt minus repayments.

State (namespace ``settlement``):

- ``period/<period>`` → `PeriodSettlement`
- ``statement/<period>/<member>`` → `Statement`
- ``debt/<member>`` → int, micro-units owed to the grid (absent means zero)
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from gridledger.contracts import certificates, market, privacy
from gridledger.contracts.currency import lifetime_days, sweep_accounts
from gridledger.contracts.errors import AmountOutOfRange, MemberNotActive, NegativeValue
from gridledger.contracts.market_errors import PeriodAlreadySettled
from gridledger.contracts.market_parameters import standing_offers_in_force
from gridledger.contracts.market_state import ESCROW, KIND_GRID
from gridledger.contracts.membership import read_member, require_role, roster
from gridledger.contracts.metering import meter_window
from gridledger.contracts.parameters import parameters_for
from gridledger.contracts.policies import (
    GRID_CONTROLLER,
    admit_policy_account_or_member,
    policy_account,
    require_policy_account,
)
from gridledger.contracts.registry import Access, Contract
from gridledger.contracts.settlement_errors import (
    ClearingNotEmpty,
    MeterWindowOpen,
    MoneyUnbalanced,
)
from gridledger.contracts.settlement_statements import (
    StandingFlows,
    Statement,
    check_energy,
    member_statements,
    positions_of,
)
from gridledger.contracts.tokens import balance_of, move
from gridledger.ledger import Context, InsufficientFunds, StateReader, decode
from gridledger.ledger.encoding import MAX_INTEGER

NAMESPACE = "settlement"
contract = Contract(NAMESPACE)

GRID = "grid"
CLEARING = "settlement:clearing"


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


class SettleArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    period: int


@contract.method(SettleArgs)
def settle(context: Context, args: SettleArgs) -> None:
    """Settle a delivery period once, after its meter window (any active member).

    The steps: check the period may be settled; close its market; each member's
    statement from its trades and reading (`settlement_statements`); while the
    regulator's offer is in force, record its trades serving unmet demand; check that
    energy balances; each account's net after debts; check that money balances
    and the grid can pay; move the money; store the statements and the record.
    """
    period = args.period
    state = context.overlay
    check_settleable(state, period, context.timestamp_ms // 1000)
    if lifetime_days(state):  # seed 004 §3.4: expired units return to the issuer
        sweep_accounts(context, roster(state))
    params = parameters_for(state, period)
    trades = market.close_for_settlement(context, period)
    statements = member_statements(state, period, positions_of(trades), params)
    if standing_offers_in_force(params):
        served = [(s.member, s.unmet_wh) for s in statements if s.unmet_wh]
        unmet = market.record_unmet_demand(context, period, served, params.cap_price_micro_per_kwh)
    else:
        unmet = []
    flows = StandingFlows.of(trades)
    grid_supplied = sum(s.grid_bought_wh for s in statements) + flows.regulator_wh
    grid_taken = sum(s.grid_sold_wh for s in statements) + flows.grid_wh
    check_energy(period, statements, grid_supplied, grid_taken, flows)
    escrow_paid = sum(t.value_micro for t in trades if t.kind != KIND_GRID)
    net, final = settle_debts(context, statements, escrow_paid, flows)
    totals = MoneyTotals.of(final)
    check_money(period, net, totals, escrow_paid, flows)
    check_grid_can_pay(state, net[GRID])
    _transfer_nets(context, net, period)
    if certificates.enabled(state):
        sales = [certificates.Sale(t.seller, t.buyer, t.energy_wh) for t in trades]
        members = frozenset(s.member for s in final)
        certificates.certify_period(context, period, final, sales, members)
    record = PeriodSettlement(
        period=period,
        height=context.height,
        timestamp_ms=context.timestamp_ms,
        settled_by=context.sender,
        members=[s.member for s in final],
        trades=len(trades) + len(unmet),
        traded_wh=sum(t.energy_wh for t in trades) + sum(t.energy_wh for t in unmet),
        exported_wh=sum(s.delivered_wh for s in final),
        imported_wh=sum(s.consumed_wh for s in final),
        grid_supplied_wh=grid_supplied,
        grid_taken_wh=grid_taken,
        escrow_paid_micro=escrow_paid,
        grid_received_micro=(
            totals.charges
            + totals.penalties
            + totals.debt_repaid
            - totals.debt_added
            + flows.regulator_micro
        ),
        grid_paid_micro=totals.credits + flows.grid_micro,
        penalties_micro=totals.penalties,
        debt_added_micro=totals.debt_added,
        debt_repaid_micro=totals.debt_repaid,
        grid_price_micro_per_kwh=params.grid_price_micro_per_kwh,
        feed_in_price_micro_per_kwh=params.feed_in_price_micro_per_kwh,
        breakdown_penalty_micro=params.breakdown_penalty_micro,
    )
    write_settlement(context, record, final)


# -- the steps of `settle` ---------------------------------------------------------------


def check_settleable(state: StateReader, period: int, now_s: int) -> None:
    """Refuse a negative period, one whose meter window is still open, or one settled before."""
    if period < 0:
        raise NegativeValue("period", period)
    _, closes = meter_window(state, period)
    if now_s < closes:
        raise MeterWindowOpen(period, closes, now_s)
    if read_settlement(state, period) is not None:
        raise PeriodAlreadySettled(period)


def settle_debts(
    context: Context,
    statements: list[Statement],
    escrow_paid: int,
    flows: StandingFlows = StandingFlows(),
) -> tuple[dict[str, int], list[Statement]]:
    """Each account's net payment, after debts: (nets by account, the final statements).

    Trades were paid into escrow, so escrow pays them out (its net is minus what it
    holds for them) and a member's net leaves them out. The regulator's sales at the
    clear are paid out of escrow into the grid account, the grid's purchases out of
    the grid account (``flows``). A member who owes more than
    its balance pays what it has and the rest becomes its debt to the grid; a member
    paid something repays its debt first. Debts are written here.
    """
    state = context.overlay
    net: dict[str, int] = {ESCROW: -escrow_paid, GRID: flows.regulator_micro - flows.grid_micro}
    final: list[Statement] = []
    for s in statements:
        net[GRID] += s.grid_charge_micro + s.penalised_micro - s.grid_credit_micro
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
            _write_debt(context, s.member, debt + added - repaid)
        final.append(msgspec.structs.replace(s, debt_added_micro=added, debt_repaid_micro=repaid))
    return net, final


def _write_debt(context: Context, member: str, debt: int) -> None:
    if debt:
        context.write(NAMESPACE, debt_key(member), debt)
    else:
        context.delete(NAMESPACE, debt_key(member))


@dataclass(frozen=True, slots=True)
class MoneyTotals:
    """The period's money by kind, summed over the final statements (micro-units)."""

    charges: int
    credits: int
    penalties: int
    debt_added: int
    debt_repaid: int
    paid_trades: int
    received_trades: int

    @classmethod
    def of(cls, final: list[Statement]) -> MoneyTotals:
        return cls(
            charges=sum(s.grid_charge_micro for s in final),
            credits=sum(s.grid_credit_micro for s in final),
            penalties=sum(s.penalised_micro for s in final),
            debt_added=sum(s.debt_added_micro for s in final),
            debt_repaid=sum(s.debt_repaid_micro for s in final),
            paid_trades=sum(s.paid_trades_micro for s in final),
            received_trades=sum(s.received_trades_micro for s in final),
        )


def check_money(
    period: int,
    net: dict[str, int],
    totals: MoneyTotals,
    escrow_paid: int,
    flows: StandingFlows = StandingFlows(),
) -> None:
    """Refuse unless the nets sum to zero, trades balance escrow, and the grid gets its due.

    Members pay escrow for every trade they bought (the regulator's included); they
    receive for every trade they sold (the grid's purchases included); the standing
    offers' side of both is the grid account's.
    """
    t = totals
    standing_net = flows.regulator_micro - flows.grid_micro
    if sum(net.values()) != 0 or not (
        t.paid_trades == escrow_paid
        and t.paid_trades - flows.regulator_micro == t.received_trades - flows.grid_micro
        and net[GRID] + t.debt_added - t.debt_repaid
        == t.charges + t.penalties - t.credits + standing_net
    ):
        raise MoneyUnbalanced(
            period,
            f"nets {sorted(net.items())}, trades paid {t.paid_trades} "
            f"received {t.received_trades} escrow {escrow_paid}, grid charges {t.charges} "
            f"penalties {t.penalties} credits {t.credits} debt +{t.debt_added} -{t.debt_repaid}",
        )


def check_grid_can_pay(state: StateReader, grid_net_micro: int) -> None:
    """The grid account never goes negative: refuse (INSUFFICIENT_FUNDS) until it is funded."""
    if balance_of(state, GRID) + grid_net_micro < 0:
        raise InsufficientFunds(GRID, balance_of(state, GRID), -grid_net_micro)


def write_settlement(context: Context, record: PeriodSettlement, final: list[Statement]) -> None:
    """Store the statements and the period's record, and report the settlement."""
    for s in final:
        context.write(NAMESPACE, statement_key(record.period, s.member), s)
    context.write(NAMESPACE, settlement_key(record.period), record)
    context.emit(
        NAMESPACE,
        "settled",
        period=record.period,
        members=len(final),
        trades=record.trades,
        traded_wh=record.traded_wh,
        grid_supplied_wh=record.grid_supplied_wh,
        grid_taken_wh=record.grid_taken_wh,
    )


def _transfer_nets(context: Context, net: dict[str, int], period: int) -> None:
    """Pay every negative net into the clearing account, then every positive net out of it."""
    reason = f"settlement {period}"
    for account in sorted(net):
        if net[account] < 0:
            move(context, account, CLEARING, -net[account], reason)
    for account in sorted(net):
        if net[account] > 0:  # to the member, or to a fresh one-time account if it asked
            privacy.pay_out(context, CLEARING, account, net[account], period, reason)
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


class WithdrawGridArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    amount_micro: int
    reference: str = ""
    to: str = ""
    """The active member paid (the grid's policy account must name one; without a grid
    policy, empty means the operator who sends it)."""


@contract.method(WithdrawGridArgs, access=Access.ANYONE, admit=admit_policy_account_or_member)
def withdraw_grid(context: Context, args: WithdrawGridArgs) -> None:
    """The grid's controller takes currency out of the grid account (to pay the utility)."""
    action = "withdraw from the grid account"
    if policy_account(context.overlay, GRID_CONTROLLER) is not None:
        require_policy_account(context, GRID_CONTROLLER, action)
        target = args.to
    else:
        require_role(context, ("operator",), action)
        target = args.to or context.sender
    _check_amount(args.amount_micro)
    recipient = read_member(context.overlay, target)
    if recipient is None or recipient.status != "active":
        raise MemberNotActive(target, "unknown" if recipient is None else recipient.status)
    move(context, GRID, target, args.amount_micro, f"withdraw grid {args.reference}".strip())
