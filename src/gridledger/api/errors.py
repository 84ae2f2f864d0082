"""How errors become HTTP responses: always a 4xx with a machine code and a sentence.

Body: ``{"error": "<slug>", "message": "<what was wrong>", ...values}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gridledger.ledger import ResultCode, TransactionError
from gridledger.node import MempoolFull, NotFound

STATUS_OF_CODE = {
    ResultCode.OVERSIZED: 413,
    ResultCode.NONCE_MISMATCH: 409,
    ResultCode.DUPLICATE: 409,
    ResultCode.NOT_A_MEMBER: 403,
    ResultCode.NOT_AUTHORISED: 403,
}


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
    values = {
        name: value
        for name, value in vars(error).items()
        if not name.startswith("_") and isinstance(value, (int, str)) and name != "args"
    }
    return {**values, "error": error.code.slug, "code": int(error.code), "message": str(error)}


def transaction_error_status(error: TransactionError | MempoolFull) -> int:
    if isinstance(error, MempoolFull):
        return 429
    return STATUS_OF_CODE.get(error.code, 400)


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
