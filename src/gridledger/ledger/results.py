"""Result codes: the outcome of each transaction, recorded in its receipt.

As in Fabric's validity bitmap, an invalid transaction stays in its block,
marked with the reason, and changes nothing. The numbers are part of the
protocol: never renumber, only append. Codes from 17 on are the contracts'
rules, one per class of `gridledger.contracts.errors.ContractError`; the
receipt records the refusal's values beside its code (`Receipt.details`).
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
    """A contract refused the call for a reason without a code of its own (none left in
    the shipped contracts; kept for chains recorded before the typed errors)."""
    CONTRACT_FAILED = 16
    """The contract raised something other than a refusal: a bug, recorded the same way on
    every peer (the message names only the exception's type)."""
    # rules shared by several contracts (gridledger.contracts.errors)
    NEGATIVE_VALUE = 17
    TEXT_LENGTH_OUT_OF_RANGE = 18
    MEMBER_NOT_ACTIVE = 19
    AMOUNT_OUT_OF_RANGE = 20
    NOT_HEX = 21
    ENERGY_OUT_OF_RANGE = 22
    PRICE_OUT_OF_RANGE = 23
    # membership
    ROLE_NOT_APPLICABLE = 24
    APPLICATION_EXISTS = 25
    REGISTRATION_TOO_LARGE = 26
    REGISTRATION_INCOMPLETE = 27
    INVALID_REGISTRATION_FIELD = 28
    INVALID_ADDRESS = 29
    UNKNOWN_APPLICANT = 30
    MEMBER_STATUS_MISMATCH = 31
    REASON_REQUIRED = 32
    SELF_REVOCATION = 33
    LAST_REGULATOR = 34
    INVALID_METER_KEY = 35
    METER_ALREADY_BOUND = 36
    METER_NOT_BOUND = 37
    # tokens
    SELF_TRANSFER = 38
    SUPPLY_OVERFLOW = 39
    # parameters
    CHANGE_NOT_IN_FUTURE = 40
    UNKNOWN_PARAMETER = 41
    INVALID_PARAMETER = 42
    PERIOD_LENGTH_FIXED = 43
    # metering
    METER_MISMATCH = 44
    INVALID_READING_SIGNATURE = 45
    METER_WINDOW_CLOSED = 46
    READING_EXISTS = 47
    INVALID_DIGEST = 48
    BATCH_ANCHORED = 49
    # market
    INVALID_SIDE = 50
    EXPIRY_NOT_IN_FUTURE = 51
    PERIOD_CLOSED = 52
    BEYOND_HORIZON = 53
    UNKNOWN_ORDER = 54
    NOT_ORDER_OWNER = 55
    ORDER_NOT_OPEN = 56
    GATE_NOT_CLOSED = 57
    PERIOD_ALREADY_CLEARED = 58
    PERIOD_ALREADY_SETTLED = 59
    UNKNOWN_OFFER = 60
    NOT_OFFER_OWNER = 61
    OFFER_NOT_OPEN = 62
    OWN_OFFER = 63
    AGREEMENT_EXISTS = 64
    INVALID_AGREEMENT_SIGNATURE = 65
    ESCROW_OVERDRAWN = 66
    BOOK_INCONSISTENT = 67
    # settlement
    METER_WINDOW_OPEN = 68
    ENERGY_UNBALANCED = 69
    MONEY_UNBALANCED = 70
    CLEARING_NOT_EMPTY = 71
    # pricing
    PRICE_OUTSIDE_BAND = 72
    NOTHING_TO_PRICE = 73
    POSTING_CLOSED = 74
    # membership: personal data off the chain
    PERSONAL_DATA_ON_CHAIN = 75
    INVALID_COMMITMENT = 76
    # envelope (issue 16)
    TOO_DEEPLY_NESTED = 77
    """Arguments nest arrays and maps deeper than `encoding.MAX_ARGUMENT_DEPTH`."""
    # market: seed 001's negotiation and commit windows, seed 003's amend window
    NEGOTIATION_NOT_OPEN = 78
    NEGOTIATION_CLOSED = 79
    COMMIT_WINDOW_NOT_OPEN = 80
    COMMIT_WINDOW_CLOSED = 81
    AMEND_WINDOW_CLOSED = 82
    NOTHING_TO_AMEND = 83
    # membership: one pending application per key (issue 16)
    APPLICATION_PENDING = 84
    """The sender's application is pending (on the chain, or admitted and not yet in a block)."""
    # governance (issue 14: votes)
    UNKNOWN_PROPOSAL = 85
    UNKNOWN_PROPOSAL_KIND = 86
    DEADLINE_OUT_OF_RANGE = 87
    PROPOSAL_EXISTS = 88
    VOTING_CLOSED = 89
    ALREADY_VOTED = 90
    NOT_ELIGIBLE_VOTER = 91
    INVALID_CHOICE = 92
    TALLY_BEFORE_DEADLINE = 93
    ALREADY_TALLIED = 94
    VETO_NOT_APPLICABLE = 95
    FOUNDING_PHASE_OVER = 96
    INVALID_GOVERNANCE_PARAMETER = 97
    # privacy (issue 15: stealth payments, ring-signed calls)
    ONE_TIME_CALL_REFUSED = 98
    """A stealth one-time key called a method other than ``privacy.spend``."""
    INVALID_PRIVACY_KEY = 99
    PRIVACY_KEY_TAKEN = 100
    NO_PRIVACY_KEYS = 101
    UNKNOWN_ONE_TIME_ACCOUNT = 102
    RING_SIZE_OUT_OF_RANGE = 103
    RING_KEY_DUPLICATED = 104
    RING_MEMBER_NOT_ELIGIBLE = 105
    INVALID_RING_SIGNATURE = 106
    KEY_IMAGE_USED = 107
    INVALID_SELLER_PROOF = 108
    WRONG_BALLOT_KIND = 109
    # market: the day-ahead call auction (issue 13)
    DAY_AHEAD_NOT_OFFERED = 110
    DAY_AHEAD_GATE_CLOSED = 111
    DAY_AHEAD_GATE_NOT_REACHED = 112
    DAY_AHEAD_ALREADY_CLEARED = 113
    ALL_OR_NONE_NOT_SUPPORTED = 114
    # multi-signature (issue 14): envelope checks of `ledger.multisig`
    UNKNOWN_POLICY = 115
    """A multi-signed transaction from an account with no policy that did not sign it."""
    SIGNER_NOT_IN_POLICY = 116
    TOO_FEW_SIGNATURES = 117
    DUPLICATE_SIGNER = 118
    TOO_MANY_SIGNATURES = 119
    # policies and corrections (issue 14)
    INVALID_POLICY = 120
    NOT_A_POLICY_ACCOUNT = 121
    UNKNOWN_TRADE = 122
    TRADE_NOT_SETTLED = 123
    TRADE_NOT_CORRECTABLE = 124
    CONSENT_MISSING = 125
    CORRECTION_OUT_OF_ORDER = 126
    CORRECTION_LIMIT_REACHED = 127
    FLAG_LIMIT_REACHED = 128
    POLICY_SIZE_OUT_OF_RANGE = 129
    POLICY_THRESHOLD_OUT_OF_RANGE = 130
    POLICY_KEY_REPEATED = 131
    # certificates (issue 14: granular certificates of origin)
    CERTIFICATES_DISABLED = 132
    UNKNOWN_CERTIFICATE = 133
    CERTIFICATE_SHORT = 134
    """The holder holds fewer Wh of the certificate than it tries to transfer or retire."""
    ALREADY_CERTIFIED = 135
    # market: sealed day-ahead orders (issue 15 part 3)
    SEALED_ORDERS_NOT_OFFERED = 136
    INVALID_PEDERSEN_COMMITMENT = 137
    """A commitment is not a compressed secp256k1 point (wrong length, off the curve)."""
    RANGE_PROOF_RANGE_MISMATCH = 138
    """A range proof proves another range than the one the contract requires."""
    INVALID_RANGE_PROOF = 139
    OPENING_MISMATCH = 140
    """A reveal's value and blinding do not open the order's commitment."""
    REVEAL_WINDOW_CLOSED = 141
    REVEAL_BEFORE_GATE = 142
    ORDER_NOT_SEALED = 143
    REVEAL_WINDOW_OPEN = 144
    """The day-ahead clear waits until the reveal window has closed."""

    @property
    def slug(self) -> str:
        """Lower-case name used in the API and the CLI, e.g. ``bad_signature``."""
        return self.name.lower()
