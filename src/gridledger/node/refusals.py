"""How a node's refusals read, for the API and the in-process client alike: an HTTP status,
a machine ``error`` slug, the message and the values the error carries.

Body: ``{"error": "<slug>", "message": "<what was wrong>", ...values}``. Transaction
errors (`TransactionError`, from the ledger) add their numeric result ``code``.

Refusals are 4xx: 403 when the sender may not do it, 409 when the state or the clock is in
the way (already done, gate closed, window not open), 422 for any other contract rule, 400
for a malformed request. A contract that crashed (``contract_failed``) or a broken
invariant is 500: nothing the caller can fix.
"""

from __future__ import annotations

from typing import Any

from gridledger.ledger import ResultCode, TransactionError
from gridledger.node.errors import NodeError

STATUS_OF_CODE: dict[int, int] = {
    ResultCode.OVERSIZED: 413,
    ResultCode.TOO_DEEPLY_NESTED: 400,  # an envelope error, after the contract codes
    ResultCode.NONCE_MISMATCH: 409,
    ResultCode.DUPLICATE: 409,
    ResultCode.NOT_A_MEMBER: 403,
    ResultCode.NOT_AUTHORISED: 403,
    ResultCode.NOT_ORDER_OWNER: 403,
    ResultCode.NOT_OFFER_OWNER: 403,
    ResultCode.SELF_REVOCATION: 403,
    # multi-signature (envelope errors, numbered after the contract codes) and consent
    ResultCode.UNKNOWN_POLICY: 403,
    ResultCode.SIGNER_NOT_IN_POLICY: 403,
    ResultCode.TOO_FEW_SIGNATURES: 403,
    ResultCode.DUPLICATE_SIGNER: 400,
    ResultCode.TOO_MANY_SIGNATURES: 400,
    ResultCode.NOT_A_POLICY_ACCOUNT: 403,
    ResultCode.CONSENT_MISSING: 403,
    **dict.fromkeys(
        (
            ResultCode.APPLICATION_EXISTS,
            ResultCode.APPLICATION_PENDING,
            ResultCode.MEMBER_STATUS_MISMATCH,
            ResultCode.LAST_REGULATOR,
            ResultCode.METER_ALREADY_BOUND,
            ResultCode.CHANGE_NOT_IN_FUTURE,
            ResultCode.METER_WINDOW_CLOSED,
            ResultCode.READING_EXISTS,
            ResultCode.BATCH_ANCHORED,
            ResultCode.PERIOD_CLOSED,
            ResultCode.ORDER_NOT_OPEN,
            ResultCode.GATE_NOT_CLOSED,
            ResultCode.PERIOD_ALREADY_CLEARED,
            ResultCode.PERIOD_ALREADY_SETTLED,
            ResultCode.OFFER_NOT_OPEN,
            ResultCode.AGREEMENT_EXISTS,
            ResultCode.METER_WINDOW_OPEN,
            ResultCode.POSTING_CLOSED,
            ResultCode.TRADE_NOT_SETTLED,
            ResultCode.CORRECTION_OUT_OF_ORDER,
            ResultCode.CORRECTION_LIMIT_REACHED,
            ResultCode.FLAG_LIMIT_REACHED,
        ),
        409,
    ),
    **dict.fromkeys(
        (
            ResultCode.CONTRACT_FAILED,
            ResultCode.ESCROW_OVERDRAWN,
            ResultCode.BOOK_INCONSISTENT,
            ResultCode.ENERGY_UNBALANCED,
            ResultCode.MONEY_UNBALANCED,
            ResultCode.CLEARING_NOT_EMPTY,
        ),
        500,
    ),
}
FIRST_CONTRACT_CODE = ResultCode.NEGATIVE_VALUE
"""Codes from here on are contract rules: 422 unless listed above."""


def status_of_code(code: int) -> int:
    """The HTTP status of a refusal with result `code` (see the module's docstring)."""
    status = STATUS_OF_CODE.get(code)
    if status is not None:
        return status
    return 422 if code >= FIRST_CONTRACT_CODE else 400


def transaction_error_body(error: TransactionError | NodeError) -> dict[str, Any]:
    """The error's code, message and the values it carries (``expected``, ``got``, ...)."""
    if isinstance(error, NodeError):
        return node_error_body(error)
    return {
        **error.details,
        "error": error.code.slug,
        "code": int(error.code),
        "message": str(error),
    }


def transaction_error_status(error: TransactionError | NodeError) -> int:
    if isinstance(error, NodeError):
        return error.status
    return status_of_code(error.code)


def node_error_body(error: NodeError) -> dict[str, Any]:
    return {"error": error.error, "message": str(error), **error.values}
