"""``/v1/transactions``: submit one transaction or a batch, read one back.

Transactions are submitted as their canonical bytes: hex in JSON
(``{"transaction": "<hex>"}``), or the raw bytes as ``application/octet-stream``; a batch
is a JSON list of hex strings or a MessagePack array of byte strings
(``application/msgpack``). Submission is the hot path: a batch's reply is built as plain
data, one small dict per transaction, and encoded once.

Refused submissions are limited per client address and per sender (`gridledger.api.limits`):
over the limit a refusal is answered 429 ``rate_limited`` with ``Retry-After``; in a batch,
each refused transaction over the limit says so in its result, and a batch with nothing
accepted and something over the limit is answered 429 as a whole.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

import msgspec
from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from pydantic.config import JsonDict

from gridledger.api.auth import audit, caller_of
from gridledger.api.consistency import consistent_get
from gridledger.api.errors import ApiError
from gridledger.api.limits import Limited, RefusalLimiter
from gridledger.api.openapi import errors, ok, reply
from gridledger.api.parameters import transaction_id_path
from gridledger.client.replies import (
    BatchReply,
    PendingReply,
    TransactionReply,
    TransactionStatus,
)
from gridledger.ledger import MAX_TRANSACTION_BYTES
from gridledger.node import Admission, MempoolFull, Node, SoloService, queries
from gridledger.node.access import check_transaction
from gridledger.node.ordered_service import PeerHalted
from gridledger.node.ordering import OrderingUnavailable
from gridledger.node.refusals import transaction_error_body, transaction_error_status
from gridledger.node.views import transaction_reply, transaction_view

MAX_BATCH = 10_000
MAX_BATCH_BYTES = 64 * 1024 * 1024
MAX_WAIT_MS = 60_000
T = TypeVar("T")


HEX_TRANSACTION: JsonDict = {
    "pattern": "^([0-9a-fA-F]{2})+$",
    "minLength": 2,
    "maxLength": 2 * MAX_TRANSACTION_BYTES,
}
"""A transaction's canonical bytes in hex: what `bytes.fromhex` reads, within the size limit
(longer is refused 413 oversized)."""


class SubmitRequest(BaseModel):
    transaction: str = Field(
        description="Hex of the canonical signed transaction bytes",
        json_schema_extra=HEX_TRANSACTION,
    )


class BatchRequest(BaseModel):
    transactions: list[str] = Field(
        description="Hex of each canonical signed transaction",
        json_schema_extra={"items": {"type": "string", **HEX_TRANSACTION}, "maxItems": MAX_BATCH},
    )


SUBMIT_BODY = {
    "requestBody": {
        "content": {
            "application/json": {"schema": SubmitRequest.model_json_schema()},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
        "required": True,
    }
}
BATCH_BODY = {
    "requestBody": {
        "content": {
            "application/json": {"schema": BatchRequest.model_json_schema()},
            "application/msgpack": {
                "schema": {"type": "array", "items": {"type": "string", "format": "binary"}}
            },
        },
        "required": True,
    }
}


def _hex(text: str, field: str) -> bytes:
    try:
        return bytes.fromhex(text)
    except ValueError as error:
        raise ApiError(400, "invalid_request", f"{field}: not hexadecimal") from error


async def _read_body(request: Request, limit: int) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise ApiError(
                413, "oversized", f"request body exceeds {limit} bytes", limit_bytes=limit
            )
    return bytes(body)


def _one_transaction(request: Request, body: bytes) -> bytes:
    if request.headers.get("content-type", "").startswith("application/octet-stream"):
        return body
    try:
        parsed = SubmitRequest.model_validate_json(body)
    except ValueError as error:
        raise ApiError(
            422, "invalid_request", 'body must be JSON {"transaction": "<hex>"}'
        ) from error
    return _hex(parsed.transaction, "transaction")


def _batch(request: Request, body: bytes) -> list[bytes]:
    if request.headers.get("content-type", "").startswith("application/msgpack"):
        try:
            raws = msgspec.msgpack.decode(body, type=list[bytes])
        except (msgspec.DecodeError, msgspec.ValidationError) as error:
            raise ApiError(
                422, "invalid_request", f"body: not a MessagePack array of byte strings ({error})"
            ) from error
    else:
        try:
            parsed = BatchRequest.model_validate_json(body)
        except ValueError as error:
            raise ApiError(
                422, "invalid_request", 'body must be JSON {"transactions": ["<hex>", ...]}'
            ) from error
        raws = [_hex(text, f"transactions[{i}]") for i, text in enumerate(parsed.transactions)]
    if len(raws) > MAX_BATCH:
        raise ApiError(
            413,
            "oversized",
            f"a batch holds at most {MAX_BATCH} transactions, got {len(raws)}",
            limit=MAX_BATCH,
        )
    return raws


def client_address(request: Request) -> str:
    """The HTTP peer's address (the TCP connection's, never a forwarded header)."""
    return request.client.host if request.client is not None else "unknown"


def counted_refusal(limiter: RefusalLimiter, address: str, admission: Admission) -> Limited | None:
    """Count a refused admission against its address and sender; `MempoolFull` is the node's
    state, not the client's fault, and is not counted."""
    if isinstance(admission.error, MempoolFull):
        return None
    return limiter.refused(address, admission.sender)


