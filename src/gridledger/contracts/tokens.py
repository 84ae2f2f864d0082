"""The tokens contract: the community currency, in integer micro-units.

The issuer mints currency when a member pays in money from outside and burns it
when a member cashes out (the fiat on-ramp of seed 001 §4.1). The issuer is the
policy account ``issuer`` (`gridledger.contracts.policies`: by default 2 of the
operator, the regulator and a treasurer must sign), which burns from its own
balance (members pay it what they cash out). In a community whose genesis names no
issuer policy, any member whose role is in ``parameters.tokens.issuer_roles`` (by
default the operator) issues alone.
Members transfer to each other. Balances never go negative: every debit is
checked first.

Other contracts move money with `move` (escrow, settlement); they name the
reason, which is recorded as an event. Accounts need not be members:
contracts keep their own accounts, named ``<contract>:<purpose>`` (for
example ``market:escrow`` or ``grid``).

The currency may be time-attributed (seed 004 §3.4): with
``parameters.tokens.lifetime_days`` > 0 in genesis, every unit keeps its issue
day, payments spend the oldest units first and units past their life return to
the issuer (`currency`, `currency_lots`). With 0 (the default) a balance is a
plain integer, as it always was.

State (namespace ``tokens``):

- ``balance/<account>`` → int, micro-units (absent means zero); under expiry, the
  lot list ``[day, amount_micro, ...]`` of `currency_lots`
- ``supply`` → int, micro-units in circulation (live)
- ``issued``, ``burned``, ``expired`` → int, micro-units (see `currency`)
- ``lifetime_days`` → int, only when expiry is on
"""

from __future__ import annotations

import msgspec

from gridledger.contracts.currency import (
    NAMESPACE,
    counter,
    destroy,
    issue,
    issued_total,
    pay,
    write_genesis_balances,
)
from gridledger.contracts.currency import (
    balance_key as balance_key,
)
from gridledger.contracts.currency import (
    balance_of as balance_of,
)
from gridledger.contracts.errors import (
    AmountOutOfRange,
    ContractError,
    MemberNotActive,
    TextLengthOutOfRange,
)
from gridledger.contracts.membership import require_role, standing
from gridledger.contracts.policies import (
    ISSUER,
    admit_policy_account_or_member,
    policy_account,
    require_policy_account,
)
from gridledger.contracts.registry import Access, Contract
from gridledger.crypto import address_of
from gridledger.ledger import (
    Context,
    Genesis,
    ResultCode,
    StateReader,
    decode,
)
from gridledger.ledger.encoding import MAX_INTEGER

contract = Contract(NAMESPACE)
DEFAULT_ISSUER_ROLES = ("operator",)
MAX_MEMO = 256


# -- errors (shared ones: `gridledger.contracts.errors`) ---------------------------------


class TokensError(ContractError):
    """Base of the tokens contract's own refusals."""


class SelfTransfer(TokensError):
    """A member tried to pay itself."""

    code = ResultCode.SELF_TRANSFER

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__(f"{address} cannot transfer to itself")


class SupplyOverflow(TokensError):
    """Minting would take the currency ever issued beyond 64 bits."""

    code = ResultCode.SUPPLY_OVERFLOW

    def __init__(self, supply_micro: int, amount_micro: int, maximum_micro: int) -> None:
        self.supply_micro, self.amount_micro = supply_micro, amount_micro
        self.maximum_micro = maximum_micro
        super().__init__(
            f"minting {amount_micro} onto {supply_micro} micro-units issued "
            f"would exceed {maximum_micro}"
        )


# -- balances ----------------------------------------------------------------------------


def total_supply(state: StateReader) -> int:
    """Micro-units in circulation (live)."""
    return counter(state, "supply")


def _check_amount(amount_micro: int) -> None:
    if not 0 < amount_micro <= MAX_INTEGER:
        raise AmountOutOfRange(amount_micro, 1, MAX_INTEGER)


