"""The node's HTTP and WebSocket API (OpenAPI at ``/docs`` and ``/openapi.json``).

Every read is authenticated and answered by role (`gridledger.api.auth`,
`gridledger.node.access`). One router per group of routes (`gridledger.api.routes`):
transactions, auth, chain, members,
market, settlement, network, stream and dashboard. The routes only map HTTP to the node's
views (`gridledger.node.views` and its siblings) and encode their reply Structs; the
OpenAPI document publishes those Structs' schemas (`gridledger.api.openapi`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, FastAPI

from gridledger import __version__
from gridledger.api.auth import Authentication, Gate
from gridledger.api.dashboard import install_dashboard
from gridledger.api.errors import install_error_handlers
from gridledger.api.limits import RefusalLimiter, RefusalLimits
from gridledger.api.openapi import install_reply_schemas
from gridledger.api.routes import (
    auth,
    certificates,
    chain,
    corrections,
    dashboard,
    governance,
    market,
    members,
    network,
    privacy,
    registry,
    settlement,
    stream,
    transactions,
)
from gridledger.node import Node, SoloService
from gridledger.node.service import settle_heap

Lifespan = Callable[[FastAPI], contextlib.AbstractAsyncContextManager[Any]]


def create_app(
    node: Node,
    service: SoloService | None = None,
    close_node: bool = False,
    public_reads: bool = False,
    refusal_limits: RefusalLimits | None = None,
) -> FastAPI:
    """The API of one node. The app starts the ordering service (solo by default) with its
    lifespan; with `close_node` it also closes the node when it shuts down.

    Every read is authenticated (`gridledger.api.auth`); `public_reads` serves anonymous
    callers as auditors instead, for demonstrations only (logged as a warning). Refused
    submissions are limited per client address and per sender (`gridledger.api.limits`;
    default `RefusalLimits()`, `RefusalLimits.off()` for none).
    """
    service = service or SoloService(node)
    gate = Gate(node, service, public_reads)
    if public_reads:
        logging.getLogger("gridledger.api").warning(
            "WARNING: --public-reads: this node serves EVERY read to ANYONE, members' "
            "balances, readings, orders and statements included. For demonstrations only."
        )
    app = FastAPI(
        title="gridledger node API",
        version=__version__,
        description="A permissioned ledger and peer-to-peer energy market for microgrids.",
        lifespan=lifespan(node, service, close_node, gate),
    )
    app.state.node = node
    app.state.service = service
    app.state.gate = gate
    app.state.limiter = limiter = RefusalLimiter(refusal_limits or RefusalLimits())
    install_error_handlers(app)
    transactions.install_ordering_handlers(app)
    for router in routers(node, service, limiter):
        app.include_router(router)
    install_dashboard(app)
    install_reply_schemas(app)
    app.add_middleware(Authentication, gate=gate)
    return app


def routers(node: Node, service: SoloService, limiter: RefusalLimiter) -> list[APIRouter]:
    """Every group of routes, in the order the OpenAPI document lists them."""
    return [
        transactions.router(node, service, limiter),
        auth.router(),
        network.router(node, service),
        chain.router(node),
        members.router(node),
        governance.router(node),
        privacy.router(node),
        certificates.router(node),
        registry.router(node),
        market.router(node),
        settlement.router(node),
        corrections.router(node),
        dashboard.router(node),
        stream.router(node, service),
    ]


def lifespan(node: Node, service: SoloService, close_node: bool, gate: Gate) -> Lifespan:
    """Start the ordering service with the app and stop it after.

    With `close_node` the node is closed when the app shuts down (the `gridledger node`
    process: uvicorn ends the process by re-raising SIGTERM after shutdown, so code after
    the server's run never executes).
    """

    @contextlib.asynccontextmanager
    async def run(_: FastAPI) -> AsyncIterator[None]:
        await service.start()
        if close_node:  # this process is the node: tune its collector (see settle_heap)
            settle_heap()
        try:
            yield
        finally:
            await service.stop()
            gate.access_log.close()
            if close_node:
                node.close()

    return run
