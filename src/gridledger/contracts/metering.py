"""The metering contract: the energy flow, from smart meters to the chain.

A reading says how much energy a member exported to and imported from the
microgrid in one delivery period, in watt-hours, and is signed by a smart-meter
key bound to that member (``membership.bind_meter``): meters are the oracles
of seed 001. The transaction carrying it may be sent by the meter itself or
relayed by any active member (a data concentrator, say); what makes it true is
the meter's signature, over `reading_message`.

Readings for a period are accepted only within the meter window after the
period ends, and cannot be replaced: the first valid reading stands, so a
member cannot revise its delivery after seeing the prices.

Raw meter data (fifteen-second samples, say) stays off chain; its hash can be
anchored here in batches, so it can later be shown unaltered (seed 001 §4.3).

State (namespace ``metering``):

- ``reading/<period>/<member>`` → `Reading`
- ``anchor/<sha256 hex>`` → `Anchor`
"""

from __future__ import annotations

import msgspec

from gridledger.contracts import membership
from gridledger.contracts.errors import (
    ContractError,
    EnergyOutOfRange,
    NegativeValue,
    NotHex,
    TextLengthOutOfRange,
)
from gridledger.contracts.parameters import parameters_for
from gridledger.contracts.registry import Access, Contract, Submission
from gridledger.crypto import is_valid_signature
from gridledger.ledger import Context, NotAMember, ResultCode, StateReader, decode, encode

NAMESPACE = "metering"
contract = Contract(NAMESPACE)

READING_DOMAIN = b"gridledger/meter-reading/v1\x00"
MAX_PERIOD_ENERGY_WH = 10_000_000
"""Sanity bound: 10 MWh in one period is more than any household meter can pass."""
MAX_LABEL = 200


# -- errors (shared ones: `gridledger.contracts.errors`) ---------------------------------


class MeteringError(ContractError):
    """Base of the metering contract's own refusals."""


class MeterMismatch(MeteringError):
    """The reading's meter key is not bound to the member it reports for."""

    code = ResultCode.METER_MISMATCH

    def __init__(self, meter_key: str, member: str, bound_to: str) -> None:
        self.meter_key, self.member, self.bound_to = meter_key, member, bound_to
        bound = f"bound to {bound_to}" if bound_to else "not bound to any member"
        super().__init__(f"meter {meter_key} is {bound}, not to {member}")


class InvalidReadingSignature(MeteringError):
    """The meter's signature over the reading does not verify."""

    code = ResultCode.INVALID_READING_SIGNATURE

    def __init__(self, meter_key: str, member: str, period: int) -> None:
        self.meter_key, self.member, self.period = meter_key, member, period
        super().__init__(
            f"the reading of {member} for period {period} does not verify for meter {meter_key}"
        )


class MeterWindowClosed(MeteringError):
    """Readings of a period are accepted only in its meter window [opens_s, closes_s)."""

    code = ResultCode.METER_WINDOW_CLOSED

    def __init__(self, period: int, opens_s: int, closes_s: int, now_s: int) -> None:
        self.period, self.opens_s, self.closes_s, self.now_s = period, opens_s, closes_s, now_s
        super().__init__(
            f"readings for period {period} are accepted from {opens_s} s to {closes_s} s; "
            f"now is {now_s} s"
        )


class ReadingExists(MeteringError):
    """A member's reading of a period cannot be replaced."""

    code = ResultCode.READING_EXISTS

    def __init__(self, member: str, period: int) -> None:
        self.member, self.period = member, period
        super().__init__(
            f"period {period} of {member} already has a reading; readings cannot be replaced"
        )


class InvalidDigest(MeteringError):
    """An anchor's ``sha256`` is not 64 hex digits."""

    code = ResultCode.INVALID_DIGEST

    def __init__(self, sha256: str) -> None:
        self.sha256 = sha256
        super().__init__(f"sha256 {sha256!r} must be 64 hex digits")


class BatchAnchored(MeteringError):
    """A batch is anchored once."""

    code = ResultCode.BATCH_ANCHORED

    def __init__(self, sha256: str) -> None:
        self.sha256 = sha256
        super().__init__(f"batch {sha256} is already anchored")


# -- readings ----------------------------------------------------------------------------


