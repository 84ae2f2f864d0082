"""How errors become HTTP responses: a status, a machine code and a sentence.

Body: ``{"error": "<slug>", "message": "<what was wrong>", ...values}``. The status, slug
and values of a node's and a transaction's refusals come from `gridledger.node.refusals`
(which says which status each refusal gets), so the in-process client answers the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from gridledger.ledger import TransactionError
from gridledger.node.authentication import Unauthenticated
from gridledger.node.errors import NodeError
from gridledger.node.refusals import (
    node_error_body,
    transaction_error_body,
    transaction_error_status,
)

WWW_AUTHENTICATE = 'Signature, Bearer realm="gridledger"'
"""The schemes a 401 names (RFC 9110 11.6.1): RFC 9421 signatures, or a session token."""


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
    if error.status == 401:
        headers = {"WWW-Authenticate": WWW_AUTHENTICATE}
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


async def handle_http(request: Request, error: Exception) -> JSONResponse:
    """Starlette's own refusals: an unknown path (404), or a method the path does not have
    (405, with the ``Allow`` header Starlette names the path's methods in, RFC 9110 15.5.6)."""
    assert isinstance(error, StarletteHTTPException)
    slug = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
    headers = dict(error.headers or {})
    message = str(error.detail)
    if error.status_code == 405:
        headers["Allow"] = allowed_methods(request) or headers.get("Allow", "")
        message = f"{request.method} {request.url.path}: this path answers {headers['Allow']}"
    body = {"error": slug, "message": message}
    return error_response(error.status_code, body, headers or None)


def allowed_methods(request: Request) -> str:
    """Every method some route answers at the request's path (Starlette's own 405 names the
    methods of only the first route with that path: ``POST`` and ``DELETE`` of one path are
    two routes)."""
    matching = [
        route
        for route in every_route(request.app.router.routes)
        if route.matches(request.scope)[0] == Match.PARTIAL
    ]
    # a path that is some route's own (``/v1/transactions/batch``) is not also the value of
    # another's parameter (``/v1/transactions/{transaction_id}``)
    literal = [route for route in matching if getattr(route, "path", None) == request.url.path]
    methods = {m for route in literal or matching for m in getattr(route, "methods", None) or ()}
    return ", ".join(sorted(methods))


def every_route(routes: list[Any]) -> Iterator[Any]:
    """`routes`, with the routes of included routers in place of the routers (FastAPI keeps
    an included router as one entry holding its ``original_router``)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from every_route(included.routes)
        else:
            yield route


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
