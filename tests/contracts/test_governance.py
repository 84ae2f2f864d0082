"""The governance contract: ballots, tallies, admission by vote, the regulator's veto, the
founding phase, and one code for each refusal."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.contracts.governance import Proposal, ballot_of, proposals, read_proposal
from gridledger.contracts.parameters import parameters_for
from gridledger.ledger import Receipt, ResultCode
from tests.community import (
    FOUNDERS,
    NEXT_PERIOD,
    Community,
    address,
    make_genesis,
)

VOTE_SECONDS = 60
"""How long the proposals of these tests stay open (block time)."""


@pytest.fixture
def community() -> Community:
    """A community past its founding phase: only the members' vote admits."""
    return Community.create(make_genesis(parameters={"governance": {"founding_until_ms": 0}}))


def propose(community: Community, proposer: str, kind: str, **extra: Any) -> Receipt:
    deadline_ms = community.head.timestamp_ms + VOTE_SECONDS * 1000
    return community.run(
        proposer, "governance", "propose", {"kind": kind, "deadline_ms": deadline_ms, **extra}
    )


def last_proposal(community: Community) -> Proposal:
    return proposals(community.state)[-1]


def vote(community: Community, voter: str, proposal_id: int, choice: str) -> Receipt:
    return community.run(
        voter, "governance", "vote", {"proposal_id": proposal_id, "choice": choice}
    )


def past_deadline(community: Community, proposal: Proposal) -> None:
    """Commit an empty block stamped at the proposal's deadline."""
    community.commit([], max(proposal.deadline_ms, community.head.timestamp_ms))


def tally(community: Community, proposal_id: int, counter: str = "carol") -> Receipt:
    return community.run(counter, "governance", "tally", {"proposal_id": proposal_id})


def admission_vote(community: Community, choices: dict[str, str]) -> Proposal:
    """erin applies, alice proposes her admission, `choices` vote, then it is counted."""
    assert community.apply_as("erin", "consumer").ok
    proposed = propose(community, "alice", "admission", subject=address("erin"))
    assert proposed.ok, proposed.message
    proposal = last_proposal(community)
    for voter, choice in choices.items():
        receipt = vote(community, voter, proposal.proposal_id, choice)
        assert receipt.ok, receipt.message
    past_deadline(community, proposal)
    counted = tally(community, proposal.proposal_id)
    assert counted.ok, counted.message
    decided = read_proposal(community.state, proposal.proposal_id)
    assert decided is not None
    return decided


# --- admission by vote (seed 001 §4.1) --------------------------------------------------------


def test_a_candidate_is_admitted_by_vote_and_the_tally_is_recorded(community: Community) -> None:
    decided = admission_vote(
        community, {"alice": "yes", "bob": "yes", "carol": "yes", "dave": "no"}
    )
    assert decided.status == "passed"
    assert decided.tally is not None
    assert (decided.tally.yes, decided.tally.no, decided.tally.abstain) == (3, 1, 0)
    assert decided.tally.electorate == len(FOUNDERS)
    assert decided.tally.quorum_reached and decided.tally.majority_reached
    erin = community.member("erin")
    assert erin is not None and erin.status == "active"
    assert "admitted by vote" in erin.reason


def test_a_candidate_is_refused_by_vote(community: Community) -> None:
    decided = admission_vote(
        community, {"alice": "yes", "bob": "no", "carol": "no", "regulator": "abstain"}
    )
    assert decided.status == "refused"
    erin = community.member("erin")
    assert erin is not None and erin.status == "rejected"
    assert "refused by vote" in erin.reason


def test_without_a_quorum_the_candidate_is_refused(community: Community) -> None:
    decided = admission_vote(community, {"alice": "yes", "bob": "yes"})
    assert decided.tally is not None and not decided.tally.quorum_reached
    assert decided.status == "refused"


def test_abstentions_count_toward_the_quorum_but_not_the_majority(community: Community) -> None:
    decided = admission_vote(
        community, {"alice": "yes", "bob": "abstain", "carol": "abstain", "dave": "abstain"}
    )
    assert decided.tally is not None and decided.tally.quorum_reached
    assert decided.status == "passed"


