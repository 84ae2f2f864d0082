"""Signing a client's requests (RFC 9421; `gridledger.crypto.message_signatures`).

`RequestSigner` is an ``httpx.Auth``: every request it sees gets a ``Signature-Input``
and ``Signature`` (and a ``Content-Digest`` when it has a body), with the current time as
``created`` and a fresh random nonce, so no two requests carry the same signature.
`BearerToken` sends a session token instead.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Generator

import httpx

from gridledger.crypto.keys import KeyPair
from gridledger.crypto.message_signatures import sign_request

UNSIGNED_PATHS = frozenset({"/v1/transactions", "/v1/transactions/batch"})
"""Submissions are authenticated by the transactions' own signatures: never signed again."""


def signed_headers(keys: KeyPair, request: httpx.Request) -> dict[str, str]:
    """The signature headers of `request` as it will be sent (its raw path and query)."""
    raw_path = request.url.raw_path.decode("ascii")
    path, _, query = raw_path.partition("?")
    return sign_request(
        keys,
        request.method,
        path,
        query,
        request.content,
        created=int(time.time()),
        nonce=secrets.token_urlsafe(16),
    )


class RequestSigner(httpx.Auth):
    """Signs every request with `keys` (the submission of transactions excepted)."""

    requires_request_body = True

    def __init__(self, keys: KeyPair) -> None:
        self.keys = keys

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if not (request.method == "POST" and request.url.path in UNSIGNED_PATHS):
            request.headers.update(signed_headers(self.keys, request))
        yield request


class BearerToken(httpx.Auth):
    """Sends a session token (``POST /v1/auth/session``) with every request."""

    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["authorization"] = f"Bearer {self.token}"
        yield request


__all__ = ["UNSIGNED_PATHS", "BearerToken", "RequestSigner", "signed_headers"]
