"""Replies of the privacy reads: stealth outputs (for a wallet's scan) and members' public
privacy keys (for building rings). Keys and tags are hex."""

from __future__ import annotations

from gridledger.client.replies import Reply


class StealthOutputReply(Reply):
    """One stealth output; nothing in it names its recipient."""

    number: int
    transaction_public_key: str
    output_index: int
    one_time_public_key: str
    one_time_account: str
    """The address of the one-time key: where the amount was paid."""
    view_tag: str
    amount_micro: int
    kind: str
    """``payment`` or ``payout`` (settlement)."""
    period: int
    """The settled period of a payout; -1 for a payment."""
    height: int
    balance_micro: int
    """What the one-time account holds now."""
    nonce: int
    """The one-time account's next nonce (its spends so far)."""


class StealthOutputsReply(Reply):
    count: int
    """Outputs on the chain in all."""
    outputs: list[StealthOutputReply]


class MemberKeysReply(Reply):
    """A member's registered public stealth address; its spend key is its ring key."""

    address: str
    role: str
    status: str
    since_height: int
    view_public_key: str
    spend_public_key: str


class PrivacyKeysReply(Reply):
    keys: list[MemberKeysReply]
    """Every member that registered keys, by address."""