def test_the_regulator_vetoes_with_a_recorded_reason(community: Community) -> None:
    assert community.apply_as("erin", "consumer").ok
    assert propose(community, "alice", "admission", subject=address("erin")).ok
    proposal = last_proposal(community)
    assert vote(community, "bob", proposal.proposal_id, "yes").ok
    no_reason = community.run(
        "regulator", "governance", "veto", {"proposal_id": proposal.proposal_id, "reason": ""}
    )
    assert no_reason.code == ResultCode.REASON_REQUIRED
    not_regulator = community.run(
        "alice", "governance", "veto", {"proposal_id": proposal.proposal_id, "reason": "x"}
    )
    assert not_regulator.code == ResultCode.NOT_AUTHORISED
    vetoed = community.run(
        "regulator",
        "governance",
        "veto",
        {"proposal_id": proposal.proposal_id, "reason": "credit record does not match"},
    )
    assert vetoed.ok, vetoed.message
    decided = read_proposal(community.state, proposal.proposal_id)
    assert decided is not None
    assert (decided.status, decided.reason) == ("vetoed", "credit record does not match")
    erin = community.member("erin")
    assert erin is not None and erin.status == "rejected"
    assert erin.reason == "vetoed: credit record does not match"
    assert vote(community, "carol", proposal.proposal_id, "yes").code == ResultCode.VOTING_CLOSED
    past_deadline(community, decided)
    assert tally(community, proposal.proposal_id).code == ResultCode.ALREADY_TALLIED


def test_only_an_open_admission_can_be_vetoed(community: Community) -> None:
    assert propose(community, "alice", "motion", text="buy a community battery").ok
    proposal = last_proposal(community)
    vetoed = community.run(
        "regulator", "governance", "veto", {"proposal_id": proposal.proposal_id, "reason": "no"}
    )
    assert vetoed.code == ResultCode.VETO_NOT_APPLICABLE


def test_after_the_founding_phase_the_regulator_cannot_admit_alone(community: Community) -> None:
    assert community.apply_as("erin", "consumer").ok
    approved = community.run("regulator", "membership", "approve", {"address": address("erin")})
    assert approved.code == ResultCode.FOUNDING_PHASE_OVER
    erin = community.member("erin")
    assert erin is not None and erin.status == "pending"


def test_during_the_founding_phase_the_regulator_still_approves() -> None:
    founding = Community.create(
        make_genesis(parameters={"governance": {"founding_until_ms": 2**62}})
    )
    founding.admit("erin")
    legacy = Community.create()  # no governance section: founding for ever, as before votes
    legacy.admit("erin")


# --- other decisions through the same ballot --------------------------------------------------


def test_a_member_is_revoked_by_vote(community: Community) -> None:
    refused = propose(community, "alice", "revocation", subject=address("dave"))
    assert refused.code == ResultCode.NOT_AUTHORISED
    assert propose(community, "regulator", "revocation", subject=address("dave")).ok
    proposal = last_proposal(community)
    for voter in ("alice", "bob", "carol", "operator"):
        assert vote(community, voter, proposal.proposal_id, "yes").ok
    past_deadline(community, proposal)
    assert tally(community, proposal.proposal_id).ok
    dave = community.member("dave")
    assert dave is not None and dave.status == "revoked"


def test_a_ratified_parameter_change_applies_from_its_future_period(community: Community) -> None:
    from_period = NEXT_PERIOD + 1
    changes = {"breakdown_penalty_micro": 2_000_000}
    assert propose(community, "operator", "parameters", changes=changes, from_period=from_period).ok
    proposal = last_proposal(community)
    for voter in ("alice", "bob", "carol"):
        assert vote(community, voter, proposal.proposal_id, "yes").ok
    assert parameters_for(community.state, from_period).breakdown_penalty_micro == 1_000_000
    past_deadline(community, proposal)
    assert tally(community, proposal.proposal_id).ok
    assert parameters_for(community.state, from_period).breakdown_penalty_micro == 2_000_000
    assert parameters_for(community.state, from_period - 1).breakdown_penalty_micro == 1_000_000


# --- refusals, one code each ------------------------------------------------------------------


