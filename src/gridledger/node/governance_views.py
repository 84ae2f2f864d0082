"""The governance reads: every proposal with the community's voting rules, and one proposal,
as reply Structs (`gridledger.client.governance_replies`). Times are block times in ms."""

from __future__ import annotations

import msgspec

from gridledger.client.governance_replies import (
    GovernanceRulesReply,
    ProposalReply,
    ProposalsReply,
    TallyReply,
)
from gridledger.contracts.governance import Proposal, proposals, read_proposal
from gridledger.contracts.governance_parameters import governance_parameters
from gridledger.ledger.encoding import MAX_INTEGER
from gridledger.node.core import Node
from gridledger.node.errors import InvalidQuery, NotFound


def proposal_reply(proposal: Proposal) -> ProposalReply:
    fields = msgspec.structs.asdict(proposal)
    tally = None if proposal.tally is None else TallyReply(**msgspec.structs.asdict(proposal.tally))
    return ProposalReply(**{**fields, "tally": tally})


def proposals_view(node: Node) -> ProposalsReply:
    now_ms = node.head.timestamp_ms
    rules = governance_parameters(node.state)
    return ProposalsReply(
        now_ms=now_ms,
        rules=GovernanceRulesReply(
            **msgspec.structs.asdict(rules), founding_phase=now_ms < rules.founding_until_ms
        ),
        proposals=[proposal_reply(p) for p in proposals(node.state)],
    )


def proposal_view(node: Node, proposal_id: int) -> ProposalReply:
    if not 0 <= proposal_id <= MAX_INTEGER:
        raise InvalidQuery("proposal_id", proposal_id, f"{proposal_id} is not a proposal number")
    found = read_proposal(node.state, proposal_id)
    if found is None:
        raise NotFound("proposal", str(proposal_id))
    return proposal_reply(found)
