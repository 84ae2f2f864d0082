"""The dashboard's read-only aggregates under ``/v1/dashboard`` (views in
`gridledger.node.dashboard_views`). The page itself and the simulation results are served
by `gridledger.api.dashboard`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gridledger.api.auth import audit, caller_of
from gridledger.api.consistency import consistent_get
from gridledger.api.openapi import errors, ok, reply
from gridledger.api.parameters import address_path, count_query, unsigned_path, unsigned_query
from gridledger.client.dashboard_replies import (
    HeaderBytesReply,
    MemberActivityReply,
    OverviewReply,
    PeriodsReply,
)
from gridledger.node import Node
from gridledger.node.access import check_member, check_own, redact_overview
from gridledger.node.dashboard_views import (
    header_bytes_view,
    member_activity_view,
    overview_view,
    periods_view,
)

CountQuery = count_query()


def router(node: Node) -> APIRouter:
    routes = APIRouter(tags=["dashboard"])
    read = consistent_get(routes, node)

    @read(
        "/v1/dashboard/overview",
        summary="Members, balances and today",
        description=overview_view.__doc__ or "",
        responses={**ok(OverviewReply), **errors(403)},
    )
    async def dashboard_overview(request: Request) -> Response:
        caller = caller_of(request)
        check_member(caller)
        audit(request, "*", "overview (balances)")
        return reply(redact_overview(caller, overview_view(node)))

    @read(
        "/v1/dashboard/periods",
        summary="Trades, prices, metered energy and grid exchange per period",
        description=periods_view.__doc__ or "",
        responses={**ok(PeriodsReply), **errors(400, 403)},
    )
    async def dashboard_periods(
        request: Request,
        to_period: int | None = unsigned_query(
            "Last period (default: the one open for orders by the newest block's time)"
        ),
        count: int = CountQuery,
    ) -> Response:
        check_member(caller_of(request))
        return reply(periods_view(node, to_period, count))

    @read(
        "/v1/dashboard/members/{address}",
        summary="A member's open orders and settlement statements over recent periods",
        responses={**ok(MemberActivityReply), **errors(400, 403, 404)},
    )
    async def dashboard_member(
        request: Request, address: str = address_path(), count: int = CountQuery
    ) -> Response:
        check_own(caller_of(request), address, f"the activity of {address}")
        audit(request, address, "orders and statements")
        return reply(member_activity_view(node, address, count))

    @read(
        "/v1/dashboard/blocks/{height}/header",
        summary="A block header's canonical bytes (hex) and its hash",
        description=header_bytes_view.__doc__ or "",
        responses={**ok(HeaderBytesReply), **errors(400, 403, 404)},
    )
    async def dashboard_header(
        request: Request, height: int = unsigned_path("The block's height")
    ) -> Response:
        check_member(caller_of(request))
        return reply(header_bytes_view(node, height))

    return routes
