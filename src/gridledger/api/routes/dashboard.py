"""The dashboard's read-only aggregates under ``/v1/dashboard`` (views in
`gridledger.node.dashboard_views`). The page itself and the simulation results are served
by `gridledger.api.dashboard`."""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import Response

from gridledger.api.consistency import consistent_get
from gridledger.api.openapi import ok, reply
from gridledger.client.dashboard_replies import (
    HeaderBytesReply,
    MemberActivityReply,
    OverviewReply,
    PeriodsReply,
)
from gridledger.node import Node
from gridledger.node.dashboard_views import (
    MAX_PERIODS,
    header_bytes_view,
    member_activity_view,
    overview_view,
    periods_view,
)

CountQuery = Query(24, description=f"How many periods (1 to {MAX_PERIODS})")


def router(node: Node) -> APIRouter:
    routes = APIRouter(tags=["dashboard"])
    read = consistent_get(routes, node)

    @read(
        "/v1/dashboard/overview",
        summary="Members, balances and today",
        description=overview_view.__doc__ or "",
        responses=ok(OverviewReply),
    )
    async def dashboard_overview() -> Response:
        return reply(overview_view(node))

    @read(
        "/v1/dashboard/periods",
        summary="Trades, prices, metered energy and grid exchange per period",
        description=periods_view.__doc__ or "",
        responses=ok(PeriodsReply),
    )
    async def dashboard_periods(
        to_period: int | None = Query(None, description="Last period (default: the open one)"),
        count: int = CountQuery,
    ) -> Response:
        return reply(periods_view(node, to_period, count))

    @read(
        "/v1/dashboard/members/{address}",
        summary="A member's open orders and settlement statements over recent periods",
        responses=ok(MemberActivityReply),
    )
    async def dashboard_member(address: str, count: int = CountQuery) -> Response:
        return reply(member_activity_view(node, address, count))

    @read(
        "/v1/dashboard/blocks/{height}/header",
        summary="A block header's canonical bytes (hex) and its hash",
        description=header_bytes_view.__doc__ or "",
        responses=ok(HeaderBytesReply),
    )
    async def dashboard_header(height: int) -> Response:
        return reply(header_bytes_view(node, height))

    return routes
