"""``/v1/stream``: committed blocks with every receipt and event, as JSON messages, as they
commit (a WebSocket; the messages are built by `gridledger.api.stream`)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from gridledger.api.stream import stream_message, until_disconnect
from gridledger.node import Node, SoloService, queries


def router(node: Node, service: SoloService) -> APIRouter:
    routes = APIRouter()
    encoded: list[Any] = [None, ""]
    """The last block sent on the stream and its JSON text (encoded once for all)."""

    @routes.websocket("/v1/stream")
    async def stream(websocket: WebSocket) -> None:
        """Committed blocks with every receipt and event, as JSON messages, as they commit."""
        await websocket.accept()
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
                if encoded[0] is not committed:  # encode each block once for all subscribers
                    encoded[:] = [committed, stream_message(committed).decode()]
                await websocket.send_text(encoded[1])
        except WebSocketDisconnect:
            return
        finally:
            left.cancel()
            service.unsubscribe(queue)

    return routes
