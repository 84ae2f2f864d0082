"""Members and accounts: the roster, one member, balances and nonces, an account's
transactions."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from gridledger.api.auth import audit, caller_of, member_reading_everyone
from gridledger.api.consistency import consistent_get
from gridledger.api.openapi import errors, ok, reply
from gridledger.api.parameters import address_path
from gridledger.client.replies import (
    AccountReply,
    AccountTransactionsReply,
    MemberReply,
    MembersReply,
)
from gridledger.node import Node
from gridledger.node.access import (
    check_member,
    check_own,
    redact_member,
    redact_members,
)
from gridledger.node.views import (
    account_transactions_view,
    account_view,
    member_view,
    members_view,
)


def router(node: Node) -> APIRouter:
    routes = APIRouter(tags=["members"])
    read = consistent_get(routes, node)

    @read(
        "/v1/members",
        summary="Every member with role and status",
        responses={**ok(MembersReply), **errors(403)},
    )
    async def list_members(request: Request) -> Response:
        caller = member_reading_everyone(request, "members")
        return reply(redact_members(caller, members_view(node)))

    @read(
        "/v1/members/{address}",
        summary="One member",
        responses={**ok(MemberReply), **errors(400, 403, 404)},
    )
    async def get_member(request: Request, address: str = address_path()) -> Response:
        caller = caller_of(request)
        if not caller.is_self(address):
            check_member(caller)
        audit(request, address, "member")
        return reply(redact_member(caller, member_view(node, address)))

    @read(
        "/v1/accounts/{address}",
        summary="Balance (micro-units) and next nonce of an account",
        responses={**ok(AccountReply), **errors(400, 403)},
    )
    async def get_account(request: Request, address: str = address_path()) -> Response:
        check_own(caller_of(request), address, f"the balance of {address}")
        audit(request, address, "account")
        return reply(account_view(node, address))

    @read(
        "/v1/accounts/{address}/transactions",
        summary="An account's latest transactions",
        responses={**ok(AccountTransactionsReply), **errors(400, 403)},
    )
    async def account_transactions(
        request: Request, address: str = address_path(), limit: int = Query(50, ge=1, le=1000)
    ) -> Response:
        check_own(caller_of(request), address, f"the transactions of {address}")
        audit(request, address, "account transactions")
        return reply(account_transactions_view(node, address, limit))

    return routes
