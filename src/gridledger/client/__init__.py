"""The one way agents, the CLI and tests talk to a node.

`Client` is the interface; `HttpClient` (``client.http``) talks to a node's API over HTTP
and fails over between peers; `EmbeddedClient` (``client.embedded``) talks to a node in
the same process with the same replies. Replies are typed Structs (``client.replies``,
``client.market_replies``, ``client.dashboard_replies``) shared with the API's OpenAPI
document. A `Wallet` holds a member's keys, tracks its nonce and signs its calls.

`HttpClient`, `EmbeddedClient` and `StoredBlock` are loaded on first use, so importing
the HTTP client never loads the node.
"""

from typing import TYPE_CHECKING

from gridledger.client.errors import ClientError, NodeUnavailable
from gridledger.client.interface import Client
from gridledger.client.wallet import Wallet, wait_until

if TYPE_CHECKING:
    from gridledger.client.embedded import EmbeddedClient, StoredBlock
    from gridledger.client.http import HttpClient


def __getattr__(name: str) -> object:
    """`HttpClient` from ``client.http``, `EmbeddedClient` and `StoredBlock` from
    ``client.embedded``, imported when first asked for."""
    import importlib

    where = "http" if name == "HttpClient" else "embedded"
    if name not in ("HttpClient", "EmbeddedClient", "StoredBlock"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{where}"), name)


__all__ = [
    "Client",
    "ClientError",
    "EmbeddedClient",
    "HttpClient",
    "NodeUnavailable",
    "StoredBlock",
    "Wallet",
    "wait_until",
]
