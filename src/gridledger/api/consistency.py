"""Consistent reads: a GET handler runs while no block is being applied to the state.

Blocks are committed in a worker thread while handlers run on the event loop.
A handler that reads several keys (a member list, an order book) could
otherwise see half of a block. `consistent_get` registers a GET route whose
handler holds `Node.state_lock` for its whole run. The handlers it wraps must
not await anything: they then run to completion without yielding the loop,
so the lock is held only for the length of one synchronous read.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI

from gridledger.node import Node

Handler = Callable[..., Awaitable[Any]]


def consistent_get(
    app: FastAPI | APIRouter, node: Node
) -> Callable[..., Callable[[Handler], Handler]]:
    """Like ``app.get``, but the handler reads the state under the node's state lock."""

    def route(path: str, **options: Any) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            @functools.wraps(handler)
            async def locked(*args: Any, **kwargs: Any) -> Any:
                with node.state_lock:
                    return await handler(*args, **kwargs)

            app.get(path, **options)(locked)
            return handler

        return register

    return route
