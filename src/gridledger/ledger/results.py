"""Result codes: the outcome of each transaction, recorded in its receipt.

As in Fabric's validity bitmap, an invalid transaction stays in its block,
marked with the reason, and changes nothing. The numbers are part of the
protocol: never renumber, only append.
"""

from __future__ import annotations

from enum import IntEnum


class ResultCode(IntEnum):
    OK = 0
    MALFORMED = 1
    UNSUPPORTED_VERSION = 2
    OVERSIZED = 3
    WRONG_CHAIN = 4
    INVALID_SENDER_KEY = 5
    BAD_SIGNATURE = 6
    NONCE_MISMATCH = 7
    DUPLICATE = 8
    UNKNOWN_CONTRACT = 9
    UNKNOWN_METHOD = 10
    INVALID_ARGUMENTS = 11
    NOT_A_MEMBER = 12
    NOT_AUTHORISED = 13
    INSUFFICIENT_FUNDS = 14
    REJECTED = 15
    TOO_DEEPLY_NESTED = 16
    """Arguments nest arrays and maps deeper than `encoding.MAX_ARGUMENT_DEPTH`."""

    @property
    def slug(self) -> str:
        """Lower-case name used in the API and the CLI, e.g. ``bad_signature``."""
        return self.name.lower()