def test_each_refusal_has_its_own_code(community: Community) -> None:
    assert community.apply_as("erin", "consumer").ok
    assert propose(community, "alice", "admission", subject=address("erin")).ok
    proposal = last_proposal(community)
    pid = proposal.proposal_id
    again = propose(community, "bob", "admission", subject=address("erin"))
    assert again.code == ResultCode.PROPOSAL_EXISTS
    assert propose(community, "bob", "coup").code == ResultCode.UNKNOWN_PROPOSAL_KIND
    late = community.run(
        "bob", "governance", "propose", {"kind": "motion", "deadline_ms": 0, "text": "x"}
    )
    assert late.code == ResultCode.DEADLINE_OUT_OF_RANGE
    assert vote(community, "alice", pid, "maybe").code == ResultCode.INVALID_CHOICE
    assert vote(community, "alice", pid, "yes").ok
    assert vote(community, "alice", pid, "no").code == ResultCode.ALREADY_VOTED
    assert vote(community, "erin", pid, "yes").code == ResultCode.NOT_ELIGIBLE_VOTER
    assert vote(community, "mallory", pid, "yes").code == ResultCode.NOT_ELIGIBLE_VOTER
    assert vote(community, "alice", pid + 1, "yes").code == ResultCode.UNKNOWN_PROPOSAL
    assert tally(community, pid).code == ResultCode.TALLY_BEFORE_DEADLINE
    past_deadline(community, proposal)
    assert vote(community, "bob", pid, "yes").code == ResultCode.VOTING_CLOSED
    assert tally(community, pid).ok
    assert tally(community, pid).code == ResultCode.ALREADY_TALLIED
    assert ballot_of(community.state, pid, address("alice")) == "yes"


def test_a_member_admitted_after_the_proposal_does_not_vote_on_it(community: Community) -> None:
    assert propose(community, "alice", "motion", text="later members wait").ok
    motion = last_proposal(community)
    admission_vote(community, {"alice": "yes", "bob": "yes", "carol": "yes"})
    late = vote(community, "erin", motion.proposal_id, "yes")
    assert late.code == ResultCode.NOT_ELIGIBLE_VOTER


# --- property: a tally is the count of distinct eligible ballots ------------------------------

VOTERS = (*FOUNDERS, "erin", "mallory")


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(VOTERS), st.sampled_from(("yes", "no", "abstain")))))
def test_a_tally_counts_each_eligible_voter_once(ballots: list[tuple[str, str]]) -> None:
    community = Community.create(make_genesis(parameters={"governance": {}}))
    assert community.apply_as("erin", "consumer").ok
    assert propose(community, "alice", "motion", text="property").ok
    proposal = last_proposal(community)
    raws = [
        community.tx(voter, "governance", "vote", {"proposal_id": 0, "choice": choice})
        for voter, choice in ballots
    ]
    community.commit(raws)
    past_deadline(community, proposal)
    assert tally(community, 0).ok
    first: dict[str, str] = {}
    for voter, choice in ballots:
        if voter in FOUNDERS:
            first.setdefault(voter, choice)
    decided = read_proposal(community.state, 0)
    assert decided is not None and decided.tally is not None
    counted = (decided.tally.yes, decided.tally.no, decided.tally.abstain)
    expected = tuple(
        sum(c == choice for c in first.values()) for choice in ("yes", "no", "abstain")
    )
    assert counted == expected
    assert sum(counted) <= decided.tally.electorate == len(FOUNDERS)


def test_a_ratified_change_whose_period_began_before_the_tally_lapses(
    community: Community,
) -> None:
    deadline_ms = (NEXT_PERIOD * 3600 + 60) * 1000  # a minute into the period it would change
    proposed = community.run(
        "regulator",
        "governance",
        "propose",
        {
            "kind": "parameters",
            "deadline_ms": deadline_ms,
            "changes": {"breakdown_penalty_micro": 3_000_000},
            "from_period": NEXT_PERIOD,
        },
    )
    assert proposed.ok, proposed.message
    proposal = last_proposal(community)
    for voter in ("alice", "bob", "carol"):
        assert vote(community, voter, proposal.proposal_id, "yes").ok
    past_deadline(community, proposal)
    assert tally(community, proposal.proposal_id).ok
    decided = read_proposal(community.state, proposal.proposal_id)
    assert decided is not None and decided.status == "lapsed"
    assert "not in the future" in decided.reason
    assert parameters_for(community.state, NEXT_PERIOD).breakdown_penalty_micro == 1_000_000
