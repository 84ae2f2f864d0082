"""The membership contract's refusals: applications, decisions and meter keys.

Who may call (the regulator approves, the operator binds meters) is
`NotAuthorised`; an inactive other party is the shared `MemberNotActive`.
"""

from __future__ import annotations

from gridledger.contracts.errors import ContractError
from gridledger.ledger import ResultCode


class MembershipError(ContractError):
    """Base of the membership contract's refusals."""


class RoleNotApplicable(MembershipError):
    """A household applied for a role one cannot apply for (operator, regulator, unknown)."""

    code = ResultCode.ROLE_NOT_APPLICABLE

    def __init__(self, role: str, roles: str) -> None:
        self.role, self.roles = role, roles
        super().__init__(f"role {role!r} cannot be applied for; choose one of {roles}")


class ApplicationExists(MembershipError):
    """The sender is already an active or a revoked member (a pending one: `ApplicationPending`)."""

    code = ResultCode.APPLICATION_EXISTS

    def __init__(self, address: str, member_status: str) -> None:
        self.address, self.member_status = address, member_status
        super().__init__(f"{address} is already {member_status}")


class ApplicationPending(MembershipError):
    """The sender has an application pending: one at a time per key, until the regulator
    decides (refused at admission as well, so a key cannot queue applications)."""

    code = ResultCode.APPLICATION_PENDING

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__(
            f"{address} already has an application pending; wait for the regulator's decision"
        )


class RegistrationTooLarge(MembershipError):
    """The registration has more fields than a record may hold."""

    code = ResultCode.REGISTRATION_TOO_LARGE

    def __init__(self, fields: int, maximum_fields: int) -> None:
        self.fields, self.maximum_fields = fields, maximum_fields
        super().__init__(f"registration has {fields} fields, at most {maximum_fields} are allowed")


class RegistrationIncomplete(MembershipError):
    """The registration lacks fields its role requires (seed 003 Tables 1-2)."""

    code = ResultCode.REGISTRATION_INCOMPLETE

    def __init__(self, role: str, missing: str) -> None:
        self.role, self.missing = role, missing
        super().__init__(f"registration for {role} lacks {missing}")


class InvalidRegistrationField(MembershipError):
    """One registration field has the wrong type, length or sign."""

    code = ResultCode.INVALID_REGISTRATION_FIELD

    def __init__(self, field: str, requirement: str) -> None:
        self.field, self.requirement = field, requirement
        super().__init__(f"registration.{field} {requirement}")


class PersonalDataOnChain(MembershipError):
    """A personal registration field was given in the clear: only its digest may be on chain."""

    code = ResultCode.PERSONAL_DATA_ON_CHAIN

    def __init__(self, field: str) -> None:
        self.field = field
        super().__init__(
            f"registration.{field} is personal data and may not be on the chain: put its "
            "salted digest in registration_commitments and give the value to the regulator"
        )


class InvalidCommitment(MembershipError):
    """A registration commitment has a bad field name or is not a digest."""

    code = ResultCode.INVALID_COMMITMENT

    def __init__(self, field: str, reason: str) -> None:
        self.field, self.reason = field, reason
        super().__init__(f"registration_commitments.{field} {reason}")


class InvalidAddress(MembershipError):
    """The argument is not a gridledger address."""

    code = ResultCode.INVALID_ADDRESS

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__(f"{address!r} is not an address")


class UnknownApplicant(MembershipError):
    """The address never applied."""

    code = ResultCode.UNKNOWN_APPLICANT

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__(f"{address} has not applied")


class MemberStatusMismatch(MembershipError):
    """The decision needs the member in another status (approve a pending one, ...)."""

    code = ResultCode.MEMBER_STATUS_MISMATCH

    def __init__(self, address: str, member_status: str, expected_status: str) -> None:
        self.address = address
        self.member_status, self.expected_status = member_status, expected_status
        super().__init__(f"{address} is {member_status}, not {expected_status}")


class ReasonRequired(MembershipError):
    """A rejection or a revocation needs a reason."""

    code = ResultCode.REASON_REQUIRED

    def __init__(self, decision: str) -> None:
        self.decision = decision
        super().__init__(f"a {decision} needs a reason")


class SelfRevocation(MembershipError):
    """The regulator tried to revoke itself."""

    code = ResultCode.SELF_REVOCATION

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__(f"the regulator {address} cannot revoke itself")


class LastRegulator(MembershipError):
    """The last active regulator tried to exit: the community would have none."""

    code = ResultCode.LAST_REGULATOR

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__(f"{address} is the last regulator and cannot exit")


class InvalidMeterKey(MembershipError):
    """A meter key is not hex or not a usable Ed25519 public key."""

    code = ResultCode.INVALID_METER_KEY

    def __init__(self, meter_key: str, reason: str) -> None:
        self.meter_key, self.reason = meter_key, reason
        super().__init__(f"meter key {meter_key!r} rejected: {reason}")


class MeterAlreadyBound(MembershipError):
    """A meter key belongs to one member at a time."""

    code = ResultCode.METER_ALREADY_BOUND

    def __init__(self, meter_key: str, member: str) -> None:
        self.meter_key, self.member = meter_key, member
        super().__init__(f"meter key {meter_key} is bound to {member}")


class MeterNotBound(MembershipError):
    """The meter key to unbind is bound to nobody."""

    code = ResultCode.METER_NOT_BOUND

    def __init__(self, meter_key: str) -> None:
        self.meter_key = meter_key
        super().__init__(f"meter key {meter_key} is not bound")


__all__ = [
    "ApplicationExists",
    "ApplicationPending",
    "InvalidAddress",
    "InvalidCommitment",
    "InvalidMeterKey",
    "InvalidRegistrationField",
    "LastRegulator",
    "MemberStatusMismatch",
    "MembershipError",
    "MeterAlreadyBound",
    "MeterNotBound",
    "PersonalDataOnChain",
    "ReasonRequired",
    "RegistrationIncomplete",
    "RegistrationTooLarge",
    "RoleNotApplicable",
    "SelfRevocation",
    "UnknownApplicant",
]
