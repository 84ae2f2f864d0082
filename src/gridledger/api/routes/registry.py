"""The regulator's registry: ``POST /v1/registry/applications``, where an applicant sends
its personal data off the chain (`gridledger.node.registry`, docs/security.md).

The body is JSON ``{"address", "public_key", "timestamp_ms", "disclosures": [...],
"signature"}``, signed by the applicant's own key (`sign_submission`). Refusals: 413
``oversized`` (body over 64 KiB) or ``too_many_disclosures``; 422 ``invalid_request`` (not
that JSON shape, an unknown field, nested values), 400 for a malformed key or signature;
403 ``not_your_address`` (the key is not the address's); 401 ``bad_signature`` or
``stale_submission`` (timestamp more than 5 minutes off); 404 ``not_an_applicant``; 422
``disclosure_mismatch``, ``disclosure_unknown_field``, ``disclosure_missing``,
``disclosure_repeated`` or ``disclosure_malformed``, naming the field.

The registry is never read over the API: the regulator's commands read its file.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
from fastapi import APIRouter, Request
from fastapi.responses import Response

from gridledger.api.errors import ApiError
from gridledger.api.openapi import errors, ok, reply
from gridledger.api.parameters import ADDRESS_SCHEMA
from gridledger.client.replies import RegistrationReceivedReply
from gridledger.contracts.membership import read_member
from gridledger.ledger import MAX_REGISTRATION_FIELDS
from gridledger.node import Node
from gridledger.node.registry import (
    MAX_SUBMISSION_BYTES,
    PersonalDataRegistry,
    RegistryRefusal,
    Submission,
    check_submission,
)


async def _body(request: Request) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_SUBMISSION_BYTES:
            raise ApiError(
                413,
                "oversized",
                f"request body exceeds {MAX_SUBMISSION_BYTES} bytes",
                limit_bytes=MAX_SUBMISSION_BYTES,
            )
    return bytes(body)


def submission_schema() -> dict[str, Any]:
    """The body's JSON schema: `Submission`'s, with the shapes `check_submission` checks."""
    _, components = msgspec.json.schema_components([Submission])
    body: dict[str, Any] = dict(components["Submission"])
    properties = {name: dict(value) for name, value in body["properties"].items()}
    properties["address"].update(ADDRESS_SCHEMA)
    properties["public_key"].update(pattern="^[0-9a-fA-F]{64}$", minLength=64, maxLength=64)
    properties["signature"].update(pattern="^[0-9a-fA-F]{128}$", minLength=128, maxLength=128)
    properties["disclosures"]["maxItems"] = MAX_REGISTRATION_FIELDS
    body["properties"] = properties
    return body


def router(node: Node, registry: PersonalDataRegistry | None = None) -> APIRouter:
    """The registry route; the registry is the file beside the node's chain unless given."""
    kept = registry or PersonalDataRegistry.beside(getattr(node.storage, "path", None))
    routes = APIRouter(tags=["members"])

    @routes.post(
        "/v1/registry/applications",
        summary="An applicant's personal data (signed disclosures) for the regulator's registry",
        status_code=201,
        responses={
            **ok(RegistrationReceivedReply, "Kept", 201),
            **errors(400, 401, 403, 404, 413, 422),
        },
        openapi_extra={
            "requestBody": {
                "content": {"application/json": {"schema": submission_schema()}},
                "required": True,
            }
        },
    )
    async def submit_registration(request: Request) -> Response:
        body = await _body(request)
        try:
            submission = msgspec.json.decode(body, type=Submission)
        except (msgspec.DecodeError, msgspec.ValidationError) as error:
            raise ApiError(422, "invalid_request", f"body: {error}", schema="Submission") from error
        now_ms = time.time_ns() // 1_000_000
        member = read_member(node.state, submission.address)
        try:
            opened = check_submission(submission, node.chain_id, member, now_ms)
        except RegistryRefusal as refusal:
            raise ApiError(
                refusal.http_status, refusal.code, str(refusal), **refusal.values
            ) from None
        kept.store(submission.address, opened.values(), now_ms)
        answer = RegistrationReceivedReply(
            address=submission.address, fields=sorted(opened), received_ms=now_ms
        )
        return reply(answer, status_code=201)

    return routes
