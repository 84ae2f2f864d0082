"""The contracts' error tree: one class per rule, each with its own result code.

A contract refuses a call by raising a `ContractError`. Each subclass is one
rule (not one raise site): it has its own `ResultCode`, whose lower-case name
is the ``error`` code the API answers, and it carries the values involved as
attributes, names them in its message, and has them recorded in the
transaction's receipt (`TransactionError.details`), e.g.
``EnergyOutOfRange(field="energy_wh", energy_wh=0, minimum_wh=1, maximum_wh=...)``.

This module holds the base and the rules several contracts share; each
contract's own rules are next to it (`membership_errors`, `market_errors`,
`settlement_errors`, and the errors sections of `tokens`, `parameters`,
`metering` and `pricing`). A contract that crashes instead (any other
exception) is recorded as CONTRACT_FAILED by the ledger, never as a refusal.
"""

from __future__ import annotations

from gridledger.ledger import ResultCode, TransactionError


class ContractError(TransactionError):
    """A contract rule refused the call. Subclasses set `code` and carry their values."""


class NegativeValue(ContractError):
    """A count, period or cost that cannot be negative is."""

    code = ResultCode.NEGATIVE_VALUE

    def __init__(self, field: str, value: int) -> None:
        self.field, self.value = field, value
        super().__init__(f"{field} {value} is negative")


class TextLengthOutOfRange(ContractError):
    """A text argument is shorter or longer than the rule allows (in characters)."""

    code = ResultCode.TEXT_LENGTH_OUT_OF_RANGE

    def __init__(self, field: str, length: int, minimum_length: int, maximum_length: int) -> None:
        self.field, self.length = field, length
        self.minimum_length, self.maximum_length = minimum_length, maximum_length
        super().__init__(
            f"{field} is {length} characters; it must be {minimum_length} to "
            f"{maximum_length} characters"
        )


class MemberNotActive(ContractError):
    """The other party of a call (recipient, seller, member to bind) is not an active member.

    A refusal, not `NotAMember`: the sender's nonce is used, so the same bytes
    cannot be replayed once the other party becomes active.
    """

    code = ResultCode.MEMBER_NOT_ACTIVE

    def __init__(self, address: str, member_status: str) -> None:
        self.address, self.member_status = address, member_status
        super().__init__(f"{address} is not an active member (status: {member_status})")


class AmountOutOfRange(ContractError):
    """An amount of currency outside what the rule allows (micro-units)."""

    code = ResultCode.AMOUNT_OUT_OF_RANGE

    def __init__(self, amount_micro: int, minimum_micro: int, maximum_micro: int) -> None:
        self.amount_micro = amount_micro
        self.minimum_micro, self.maximum_micro = minimum_micro, maximum_micro
        super().__init__(
            f"amount {amount_micro} micro-units outside [{minimum_micro}, {maximum_micro}]"
        )


class NotHex(ContractError):
    """A key or signature argument is not hexadecimal text."""

    code = ResultCode.NOT_HEX

    def __init__(self, field: str) -> None:
        self.field = field
        super().__init__(f"{field} must be hexadecimal")


class EnergyOutOfRange(ContractError):
    """An energy argument outside what the rule allows (Wh)."""

    code = ResultCode.ENERGY_OUT_OF_RANGE

    def __init__(self, field: str, energy_wh: int, minimum_wh: int, maximum_wh: int) -> None:
        self.field, self.energy_wh = field, energy_wh
        self.minimum_wh, self.maximum_wh = minimum_wh, maximum_wh
        super().__init__(f"{field} {energy_wh} Wh outside [{minimum_wh}, {maximum_wh}] Wh")


class PriceOutOfRange(ContractError):
    """A price outside what the rule allows (micro-units per kWh, bounds included)."""

    code = ResultCode.PRICE_OUT_OF_RANGE

    def __init__(
        self, price_micro_per_kwh: int, minimum_micro_per_kwh: int, maximum_micro_per_kwh: int
    ) -> None:
        self.price_micro_per_kwh = price_micro_per_kwh
        self.minimum_micro_per_kwh = minimum_micro_per_kwh
        self.maximum_micro_per_kwh = maximum_micro_per_kwh
        super().__init__(
            f"price {price_micro_per_kwh} micro/kWh outside "
            f"[{minimum_micro_per_kwh}, {maximum_micro_per_kwh}] micro/kWh"
        )


__all__ = [
    "AmountOutOfRange",
    "ContractError",
    "EnergyOutOfRange",
    "MemberNotActive",
    "NegativeValue",
    "NotHex",
    "PriceOutOfRange",
    "TextLengthOutOfRange",
]
