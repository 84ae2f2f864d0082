"""The governance contract's refusals: one class per rule, each with its own result code."""

from __future__ import annotations

from gridledger.contracts.errors import ContractError
from gridledger.ledger import ResultCode


class GovernanceError(ContractError):
    """Base of the governance contract's refusals."""


class UnknownProposal(GovernanceError):
    """No proposal has this number."""

    code = ResultCode.UNKNOWN_PROPOSAL

    def __init__(self, proposal_id: int) -> None:
        self.proposal_id = proposal_id
        super().__init__(f"there is no proposal {proposal_id}")


class UnknownProposalKind(GovernanceError):
    """A proposal names a kind of decision the community does not take by vote."""

    code = ResultCode.UNKNOWN_PROPOSAL_KIND

    def __init__(self, kind: str, kinds: str) -> None:
        self.kind, self.kinds = kind, kinds
        super().__init__(f"unknown proposal kind {kind!r}; expected one of {kinds}")


class DeadlineOutOfRange(GovernanceError):
    """A proposal's deadline must be after the block's time and within the longest vote (ms)."""

    code = ResultCode.DEADLINE_OUT_OF_RANGE

    def __init__(self, deadline_ms: int, earliest_ms: int, latest_ms: int) -> None:
        self.deadline_ms, self.earliest_ms, self.latest_ms = deadline_ms, earliest_ms, latest_ms
        super().__init__(
            f"deadline {deadline_ms} ms is outside [{earliest_ms}, {latest_ms}] ms (block time)"
        )


class ProposalExists(GovernanceError):
    """An open proposal already decides on this subject."""

    code = ResultCode.PROPOSAL_EXISTS

    def __init__(self, kind: str, subject: str, proposal_id: int) -> None:
        self.kind, self.subject, self.proposal_id = kind, subject, proposal_id
        super().__init__(f"proposal {proposal_id} already decides {kind} of {subject}")


class VotingClosed(GovernanceError):
    """A ballot cast at or after the proposal's deadline (block time), or on a decided one."""

    code = ResultCode.VOTING_CLOSED

    def __init__(self, proposal_id: int, deadline_ms: int, timestamp_ms: int) -> None:
        self.proposal_id, self.deadline_ms, self.timestamp_ms = (
            proposal_id,
            deadline_ms,
            timestamp_ms,
        )
        super().__init__(
            f"voting on proposal {proposal_id} closed at {deadline_ms} ms "
            f"(block time {timestamp_ms} ms)"
        )


class AlreadyVoted(GovernanceError):
    """One ballot per voter and proposal: the second is refused, the first stands."""

    code = ResultCode.ALREADY_VOTED

    def __init__(self, proposal_id: int, voter: str) -> None:
        self.proposal_id, self.voter = proposal_id, voter
        super().__init__(f"{voter} has already voted on proposal {proposal_id}")


class NotEligibleVoter(GovernanceError):
    """Only active members vote."""

    code = ResultCode.NOT_ELIGIBLE_VOTER

    def __init__(self, voter: str, member_status: str) -> None:
        self.voter, self.member_status = voter, member_status
        super().__init__(f"{voter} may not vote: not an active member (status: {member_status})")


class InvalidChoice(GovernanceError):
    """A ballot is yes, no or abstain."""

    code = ResultCode.INVALID_CHOICE

    def __init__(self, choice: str) -> None:
        self.choice = choice
        super().__init__(f"choice {choice!r} is not one of yes, no, abstain")


class TallyBeforeDeadline(GovernanceError):
    """A proposal is counted only once its deadline has passed (block time)."""

    code = ResultCode.TALLY_BEFORE_DEADLINE

    def __init__(self, proposal_id: int, deadline_ms: int, timestamp_ms: int) -> None:
        self.proposal_id, self.deadline_ms, self.timestamp_ms = (
            proposal_id,
            deadline_ms,
            timestamp_ms,
        )
        super().__init__(
            f"proposal {proposal_id} can be counted from {deadline_ms} ms "
            f"(block time {timestamp_ms} ms)"
        )


class AlreadyTallied(GovernanceError):
    """A proposal is counted once; its recorded tally is final."""

    code = ResultCode.ALREADY_TALLIED

    def __init__(self, proposal_id: int, outcome: str) -> None:
        self.proposal_id, self.outcome = proposal_id, outcome
        super().__init__(f"proposal {proposal_id} is already decided: {outcome}")


class VetoNotApplicable(GovernanceError):
    """The regulator vetoes only open admissions (it audits applications, seed 004 §2.3)."""

    code = ResultCode.VETO_NOT_APPLICABLE

    def __init__(self, proposal_id: int, kind: str, proposal_status: str) -> None:
        self.proposal_id, self.kind, self.proposal_status = proposal_id, kind, proposal_status
        super().__init__(
            f"proposal {proposal_id} ({kind}, {proposal_status}) cannot be vetoed: "
            "only an open admission can"
        )


class FoundingPhaseOver(GovernanceError):
    """After the founding phase named in genesis, members admit by vote, not the regulator."""

    code = ResultCode.FOUNDING_PHASE_OVER

    def __init__(self, founding_until_ms: int, timestamp_ms: int) -> None:
        self.founding_until_ms, self.timestamp_ms = founding_until_ms, timestamp_ms
        super().__init__(
            f"the founding phase ended at {founding_until_ms} ms (block time {timestamp_ms} ms): "
            "admission is by the members' vote"
        )


class InvalidGovernanceParameter(GovernanceError):
    """A governance parameter is out of its range."""

    code = ResultCode.INVALID_GOVERNANCE_PARAMETER

    def __init__(self, parameter: str, requirement: str) -> None:
        self.parameter, self.requirement = parameter, requirement
        super().__init__(f"governance.{parameter} {requirement}")


__all__ = [
    "AlreadyTallied",
    "AlreadyVoted",
    "DeadlineOutOfRange",
    "FoundingPhaseOver",
    "GovernanceError",
    "InvalidChoice",
    "InvalidGovernanceParameter",
    "NotEligibleVoter",
    "ProposalExists",
    "TallyBeforeDeadline",
    "UnknownProposal",
    "UnknownProposalKind",
    "VetoNotApplicable",
    "VotingClosed",
]


class WrongBallotKind(GovernanceError):
    """An open ballot on a secret vote, or a ring-signed one on an open vote."""

    code = ResultCode.WRONG_BALLOT_KIND

    def __init__(self, proposal_id: int, vote_kind: str, method: str) -> None:
        self.proposal_id, self.vote_kind, self.method = proposal_id, vote_kind, method
        other = "vote_secretly" if vote_kind == "secret" else "vote"
        super().__init__(
            f"proposal {proposal_id} is a {vote_kind} vote: ballots go through {other}, "
            f"not {method}"
        )
