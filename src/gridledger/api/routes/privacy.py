"""Privacy: the stealth outputs a wallet scans, and the members' public privacy keys rings
are built from.

Any member reads both: an output names no recipient (only its holder's view key finds
it), and a member's view and spend public keys are its public stealth address.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gridledger.api.auth import member_reading_everyone
from gridledger.api.consistency import consistent_get
from gridledger.api.openapi import ok, reply
from gridledger.client.privacy_replies import PrivacyKeysReply, StealthOutputsReply
from gridledger.node import Node
from gridledger.node.privacy_views import privacy_keys_view, stealth_outputs_view


def router(node: Node) -> APIRouter:
    routes = APIRouter(tags=["privacy"])
    read = consistent_get(routes, node)

    @read(
        "/v1/privacy/outputs",
        summary="Stealth outputs numbered from start (at most limit), for a wallet's scan",
        responses=ok(StealthOutputsReply),
    )
    async def list_outputs(request: Request, start: int = 0, limit: int = 1_000) -> Response:
        member_reading_everyone(request, "stealth outputs")
        return reply(stealth_outputs_view(node, start, limit))

    @read(
        "/v1/privacy/keys",
        summary="Every member's registered view and spend public keys (rings use spend keys)",
        responses=ok(PrivacyKeysReply),
    )
    async def list_keys(request: Request) -> Response:
        member_reading_everyone(request, "privacy keys")
        return reply(privacy_keys_view(node))

    return routes
