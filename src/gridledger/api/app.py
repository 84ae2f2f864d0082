"""The node's HTTP and WebSocket API (OpenAPI at ``/docs`` and ``/openapi.json``).

Transactions are submitted as their canonical bytes: hex in JSON
(``{"transaction": "<hex>"}``), or the raw bytes as ``application/octet-stream``;
a batch is a JSON list of hex strings or a MessagePack array of byte strings
(``application/msgpack``). Reads return JSON with bytes as hex.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from fastapi import FastAPI, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from gridledger import __version__
from gridledger.api.consistency import consistent_get
from gridledger.api.dashboard import install_dashboard
from gridledger.api.errors import (
    ApiError,
    install_error_handlers,
    transaction_error_body,
    transaction_error_status,
)
from gridledger.api.market_routes import install_market_routes
from gridledger.api.registry_routes import install_registry_routes
from gridledger.api.stream import stream_message, until_disconnect
from gridledger.api.views import (
    block_view,
    header_view,
    member_view,
    plain,
    transaction_view,
)
from gridledger.crypto import is_address
from gridledger.ledger import MAX_TRANSACTION_BYTES
from gridledger.node import Node, SoloService, queries
from gridledger.node.ordered_service import PeerHalted
from gridledger.node.ordering import OrderingUnavailable
from gridledger.node.service import settle_heap

MAX_BATCH = 10_000
MAX_BATCH_BYTES = 64 * 1024 * 1024
MAX_WAIT_MS = 60_000


class SubmitRequest(BaseModel):
    transaction: str = Field(description="Hex of the canonical signed transaction bytes")


class BatchRequest(BaseModel):
    transactions: list[str] = Field(description="Hex of each canonical signed transaction")


def _hex(text: str, field: str) -> bytes:
    try:
        return bytes.fromhex(text)
    except ValueError as error:
        raise ApiError(400, "invalid_request", f"{field}: not hexadecimal") from error


def _address(text: str) -> str:
    if not is_address(text):
        raise ApiError(400, "invalid_address", f"{text!r} is not an address (gl + 40 hex digits)")
    return text


async def _read_body(request: Request, limit: int) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise ApiError(
                413, "oversized", f"request body exceeds {limit} bytes", limit_bytes=limit
            )
    return bytes(body)


def install_ordering_handlers(app: FastAPI) -> None:
    """The nats ordering service's refusals: 429 (retry) while it is unavailable; 409 halted."""

    async def unavailable(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, OrderingUnavailable)
        body = {"error": "ordering_unavailable", "message": str(error)}
        return JSONResponse(status_code=429, content=body, headers={"Retry-After": "1"})

    async def halted(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, PeerHalted)
        body = {"error": "peer_halted", "message": str(error), "alarm": error.alarm}
        return JSONResponse(status_code=409, content=body)

    app.add_exception_handler(OrderingUnavailable, unavailable)
    app.add_exception_handler(PeerHalted, halted)


