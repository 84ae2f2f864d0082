"""How errors become HTTP responses: a status, a machine code and a sentence.

Body: ``{"error": "<slug>", "message": "<what was wrong>", ...values}``.

Refusals are 4xx: 403 when the sender may not do it, 409 when the state or
the clock is in the way (already done, gate closed, window not open), 422 for
any other contract rule, 400 for a malformed request. A contract that crashed
(``contract_failed``) or a broken invariant is 500: nothing the caller can fix.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gridledger.ledger import ResultCode, TransactionError
from gridledger.node import MempoolFull, NotFound

STATUS_OF_CODE: dict[int, int] = {
    ResultCode.OVERSIZED: 413,
    ResultCode.NONCE_MISMATCH: 409,
    ResultCode.DUPLICATE: 409,
    ResultCode.NOT_A_MEMBER: 403,
    ResultCode.NOT_AUTHORISED: 403,
    ResultCode.NOT_ORDER_OWNER: 403,
    ResultCode.NOT_OFFER_OWNER: 403,
    ResultCode.SELF_REVOCATION: 403,
    **dict.fromkeys(
        (
            ResultCode.APPLICATION_EXISTS,
            ResultCode.MEMBER_STATUS_MISMATCH,
            ResultCode.LAST_REGULATOR,
            ResultCode.METER_ALREADY_BOUND,
            ResultCode.CHANGE_NOT_IN_FUTURE,
            ResultCode.METER_WINDOW_CLOSED,
            ResultCode.READING_EXISTS,
            ResultCode.BATCH_ANCHORED,
            ResultCode.PERIOD_CLOSED,
            ResultCode.ORDER_NOT_OPEN,
            ResultCode.GATE_NOT_CLOSED,
            ResultCode.PERIOD_ALREADY_CLEARED,
            ResultCode.PERIOD_ALREADY_SETTLED,
            ResultCode.OFFER_NOT_OPEN,
            ResultCode.AGREEMENT_EXISTS,
            ResultCode.METER_WINDOW_OPEN,
            ResultCode.POSTING_CLOSED,
        ),
        409,
    ),
    **dict.fromkeys(
        (
            ResultCode.CONTRACT_FAILED,
            ResultCode.ESCROW_OVERDRAWN,
            ResultCode.BOOK_INCONSISTENT,
            ResultCode.ENERGY_UNBALANCED,
            ResultCode.MONEY_UNBALANCED,
            ResultCode.CLEARING_NOT_EMPTY,
        ),
        500,
    ),
}
FIRST_CONTRACT_CODE = ResultCode.NEGATIVE_VALUE
"""Codes from here on are contract rules: 422 unless listed above."""


def status_of_code(code: int) -> int:
    """The HTTP status of a refusal with result `code` (see the module's docstring)."""
    status = STATUS_OF_CODE.get(code)
    if status is not None:
        return status
    return 422 if code >= FIRST_CONTRACT_CODE else 400


class ApiError(Exception):
    """A request the API refuses: HTTP status, slug and message."""

    def __init__(self, status: int, error: str, message: str, **values: Any) -> None:
        self.status = status
        self.error = error
        self.message = message
        self.values = values
        super().__init__(message)


def transaction_error_body(error: TransactionError | MempoolFull) -> dict[str, Any]:
    """The error's code, message and the values it carries (``expected``, ``got``, ...)."""
    if isinstance(error, MempoolFull):
        return {"error": "mempool_full", "message": str(error), "limit": error.limit}
    return {
        **error.details,
        "error": error.code.slug,
        "code": int(error.code),
        "message": str(error),
    }


def transaction_error_status(error: TransactionError | MempoolFull) -> int:
    if isinstance(error, MempoolFull):
        return 429
    return status_of_code(error.code)


def error_response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(status_code=status, content=body, headers=headers)


async def handle_api_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return error_response(
        error.status, {"error": error.error, "message": error.message, **error.values}
    )


async def handle_transaction_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, TransactionError)
    return error_response(transaction_error_status(error), transaction_error_body(error))


async def handle_not_found(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, NotFound)
    return error_response(404, {"error": "not_found", "message": str(error), "kind": error.kind})


async def handle_mempool_full(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, MempoolFull)
    body = {"error": "mempool_full", "message": str(error), "limit": error.limit}
    return error_response(429, body, {"Retry-After": "1"})


async def handle_validation(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = []
    for item in error.errors():
        location = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
        problems.append({"field": location, "message": item.get("msg", "invalid")})
    first = problems[0] if problems else {"field": "?", "message": "invalid request"}
    message = f"{first['field']}: {first['message']}"
    return error_response(
        422, {"error": "invalid_request", "message": message, "problems": problems}
    )


async def handle_http(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    slug = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
    return error_response(error.status_code, {"error": slug, "message": str(error.detail)})


def install_error_handlers(app: Any) -> None:
    app.add_exception_handler(ApiError, handle_api_error)
    app.add_exception_handler(TransactionError, handle_transaction_error)
    app.add_exception_handler(NotFound, handle_not_found)
    app.add_exception_handler(MempoolFull, handle_mempool_full)
    app.add_exception_handler(RequestValidationError, handle_validation)
    app.add_exception_handler(StarletteHTTPException, handle_http)
