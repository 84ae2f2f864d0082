"""Replies of the governance reads: proposals, their ballots so far and their tallies (see
`replies` for the rules). Mirrors of `gridledger.contracts.governance` records keep its
field names."""

from __future__ import annotations

from typing import Any

from gridledger.client.replies import Reply


class TallyReply(Reply):
    yes: int
    no: int
    abstain: int
    electorate: int
    quorum_reached: bool
    majority_reached: bool
    height: int


class ProposalReply(Reply):
    """A proposal; ``yes``/``no``/``abstain`` count the ballots so far, ``tally`` once counted."""

    proposal_id: int
    kind: str
    subject: str
    text: str
    changes: dict[str, Any]
    from_period: int
    proposer: str
    created_height: int
    deadline_ms: int
    electorate: int
    yes: int
    no: int
    abstain: int
    status: str
    reason: str
    tally: TallyReply | None


class GovernanceRulesReply(Reply):
    quorum_percent: int
    majority_percent: int
    max_voting_ms: int
    founding_until_ms: int
    founding_phase: bool
    """Whether the regulator may still admit alone, at the head's block time."""


class ProposalsReply(Reply):
    now_ms: int
    """The head block's time: a proposal is open to ballots while ``now_ms < deadline_ms``."""
    rules: GovernanceRulesReply
    proposals: list[ProposalReply]
