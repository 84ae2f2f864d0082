"""The chain: head, blocks, the genesis document and the contracts' methods."""

from __future__ import annotations

import msgspec
from fastapi import APIRouter, Query
from fastapi.responses import Response

from gridledger.api.consistency import consistent_get
from gridledger.api.openapi import ok, reply
from gridledger.client.replies import BlockReply, BlocksReply, ContractsReply, HeadReply
from gridledger.ledger.genesis import Genesis
from gridledger.node import Node
from gridledger.node.views import block_view, blocks_view, contracts_view, head_view


def router(node: Node) -> APIRouter:
    routes = APIRouter(tags=["chain"])
    read = consistent_get(routes, node)

    @read("/v1/head", summary="The chain head", responses=ok(HeadReply))
    async def head() -> Response:
        return reply(head_view(node))

    @read("/v1/blocks/{height}", summary="A block by height", responses=ok(BlockReply))
    async def get_block(
        height: int, transactions: bool = Query(True, description="Include decoded transactions")
    ) -> Response:
        return reply(block_view(node, height, transactions))

    @read("/v1/blocks", summary="Recent block headers, newest first", responses=ok(BlocksReply))
    async def list_blocks(
        limit: int = Query(20, ge=1, le=500), before: int | None = Query(None, ge=1)
    ) -> Response:
        return reply(blocks_view(node, limit, before))

    @read(
        "/v1/contracts",
        summary="Contracts, methods and argument schemas",
        responses=ok(ContractsReply),
    )
    async def contracts() -> Response:
        return reply(contracts_view(node))

    @read("/v1/genesis", summary="The genesis document", responses=ok(Genesis))
    async def genesis() -> Response:
        return Response(msgspec.json.encode(node.genesis), media_type="application/json")

    return routes
