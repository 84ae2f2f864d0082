"""The chain: head, blocks, the genesis document and the contracts' methods."""

from __future__ import annotations

import msgspec
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from gridledger.api.auth import audit, caller_of
from gridledger.api.consistency import consistent_get
from gridledger.api.openapi import errors, ok, reply
from gridledger.api.parameters import unsigned_path
from gridledger.client.replies import BlockReply, BlocksReply, ContractsReply, HeadReply
from gridledger.ledger.genesis import Genesis
from gridledger.node import Node
from gridledger.node.access import check_member, redact_block
from gridledger.node.views import block_view, blocks_view, contracts_view, head_view


def router(node: Node) -> APIRouter:
    routes = APIRouter(tags=["chain"])
    read = consistent_get(routes, node)

    @read("/v1/head", summary="The chain head", responses=ok(HeadReply))
    async def head() -> Response:
        return reply(head_view(node))

    @read(
        "/v1/blocks/{height}",
        summary="A block by height",
        responses={**ok(BlockReply), **errors(400, 403, 404)},
    )
    async def get_block(
        request: Request,
        height: int = unsigned_path("The block's height"),
        transactions: bool = Query(True, description="Include decoded transactions"),
    ) -> Response:
        caller = caller_of(request)
        check_member(caller)
        view = block_view(node, height, transactions)
        if transactions and view.transactions:
            audit(request, "*", f"block {height}")
            view = redact_block(caller, view)
        return reply(view)

    @read(
        "/v1/blocks",
        summary="Recent block headers, newest first",
        responses={**ok(BlocksReply), **errors(403)},
    )
    async def list_blocks(
        request: Request,
        limit: int = Query(20, ge=1, le=500),
        before: int | None = Query(None, ge=1),
    ) -> Response:
        check_member(caller_of(request))
        return reply(blocks_view(node, limit, before))

    @read(
        "/v1/contracts",
        summary="Contracts, methods and argument schemas",
        responses={**ok(ContractsReply), **errors(403)},
    )
    async def contracts(request: Request) -> Response:
        check_member(caller_of(request))
        return reply(contracts_view(node))

    @read(
        "/v1/genesis",
        summary="The genesis document",
        responses={**ok(Genesis), **errors(403)},
    )
    async def genesis(request: Request) -> Response:
        check_member(caller_of(request))
        return Response(msgspec.json.encode(node.genesis), media_type="application/json")

    return routes
