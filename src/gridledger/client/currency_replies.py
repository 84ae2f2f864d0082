"""Replies of the currency supply and the certificates reads (see `replies` for the rules).

Mirrors of `gridledger.contracts.certificates` records keep its field names.
"""

from __future__ import annotations

from gridledger.client.replies import Reply


class SupplyReply(Reply):
    """The issuer's supply report (micro-units): issued = live + expired + burned."""

    issued_micro: int
    live_micro: int
    """Held in balances (lots past their life not yet returned included)."""
    expired_micro: int
    burned_micro: int
    lifetime_days: int
    """0: units never expire."""
    reconciles: bool
    past_life_micro: int = 0
    """Of the live units, those past their life at the head's time, not yet returned (they
    return when their balance is next written or a period settles)."""


class CertificateTotalsReply(Reply):
    """Every Wh certified in the community, and how much moved or was retired."""

    certified_wh: int
    to_buyers_wh: int
    transferred_wh: int
    retired_wh: int


class HoldingReply(Reply):
    """Wh of one certificate (a producer's delivery in a period) held by the member."""

    period: int
    producer: str
    technology: str
    energy_wh: int


class ClaimReply(Reply):
    number: int
    holder: str
    period: int
    producer: str
    technology: str
    energy_wh: int
    beneficiary: str
    purpose: str
    height: int
    timestamp_ms: int


class CertificatesReply(Reply):
    """A member's certificates: what it holds and the claims it made."""

    holder: str
    enabled: bool
    holdings: list[HoldingReply]
    claims: list[ClaimReply]
    totals: CertificateTotalsReply
    """The community's, for comparison."""


class MatchedHourReply(Reply):
    """One settled period of a member: consumption and the certificates of that period."""

    period: int
    start_s: int
    consumed_wh: int
    held_wh: int
    retired_wh: int
    matched_wh: int
    """min(consumed, held + retired): consumption covered by certificates of the same hour."""
    claimed_wh: int
    """min(consumed, retired)."""


class CertificateReportReply(Reply):
    """A member's consumption matched by certificates hour by hour, and its 24/7 scores.

    ``matching_score_bp`` is the hourly matching score, in basis points, as EnergyTag's
    Granular Certificate Scheme Standard matches certificates to consumption (only a
    certificate of the same hour covers an hour's consumption) and as the 24/7 carbon-free
    score is reported: Σ over the hours of min(consumption, certificates of that hour),
    over the whole consumption. An hour's surplus never covers another hour's deficit.
    ``claimed_score_bp`` counts retired certificates only (the claim a report may make).
    """

    member: str
    hours: list[MatchedHourReply]
    consumed_wh: int
    matched_wh: int
    claimed_wh: int
    matching_score_bp: int
    claimed_score_bp: int


__all__ = [
    "CertificateReportReply",
    "CertificateTotalsReply",
    "CertificatesReply",
    "ClaimReply",
    "HoldingReply",
    "MatchedHourReply",
    "SupplyReply",
]
