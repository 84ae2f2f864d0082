"""The settlement contract's refusals.

A period settled twice is the market's `PeriodAlreadySettled`; a grid account
that cannot pay is `InsufficientFunds`; a non-positive amount is the shared
`AmountOutOfRange`. The three balance checks guard invariants that the
computation keeps by construction: they name the figures that disagree.
"""

from __future__ import annotations

from gridledger.contracts.errors import ContractError
from gridledger.ledger import ResultCode


class SettlementError(ContractError):
    """Base of the settlement contract's own refusals."""


class MeterWindowOpen(SettlementError):
    """A period is settled once its meter window has closed, not before."""

    code = ResultCode.METER_WINDOW_OPEN

    def __init__(self, period: int, settles_from_s: int, now_s: int) -> None:
        self.period, self.settles_from_s, self.now_s = period, settles_from_s, now_s
        super().__init__(
            f"period {period} can be settled from {settles_from_s} s, when its meter window "
            f"closes; now is {now_s} s"
        )


class EnergyUnbalanced(SettlementError):
    """Traded + grid + imbalance does not add up to metered, for a member or the period."""

    code = ResultCode.ENERGY_UNBALANCED

    def __init__(self, period: int, member: str, figures: str) -> None:
        self.period, self.member, self.figures = period, member, figures
        whose = f"of {member} " if member else ""
        super().__init__(f"energy {whose}in period {period} does not balance: {figures}")


class MoneyUnbalanced(SettlementError):
    """The period's payments do not sum to zero or disagree with the trades and the grid."""

    code = ResultCode.MONEY_UNBALANCED

    def __init__(self, period: int, figures: str) -> None:
        self.period, self.figures = period, figures
        super().__init__(f"money in period {period} does not balance: {figures}")


class ClearingNotEmpty(SettlementError):
    """The clearing account must end every settlement at zero."""

    code = ResultCode.CLEARING_NOT_EMPTY

    def __init__(self, period: int, left_micro: int) -> None:
        self.period, self.left_micro = period, left_micro
        super().__init__(f"clearing account holds {left_micro} micro-units after settling {period}")


__all__ = [
    "ClearingNotEmpty",
    "EnergyUnbalanced",
    "MeterWindowOpen",
    "MoneyUnbalanced",
    "SettlementError",
]