def move(context: Context, source: str, target: str, amount_micro: int, reason: str) -> None:
    """Move `amount_micro` from `source` to `target`, oldest units first; refuse with
    `InsufficientFunds`."""
    if amount_micro < 0:
        raise AmountOutOfRange(amount_micro, 0, MAX_INTEGER)
    if amount_micro == 0 or source == target:
        return
    pay(context, source, target, amount_micro)
    context.emit(
        NAMESPACE, "moved", source=source, target=target, amount_micro=amount_micro, reason=reason
    )


def require_issuer(context: Context, action: str) -> None:
    """Refuse unless the sender is the issuer: the ``issuer`` policy account, or without one
    a member in one of the issuer roles."""
    if policy_account(context.overlay, ISSUER) is not None:
        require_policy_account(context, ISSUER, action)
    else:
        require_role(context, issuer_roles(context.overlay), action)


def issuer_roles(state: StateReader) -> tuple[str, ...]:
    raw = state.get(NAMESPACE, "issuer_roles")
    return DEFAULT_ISSUER_ROLES if raw is None else tuple(decode(raw, list[str]))


@contract.genesis
def write_genesis(context: Context, genesis: Genesis) -> None:
    params = genesis.parameters.get(NAMESPACE, {})
    roles = params.get("issuer_roles", list(DEFAULT_ISSUER_ROLES))
    context.write(NAMESPACE, "issuer_roles", list(roles))
    lifetime = params.get("lifetime_days", 0)
    balances = [
        (address_of(bytes.fromhex(founder.public_key)), founder.balance_micro)
        for founder in genesis.members
        if founder.balance_micro
    ]
    write_genesis_balances(context, balances, lifetime)


class TransferArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    to: str
    amount_micro: int
    memo: str = ""


@contract.method(TransferArgs)
def transfer(context: Context, args: TransferArgs) -> None:
    """Pay `amount_micro` to another active member."""
    _check_amount(args.amount_micro)
    if len(args.memo) > MAX_MEMO:
        raise TextLengthOutOfRange("memo", len(args.memo), 0, MAX_MEMO)
    recipient = standing(context.overlay, args.to)  # (status, role), memoised
    if (recipient is None or recipient[0] != "active") and args.to != policy_account(
        context.overlay, ISSUER
    ):  # members pay the issuer what they cash out
        status = "unknown" if recipient is None else recipient[0]
        raise MemberNotActive(args.to, status)
    if args.to == context.sender:
        raise SelfTransfer(context.sender)
    pay(context, context.sender, args.to, args.amount_micro)
    context.emit(
        NAMESPACE,
        "transferred",
        source=context.sender,
        target=args.to,
        amount_micro=args.amount_micro,
        memo=args.memo,
    )


class MintArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    to: str
    amount_micro: int
    reference: str = ""
    """The outside payment this issue stands for (a bank reference, say)."""


@contract.method(MintArgs, access=Access.ANYONE, admit=admit_policy_account_or_member)
def mint(context: Context, args: MintArgs) -> None:
    """The issuer creates currency for a member who paid in from outside."""
    require_issuer(context, "mint currency")
    _check_amount(args.amount_micro)
    recipient = standing(context.overlay, args.to)
    if recipient is None or recipient[0] != "active":
        raise MemberNotActive(args.to, "unknown" if recipient is None else recipient[0])
    issued = issued_total(context.overlay)
    if issued + args.amount_micro > MAX_INTEGER:
        raise SupplyOverflow(issued, args.amount_micro, MAX_INTEGER)
    issue(context, args.to, args.amount_micro)
    context.emit(
        NAMESPACE, "minted", to=args.to, amount_micro=args.amount_micro, reference=args.reference
    )


class BurnArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    amount_micro: int
    reference: str = ""


@contract.method(BurnArgs, access=Access.ANYONE, admit=admit_policy_account_or_member)
def burn(context: Context, args: BurnArgs) -> None:
    """The issuer destroys currency from its own balance (a member cashed out)."""
    require_issuer(context, "burn currency")
    _check_amount(args.amount_micro)
    destroy(context, context.sender, args.amount_micro)
    context.emit(NAMESPACE, "burned", amount_micro=args.amount_micro, reference=args.reference)
