"""Settlement's reads: a period's summary and the members' statements (views in
`gridledger.node.market_views`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gridledger.api.auth import audit, caller_of, member_reading_everyone
from gridledger.api.consistency import consistent_get
from gridledger.api.openapi import errors, ok, reply
from gridledger.api.parameters import PERIOD_PATH, address_path
from gridledger.api.routes.market import described
from gridledger.client.market_replies import (
    MemberStatementReply,
    SettlementReply,
    StatementsReply,
)
from gridledger.node import Node
from gridledger.node.access import check_member, check_own, redact_statements
from gridledger.node.market_views import settlement_view, statement_view, statements_view


def router(node: Node) -> APIRouter:
    routes = APIRouter(tags=["settlement"])
    read = consistent_get(routes, node)

    @read(
        "/v1/settlement/periods/{period}",
        summary="Settlement summary of a period",
        description=described(settlement_view),
        responses={**ok(SettlementReply), **errors(400, 403, 404)},
    )
    async def settlement_summary(request: Request, period: int = PERIOD_PATH) -> Response:
        check_member(caller_of(request))
        return reply(settlement_view(node, period))

    @read(
        "/v1/settlement/periods/{period}/statements",
        summary="Every member's settlement statement of a period",
        responses={**ok(StatementsReply), **errors(400, 403, 404)},
    )
    async def settlement_statements(request: Request, period: int = PERIOD_PATH) -> Response:
        caller = member_reading_everyone(request, f"statements of period {period}")
        return reply(redact_statements(caller, statements_view(node, period)))

    @read(
        "/v1/settlement/periods/{period}/statements/{member}",
        summary="One member's settlement statement of a period",
        description=statement_view.__doc__ or "",
        responses={**ok(MemberStatementReply), **errors(400, 403, 404)},
    )
    async def settlement_statement(
        request: Request, period: int = PERIOD_PATH, member: str = address_path("The member")
    ) -> Response:
        check_own(caller_of(request), member, f"the statement of {member}")
        audit(request, member, f"statement of period {period}")
        return reply(statement_view(node, period, member))

    return routes
