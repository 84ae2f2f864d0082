"""Replies as JSON, and their schemas in the OpenAPI document.

FastAPI does not know msgspec Structs, so a route returns `reply(value)` (the Struct
encoded by msgspec) and declares its schema with ``responses=ok(ReplyType)``: a reference
to a component that `install_reply_schemas` puts into the OpenAPI document from
`msgspec.json.schema_components` of the very types the clients decode. The document and
the clients cannot drift apart.
"""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response

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
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
