"""Every read is authenticated: an ASGI middleware in front of the whole API.

Open to anyone: the chain head (``GET /v1/head``, the liveness check), the login routes
(``POST /v1/auth/challenge``, ``POST /v1/auth/session``), the API's documentation
(``/docs``, ``/openapi.json``), the dashboard's static files, and the submission of
transactions (``POST /v1/transactions`` and ``/batch``: a transaction is authenticated by
its own signature, so the hot path does no request-signature work at all) and of an
applicant's personal data (``POST /v1/registry/applications``, signed by the applicant's
key in its body, as a transaction is). Everything
else under ``/v1/`` needs a signed request (RFC 9421) or a session token
(``Authorization: Bearer``; ``?token=`` on the WebSocket, which browsers cannot give
headers); without one it is 401. With ``--public-reads`` an anonymous caller is served
as an auditor instead (a demonstration mode, logged loudly at start).

The caller (`gridledger.node.access.Caller`) is put into the request's scope; routes
read it with `caller_of` and apply `gridledger.node.access`. `audit` writes an auditor's
read of a household's data to the access log.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import parse_qs

import msgspec
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from gridledger.api.errors import WWW_AUTHENTICATE
from gridledger.node import Node, SoloService
from gridledger.node.access import AUDITOR, NOBODY, Caller, caller_of_key, check_member
from gridledger.node.access_log import AccessLog, AccessRecord
from gridledger.node.authentication import Authenticator, TooManySignatures, Unauthenticated

CALLER = "gridledger.caller"
"""The scope key holding the request's `Caller`."""
OPEN_PATHS = {
    ("POST", "/v1/transactions"),
    ("POST", "/v1/transactions/batch"),
    ("POST", "/v1/registry/applications"),
    ("GET", "/v1/head"),
    ("HEAD", "/v1/head"),
    ("POST", "/v1/auth/challenge"),
    ("POST", "/v1/auth/session"),
}
OPEN_PATH_NAMES = frozenset(path for _, path in OPEN_PATHS)
SIGNED_ON_OPEN_PATHS = frozenset({("DELETE", "/v1/auth/session")})
"""The one route at an open path that needs a caller. Any other method at an open path
is let through anonymous, so that routing answers it 405 with ``Allow`` (an open path
does not ask a caller to prove a key only to tell it the method is wrong)."""
MAX_SIGNED_BODY = 64 * 1024
"""A signed request's body is read whole to check its digest: no more than this."""
log = logging.getLogger("gridledger.api")


class Gate:
    """What the middleware needs: the node, its authenticator, peers' keys and the log."""

    def __init__(
        self,
        node: Node,
        service: SoloService,
        public_reads: bool = False,
        access_log: AccessLog | None = None,
    ) -> None:
        self.node = node
        self.authenticator = Authenticator(node.chain_id)
        peers = getattr(service, "peers", [])
        self.peer_keys = frozenset(peer.public_key for peer in peers)
        self.public_reads = public_reads
        self.access_log = access_log or AccessLog.beside(getattr(node.storage, "path", None))
        self.anonymous = AUDITOR if public_reads else NOBODY

    def caller_of_key(self, public_key: bytes) -> Caller:
        return caller_of_key(self.node.state, public_key, self.peer_keys)


def caller_of(request: HTTPConnection) -> Caller:
    """The caller the middleware authenticated (anonymous on an open route)."""
    found = request.scope.get(CALLER)
    return found if isinstance(found, Caller) else NOBODY


def gate_of(request: HTTPConnection) -> Gate:
    gate: Gate = request.app.state.gate
    return gate


def audit(request: HTTPConnection, household: str, resource: str) -> None:
    """Log an auditor's read of `household`'s data (``*``: every member's)."""
    caller = caller_of(request)
    if not caller.is_auditor or caller.is_self(household):
        return
    route = request.scope.get("route")
    template = getattr(route, "path", request.url.path)
    gate_of(request).access_log.record(
        AccessRecord(
            reader=caller.address or "anonymous",
            reader_role=caller.role,
            route=f"{request.scope.get('method', 'WS')} {template}",
            resource=resource,
            household=household,
        )
    )


def member_reading_everyone(request: HTTPConnection, resource: str) -> Caller:
    """The caller of a read that covers every household (a roster, all trades or statements
    of a period): it must be a member, and an auditor's read is logged for everyone (``*``).
    The route then redacts the reply for the caller's role."""
    caller = caller_of(request)
    check_member(caller)
    audit(request, "*", resource)
    return caller


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None


