"""Refusals of the parameters contract: a change that is not in the future, names an
unknown parameter, puts one out of its range or changes the period length.

`InvalidParameter` is also what the range checks of `market_parameters` and
`day_ahead_parameters` raise; the genesis turns it into a `GenesisError`.
"""

from __future__ import annotations

from gridledger.contracts.errors import ContractError
from gridledger.ledger import ResultCode

__all__ = [
    "ChangeNotInFuture",
    "InvalidParameter",
    "ParametersError",
    "PeriodLengthFixed",
    "UnknownParameter",
]


class ParametersError(ContractError):
    """Base of the parameters contract's refusals."""


class ChangeNotInFuture(ParametersError):
    """A change must start at a period that has not started yet."""

    code = ResultCode.CHANGE_NOT_IN_FUTURE

    def __init__(self, from_period: int, current_period: int) -> None:
        self.from_period, self.current_period = from_period, current_period
        super().__init__(
            f"from_period {from_period} is not in the future (current period {current_period})"
        )


class UnknownParameter(ParametersError):
    """A change names parameters the market does not have."""

    code = ResultCode.UNKNOWN_PARAMETER

    def __init__(self, names: str) -> None:
        self.names = names
        super().__init__(f"unknown parameter(s): {names}")


class InvalidParameter(ParametersError):
    """A parameter has the wrong type or is out of its range (`check_parameters`)."""

    code = ResultCode.INVALID_PARAMETER

    def __init__(self, parameter: str, requirement: str) -> None:
        self.parameter, self.requirement = parameter, requirement
        super().__init__(f"{parameter} {requirement}")


class PeriodLengthFixed(ParametersError):
    """``period_seconds`` cannot change on a running chain: periods would shift."""

    code = ResultCode.PERIOD_LENGTH_FIXED

    def __init__(self, period_seconds: int, requested_seconds: int) -> None:
        self.period_seconds, self.requested_seconds = period_seconds, requested_seconds
        super().__init__(
            f"period_seconds cannot change on a running chain "
            f"({period_seconds} s, asked for {requested_seconds} s)"
        )
