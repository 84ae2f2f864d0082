"""How refusals become HTTP: the status of each kind and the body with the values."""

from __future__ import annotations

import pytest

from gridledger.contracts.errors import EnergyOutOfRange
from gridledger.contracts.market_errors import NotOrderOwner, PeriodAlreadySettled
from gridledger.ledger import NonceMismatch, ResultCode
from gridledger.node.refusals import (
    status_of_code,
    transaction_error_body,
    transaction_error_status,
)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (ResultCode.MALFORMED, 400),
        (ResultCode.NONCE_MISMATCH, 409),
        (ResultCode.NOT_AUTHORISED, 403),
        (ResultCode.NOT_ORDER_OWNER, 403),
        (ResultCode.PERIOD_ALREADY_SETTLED, 409),
        (ResultCode.PERIOD_CLOSED, 409),
        (ResultCode.ENERGY_OUT_OF_RANGE, 422),
        (ResultCode.UNKNOWN_ORDER, 422),
        (ResultCode.PRICE_OUTSIDE_BAND, 422),
        (ResultCode.CONTRACT_FAILED, 500),
        (ResultCode.BOOK_INCONSISTENT, 500),
    ],
)
def test_each_kind_of_refusal_has_its_status(code: ResultCode, status: int) -> None:
    assert status_of_code(code) == status


def test_every_contract_refusal_is_a_client_error_and_a_crash_is_not() -> None:
    for code in ResultCode:
        if code in (ResultCode.OK, ResultCode.CONTRACT_FAILED) or status_of_code(code) == 500:
            continue
        assert 400 <= status_of_code(code) < 500, code
    assert status_of_code(ResultCode.CONTRACT_FAILED) == 500


def test_the_body_names_the_code_the_message_and_the_values() -> None:
    error = EnergyOutOfRange("energy_wh", 0, 1, 10_000_000)
    assert transaction_error_body(error) == {
        "error": "energy_out_of_range",
        "code": int(ResultCode.ENERGY_OUT_OF_RANGE),
        "message": str(error),
        "field": "energy_wh",
        "energy_wh": 0,
        "minimum_wh": 1,
        "maximum_wh": 10_000_000,
    }
    assert transaction_error_status(error) == 422
    assert transaction_error_status(NotOrderOwner("1-0", "gla", "glb")) == 403
    assert transaction_error_status(PeriodAlreadySettled(3)) == 409
    nonce = transaction_error_body(NonceMismatch("gla", expected=3, got=5))
    assert (nonce["error"], nonce["expected"], nonce["got"]) == ("nonce_mismatch", 3, 5)
