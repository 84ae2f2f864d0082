"""The privacy contract: members' stealth keys, stealth payments and stealth payouts.

Seed 001 §4.2 eqs. (1)-(3), in the dual-key form of CryptoNote and "Zero to Monero"
ch. 4 (`gridledger.crypto.privacy.stealth`):

- ``register_keys(view_public_key, spend_public_key, stealth_payouts)``: a member
  publishes its stealth address (A, B), 33-byte compressed secp256k1 points in hex,
  and says whether its settlement proceeds go to a fresh one-time account each
  period. B is also the member's key in rings (`privacy_rings`); no two members
  share one, and a member's B never changes (a second B would be a second key image
  in every event: two ballots). Registering again changes A or the payout choice.
- ``pay(amount_micro, output)``: a member pays to a one-time account it derived
  for the recipient with a random r (``gridledger wallet pay-stealth``): the chain
  records the output (R, i, P, view tag) and moves the amount to the address of P.
  Nothing on the chain names the recipient; its wallet finds the output with its
  view key (``gridledger wallet scan``).
- ``spend(amount_micro, to | output)``: the one-time account P spends, signed by
  its one-time secret through the ledger's `OneTimeAuthorization` (BIP-340), to a
  member or to a fresh stealth output.

Stealth payouts (`payout_account`): settlement pays a member who asked for them to
a one-time account derived for period t with r_t = H_s(chain id, t, member). A
contract holds no secret, so r_t is public: whoever reads the settlement's state
and knows the rule links the payout to the member (the operator, the peers and the
regulator read everything anyway, DESIGN "Who sees what"). What the one-time
accounts take away is the member's one account in the token ledger: balances and
transfers, the moved events and the outputs list show unrelated accounts, so a
reader of the token ledger alone, or of the outputs, cannot add up its income.
The member's own statement adds them up with its view key. docs/privacy.md.

State (namespace ``privacy``):

- ``keys/<address>`` → `PrivacyKeys`
- ``ring/<spend key hex>`` → the address that registered it
- ``outputs`` → the number of outputs; ``output/<number, 12 digits>`` → `OutputRecord`
- ``account/<address of P>`` → the number of the output that created it
- ``image/<event>/<key image hex>`` → the height of the ring-signed call (`privacy_rings`)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from gridledger.contracts.errors import AmountOutOfRange, MemberNotActive, NotHex
from gridledger.contracts.membership import read_member
from gridledger.contracts.privacy_errors import (
    InvalidPrivacyKey,
    NoPrivacyKeys,
    PrivacyKeyTaken,
    UnknownOneTimeAccount,
)
from gridledger.contracts.registry import Access, Contract, Submission
from gridledger.contracts.tokens import move
from gridledger.crypto import address_of
from gridledger.crypto.privacy import (
    PrivacyError,
    StealthAddress,
    decode_point,
    derive_output,
    hash_to_scalar,
)
from gridledger.ledger import Context, InvalidArguments, StateReader, decode
from gridledger.ledger.encoding import MAX_INTEGER

NAMESPACE = "privacy"
contract = Contract(NAMESPACE)

VIEW_TAG_BYTES = 1
MAX_OUTPUT_INDEX = 2**32 - 1


class PrivacyKeys(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    view_public_key: bytes
    """A = a·G, 33 bytes: whoever holds a finds the member's outputs."""
    spend_public_key: bytes
    """B = b·G, 33 bytes: one-time secrets are H_s(a·R, i) + b; B is the member's ring key."""
    stealth_payouts: bool
    """Whether settlement pays the member to a fresh one-time account each period."""
    height: int


