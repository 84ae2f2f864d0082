"""``/v1/auth``: session tokens for the browser and the WebSocket, one-time login codes,
and ``/v1/access-log``, the reads of a household's data by auditors.

A session starts from a challenge signed with the member's key (the signed text is
``"gridledger-login:" + chain_id + ":" + challenge``), or from a one-time login code that
a signed caller asked for (`gridledger dashboard login` prints a link holding one). A
token lasts 15 minutes; ``DELETE /v1/auth/session`` ends it.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from gridledger.api.auth import caller_of, gate_of
from gridledger.api.errors import ApiError
from gridledger.api.openapi import errors, ok, reply
from gridledger.api.parameters import address_query
from gridledger.client.replies import (
    AccessLogReply,
    ChallengeReply,
    LoginCodeReply,
    SessionReply,
)
from gridledger.node.access import NotAMember, check_member
from gridledger.node.authentication import Session, Unauthenticated
from gridledger.node.views import check_address


def hex_digits(count: int) -> JsonDict:
    return {"pattern": f"^[0-9a-fA-F]{{{count}}}$", "minLength": count, "maxLength": count}


class SessionRequest(BaseModel):
    """A signed challenge (``public_key``, ``challenge``, ``signature``) or a ``login_code``."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["login_code"], "properties": {"login_code": {"type": "string"}}},
                {
                    "required": ["public_key", "challenge", "signature"],
                    "properties": {
                        name: {"type": "string", "minLength": 1}
                        for name in ("public_key", "challenge", "signature")
                    },
                },
            ]
        }
    )

    public_key: str | None = Field(
        None, description="64 hex digits: the member's key", json_schema_extra=hex_digits(64)
    )
    challenge: str | None = Field(None, description="The challenge of POST /v1/auth/challenge")
    signature: str | None = Field(
        None,
        description='128 hex digits: Ed25519 over "gridledger-login:" + chain_id + ":" + challenge',
        json_schema_extra=hex_digits(128),
    )
    login_code: str | None = Field(None, description="Or: a one-time login code")


def router() -> APIRouter:
    routes = APIRouter(tags=["auth"])

    @routes.post(
        "/v1/auth/challenge",
        summary="A single-use login challenge (expires after 60 s)",
        responses=ok(ChallengeReply),
    )
    async def challenge(request: Request) -> Response:
        value, expires = gate_of(request).authenticator.challenge()
        return reply(ChallengeReply(challenge=value, expires_at_ms=expires))

    @routes.post(
        "/v1/auth/session",
        summary="A session token for a signed challenge or a one-time login code (15 min)",
        responses={**ok(SessionReply), **errors(400, 401, 403)},
    )
    async def open_session(request: Request, body: SessionRequest) -> Response:
        gate = gate_of(request)
        authenticator = gate.authenticator
        if body.login_code is not None:
            session = authenticator.session_from_code(body.login_code)
        elif body.public_key and body.challenge and body.signature:
            session = authenticator.session_from_challenge(
                body.public_key, body.challenge, body.signature
            )
        else:
            raise ApiError(
                400,
                "invalid_request",
                "give public_key, challenge and signature, or a login_code",
            )
        return reply(session_reply(request, session))

    @routes.delete(
        "/v1/auth/session",
        summary="Sign out: the bearer token stops working",
        status_code=204,
        responses={204: {"description": "Signed out"}},
    )
    async def close_session(request: Request) -> Response:
        authorization = request.headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated(
                "unauthenticated", "sign out with the session's Authorization: Bearer <token>"
            )
        gate_of(request).authenticator.end_session(token.strip())
        return Response(status_code=204)

    @routes.post(
        "/v1/auth/login-codes",
        summary="A one-time login code for the caller (single use, 5 min)",
        responses={**ok(LoginCodeReply), **errors(400, 403)},
    )
    async def login_code(request: Request) -> Response:
        caller = caller_of(request)
        check_member(caller)
        if caller.public_key is None:  # an anonymous auditor (--public-reads) has no key
            raise ApiError(400, "invalid_request", "a login code is for a signed caller")
        code, expires = gate_of(request).authenticator.login_code(caller.public_key)
        return reply(LoginCodeReply(login_code=code, expires_at_ms=expires))

    @routes.get(
        "/v1/access-log",
        summary="Reads of the caller's data by the operator, the regulator and peers",
        responses={**ok(AccessLogReply), **errors(400, 403)},
    )
    async def access_log(
        request: Request,
        limit: int = Query(100, ge=1, le=1000),
        member: str | None = address_query("Auditors: this household's entries"),
    ) -> Response:
        caller = caller_of(request)
        check_member(caller)
        if member is not None:
            check_address(member, "member")
        log = gate_of(request).access_log
        if caller.is_auditor:
            return reply(log.entries(member, limit))
        return reply(log.entries(caller.address, limit))

    return routes


def session_reply(request: Request, session: Session) -> SessionReply:
    """The reply of a new session; a key that is no member nor peer gets none (403)."""
    caller = gate_of(request).caller_of_key(session.public_key)
    if not caller.is_member or caller.address is None:
        gate_of(request).authenticator.end_session(session.token)
        raise NotAMember(caller.address or "?")
    return SessionReply(
        token=session.token,
        address=caller.address,
        role=caller.role,
        expires_at_ms=session.expires_at_ms,
    )
