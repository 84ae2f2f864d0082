"""The membership contract: who belongs to the community, in which role.

Founding members come from the genesis document. A household applies with a
role, a label of its choosing and its registration data (seed 003 Tables 1–2:
for a buyer its customer type, identity, credit record and purpose; for a
seller its generation type, identity, installed capacity and credit record).
Personal data never enters the chain: the technical fields
(`TECHNICAL_REGISTRATION_FIELDS`: customer and generation type, capacities)
are kept in the clear, every other field only as a salted digest (SD-JWT's
disclosures, `gridledger.crypto.disclosure`) whose value the applicant gives
the regulator's registry off chain; the regulator checks the values against
the digests before approving (``gridledger member approve``). The regulator audits the
application and approves or rejects it (seed 004 §2.3, weak central
management: the regulator admits and removes members but cannot rewrite any
transaction). The regulator can revoke a member; a member can exit. Smart-meter
keys are bound to a member by the regulator or the operator, who install the
meters; a meter key belongs to one member at a time.

State (namespace ``membership``):

- ``member/<address>`` → `Member`
- ``roster`` → sorted list of every address that ever applied
- ``meter/<meter public key hex>`` → address of the member it is bound to
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from gridledger.contracts.errors import MemberNotActive, TextLengthOutOfRange
from gridledger.contracts.governance_errors import FoundingPhaseOver
from gridledger.contracts.governance_parameters import governance_parameters
from gridledger.contracts.membership_errors import (
    ApplicationExists,
    ApplicationPending,
    InvalidAddress,
    InvalidCommitment,
    InvalidMeterKey,
    InvalidRegistrationField,
    LastRegulator,
    MemberStatusMismatch,
    MeterAlreadyBound,
    MeterNotBound,
    PersonalDataOnChain,
    ReasonRequired,
    RegistrationIncomplete,
    RegistrationTooLarge,
    RoleNotApplicable,
    SelfRevocation,
    UnknownApplicant,
)
from gridledger.contracts.registration import MAX_TEXT
from gridledger.contracts.registry import Access, Contract, Submission
from gridledger.crypto import InvalidPublicKey, address_of, is_address, validate_public_key
from gridledger.ledger import (
    MAX_REGISTRATION_FIELDS,
    TECHNICAL_REGISTRATION_FIELDS,
    Context,
    Genesis,
    InvalidArguments,
    NotAMember,
    NotAuthorised,
    StateReader,
    check_registration_fields,
    decode,
)

NAMESPACE = "membership"
contract = Contract(NAMESPACE)

APPLICABLE_ROLES = ("consumer", "producer", "prosumer", "storage")
"""Roles a household may apply for; operator and regulator are founded in genesis."""

REQUIRED_REGISTRATION = {
    "consumer": ("customer_type", "basic_information", "credit_record", "purpose"),
    "producer": ("generation_type", "basic_information", "installed_capacity_w", "credit_record"),
    "prosumer": ("generation_type", "basic_information", "installed_capacity_w", "credit_record"),
    "storage": ("basic_information", "storage_capacity_wh", "credit_record"),
}
"""Registration fields each role must supply (seed 003 Tables 1–2; storage by analogy):
the technical ones in the clear, the personal ones as digests."""


class Status:
    PENDING = "pending"
    ACTIVE = "active"
    REJECTED = "rejected"
    REVOKED = "revoked"
    EXITED = "exited"


class Member(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    address: str
    public_key: bytes
    name: str
    """A label the member chose (shown to every member), not its legal name."""
    role: str
    status: str
    registration: dict[str, Any]
    """The technical registration fields, in the clear."""
    registration_commitments: dict[str, str]
    """The salted digest of each personal registration field, by field."""
    meter_keys: list[str]
    since_height: int
    """Height of the block that last changed the status."""
    reason: str
    """Why the status last changed (empty for approvals)."""


def member_key(address: str) -> str:
    return f"member/{address}"


def read_member(state: StateReader, address: str) -> Member | None:
    raw = state.get(NAMESPACE, member_key(address))
    return None if raw is None else decode(raw, Member)


def require_active_member(state: StateReader, address: str) -> Member:
    """The member at `address` if active; otherwise `NotAMember` with its status."""
    member = read_member(state, address)
    if member is None:
        raise NotAMember(address, "unknown")
    if member.status != Status.ACTIVE:
        raise NotAMember(address, member.status)
    return member


_STANDING: dict[bytes, tuple[str, str]] = {}
"""(status, role) of a stored member record, by its bytes (a memo of a pure function)."""
STANDING_MEMO_LIMIT = 4096


def standing(state: StateReader, address: str) -> tuple[str, str] | None:
    """(status, role) of the member at `address`, or None if there is none.

    Every transaction's envelope check and most contract methods ask this of the
    sender; the record changes only when the member's status, role or meters do,
    so its decoding is remembered by its bytes (at most `STANDING_MEMO_LIMIT`
    records; the memo is cleared when full).
    """
    raw = state.get(NAMESPACE, member_key(address))
    if raw is None:
        return None
    found = _STANDING.get(raw)
    if found is None:
        member = decode(raw, Member)
        if len(_STANDING) >= STANDING_MEMO_LIMIT:
            _STANDING.clear()
        found = _STANDING[raw] = (member.status, member.role)
    return found


def active_role(state: StateReader, address: str) -> str:
    """The role of the active member at `address`; otherwise `NotAMember` with its status."""
    found = standing(state, address)
    if found is None:
        raise NotAMember(address, "unknown")
    status, role = found
    if status != Status.ACTIVE:
        raise NotAMember(address, status)
    return role


def check_active_member(state: StateReader, address: str) -> None:
    """The registry's access check for ``member`` methods."""
    active_role(state, address)