class OutputRecord(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One stealth output as the chain shows it: nothing names its recipient."""

    number: int
    transaction_public_key: bytes
    output_index: int
    one_time_public_key: bytes
    view_tag: bytes
    amount_micro: int
    kind: str
    """``payment`` (a member or one-time account paid it) or ``payout`` (settlement)."""
    period: int
    """The settled period of a payout; -1 for a payment."""
    height: int


def keys_of(state: StateReader, address: str) -> PrivacyKeys | None:
    raw = state.get(NAMESPACE, f"keys/{address}")
    return None if raw is None else decode(raw, PrivacyKeys)


def owner_of_ring_key(state: StateReader, key: bytes) -> str | None:
    """The member whose spend key (its ring key) is `key`, if any."""
    raw = state.get(NAMESPACE, f"ring/{key.hex()}")
    return None if raw is None else decode(raw, str)


def output_count(state: StateReader) -> int:
    raw = state.get(NAMESPACE, "outputs")
    return 0 if raw is None else decode(raw, int)


def read_output(state: StateReader, number: int) -> OutputRecord | None:
    raw = state.get(NAMESPACE, f"output/{number:012d}")
    return None if raw is None else decode(raw, OutputRecord)


def outputs_from(state: StateReader, start: int, limit: int) -> list[OutputRecord]:
    """Outputs numbered `start` to `start + limit - 1` (those that exist), in order."""
    end = min(output_count(state), start + limit)
    found = (read_output(state, n) for n in range(max(start, 0), end))
    return [o for o in found if o is not None]


def is_one_time_account(state: StateReader, address: str) -> bool:
    return state.get(NAMESPACE, f"account/{address}") is not None


def point_from_hex(field: str, text: str) -> bytes:
    """The 33 bytes of a compressed point given in hex; `InvalidPrivacyKey` if unusable."""
    try:
        data = bytes.fromhex(text)
    except ValueError as error:
        raise NotHex(field) from error
    try:
        decode_point(data)
    except PrivacyError as error:
        raise InvalidPrivacyKey(field, str(error)) from error
    return data


# -- keys --------------------------------------------------------------------------------


class RegisterKeysArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    view_public_key: str
    spend_public_key: str
    """Hex of 33-byte compressed secp256k1 points."""
    stealth_payouts: bool = False


@contract.method(RegisterKeysArgs)
def register_keys(context: Context, args: RegisterKeysArgs) -> None:
    """Publish the member's stealth address (view and spend public keys, hex) and choose
    whether settlement pays it to a fresh one-time account every period."""
    view = point_from_hex("view_public_key", args.view_public_key)
    spend = point_from_hex("spend_public_key", args.spend_public_key)
    if view == spend:
        raise InvalidPrivacyKey("view_public_key", "the view and spend keys must differ")
    owner = owner_of_ring_key(context.overlay, spend)
    if owner is not None and owner != context.sender:
        raise PrivacyKeyTaken(spend.hex(), owner)
    previous = keys_of(context.overlay, context.sender)
    if previous is not None and previous.spend_public_key != spend:
        raise InvalidPrivacyKey(
            "spend_public_key",
            "a member's spend key is fixed once registered: it is its ring key, and a "
            "second one would give it a second key image in every event",
        )
    keys = PrivacyKeys(view, spend, args.stealth_payouts, context.height)
    context.write(NAMESPACE, f"keys/{context.sender}", keys)
    context.write(NAMESPACE, f"ring/{spend.hex()}", context.sender)
    context.emit(
        NAMESPACE, "keys_registered", member=context.sender, stealth_payouts=args.stealth_payouts
    )


# -- outputs -----------------------------------------------------------------------------


class OutputArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A stealth output the payer derived (hex fields; `derive_output`)."""

    transaction_public_key: str
    one_time_public_key: str
    view_tag: str
    output_index: int = 0


def _record_output(
    context: Context, output: OutputArgs, amount_micro: int, source: str
) -> OutputRecord:
    """Check a payer's output, record it and move `amount_micro` from `source` into it."""
    transaction_key = point_from_hex("transaction_public_key", output.transaction_public_key)
    one_time_key = point_from_hex("one_time_public_key", output.one_time_public_key)
    try:
        tag = bytes.fromhex(output.view_tag)
    except ValueError as error:
        raise NotHex("view_tag") from error
    if len(tag) != VIEW_TAG_BYTES:
        raise InvalidPrivacyKey("view_tag", f"{len(tag)} bytes, expected {VIEW_TAG_BYTES}")
    if not 0 <= output.output_index <= MAX_OUTPUT_INDEX:
        raise InvalidPrivacyKey("output_index", f"{output.output_index} is outside [0, 2^32 - 1]")
    return _store_output(
        context, (transaction_key, output.output_index, one_time_key, tag), amount_micro, source
    )


def _store_output(
    context: Context,
    derived: tuple[bytes, int, bytes, bytes],
    amount_micro: int,
    source: str,
    period: int = -1,
) -> OutputRecord:
    transaction_key, output_index, one_time_key, tag = derived
    account = address_of(one_time_key)
    if is_one_time_account(context.overlay, account):
        raise InvalidPrivacyKey("one_time_public_key", "already the key of an earlier output")
    number = output_count(context.overlay)
    record = OutputRecord(
        number,
        transaction_key,
        output_index,
        one_time_key,
        tag,
        amount_micro,
        "payment" if period < 0 else "payout",
        period,
        context.height,
    )
    context.write(NAMESPACE, f"output/{number:012d}", record)
    context.write(NAMESPACE, "outputs", number + 1)
    context.write(NAMESPACE, f"account/{account}", number)
    move(context, source, account, amount_micro, f"stealth output {number}")
    context.emit(NAMESPACE, "output", number=number, amount_micro=amount_micro, kind=record.kind)
    return record


def _check_amount(amount_micro: int) -> None:
    if not 0 < amount_micro <= MAX_INTEGER:
        raise AmountOutOfRange(amount_micro, 1, MAX_INTEGER)


class PayArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    amount_micro: int
    output: OutputArgs


@contract.method(PayArgs)
def pay(context: Context, args: PayArgs) -> None:
    """Pay `amount_micro` to a one-time account derived for the recipient (a stealth
    payment: the chain does not name the recipient)."""
    _check_amount(args.amount_micro)
    _record_output(context, args.output, args.amount_micro, context.sender)


class SpendArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    amount_micro: int
    to: str = ""
    """An active member's address; or empty, with `output`."""
    output: OutputArgs | None = None
    """A fresh stealth output to pay instead of a member."""


def admit_spend(submission: Submission) -> None:
    """Only a one-time account that a stealth output created may spend (the ledger lets only
    one-time keys, signed BIP-340, call ``spend``, and them nothing else)."""
    if not is_one_time_account(submission.state, submission.sender):
        raise UnknownOneTimeAccount(submission.sender)


@contract.method(SpendArgs, access=Access.ANYONE, admit=admit_spend)
def spend(context: Context, args: SpendArgs) -> None:
    """A one-time account (signed by its one-time key) pays a member or a new stealth output."""
    if not is_one_time_account(context.overlay, context.sender):
        raise UnknownOneTimeAccount(context.sender)
    _check_amount(args.amount_micro)
    if (args.output is None) == (not args.to):
        raise InvalidArguments(NAMESPACE, "spend", "give exactly one of to and output")
    if args.output is not None:
        _record_output(context, args.output, args.amount_micro, context.sender)
        return
    recipient = read_member(context.overlay, args.to)
    if recipient is None or recipient.status != "active":
        raise MemberNotActive(args.to, "unknown" if recipient is None else recipient.status)
    move(context, context.sender, args.to, args.amount_micro, "stealth spend")


# -- settlement payouts --------------------------------------------------------------------


def pay_out(
    context: Context, source: str, member: str, amount_micro: int, period: int, reason: str
) -> None:
    """Settlement pays `member`'s positive net for `period` out of `source`: to the member
    itself, or, if it asked for stealth payouts, to a one-time account derived for this
    period (recorded as an output of kind ``payout``).

    r_t = H_s("stealth-payout", chain id, period, member) is the payer's secret; a contract
    has no other, so it is public (see the module's docstring).
    """
    keys = keys_of(context.overlay, member)
    if keys is None or not keys.stealth_payouts:
        move(context, source, member, amount_micro, reason)
        return
    secret = hash_to_scalar(
        "stealth-payout",
        context.chain_id.encode(),
        period.to_bytes(8, "big", signed=True),
        member.encode(),
    )
    derived = derive_output(StealthAddress(keys.view_public_key, keys.spend_public_key), secret)
    fields = (
        derived.transaction_public_key,
        derived.output_index,
        derived.one_time_public_key,
        derived.view_tag,
    )
    _store_output(context, fields, amount_micro, source, period)


def require_keys(state: StateReader, member: str) -> PrivacyKeys:
    found = keys_of(state, member)
    if found is None:
        raise NoPrivacyKeys(member)
    return found


def describe_output(record: OutputRecord) -> Mapping[str, Any]:
    """An output as plain values (hex for bytes), as views and the CLI show it."""
    return {
        "number": record.number,
        "transaction_public_key": record.transaction_public_key.hex(),
        "output_index": record.output_index,
        "one_time_public_key": record.one_time_public_key.hex(),
        "one_time_account": address_of(record.one_time_public_key),
        "view_tag": record.view_tag.hex(),
        "amount_micro": record.amount_micro,
        "kind": record.kind,
        "period": record.period,
        "height": record.height,
    }
