"""The governance contract: one ballot for every community decision (seed 001 §4.1).

A member proposes; the active members vote yes, no or abstain until the
proposal's deadline (block time); then anyone counts, and the contract
records the tally and carries out what passed. The quorum and the majority
are the community's (`governance_parameters`): ballots cast, abstentions
included, must reach ``quorum_percent`` of the electorate, and yes must be
strictly more than ``majority_percent`` of yes and no.

The electorate is fixed when the proposal is made: the members active then
whose status last changed in an earlier block (`eligible`). Only they vote,
once each, so a tally never counts more ballots than its electorate.

Kinds of decision:

- ``admission``: any member proposes admitting a pending applicant. The
  regulator audits the application (seed 004 §2.3) and may veto it with a
  reason, which closes the proposal and rejects the applicant; it cannot
  admit alone, except during the founding phase named in genesis
  (``membership.approve``). Passed: the applicant becomes active; refused:
  it is rejected with the tally as the reason.
- ``revocation``: the regulator or the operator proposes removing a member.
- ``parameters``: the regulator or the operator proposes market parameter
  changes from a future period (`parameters.schedule_change`); if that period
  has begun by the tally, the passed change lapses.
- ``motion``: a text the community resolves, with no effect on the chain.

Ballots are keyed by a ballot key. In an open vote it is the voter's address
(the transaction's sender signs the ballot); `vote` has no `Admit` rule, so a
node's admission lets only members send it (`Registry.admit`), and a ballot
that reaches a block from a key outside the electorate is refused with
`NotEligibleVoter`. A proposal made with ``secret=true`` is a secret vote
(seed 001 §4.2, issue 15): ballots come only through `vote_secretly`, sent from a
throwaway key and signed by an LSAG over a ring of the electorate's registered
keys (`privacy_rings`); the ballot key is ``ring:`` and the key image scoped to
the event ``governance/proposal/<id>``, so each member votes once and nobody
learns how. A proposal is open or secret, never both, or a member could vote
once each way (`WrongBallotKind`). A member of the electorate who has
registered no privacy keys cannot vote in a secret ballot; it is counted in the
electorate, as an abstainer who did not vote.

State (namespace ``governance``):

- ``next`` → the number of the next proposal
- ``proposal/<id>`` → `Proposal` (with its `Tally` once counted)
- ``ballot/<id>/<ballot key>`` → the choice
- ``open/<kind>/<subject>`` → the number of the open proposal deciding it
- ``secret/<id>`` → true for a secret vote
"""

from __future__ import annotations

from typing import Any

import msgspec

from gridledger.contracts import membership, parameters, privacy_rings
from gridledger.contracts.errors import TextLengthOutOfRange
from gridledger.contracts.governance_errors import (
    AlreadyTallied,
    AlreadyVoted,
    DeadlineOutOfRange,
    InvalidChoice,
    NotEligibleVoter,
    ProposalExists,
    TallyBeforeDeadline,
    UnknownProposal,
    UnknownProposalKind,
    VetoNotApplicable,
    VotingClosed,
    WrongBallotKind,
)
from gridledger.contracts.governance_parameters import (
    electorate_reached_quorum,
    governance_parameters,
    majority_for,
)
from gridledger.contracts.membership import Status, change_status, read_member, require_role
from gridledger.contracts.membership_errors import ReasonRequired
from gridledger.contracts.parameters_errors import ParametersError
from gridledger.contracts.registry import Access, Contract, Submission
from gridledger.contracts.vocabulary import CHOICES, KINDS
from gridledger.ledger import Context, StateReader, decode

NAMESPACE = "governance"
contract = Contract(NAMESPACE)

PROPOSERS = ("regulator", "operator")
"""Roles that may propose revocations and parameter changes; any active member may propose
an admission or a motion."""
MAX_TEXT = 500


class ProposalStatus:
    OPEN = "open"
    PASSED = "passed"
    REFUSED = "refused"
    VETOED = "vetoed"
    LAPSED = "lapsed"