class Reading(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    member: str
    period: int
    exported_wh: int
    """Energy the member delivered into the microgrid during the period."""
    imported_wh: int
    """Energy the member drew from the microgrid during the period."""
    meter_key: str
    recorded_height: int
    recorded_ms: int


class Anchor(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    sha256: str
    label: str
    record_count: int
    sender: str
    height: int
    timestamp_ms: int


def reading_message(
    chain_id: str, member: str, period: int, exported_wh: int, imported_wh: int
) -> bytes:
    """The bytes a meter signs for a reading."""
    return READING_DOMAIN + encode([chain_id, member, period, exported_wh, imported_wh])


def reading_key(period: int, member: str) -> str:
    return f"reading/{period:012d}/{member}"


def read_reading(state: StateReader, period: int, member: str) -> Reading | None:
    raw = state.get(NAMESPACE, reading_key(period, member))
    return None if raw is None else decode(raw, Reading)


def meter_window(state: StateReader, period: int) -> tuple[int, int]:
    """[start, end) of the meter window of `period`, in seconds since the epoch."""
    parameters = parameters_for(state, period)
    end_of_period = (period + 1) * parameters.period_seconds
    return end_of_period, end_of_period + parameters.meter_window_seconds


class RecordReadingArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    member: str
    period: int
    exported_wh: int
    imported_wh: int
    meter_key: str
    """Hex of the meter's public key."""
    signature: str
    """Hex of the meter's Ed25519 signature over `reading_message`."""


def admit_reading(submission: Submission) -> None:
    """Who may send a reading: a meter bound to a member, with its own reading (the meter
    key of the arguments is the sender's), or an active member relaying one. Anyone else is
    refused at admission, so an unknown key cannot have a reading refused in a block."""
    meter_key = submission.args.get("meter_key")
    own = isinstance(meter_key, str) and meter_key.lower() == submission.sender_key.hex()
    if own and membership.member_of_meter(submission.state, submission.sender_key.hex()):
        return
    try:
        membership.check_active_member(submission.state, submission.sender)
    except NotAMember as error:
        raise NotAMember(
            submission.sender,
            f"{error.status}; only a bound meter or an active member may submit readings",
        ) from error


@contract.method(RecordReadingArgs, access=Access.ANYONE, admit=admit_reading)
def record_reading(context: Context, args: RecordReadingArgs) -> None:
    """Record a member's metered export and import for one period, signed by its meter."""
    meter_key = args.meter_key.lower()
    sender_is_meter = context.sender_key.hex() == meter_key
    if not sender_is_meter:
        try:
            membership.require_active_member(context.overlay, context.sender)
        except NotAMember as error:
            raise NotAMember(
                context.sender,
                f"{error.status}; only a meter or an active member may submit readings",
            ) from error
    for name, value in (("exported_wh", args.exported_wh), ("imported_wh", args.imported_wh)):
        if not 0 <= value <= MAX_PERIOD_ENERGY_WH:
            raise EnergyOutOfRange(name, value, 0, MAX_PERIOD_ENERGY_WH)
    if args.period < 0:
        raise NegativeValue("period", args.period)
    owner = membership.member_of_meter(context.overlay, meter_key)
    if owner != args.member:
        raise MeterMismatch(meter_key, args.member, owner or "")
    try:
        signature = bytes.fromhex(args.signature)
    except ValueError as error:
        raise NotHex("signature") from error
    key = bytes.fromhex(meter_key)  # a bound key is hex: `membership` checked it
    message = reading_message(
        context.chain_id, args.member, args.period, args.exported_wh, args.imported_wh
    )
    if not is_valid_signature(key, message, signature):
        raise InvalidReadingSignature(meter_key, args.member, args.period)
    now_s = context.timestamp_ms // 1000
    opens, closes = meter_window(context.overlay, args.period)
    if not opens <= now_s < closes:
        raise MeterWindowClosed(args.period, opens, closes, now_s)
    if read_reading(context.overlay, args.period, args.member) is not None:
        raise ReadingExists(args.member, args.period)
    reading = Reading(
        args.member,
        args.period,
        args.exported_wh,
        args.imported_wh,
        meter_key,
        context.height,
        context.timestamp_ms,
    )
    context.write(NAMESPACE, reading_key(args.period, args.member), reading)
    context.emit(
        NAMESPACE,
        "reading",
        member=args.member,
        period=args.period,
        exported_wh=args.exported_wh,
        imported_wh=args.imported_wh,
    )


class AnchorArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    sha256: str
    """Hex SHA-256 of the batch of raw meter data, as stored off chain."""
    label: str
    record_count: int = 0


@contract.method(AnchorArgs)
def anchor_batch(context: Context, args: AnchorArgs) -> None:
    """Anchor the hash of a batch of raw meter data (seed 001 §4.3)."""
    digest = args.sha256.lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise InvalidDigest(digest)
    if not 0 < len(args.label) <= MAX_LABEL:
        raise TextLengthOutOfRange("label", len(args.label), 1, MAX_LABEL)
    if args.record_count < 0:
        raise NegativeValue("record_count", args.record_count)
    if context.get(NAMESPACE, f"anchor/{digest}") is not None:
        raise BatchAnchored(digest)
    context.write(
        NAMESPACE,
        f"anchor/{digest}",
        Anchor(
            digest,
            args.label,
            args.record_count,
            context.sender,
            context.height,
            context.timestamp_ms,
        ),
    )
    context.emit(NAMESPACE, "anchored", sha256=digest, label=args.label)