def require_role(context: Context, roles: tuple[str, ...], action: str) -> None:
    """Refuse the call unless the sender is an active member in one of `roles`."""
    role = active_role(context.overlay, context.sender)
    if role not in roles:
        raise NotAuthorised(context.sender, role, action)


def member_of_meter(state: StateReader, meter_key_hex: str) -> str | None:
    """Address of the member the meter key is bound to, if any."""
    raw = state.get(NAMESPACE, f"meter/{meter_key_hex}")
    return None if raw is None else decode(raw, str)


def _add_to_roster(context: Context, address: str) -> None:
    roster = context.read(NAMESPACE, "roster", list[str]) or []
    if address not in roster:
        roster.append(address)
        roster.sort()
        context.write(NAMESPACE, "roster", roster)


def roster(state: StateReader) -> list[str]:
    raw = state.get(NAMESPACE, "roster")
    return [] if raw is None else decode(raw, list[str])


def _save(context: Context, member: Member) -> None:
    context.write(NAMESPACE, member_key(member.address), member)


def _bind(context: Context, address: str, meter_key_hex: str) -> None:
    try:
        validate_public_key(bytes.fromhex(meter_key_hex))
    except ValueError as error:
        raise InvalidMeterKey(meter_key_hex, "not hex") from error
    except InvalidPublicKey as error:
        raise InvalidMeterKey(meter_key_hex, error.reason) from error
    owner = member_of_meter(context.overlay, meter_key_hex)
    if owner is not None:
        raise MeterAlreadyBound(meter_key_hex, owner)
    context.write(NAMESPACE, f"meter/{meter_key_hex}", address)


@contract.genesis
def write_genesis(context: Context, genesis: Genesis) -> None:
    for founder in genesis.members:
        public_key = bytes.fromhex(founder.public_key)
        address = address_of(public_key)
        meters = [meter.lower() for meter in founder.meter_keys]
        for meter in meters:
            _bind(context, address, meter)
        _save(
            context,
            Member(
                address,
                public_key,
                founder.name,
                founder.role,
                Status.ACTIVE,
                dict(founder.registration),
                dict(founder.registration_commitments),
                meters,
                0,
                "founder",
            ),
        )
        _add_to_roster(context, address)


