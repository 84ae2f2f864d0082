"""The shapes of the API's path and query parameters, as the OpenAPI document states them.

The node's views check their arguments themselves and answer a malformed one with 400
naming the field (`gridledger.node.views.check_address`, `check_period`, ...). These
parameters publish exactly those checks in the document (``pattern``, ``minLength``,
``maxLength``, ``minimum``, ``maximum``), so a request that fits the document is never
refused for its shape, and a client or a fuzzer knows the shapes without trying. The
constraints are documentation (``json_schema_extra``), not a second check: the views'
400s stay the one answer to a malformed argument.
"""

from __future__ import annotations

from typing import Any

from fastapi import Path, Query

from gridledger.crypto.keys import ADDRESS_LENGTH, ADDRESS_PREFIX
from gridledger.ledger.encoding import MAX_INTEGER
from gridledger.node.dashboard_views import MAX_PERIODS
from gridledger.node.market_views import MAX_ORDER_ID_LENGTH

ADDRESS_SCHEMA: dict[str, Any] = {
    "pattern": f"^{ADDRESS_PREFIX}[0-9a-f]{{{ADDRESS_LENGTH - len(ADDRESS_PREFIX)}}}$",
    "minLength": ADDRESS_LENGTH,
    "maxLength": ADDRESS_LENGTH,
}
"""An address: ``gl`` and 40 lower-case hex digits (`gridledger.crypto.keys.is_address`)."""
TRANSACTION_ID_SCHEMA: dict[str, Any] = {
    "pattern": "^[0-9a-fA-F]{64}$",
    "minLength": 64,
    "maxLength": 64,
}
"""A transaction id: the SHA-256 of its canonical bytes, as 64 hex digits."""
COUNT_SCHEMA: dict[str, Any] = {"minimum": 1, "maximum": MAX_PERIODS}
UNSIGNED_SCHEMA: dict[str, Any] = {"minimum": 0, "maximum": MAX_INTEGER}
"""A height, a period or a proposal number: what the ledger encodes, 0 to 2**63 - 1."""


def address_path(description: str = "An address (gl + 40 hex digits)") -> Any:
    return Path(description=description, json_schema_extra=ADDRESS_SCHEMA)


def address_query(description: str) -> Any:
    return Query(None, description=description, json_schema_extra=ADDRESS_SCHEMA)


def unsigned_path(description: str) -> Any:
    return Path(description=description, json_schema_extra=UNSIGNED_SCHEMA)


def unsigned_query(description: str) -> Any:
    return Query(None, description=description, json_schema_extra=UNSIGNED_SCHEMA)


def count_query(description: str = f"How many periods (1 to {MAX_PERIODS})") -> Any:
    return Query(24, description=description, json_schema_extra=COUNT_SCHEMA)


def transaction_id_path() -> Any:
    return Path(description="64 hex digits", json_schema_extra=TRANSACTION_ID_SCHEMA)


def order_id_path() -> Any:
    return Path(
        description=f"An order's id (1 to {MAX_ORDER_ID_LENGTH} characters)",
        json_schema_extra={"minLength": 1, "maxLength": MAX_ORDER_ID_LENGTH},
    )


PERIOD_PATH = unsigned_path("Delivery period")
