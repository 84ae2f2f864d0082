"""How a node's refusals read, for the API and the in-process client alike: an HTTP status,
a machine ``error`` slug, the message and the values the error carries.

Body: ``{"error": "<slug>", "message": "<what was wrong>", ...values}``. Transaction
errors (`TransactionError`, from the ledger) add their numeric result ``code``.
"""

from __future__ import annotations

from typing import Any

from gridledger.ledger import ResultCode, TransactionError
from gridledger.node.errors import NodeError

STATUS_OF_CODE = {
    ResultCode.OVERSIZED: 413,
    ResultCode.NONCE_MISMATCH: 409,
    ResultCode.DUPLICATE: 409,
    ResultCode.NOT_A_MEMBER: 403,
    ResultCode.NOT_AUTHORISED: 403,
}


def transaction_error_body(error: TransactionError | NodeError) -> dict[str, Any]:
    """The error's code, message and the values it carries (``expected``, ``got``, ...)."""
    if isinstance(error, NodeError):
        return node_error_body(error)
    values = {
        name: value
        for name, value in vars(error).items()
        if not name.startswith("_") and isinstance(value, (int, str)) and name != "args"
    }
    return {**values, "error": error.code.slug, "code": int(error.code), "message": str(error)}


def transaction_error_status(error: TransactionError | NodeError) -> int:
    if isinstance(error, NodeError):
        return error.status
    return STATUS_OF_CODE.get(error.code, 400)


def node_error_body(error: NodeError) -> dict[str, Any]:
    return {"error": error.error, "message": str(error), **error.values}