def _check_registration(
    role: str, registration: dict[str, Any], commitments: dict[str, str]
) -> None:
    fields = len(registration) + len(commitments)
    if fields > MAX_REGISTRATION_FIELDS:
        raise RegistrationTooLarge(fields, MAX_REGISTRATION_FIELDS)
    for name in registration:
        if name not in TECHNICAL_REGISTRATION_FIELDS:
            raise PersonalDataOnChain(name)
    refused = check_registration_fields(registration, commitments)
    if refused is not None:
        raise InvalidCommitment(refused[0].removeprefix("registration_commitments."), refused[1])
    given = set(registration) | set(commitments)
    missing = [f for f in REQUIRED_REGISTRATION[role] if f not in given]
    if missing:
        raise RegistrationIncomplete(role, ", ".join(missing))
    for name, value in registration.items():
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise InvalidRegistrationField(name, "must be text or an integer")
        if isinstance(value, str) and len(value) > MAX_TEXT:
            raise InvalidRegistrationField(name, f"is over {MAX_TEXT} characters")
    for name in ("installed_capacity_w", "storage_capacity_wh"):
        value = registration.get(name)
        if value is not None and (not isinstance(value, int) or value <= 0):
            raise InvalidRegistrationField(name, "must be a positive integer")


class ApplyArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str
    """A label of the applicant's choosing, shown to every member (not its legal name)."""
    role: str
    registration: dict[str, Any] = {}
    """Technical fields only (`TECHNICAL_REGISTRATION_FIELDS`), in the clear."""
    registration_commitments: dict[str, str] = {}
    """Digest of each personal field's disclosure; the disclosures go to the registry."""


def screen_application(args: Mapping[str, Any]) -> None:
    """At admission, the checks that need no state: personal data in the clear never reaches
    a block, not even refused; nor does an application the contract would refuse for its
    role, name or registration (see `check_application`)."""
    registration = args.get("registration")
    if isinstance(registration, dict):
        for name in registration:
            if name not in TECHNICAL_REGISTRATION_FIELDS:
                raise PersonalDataOnChain(str(name))
    try:
        typed = msgspec.convert(dict(args), ApplyArgs, strict=True)
    except msgspec.ValidationError as error:
        raise InvalidArguments(NAMESPACE, "apply", str(error)) from error
    check_application(typed)


def admit_application(submission: Submission) -> None:
    """Who may apply: a key that is no member, or whose membership was rejected or ended, and
    that has no application pending, neither on the chain nor admitted and not yet in a block
    (one pending application per key)."""
    found = standing(submission.state, submission.sender)
    status = None if found is None else found[0]
    if status == Status.PENDING:
        raise ApplicationPending(submission.sender)
    if status in (Status.ACTIVE, Status.REVOKED):
        raise ApplicationExists(submission.sender, status)
    if submission.outstanding:
        raise ApplicationPending(submission.sender)


def check_application(args: ApplyArgs) -> None:
    """The rules of an application that need no state: its role, its name, its registration
    (the contract checks them too, in its own order)."""
    if args.role not in APPLICABLE_ROLES:
        raise RoleNotApplicable(args.role, ", ".join(APPLICABLE_ROLES))
    if not args.name or len(args.name) > 100:
        raise TextLengthOutOfRange("name", len(args.name), 1, 100)
    _check_registration(args.role, args.registration, args.registration_commitments)


@contract.method(
    ApplyArgs, access=Access.ANYONE, screen=screen_application, admit=admit_application
)
def apply(context: Context, args: ApplyArgs) -> None:
    """Apply to join with a role, technical fields and digests of personal ones; the regulator
    checks the personal data off chain and decides."""
    if args.role not in APPLICABLE_ROLES:
        raise RoleNotApplicable(args.role, ", ".join(APPLICABLE_ROLES))
    if not args.name or len(args.name) > 100:
        raise TextLengthOutOfRange("name", len(args.name), 1, 100)
    existing = read_member(context.overlay, context.sender)
    if existing is not None and existing.status == Status.PENDING:
        raise ApplicationPending(context.sender)
    if existing is not None and existing.status in (Status.ACTIVE, Status.REVOKED):
        raise ApplicationExists(context.sender, existing.status)
    _check_registration(args.role, args.registration, args.registration_commitments)
    _save(
        context,
        Member(
            context.sender,
            context.sender_key,
            args.name,
            args.role,
            Status.PENDING,
            dict(args.registration),
            dict(args.registration_commitments),
            [],
            context.height,
            "",
        ),
    )
    _add_to_roster(context, context.sender)
    context.emit(NAMESPACE, "applied", address=context.sender, role=args.role, name=args.name)


class DecideArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    address: str
    reason: str = ""