def is_open(method: str, path: str) -> bool:
    """Whether a request is served without authenticating its caller (see the module)."""
    if (method, path) in OPEN_PATHS or not path.startswith("/v1/"):
        return True
    return path in OPEN_PATH_NAMES and (method, path) not in SIGNED_ON_OPEN_PATHS


class Authentication:
    """The ASGI middleware: authenticate, then hand the request on with its caller."""

    def __init__(self, app: ASGIApp, gate: Gate) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        method = scope.get("method", "GET")
        if is_open(method, path):
            scope[CALLER] = self.gate.anonymous
            await self.app(scope, receive, send)
            return
        try:
            caller, receive = await self.authenticate(scope, receive)
        except (Unauthenticated, TooManySignatures) as error:
            await refuse(scope, receive, send, error)
            return
        scope[CALLER] = caller
        await self.app(scope, receive, send)

    async def authenticate(self, scope: Scope, receive: Receive) -> tuple[Caller, Receive]:
        gate = self.gate
        token = None
        authorization = _header(scope, b"authorization")
        if authorization is not None:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthenticated("unauthenticated", "Authorization must be 'Bearer <token>'")
        elif scope["type"] == "websocket":
            token = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [None])[
                0
            ]
        if token is not None:
            session = gate.authenticator.session(token.strip())
            return gate.caller_of_key(session.public_key), receive
        signature_input = _header(scope, b"signature-input")
        signature = _header(scope, b"signature")
        if signature_input is None or signature is None:
            if gate.public_reads:
                return gate.anonymous, receive
            raise Unauthenticated(
                "unauthenticated",
                "this read needs a signed request (RFC 9421, keyid = your public key) or a "
                "session token (POST /v1/auth/session); see docs/security.md",
            )
        body, receive = await _read_body(scope, receive)
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        key = gate.authenticator.verify_request(
            scope.get("method", "GET"),
            raw_path.decode("latin-1"),
            scope.get("query_string", b"").decode("latin-1"),
            signature_input,
            signature,
            _header(scope, b"content-digest"),
            body,
        )
        return gate.caller_of_key(key), receive


async def _read_body(scope: Scope, receive: Receive) -> tuple[bytes | None, Receive]:
    """A request's whole body (None when it has none) and a `receive` that replays it."""
    if scope["type"] != "http":
        return None, receive
    length = _header(scope, b"content-length")
    chunked = _header(scope, b"transfer-encoding")
    if (length in (None, "0")) and chunked is None:
        return None, receive
    if length is not None and (not length.isdigit() or int(length) > MAX_SIGNED_BODY):
        raise Unauthenticated(
            "bad_request_signature", f"a signed request's body is at most {MAX_SIGNED_BODY} bytes"
        )
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_SIGNED_BODY:
            raise Unauthenticated(
                "bad_request_signature",
                f"a signed request's body is at most {MAX_SIGNED_BODY} bytes",
            )
        chunks.append(chunk)
        more = message.get("more_body", False)
    body = b"".join(chunks)
    sent = False

    async def replay() -> MutableMapping[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return (body or None), replay


async def refuse(
    scope: Scope, receive: Receive, send: Send, error: Unauthenticated | TooManySignatures
) -> None:
    """Answer 401 (or 429) with ``{"error": code, "message": ...}``; on a WebSocket, refuse
    the upgrade with that response where the server can, else close with code 4401."""
    code = error.code if isinstance(error, Unauthenticated) else error.error
    body = msgspec.json.encode({"error": code, "message": str(error)})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if isinstance(error, Unauthenticated):
        headers.append((b"www-authenticate", WWW_AUTHENTICATE.encode()))
    else:  # the nonce store is full: its nonces expire within the signature window
        headers.append((b"retry-after", b"1"))
    if scope["type"] == "http":
        start = "http.response.start"
        body_type = "http.response.body"
    elif "websocket.http.response" in scope.get("extensions", {}):
        await receive()  # websocket.connect
        start = "websocket.http.response.start"
        body_type = "websocket.http.response.body"
    else:  # pragma: no cover - servers without the denial-response extension
        await receive()
        await send({"type": "websocket.close", "code": 4401, "reason": code})
        return
    await send({"type": start, "status": error.status, "headers": headers})
    await send({"type": body_type, "body": body})


__all__ = ["CALLER", "Authentication", "Gate", "audit", "caller_of", "gate_of", "log"]
