"""``/v1/network``: the ordering mode, this peer, the peers' attestations and finality."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gridledger.api.auth import caller_of
from gridledger.api.consistency import consistent_get
from gridledger.api.openapi import errors, ok, reply
from gridledger.client.replies import NetworkReply
from gridledger.node import Node, SoloService
from gridledger.node.access import check_member


def router(node: Node, service: SoloService) -> APIRouter:
    routes = APIRouter(tags=["chain"])
    read = consistent_get(routes, node)

    @read(
        "/v1/network",
        summary="Ordering mode, this peer, the peers' attestations, finality and any alarm",
        responses={**ok(NetworkReply), **errors(403)},
    )
    async def network(request: Request) -> Response:
        check_member(caller_of(request))
        return reply(service.network_view())

    return routes
