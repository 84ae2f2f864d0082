"""Replies as JSON, and their schemas in the OpenAPI document.

FastAPI does not know msgspec Structs, so a route returns `reply(value)` (the Struct
encoded by msgspec) and declares its schema with ``responses=ok(ReplyType)``: a reference
to a component that `install_reply_schemas` puts into the OpenAPI document from
`msgspec.json.schema_components` of the very types the clients decode. The document and
the clients cannot drift apart.

Every error is ``{"error": "<slug>", "message": "...", ...values}`` (`gridledger.api.errors`),
published once as the ``ErrorReply`` component. A route lists the errors its handler gives
with ``errors(400, 404, ...)``; `document_errors` adds the ones every route of a kind gives:
401 and 429 from the authentication middleware on every route that needs a signed
request (with its ``security``), and the 422 of a request that does not fit its parameters'
types, with this API's body instead of FastAPI's.
"""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response

from gridledger.api.auth import OPEN_PATHS
from gridledger.client import dashboard_replies, market_replies, replies
from gridledger.ledger.genesis import Genesis

REF_TEMPLATE = "#/components/schemas/{name}"

REPLY_TYPES: tuple[Any, ...] = (
    *(getattr(replies, name) for name in replies.__all__ if name != "Reply"),
    *(getattr(market_replies, name) for name in market_replies.__all__),
    *(getattr(dashboard_replies, name) for name in dashboard_replies.__all__),
    Genesis,
)
"""Every reply type a client decodes (and the genesis document)."""

_encode = msgspec.json.Encoder().encode

SECURITY_SCHEMES = {
    "httpMessageSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "Signature",
        "description": "RFC 9421 HTTP Message Signatures, alg ed25519, keyid = the member's "
        "public key (hex), covering @method @path @query (and content-digest with a body), "
        "with created (within 60 s) and a fresh nonce; with its Signature-Input header",
    },
    "sessionToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "A token of POST /v1/auth/session (15 minutes); ?token= on the stream",
    },
}
"""How a caller authenticates (docs/security.md); every read but the head needs one."""


ERROR_SCHEMA: dict[str, Any] = {
    "title": "ErrorReply",
    "description": "A refusal: a machine slug, a sentence saying what was wrong, and the "
    "values the refusal carries (which vary by refusal: the ones listed, and others)",
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "Machine slug (not_found, malformed, ...)"},
        "message": {"type": "string", "description": "What was wrong, in one sentence"},
        "code": {"type": "integer", "description": "A refused transaction's result code"},
        "id": {"type": "string", "description": "A refused transaction's id (hex)"},
        "field": {"type": "string", "description": "The request's field that was wrong"},
        "problems": {
            "type": "array",
            "description": "Every field that did not fit (422 invalid_request)",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "retry_after_s": {"type": "integer", "description": "429 rate_limited: when to retry"},
    },
    "additionalProperties": True,
}
ERROR_REF = {"$ref": REF_TEMPLATE.format(name="ErrorReply")}
ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Malformed: a parameter or transaction that is not what it must be (invalid_request, "
    "invalid_address, malformed, bad_signature, ...)",
    401: "Not authenticated: no signed request or session token, or a bad one "
    "(unauthenticated, bad_request_signature, bad_challenge, ...)",
    403: "Not allowed for this caller (not_a_member, not_yours, ...)",
    404: "No such record (not_found, not_settled, no_results, ...)",
    409: "The state is in the way: a nonce mismatch, a duplicate, a pending application, "
    "a halted peer",
    413: "Too large: the body, the batch or the transaction (oversized)",
    422: "A body or parameter that does not fit its schema (invalid_request, with problems), "
    "or a transaction a contract rule refuses",
    429: "Too many: refused submissions (rate_limited), a full mempool (mempool_full) or "
    "signatures (too_many_signatures); retry after Retry-After seconds",
    503: "The ordering service is unavailable (ordering_unavailable); retry after Retry-After",
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Whole seconds to wait before trying again",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }
}
WWW_AUTHENTICATE = {
    "WWW-Authenticate": {
        "description": "The schemes this API accepts",
        "required": True,
        "schema": {"type": "string"},
    }
}
SECURITY: list[dict[str, list[str]]] = [{"httpMessageSignature": []}, {"sessionToken": []}]


def error_response(status: int, challenge: bool = False) -> dict[str, Any]:
    """The OpenAPI response object of an error `status`; with `challenge`, a 401 of the
    request's authentication, which names the schemes in ``WWW-Authenticate`` (a 401 of a
    signature inside the body, as of an applicant's submission, does not)."""
    response: dict[str, Any] = {
        "description": ERROR_DESCRIPTIONS[status],
        "content": {"application/json": {"schema": ERROR_REF}},
    }
    if status in (429, 503):
        response["headers"] = RETRY_AFTER
    if status == 401 and challenge:
        response["headers"] = WWW_AUTHENTICATE
    return response


def errors(*statuses: int) -> dict[int | str, Any]:
    """The ``responses`` of the errors a route's handler gives (see `ERROR_DESCRIPTIONS`)."""
    return {status: error_response(status) for status in statuses}


def reply(value: Any, status_code: int = 200) -> Response:
    """`value` (a reply Struct, or plain data) as a JSON response."""
    return Response(_encode(value), status_code=status_code, media_type="application/json")


def ok(reply_type: Any, description: str = "OK", status_code: int = 200) -> dict[int | str, Any]:
    """The ``responses`` of a route answering with `reply_type`."""
    (schema,), _ = msgspec.json.schema_components([reply_type], ref_template=REF_TEMPLATE)
    return {
        status_code: {
            "description": description,
            "content": {"application/json": {"schema": schema}},
        }
    }


def install_reply_schemas(app: FastAPI) -> None:
    """Add every reply type's schema to the app's OpenAPI components."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            _, components = msgspec.json.schema_components(REPLY_TYPES, ref_template=REF_TEMPLATE)
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schemas.update(components)
            document["components"]["securitySchemes"] = SECURITY_SCHEMES
            document_errors(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def document_errors(document: dict[str, Any]) -> None:
    """Declare in `document` the errors every route of a kind gives (see the module)."""
    schemas = document["components"]["schemas"]
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["ErrorReply"] = ERROR_SCHEMA
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            if "422" in responses:  # FastAPI's own, for the parameters' types
                responses["422"] = error_response(422)
            if not path.startswith("/v1/") or (method.upper(), path) in OPEN_PATHS:
                operation["security"] = []
                continue
            operation["security"] = SECURITY
            responses["401"] = error_response(401, challenge=True)
            responses.setdefault("429", error_response(429))
