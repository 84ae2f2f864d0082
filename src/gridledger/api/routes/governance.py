"""Governance: the community's proposals, their ballots so far and their recorded tallies.

Members read them (a ballot's choice is not served, only the counts); an outsider,
such as an applicant, does not.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gridledger.api.auth import member_reading_everyone
from gridledger.api.consistency import consistent_get
from gridledger.api.openapi import errors, ok, reply
from gridledger.api.parameters import unsigned_path
from gridledger.client.governance_replies import ProposalReply, ProposalsReply
from gridledger.node import Node
from gridledger.node.governance_views import proposal_view, proposals_view


def router(node: Node) -> APIRouter:
    routes = APIRouter(tags=["governance"])
    read = consistent_get(routes, node)

    @read(
        "/v1/governance/proposals",
        summary="Every proposal, with the community's voting rules",
        responses={**ok(ProposalsReply), **errors(403)},
    )
    async def list_proposals(request: Request) -> Response:
        member_reading_everyone(request, "proposals")
        return reply(proposals_view(node))

    @read(
        "/v1/governance/proposals/{proposal_id}",
        summary="One proposal: its ballots so far and its tally once counted",
        responses={**ok(ProposalReply), **errors(400, 403, 404)},
    )
    async def get_proposal(
        request: Request, proposal_id: int = unsigned_path("The proposal's number")
    ) -> Response:
        member_reading_everyone(request, "proposal")
        return reply(proposal_view(node, proposal_id))

    return routes
