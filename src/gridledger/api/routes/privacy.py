"""Privacy: the stealth outputs a wallet scans, and the members' public privacy keys rings
are built from.

Any member reads both: an output names no recipient (only its holder's view key finds
it), and a member's view and spend public keys are its public stealth address.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from gridledger.api.auth import member_reading_everyone
from gridledger.api.consistency import consistent_get
from gridledger.api.openapi import errors, ok, reply
from gridledger.client.privacy_replies import PrivacyKeysReply, StealthOutputsReply
from gridledger.node import Node
from gridledger.node.privacy_views import MAX_OUTPUTS, privacy_keys_view, stealth_outputs_view


def router(node: Node) -> APIRouter:
    routes = APIRouter(tags=["privacy"])
    read = consistent_get(routes, node)

    @read(
        "/v1/privacy/outputs",
        summary="Stealth outputs numbered from start (at most limit), for a wallet's scan",
        responses={**ok(StealthOutputsReply), **errors(400, 403)},
    )
    async def list_outputs(
        request: Request,
        start: int = Query(
            0, description="The first output number", json_schema_extra={"minimum": 0}
        ),
        limit: int = Query(
            1_000,
            description=f"How many (1 to {MAX_OUTPUTS})",
            json_schema_extra={"minimum": 1, "maximum": MAX_OUTPUTS},
        ),
    ) -> Response:
        member_reading_everyone(request, "stealth outputs")
        return reply(stealth_outputs_view(node, start, limit))

    @read(
        "/v1/privacy/keys",
        summary="Every member's registered view and spend public keys (rings use spend keys)",
        responses={**ok(PrivacyKeysReply), **errors(403)},
    )
    async def list_keys(request: Request) -> Response:
        member_reading_everyone(request, "privacy keys")
        return reply(privacy_keys_view(node))

    return routes
