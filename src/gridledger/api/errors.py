"""How errors become HTTP responses: a status, a machine code and a sentence.

Body: ``{"error": "<slug>", "message": "<what was wrong>", ...values}``. The status, slug
and values of a node's and a transaction's refusals come from `gridledger.node.refusals`
(which says which status each refusal gets), so the in-process client answers the same.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gridledger.ledger import TransactionError
from gridledger.node.authentication import Unauthenticated
from gridledger.node.errors import NodeError
from gridledger.node.refusals import (
    node_error_body,
    transaction_error_body,
    transaction_error_status,
)


class ApiError(Exception):
    """A request the API refuses: HTTP status, slug and message."""

    def __init__(self, status: int, error: str, message: str, **values: Any) -> None:
        self.status = status
        self.error = error
        self.message = message
        self.values = values
        super().__init__(message)


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


async def handle_node_error(_: Request, error: Exception) -> JSONResponse:
    """A node's refusal of a read (`NotFound`, `InvalidQuery`, ...) or a full mempool."""
    assert isinstance(error, NodeError)
    headers = {"Retry-After": "1"} if error.status == 429 else None
    body = node_error_body(error)
    if isinstance(error, Unauthenticated):  # its specific code (bad_challenge, ...)
        body["error"] = error.code
    return error_response(error.status, body, headers)


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
    app.add_exception_handler(NodeError, handle_node_error)
    app.add_exception_handler(RequestValidationError, handle_validation)
    app.add_exception_handler(StarletteHTTPException, handle_http)


__all__ = [
    "ApiError",
    "install_error_handlers",
    "transaction_error_body",
    "transaction_error_status",
]
