"""The API's routers, one module per group: each has ``router(node, ...) -> APIRouter``."""

from gridledger.api.routes import (
    chain,
    dashboard,
    governance,
    market,
    members,
    network,
    privacy,
    registry,
    settlement,
    stream,
    transactions,
)

__all__ = [
    "chain",
    "dashboard",
    "governance",
    "market",
    "members",
    "network",
    "privacy",
    "registry",
    "settlement",
    "stream",
    "transactions",
]
