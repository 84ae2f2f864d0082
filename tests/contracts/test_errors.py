"""The contracts' error tree: one code per rule, values as attributes, named in the message."""

from __future__ import annotations

import inspect

import pytest

import gridledger.contracts  # noqa: F401 (imports every contract and so every error class)
from gridledger.contracts.errors import ContractError
from gridledger.ledger import ResultCode, TransactionError


def all_subclasses(cls: type) -> list[type]:
    found: list[type] = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(all_subclasses(sub))
    return found


RULES = sorted(
    (cls for cls in all_subclasses(ContractError) if "code" in vars(cls)),
    key=lambda cls: cls.__name__,
)
"""Every concrete refusal: the classes that set their own code (bases do not)."""


def sample_values(cls: type) -> dict[str, int | str]:
    """Distinct values for every constructor parameter, so each can be found in the message."""
    values: dict[str, int | str] = {}
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    for index, parameter in enumerate(parameters):
        if parameter.annotation in (int, "int"):
            values[parameter.name] = 7_000_000_001 + 1_000 * index
        else:
            values[parameter.name] = f"value-of-{parameter.name}"
    return values


def test_the_tree_is_not_empty_and_every_contract_has_rules() -> None:
    modules = {cls.__module__.rsplit(".", 1)[1] for cls in RULES}
    assert {
        "errors",
        "membership_errors",
        "tokens",
        "parameters_errors",
        "metering",
        "market_errors",
        "settlement_errors",
        "pricing",
    } <= modules
    assert len(RULES) >= 50


def test_every_rule_has_its_own_code_and_none_is_a_generic_one() -> None:
    codes = [cls.code for cls in RULES]
    assert len(set(codes)) == len(codes), "two rules share a result code"
    assert not {ResultCode.OK, ResultCode.REJECTED, ResultCode.CONTRACT_FAILED} & set(codes)
    assert all(code > ResultCode.CONTRACT_FAILED for code in codes)


def test_the_codes_are_appended_never_renumbered() -> None:
    assert [code.value for code in ResultCode] == list(range(len(ResultCode)))
    assert (ResultCode.REJECTED, ResultCode.CONTRACT_FAILED) == (15, 16)
    assert ResultCode.NOT_AUTHORISED == 13 and ResultCode.INSUFFICIENT_FUNDS == 14


@pytest.mark.parametrize("cls", RULES, ids=lambda cls: cls.__name__)
def test_each_error_carries_its_values_and_names_them_in_its_message(cls: type) -> None:
    values = sample_values(cls)
    error = cls(**values)
    assert isinstance(error, TransactionError) and error.consumes_nonce
    assert error.details == values
    for name, value in values.items():
        assert getattr(error, name) == value
        assert str(value) in str(error), f"{cls.__name__} does not name {name} in its message"


def test_a_rule_is_reported_by_its_slug() -> None:
    from gridledger.contracts.market_errors import UnknownOrder

    assert UnknownOrder("12-3").code.slug == "unknown_order"
