"""``/v1/stream``: committed blocks with their receipts and events, as JSON messages, as they
commit (a WebSocket; the messages are built by `gridledger.api.stream`).

The stream is filtered per subscriber (`gridledger.node.access.stream_transactions`): an
auditor gets every transaction in full, a household its own in full and the others as
their id and result; headers go to every member. Authenticate with ``?token=`` (a session
token) or a signed upgrade request.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse

from gridledger.api.auth import audit, caller_of
from gridledger.api.stream import stream_view, until_disconnect
from gridledger.node import CommittedBlock, Node, SoloService, queries
from gridledger.node.access import Caller, stream_transactions


def router(node: Node, service: SoloService) -> APIRouter:
    routes = APIRouter()
    encoded: list[Any] = [None, "", None]
    """The last block sent on the stream, its full JSON text and its view (built once)."""

    def message(caller: Caller, committed: CommittedBlock) -> str:
        if encoded[0] is not committed:  # encode each block once for all subscribers
            view = stream_view(committed)
            encoded[:] = [committed, msgspec.json.encode(view).decode(), view]
        if caller.is_auditor:
            return str(encoded[1])
        view = encoded[2]
        shown = {**view, "transactions": stream_transactions(caller, view["transactions"])}
        return msgspec.json.encode(shown).decode()

    @routes.websocket("/v1/stream")
    async def stream(websocket: WebSocket) -> None:
        """Committed blocks with the receipts the subscriber may see, as they commit."""
        caller = caller_of(websocket)
        if not caller.is_member:
            body = {"error": "not_a_member", "message": "the block stream is for members"}
            await websocket.send_denial_response(JSONResponse(body, status_code=403))
            return
        await websocket.accept()
        audit(websocket, "*", "block stream")
        queue = service.subscribe()
        # Notice a client that leaves even when no block comes: otherwise the handler would
        # wait for the next block forever and hold up the server's shutdown.
        left = asyncio.ensure_future(until_disconnect(websocket))
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
                await websocket.send_text(message(caller, committed))
        except WebSocketDisconnect:
            return
        finally:
            left.cancel()
            service.unsubscribe(queue)

    return routes
