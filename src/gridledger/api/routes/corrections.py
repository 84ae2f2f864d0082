"""Corrections and audit flags (seed 004 §2.3): a trade with its corrections beside it, a
period's corrections, every audit flag (views in `gridledger.node.correction_views`).

Auditors (operator, regulator, peers) read everything; a household reads the corrections
and flags of trades it bought or sold in.
"""

from __future__ import annotations

import msgspec
from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from gridledger.api.auth import audit, caller_of, member_reading_everyone
from gridledger.api.consistency import consistent_get
from gridledger.api.openapi import errors, ok, reply
from gridledger.api.parameters import PERIOD_PATH
from gridledger.client.correction_replies import CorrectionsReply, FlagsReply
from gridledger.client.market_replies import TradeCorrectionsReply
from gridledger.contracts.corrections import read_trade
from gridledger.node import Node
from gridledger.node.access import check_member, check_own
from gridledger.node.correction_views import (
    MAX_TRADE_ID,
    flags_view,
    period_corrections_view,
    trade_corrections_view,
)


def router(node: Node) -> APIRouter:
    routes = APIRouter(tags=["corrections"])
    read = consistent_get(routes, node)

    @read(
        "/v1/corrections/trades/{trade_id}",
        summary="A trade as recorded, with its corrections and audit flags",
        description=trade_corrections_view.__doc__ or "",
        responses={**ok(TradeCorrectionsReply), **errors(400, 403, 404)},
    )
    async def trade_corrections(
        request: Request,
        trade_id: str = Path(
            description=f"A trade's id (1 to {MAX_TRADE_ID} characters)",
            json_schema_extra={"minLength": 1, "maxLength": MAX_TRADE_ID},
        ),
    ) -> Response:
        caller = caller_of(request)
        check_member(caller)
        view = trade_corrections_view(node, trade_id)
        if not caller.is_self(view.trade.seller):
            check_own(caller, view.trade.buyer, f"the corrections of trade {trade_id}")
        audit(request, view.trade.buyer, f"corrections of trade {trade_id}")
        return reply(view)

    @read(
        "/v1/corrections/periods/{period}",
        summary="Every correction of a period's trades",
        description=period_corrections_view.__doc__ or "",
        responses={**ok(CorrectionsReply), **errors(400, 403)},
    )
    async def period_corrections(request: Request, period: int = PERIOD_PATH) -> Response:
        caller = member_reading_everyone(request, f"corrections of period {period}")
        view = period_corrections_view(node, period)
        if not caller.is_auditor:
            mine = [
                c for c in view.corrections if caller.is_self(c.buyer) or caller.is_self(c.seller)
            ]
            view = msgspec.structs.replace(view, corrections=mine)
        return reply(view)

    @read(
        "/v1/corrections/flags",
        summary="The regulator's audit flags",
        description=flags_view.__doc__ or "",
        responses={**ok(FlagsReply), **errors(403)},
    )
    async def audit_flags(request: Request) -> Response:
        caller = member_reading_everyone(request, "audit flags")
        view = flags_view(node)
        if not caller.is_auditor:  # a household sees the flags on its own trades
            state = node.state
            mine = []
            for flag in view.flags:
                trade = read_trade(state, flag.subject) if flag.kind == "trade" else None
                if trade is not None and (
                    caller.is_self(trade.buyer) or caller.is_self(trade.seller)
                ):
                    mine.append(flag)
            view = msgspec.structs.replace(view, flags=mine)
        return reply(view)

    return routes
