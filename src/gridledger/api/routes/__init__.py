"""The API's routers, one module per group: each has ``router(node, ...) -> APIRouter``."""

from gridledger.api.routes import (
    chain,
    dashboard,
    market,
    members,
    network,
    registry,
    settlement,
    stream,
    transactions,
)

__all__ = [
    "chain",
    "dashboard",
    "market",
    "members",
    "network",
    "registry",
    "settlement",
    "stream",
    "transactions",
]