async def refused_body(
    request: Request, limiter: RefusalLimiter, body: Awaitable[T]
) -> T | Limited:
    """Await a request's parsing; a malformed request counts against the client's address."""
    try:
        return await body
    except ApiError as error:
        limited = limiter.refused(client_address(request))
        if limited is not None:
            return limited
        raise error from None


async def _one_raw(request: Request) -> bytes:
    return _one_transaction(request, await _read_body(request, 4 * MAX_TRANSACTION_BYTES))


async def _batch_raws(request: Request) -> list[bytes]:
    return _batch(request, await _read_body(request, MAX_BATCH_BYTES))


def router(node: Node, service: SoloService, limiter: RefusalLimiter) -> APIRouter:
    routes = APIRouter(tags=["transactions"])
    read = consistent_get(routes, node)

    async def wait_for(tx_id: bytes, timeout_ms: float) -> Response:
        future = service.waiter(tx_id)
        # it may have been committed between admission and registering the waiter
        if not node.storage.has_transaction(tx_id):
            try:
                await asyncio.wait_for(future, timeout_ms / 1000)
            except TimeoutError:
                service.forget(tx_id, future)
                return reply(PendingReply(id=tx_id.hex(), message="not committed yet"), 202)
        else:
            service.forget(tx_id, future)
        return reply(transaction_reply(queries.find_transaction(node, tx_id)))

    @routes.post(
        "/v1/transactions",
        summary="Submit one transaction",
        openapi_extra=SUBMIT_BODY,
        responses={
            **ok(TransactionStatus, "Committed (with wait)"),
            **ok(PendingReply, "Admitted", 202),
            **errors(400, 403, 409, 413, 422, 429, 503),
        },
    )
    async def submit(
        request: Request,
        wait: bool = Query(False, description="Answer only once the transaction is committed"),
        timeout_ms: int = Query(
            10_000,
            ge=1,
            le=MAX_WAIT_MS,
            description="How long to wait for the ordering service, and with wait for the commit",
        ),
    ) -> Response:
        parsed = await refused_body(request, limiter, _one_raw(request))
        if isinstance(parsed, Limited):
            return parsed.response()
        raw = parsed
        started = time.monotonic()
        admission = (await service.submit_many([raw], timeout_ms / 1000))[0]
        if admission.error is not None:
            limited = counted_refusal(limiter, client_address(request), admission)
            if limited is not None:
                return limited.response()
            body = {**transaction_error_body(admission.error), "id": admission.transaction_id.hex()}
            status = transaction_error_status(admission.error)
            headers = {"Retry-After": "1"} if status == 429 else None
            return JSONResponse(status_code=status, content=body, headers=headers)
        if wait:
            left_ms = timeout_ms - (time.monotonic() - started) * 1000
            return await wait_for(admission.transaction_id, max(left_ms, 0))
        return reply(PendingReply(id=admission.transaction_id.hex()), 202)

    @routes.post(
        "/v1/transactions/batch",
        summary="Submit many transactions",
        openapi_extra=BATCH_BODY,
        responses={**ok(BatchReply), **errors(400, 409, 413, 422, 429, 503)},
    )
    async def submit_batch(request: Request) -> Response:
        parsed = await refused_body(request, limiter, _batch_raws(request))
        if isinstance(parsed, Limited):
            return parsed.response()
        raws = parsed
        admissions = await service.submit_many(raws)
        address = client_address(request)
        results: list[dict[str, Any]] = []
        accepted = 0
        first_limited: Limited | None = None
        for admission in admissions:
            if admission.error is None:
                accepted += 1
                results.append({"id": admission.transaction_id.hex(), "status": "pending"})
                continue
            limited = counted_refusal(limiter, address, admission)
            body = transaction_error_body(admission.error) if limited is None else limited.body()
            results.append({**body, "status": "rejected", "id": admission.transaction_id.hex()})
            first_limited = first_limited or limited
        if accepted == 0 and first_limited is not None:
            return first_limited.response()
        payload = {"accepted": accepted, "rejected": len(raws) - accepted, "results": results}
        return reply(payload)

    @read(
        "/v1/transactions/{transaction_id}",
        summary="A committed transaction with its receipt and Merkle proofs",
        responses={**ok(TransactionStatus), **errors(400, 403, 404)},
    )
    async def get_transaction(
        request: Request, transaction_id: str = transaction_id_path()
    ) -> Response:
        if transaction_id == "batch":  # the path of POST /v1/transactions/batch
            raise HTTPException(405, headers={"Allow": "POST"})
        view = transaction_view(node, transaction_id, service.is_pending)
        if isinstance(view, TransactionReply):
            what = f"transaction {transaction_id}"
            for party in check_transaction(caller_of(request), view.transaction, what):
                audit(request, party, what)
        return reply(view)

    return routes


def install_ordering_handlers(app: FastAPI) -> None:
    """The nats ordering service's refusals: 503 with Retry-After while it is unavailable
    (within the request's timeout, or at once while it is known to be); 409 halted."""

    async def unavailable(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, OrderingUnavailable)
        body = {"error": "ordering_unavailable", "message": str(error)}
        return JSONResponse(status_code=503, content=body, headers={"Retry-After": "1"})

    async def halted(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, PeerHalted)
        body = {"error": "peer_halted", "message": str(error), "alarm": error.alarm}
        return JSONResponse(status_code=409, content=body)

    app.add_exception_handler(OrderingUnavailable, unavailable)
    app.add_exception_handler(PeerHalted, halted)