def target(context: Context, address: str, expected_status: str) -> Member:
    """The member at `address`, which must be in `expected_status` (a decision's subject)."""
    if not is_address(address):
        raise InvalidAddress(address)
    member = read_member(context.overlay, address)
    if member is None:
        raise UnknownApplicant(address)
    if member.status != expected_status:
        raise MemberStatusMismatch(address, member.status, expected_status)
    return member


def change_status(context: Context, member: Member, status: str, reason: str) -> None:
    """Record `member`'s new status and why (also the governance contract's decisions)."""
    _save(
        context,
        msgspec.structs.replace(member, status=status, since_height=context.height, reason=reason),
    )
    context.emit(NAMESPACE, status, address=member.address, by=context.sender, reason=reason)


@contract.method(DecideArgs)
def approve(context: Context, args: DecideArgs) -> None:
    """The regulator admits a pending applicant, during the founding phase named in genesis
    (afterwards the members admit by vote: ``governance.propose`` kind ``admission``)."""
    require_role(context, ("regulator",), "approve members")
    rules = governance_parameters(context.overlay)
    if context.timestamp_ms >= rules.founding_until_ms:
        raise FoundingPhaseOver(rules.founding_until_ms, context.timestamp_ms)
    change_status(
        context, target(context, args.address, Status.PENDING), Status.ACTIVE, args.reason
    )


@contract.method(DecideArgs)
def reject(context: Context, args: DecideArgs) -> None:
    """The regulator turns down a pending applicant, with a reason."""
    require_role(context, ("regulator",), "reject members")
    if not args.reason:
        raise ReasonRequired("rejection")
    change_status(
        context, target(context, args.address, Status.PENDING), Status.REJECTED, args.reason
    )


@contract.method(DecideArgs)
def revoke(context: Context, args: DecideArgs) -> None:
    """The regulator removes an active member, with a reason."""
    require_role(context, ("regulator",), "revoke members")
    if args.address == context.sender:
        raise SelfRevocation(context.sender)
    if not args.reason:
        raise ReasonRequired("revocation")
    change_status(
        context, target(context, args.address, Status.ACTIVE), Status.REVOKED, args.reason
    )


class ExitArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    reason: str = ""


@contract.method(ExitArgs)
def exit_(context: Context, args: ExitArgs) -> None:
    """A member leaves the community; the last regulator cannot leave."""
    member = require_active_member(context.overlay, context.sender)
    if member.role == "regulator":
        others = [a for a in roster(context.overlay) if a != member.address]
        if not any(
            (m := read_member(context.overlay, a)) is not None
            and m.role == "regulator"
            and m.status == Status.ACTIVE
            for a in others
        ):
            raise LastRegulator(member.address)
    change_status(context, member, Status.EXITED, args.reason)


class BindMeterArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    member: str
    meter_key: str
    """Hex of the meter's 32-byte Ed25519 public key."""


@contract.method(BindMeterArgs)
def bind_meter(context: Context, args: BindMeterArgs) -> None:
    """The regulator or operator binds a smart meter's key to an active member."""
    require_role(context, ("regulator", "operator"), "bind meters")
    member = read_member(context.overlay, args.member)
    if member is None or member.status != Status.ACTIVE:
        status = "unknown" if member is None else member.status
        # a contract refusal (not NotAMember): the operator's nonce is used, so these
        # bytes cannot be replayed once the member becomes active
        raise MemberNotActive(args.member, status)
    key = args.meter_key.lower()
    _bind(context, member.address, key)
    _save(context, msgspec.structs.replace(member, meter_keys=[*member.meter_keys, key]))
    context.emit(NAMESPACE, "meter_bound", member=member.address, meter_key=key)


class UnbindMeterArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    meter_key: str


@contract.method(UnbindMeterArgs)
def unbind_meter(context: Context, args: UnbindMeterArgs) -> None:
    """The regulator or operator removes a meter key (a replaced or broken meter)."""
    require_role(context, ("regulator", "operator"), "unbind meters")
    key = args.meter_key.lower()
    owner = member_of_meter(context.overlay, key)
    if owner is None:
        raise MeterNotBound(key)
    context.delete(NAMESPACE, f"meter/{key}")
    member = read_member(context.overlay, owner)
    if member is not None:
        _save(
            context,
            msgspec.structs.replace(member, meter_keys=[k for k in member.meter_keys if k != key]),
        )
    context.emit(NAMESPACE, "meter_unbound", member=owner, meter_key=key)
