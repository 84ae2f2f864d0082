"""Signed reads for tests: the node answers a read only to a signed request (RFC 9421) or a
session token. Tests that are not about access sign as the regulator, an auditor who may
read everything (its reads of households' data land in their access logs, off chain)."""

from __future__ import annotations

from typing import Any

import httpx

from gridledger.client import HttpClient
from gridledger.client.signing import RequestSigner, signed_headers
from gridledger.crypto import KeyPair
from tests.community import key

AUDITOR = "regulator"


def keys_of(who: str | KeyPair) -> KeyPair:
    return key(who) if isinstance(who, str) else who


def signer(who: str | KeyPair = AUDITOR) -> RequestSigner:
    """An httpx ``auth=`` that signs every request as `who` (a test key name or keys)."""
    return RequestSigner(keys_of(who))


def signed_client(
    urls: str | list[str], who: str | KeyPair = AUDITOR, **options: Any
) -> HttpClient:
    return HttpClient(urls, keys=keys_of(who), **options)


def signed_get(url: str, who: str | KeyPair = AUDITOR, **options: Any) -> httpx.Response:
    """``httpx.get(url)``, signed as `who`."""
    return httpx.get(url, auth=signer(who), **options)


def stream_headers(ws_url: str, who: str | KeyPair = AUDITOR) -> dict[str, str]:
    """The headers that sign a WebSocket upgrade to `ws_url` as `who`."""
    http_url = ws_url.replace("ws://", "http://", 1).replace("wss://", "https://", 1)
    return signed_headers(keys_of(who), httpx.Request("GET", http_url))