class Tally(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    yes: int
    no: int
    abstain: int
    electorate: int
    quorum_reached: bool
    majority_reached: bool
    height: int
    """Height of the block that counted it."""


class Proposal(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    proposal_id: int
    kind: str
    subject: str
    """The applicant or member decided on (admission, revocation); empty otherwise."""
    text: str
    changes: dict[str, Any]
    """Market parameter changes (kind ``parameters``), from `from_period` on."""
    from_period: int
    proposer: str
    created_height: int
    deadline_ms: int
    """Ballots are accepted in blocks stamped before this time; the tally from it on."""
    electorate: int
    """Active members when proposed (status last changed in an earlier block)."""
    yes: int = 0
    no: int = 0
    abstain: int = 0
    status: str = ProposalStatus.OPEN
    reason: str = ""
    """The regulator's veto reason, or why a passed change lapsed."""
    tally: Tally | None = None


def proposal_key(proposal_id: int) -> str:
    return f"proposal/{proposal_id:012d}"


def read_proposal(state: StateReader, proposal_id: int) -> Proposal | None:
    raw = state.get(NAMESPACE, proposal_key(proposal_id))
    return None if raw is None else decode(raw, Proposal)


def proposal_count(state: StateReader) -> int:
    raw = state.get(NAMESPACE, "next")
    return 0 if raw is None else decode(raw, int)


def proposals(state: StateReader) -> list[Proposal]:
    """Every proposal, oldest first."""
    found = (read_proposal(state, n) for n in range(proposal_count(state)))
    return [p for p in found if p is not None]


def ballot_of(state: StateReader, proposal_id: int, ballot_key: str) -> str | None:
    """The choice recorded under `ballot_key` (a voter's address) on a proposal, if any."""
    raw = state.get(NAMESPACE, f"ballot/{proposal_id:012d}/{ballot_key}")
    return None if raw is None else decode(raw, str)


def eligible(member: membership.Member | None, height: int) -> bool:
    """Whether `member` belongs to the electorate of a proposal made at `height`."""
    return member is not None and member.status == Status.ACTIVE and member.since_height < height


def electorate_at(state: StateReader, height: int) -> int:
    return sum(eligible(read_member(state, a), height) for a in membership.roster(state))


def _require(context: Context, proposal_id: int) -> Proposal:
    found = read_proposal(context.overlay, proposal_id)
    if found is None:
        raise UnknownProposal(proposal_id)
    return found


def _save(context: Context, proposal: Proposal) -> None:
    context.write(NAMESPACE, proposal_key(proposal.proposal_id), proposal)


# -- proposing ---------------------------------------------------------------------------


class ProposeArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    kind: str
    deadline_ms: int
    """Block time (ms since the epoch) at which voting closes."""
    subject: str = ""
    text: str = ""
    changes: dict[str, Any] = {}
    from_period: int = 0
    secret: bool = False
    """A secret vote: ballots only ring-signed (`vote_secretly`)."""


def is_secret(state: StateReader, proposal_id: int) -> bool:
    return state.get(NAMESPACE, f"secret/{proposal_id:012d}") is not None


def ballot_event(proposal_id: int) -> str:
    """The event a secret ballot's key image is scoped to."""
    return f"governance/proposal/{proposal_id}"


def _check_subject(context: Context, args: ProposeArgs) -> None:
    if args.kind == "admission":
        membership.target(context, args.subject, Status.PENDING)
    elif args.kind == "revocation":
        require_role(context, PROPOSERS, "propose revocations")
        membership.target(context, args.subject, Status.ACTIVE)
    elif args.kind == "parameters":
        require_role(context, PROPOSERS, "propose parameter changes")
        parameters.checked_change(context, args.from_period, args.changes)


@contract.method(ProposeArgs)
def propose(context: Context, args: ProposeArgs) -> None:
    """Put a decision to the members' vote until a deadline (block time)."""
    if args.kind not in KINDS:
        raise UnknownProposalKind(args.kind, ", ".join(KINDS))
    if len(args.text) > MAX_TEXT:
        raise TextLengthOutOfRange("text", len(args.text), 0, MAX_TEXT)
    latest = context.timestamp_ms + governance_parameters(context.overlay).max_voting_ms
    if not context.timestamp_ms < args.deadline_ms <= latest:
        raise DeadlineOutOfRange(args.deadline_ms, context.timestamp_ms + 1, latest)
    _check_subject(context, args)
    open_key = f"open/{args.kind}/{args.subject}"
    if args.subject:
        already = context.read(NAMESPACE, open_key, int)
        if already is not None:
            raise ProposalExists(args.kind, args.subject, already)
    proposal_id = proposal_count(context.overlay)
    proposal = Proposal(
        proposal_id,
        args.kind,
        args.subject,
        args.text,
        dict(args.changes),
        args.from_period,
        context.sender,
        context.height,
        args.deadline_ms,
        electorate_at(context.overlay, context.height),
    )
    _save(context, proposal)
    context.write(NAMESPACE, "next", proposal_id + 1)
    if args.subject:
        context.write(NAMESPACE, open_key, proposal_id)
    if args.secret:
        context.write(NAMESPACE, f"secret/{proposal_id:012d}", True)
    context.emit(
        NAMESPACE,
        "proposed",
        proposal_id=proposal_id,
        kind=args.kind,
        subject=args.subject,
        deadline_ms=args.deadline_ms,
        electorate=proposal.electorate,
    )


# -- voting ------------------------------------------------------------------------------


class VoteArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    proposal_id: int
    choice: str
    """yes, no or abstain."""


def record_ballot(context: Context, proposal: Proposal, ballot_key: str, choice: str) -> None:
    """Count one ballot under `ballot_key` (the voter's address; later a ring signature's key
    image scoped to the proposal), refusing a second one under the same key."""
    if choice not in CHOICES:
        raise InvalidChoice(choice)
    if proposal.status != ProposalStatus.OPEN or context.timestamp_ms >= proposal.deadline_ms:
        raise VotingClosed(proposal.proposal_id, proposal.deadline_ms, context.timestamp_ms)
    key = f"ballot/{proposal.proposal_id:012d}/{ballot_key}"
    if context.get(NAMESPACE, key) is not None:
        raise AlreadyVoted(proposal.proposal_id, ballot_key)
    context.write(NAMESPACE, key, choice)
    counted = {"yes": proposal.yes, "no": proposal.no, "abstain": proposal.abstain}
    counted[choice] += 1
    _save(context, msgspec.structs.replace(proposal, **counted))
    context.emit(NAMESPACE, "voted", proposal_id=proposal.proposal_id, ballot_key=ballot_key)


@contract.method(VoteArgs, access=Access.ANYONE)
def vote(context: Context, args: VoteArgs) -> None:
    """An active member of the proposal's electorate votes yes, no or abstain, once."""
    proposal = _require(context, args.proposal_id)
    if is_secret(context.overlay, proposal.proposal_id):
        raise WrongBallotKind(proposal.proposal_id, "secret", "vote")
    member = read_member(context.overlay, context.sender)
    if not eligible(member, proposal.created_height):
        status = "unknown" if member is None else member.status
        if member is not None and status == Status.ACTIVE:
            status = "active since after the proposal"
        raise NotEligibleVoter(context.sender, status)
    record_ballot(context, proposal, context.sender, args.choice)


class SecretVoteArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    proposal_id: int
    choice: str
    ring: list[str]
    """Hex of the ring's keys: members of the electorate's registered spend keys."""
    ring_signature: str
    """Hex of the LSAG over `privacy_rings.ring_message`, key image scoped to the proposal."""


def _electorate_rule(proposal: Proposal) -> privacy_rings.Eligibility:
    def rule(member: membership.Member | None) -> str:
        if eligible(member, proposal.created_height):
            return ""
        if member is None:
            return "not a member"
        if member.status == Status.ACTIVE:
            return "active since after the proposal"
        return member.status

    return rule


def _check_secret_ballot(
    state: StateReader, sender_key: bytes, args: SecretVoteArgs
) -> tuple[Proposal, bytes]:
    raw = state.get(NAMESPACE, proposal_key(args.proposal_id))
    if raw is None:
        raise UnknownProposal(args.proposal_id)
    proposal = decode(raw, Proposal)
    if not is_secret(state, proposal.proposal_id):
        raise WrongBallotKind(proposal.proposal_id, "open", "vote_secretly")
    fields = msgspec.structs.asdict(args)
    message = privacy_rings.ring_message(sender_key, (NAMESPACE, "vote_secretly"), fields)
    image = privacy_rings.check_ring_call(
        state, message, fields, ballot_event(proposal.proposal_id), _electorate_rule(proposal)
    )
    return proposal, image


def admit_secret_ballot(submission: Submission) -> None:
    """Admission of a secret ballot: the ring signature, not the sender, says who may vote."""
    args = privacy_rings.convert_call(NAMESPACE, "vote_secretly", submission.args, SecretVoteArgs)
    _check_secret_ballot(submission.state, submission.sender_key, args)


@contract.method(SecretVoteArgs, access=Access.ANYONE, admit=admit_secret_ballot)
def vote_secretly(context: Context, args: SecretVoteArgs) -> None:
    """A member of the electorate votes in a secret vote, ring-signed, once per proposal."""
    proposal, image = _check_secret_ballot(context.overlay, context.sender_key, args)
    event = ballot_event(proposal.proposal_id)
    record_ballot(context, proposal, f"ring:{image.hex()}", args.choice)
    privacy_rings.record_image(context, event, image)


# -- deciding ----------------------------------------------------------------------------


class ProposalArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    proposal_id: int


class VetoArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    proposal_id: int
    reason: str


def _close(context: Context, proposal: Proposal) -> None:
    if proposal.subject:
        context.delete(NAMESPACE, f"open/{proposal.kind}/{proposal.subject}")


@contract.method(VetoArgs)
def veto(context: Context, args: VetoArgs) -> None:
    """The regulator, having audited the application, vetoes an open admission with a reason:
    the proposal closes and the applicant is rejected."""
    require_role(context, ("regulator",), "veto admissions")
    proposal = _require(context, args.proposal_id)
    if proposal.kind != "admission" or proposal.status != ProposalStatus.OPEN:
        raise VetoNotApplicable(proposal.proposal_id, proposal.kind, proposal.status)
    if not args.reason:
        raise ReasonRequired("veto")
    _save(
        context,
        msgspec.structs.replace(proposal, status=ProposalStatus.VETOED, reason=args.reason),
    )
    _close(context, proposal)
    applicant = read_member(context.overlay, proposal.subject)
    if applicant is not None and applicant.status == Status.PENDING:
        change_status(context, applicant, Status.REJECTED, f"vetoed: {args.reason}")
    context.emit(NAMESPACE, "vetoed", proposal_id=proposal.proposal_id, reason=args.reason)


@contract.method(ProposalArgs)
def tally(context: Context, args: ProposalArgs) -> None:
    """Count a proposal once its deadline has passed, record the tally and carry it out."""
    proposal = _require(context, args.proposal_id)
    if proposal.status != ProposalStatus.OPEN:
        raise AlreadyTallied(proposal.proposal_id, proposal.status)
    if context.timestamp_ms < proposal.deadline_ms:
        raise TallyBeforeDeadline(proposal.proposal_id, proposal.deadline_ms, context.timestamp_ms)
    rules = governance_parameters(context.overlay)
    ballots = proposal.yes + proposal.no + proposal.abstain
    result = Tally(
        proposal.yes,
        proposal.no,
        proposal.abstain,
        proposal.electorate,
        electorate_reached_quorum(ballots, proposal.electorate, rules.quorum_percent),
        majority_for(proposal.yes, proposal.no, rules.majority_percent),
        context.height,
    )
    passed = result.quorum_reached and result.majority_reached
    status, reason = _carry_out(context, proposal, passed, result)
    _save(context, msgspec.structs.replace(proposal, status=status, reason=reason, tally=result))
    _close(context, proposal)
    context.emit(
        NAMESPACE,
        "tallied",
        proposal_id=proposal.proposal_id,
        outcome=status,
        yes=result.yes,
        no=result.no,
        abstain=result.abstain,
        electorate=result.electorate,
    )


def _describe(proposal: Proposal, result: Tally) -> str:
    return (
        f"proposal {proposal.proposal_id}: {result.yes} yes, {result.no} no, "
        f"{result.abstain} abstain of {result.electorate}"
    )


def _carry_out(
    context: Context, proposal: Proposal, passed: bool, result: Tally
) -> tuple[str, str]:
    """Apply a counted decision; (the proposal's new status, its reason)."""
    subject = read_member(context.overlay, proposal.subject) if proposal.subject else None
    described = _describe(proposal, result)
    if proposal.kind == "admission" and subject is not None and subject.status == Status.PENDING:
        if passed:
            change_status(context, subject, Status.ACTIVE, f"admitted by vote, {described}")
        else:
            change_status(context, subject, Status.REJECTED, f"refused by vote, {described}")
    if not passed:
        return ProposalStatus.REFUSED, ""
    if proposal.kind == "revocation" and subject is not None and subject.status == Status.ACTIVE:
        change_status(context, subject, Status.REVOKED, f"revoked by vote, {described}")
    if proposal.kind == "parameters":
        try:
            parameters.schedule_change(context, proposal.from_period, proposal.changes)
        except ParametersError as error:
            return ProposalStatus.LAPSED, str(error)
    return ProposalStatus.PASSED, ""