def create_app(node: Node, service: SoloService | None = None, close_node: bool = False) -> FastAPI:
    """The API of one node. The app starts the solo ordering service with its lifespan.

    With `close_node` the node is closed when the app shuts down (the `gridledger node`
    process: uvicorn ends the process by re-raising SIGTERM after shutdown, so code after
    the server's run never executes).
    """
    solo = service or SoloService(node)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await solo.start()
        if close_node:  # this process is the node: tune its collector (see settle_heap)
            settle_heap()
        try:
            yield
        finally:
            await solo.stop()
            if close_node:
                node.close()

    app = FastAPI(
        title="gridledger node API",
        version=__version__,
        description="A permissioned ledger and peer-to-peer energy market for microgrids.",
        lifespan=lifespan,
    )
    app.state.node = node
    app.state.service = solo
    install_error_handlers(app)
    install_ordering_handlers(app)
    read = consistent_get(app, node)
    install_market_routes(app, node)
    install_dashboard(app, node)
    install_registry_routes(app, node)

    async def wait_for(tx_id: bytes, timeout_ms: int) -> dict[str, Any]:
        future = solo.waiter(tx_id)
        # it may have been committed between admission and registering the waiter
        if node.storage.has_transaction(tx_id):
            solo.forget(tx_id, future)
            return transaction_view(queries.find_transaction(node, tx_id))
        try:
            await asyncio.wait_for(future, timeout_ms / 1000)
        except TimeoutError:
            solo.forget(tx_id, future)
            return {"id": tx_id.hex(), "status": "pending", "message": "not committed yet"}
        return transaction_view(queries.find_transaction(node, tx_id))

    @app.post(
        "/v1/transactions",
        tags=["transactions"],
        summary="Submit one transaction",
        openapi_extra={
            "requestBody": {
                "content": {
                    "application/json": {"schema": SubmitRequest.model_json_schema()},
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                },
                "required": True,
            }
        },
    )
    async def submit(
        request: Request,
        wait: bool = Query(False, description="Answer only once the transaction is committed"),
        timeout_ms: int = Query(10_000, ge=1, le=MAX_WAIT_MS),
    ) -> JSONResponse:
        body = await _read_body(request, 4 * MAX_TRANSACTION_BYTES)
        if request.headers.get("content-type", "").startswith("application/octet-stream"):
            raw = body
        else:
            try:
                parsed = SubmitRequest.model_validate_json(body)
            except ValueError as error:
                raise ApiError(
                    422, "invalid_request", 'body must be JSON {"transaction": "<hex>"}'
                ) from error
            raw = _hex(parsed.transaction, "transaction")
        admission = (await solo.submit_many([raw]))[0]
        if admission.error is not None:
            body_out = {
                **transaction_error_body(admission.error),
                "id": admission.transaction_id.hex(),
            }
            status = transaction_error_status(admission.error)
            headers = {"Retry-After": "1"} if status == 429 else None
            return JSONResponse(status_code=status, content=body_out, headers=headers)
        if wait:
            view = await wait_for(admission.transaction_id, timeout_ms)
            return JSONResponse(
                status_code=200 if view["status"] == "committed" else 202, content=view
            )
        return JSONResponse(
            status_code=202, content={"id": admission.transaction_id.hex(), "status": "pending"}
        )

    @app.post(
        "/v1/transactions/batch",
        tags=["transactions"],
        summary="Submit many transactions",
        openapi_extra={
            "requestBody": {
                "content": {
                    "application/json": {"schema": BatchRequest.model_json_schema()},
                    "application/msgpack": {
                        "schema": {"type": "array", "items": {"type": "string", "format": "binary"}}
                    },
                },
                "required": True,
            }
        },
    )
    async def submit_batch(request: Request) -> Response:
        body = await _read_body(request, MAX_BATCH_BYTES)
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/msgpack"):
            try:
                raws = msgspec.msgpack.decode(body, type=list[bytes])
            except (msgspec.DecodeError, msgspec.ValidationError) as error:
                raise ApiError(
                    422,
                    "invalid_request",
                    f"body: not a MessagePack array of byte strings ({error})",
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
        admissions = await solo.submit_many(raws)
        results = []
        accepted = 0
        for admission in admissions:
            if admission.error is None:
                accepted += 1
                results.append({"id": admission.transaction_id.hex(), "status": "pending"})
            else:
                results.append(
                    {
                        **transaction_error_body(admission.error),
                        "status": "rejected",
                        "id": admission.transaction_id.hex(),
                    }
                )
        payload = {"accepted": accepted, "rejected": len(raws) - accepted, "results": results}
        return Response(msgspec.json.encode(payload), media_type="application/json")

    @read(
        "/v1/transactions/{transaction_id}",
        tags=["transactions"],
        summary="A committed transaction with its receipt and Merkle proofs",
    )
    async def get_transaction(transaction_id: str) -> dict[str, Any]:
        tx_id = _hex(transaction_id, "transaction_id")
        if len(tx_id) != 32:
            raise ApiError(400, "invalid_request", "transaction_id: must be 64 hex digits")
        if solo.is_pending(tx_id):
            return {"id": transaction_id, "status": "pending"}
        return transaction_view(queries.find_transaction(node, tx_id))

    @read(
        "/v1/network",
        tags=["chain"],
        summary="Ordering mode, this peer, the peers' attestations, finality and any alarm",
    )
    async def network() -> dict[str, Any]:
        return solo.network_view()

    @read("/v1/head", tags=["chain"], summary="The chain head")
    async def head() -> dict[str, Any]:
        return {**queries.head_summary(node), "header": header_view(node.head)}

    @read("/v1/blocks/{height}", tags=["chain"], summary="A block by height")
    async def get_block(
        height: int, transactions: bool = Query(True, description="Include decoded transactions")
    ) -> dict[str, Any]:
        if height < 0:
            raise ApiError(400, "invalid_request", f"height: {height} is negative")
        if height > node.head.height:
            raise ApiError(404, "not_found", f"no block {height}; the head is {node.head.height}")
        block = queries.get_block(node, height)
        return block_view(block, node.storage.receipts(height), transactions)

    @read("/v1/blocks", tags=["chain"], summary="Recent block headers, newest first")
    async def list_blocks(
        limit: int = Query(20, ge=1, le=500), before: int | None = Query(None, ge=1)
    ) -> dict[str, Any]:
        top = node.head.height if before is None else min(before - 1, node.head.height)
        headers = []
        for height in range(top, max(-1, top - limit), -1):
            block = node.storage.block(height)
            if block is not None:
                headers.append(header_view(block.header))
        return {"blocks": headers}

    @read("/v1/members", tags=["members"], summary="Every member with role and status")
    async def list_members() -> dict[str, Any]:
        return {"members": [member_view(m) for m in queries.members(node)]}

    @read("/v1/members/{address}", tags=["members"], summary="One member")
    async def get_member(address: str) -> dict[str, Any]:
        return member_view(queries.member(node, _address(address)))

    @read(
        "/v1/accounts/{address}",
        tags=["members"],
        summary="Balance (micro-units) and next nonce of an account",
    )
    async def get_account(address: str) -> dict[str, Any]:
        address = _address(address)
        return {
            "address": address,
            "balance_micro": queries.balance(node, address),
            "nonce": queries.nonce(node, address),
        }

    @read(
        "/v1/accounts/{address}/transactions",
        tags=["members"],
        summary="An account's latest transactions",
    )
    async def account_transactions(
        address: str, limit: int = Query(50, ge=1, le=1000)
    ) -> dict[str, Any]:
        rows = node.storage.transactions_of(_address(address), limit)
        return {
            "transactions": [
                {
                    "height": h,
                    "position": p,
                    "id": i.hex(),
                    "code": c,
                    "result": queries.result_name(c),
                }
                for h, p, i, c in rows
            ]
        }

    @read("/v1/contracts", tags=["chain"], summary="Contracts, methods and argument schemas")
    async def contracts() -> dict[str, Any]:
        return plain(node.registry.describe())  # type: ignore[no-any-return]

    @read("/v1/genesis", tags=["chain"], summary="The genesis document")
    async def genesis() -> Response:
        return Response(msgspec.json.encode(node.genesis), media_type="application/json")

    stream_cache: list[Any] = [None, ""]
    """The last block sent on the stream and its JSON text."""

    @app.websocket("/v1/stream")
    async def stream(websocket: WebSocket) -> None:
        """Committed blocks with every receipt and event, as JSON messages, as they commit."""
        await websocket.accept()
        queue = solo.subscribe()
        # Notice a client that leaves even when no block comes: otherwise the handler would
        # wait for the next block forever and hold up the server's shutdown.
        left = asyncio.ensure_future(until_disconnect(websocket))
        encoded = stream_cache
        try:
            await websocket.send_json({"type": "hello", **queries.head_summary(node)})
            while True:
                getter = asyncio.ensure_future(queue.get())
                await asyncio.wait({getter, left}, return_when=asyncio.FIRST_COMPLETED)
                if not getter.done():
                    getter.cancel()
                    return
                committed = getter.result()
                if committed is None:
                    await websocket.close(code=1001, reason="node stopping")
                    return
                if encoded[0] is not committed:  # encode each block once for all subscribers
                    encoded[:] = [committed, stream_message(committed).decode()]
                await websocket.send_text(encoded[1])
        except WebSocketDisconnect:
            return
        finally:
            left.cancel()
            solo.unsubscribe(queue)

    return app
