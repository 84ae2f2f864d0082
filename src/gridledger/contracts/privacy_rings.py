"""Ring-signed calls: a member acts without saying which member (seed 001 §4.2).

A ring-signed call carries a ring of members' keys (their registered spend keys,
`privacy.PrivacyKeys`) and an LSAG (`gridledger.crypto.privacy.lsag`, Liu, Wei and
Wong 2004 in the bLSAG form of "Zero to Monero" §3.4) over `ring_message`. The
transaction itself is sent from a throwaway Ed25519 key, so its envelope names
nobody; the method is an ``anyone`` method whose `Admit` rule is `check_ring_call`
instead of membership of the sender, and the method runs the same check again in
the block (admission is one node's; the block is every peer's).

The key image is scoped to an event (``governance/proposal/<id>``,
``market/offers/<period>``): a second call by the same member in the same event has
the same image and is refused (`KeyImageUsed`), while its images in two events are
unrelated. Refusals, each with its own code: a ring of the wrong size
(`RingSizeOutOfRange`), a key twice (`RingKeyDuplicated`), a key that is no
member's or whose member may not make this call (`RingMemberNotEligible`), a
signature that does not verify (`InvalidRingSignature`), a reused image.

The ring size is the caller's choice up to `MAX_RING_SIZE` (16): by default all
eligible members, up to 16 (`gridledger.client.privacy.choose_ring`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import msgspec

from gridledger.contracts.errors import NotHex
from gridledger.contracts.membership import Member, read_member
from gridledger.contracts.privacy import NAMESPACE, owner_of_ring_key
from gridledger.contracts.privacy_errors import (
    InvalidPrivacyKey,
    InvalidRingSignature,
    KeyImageUsed,
    RingKeyDuplicated,
    RingMemberNotEligible,
    RingSizeOutOfRange,
)
from gridledger.crypto.privacy import (
    MAX_RING_SIZE,
    PrivacyError,
    decode_point,
    ring_verify,
)
from gridledger.ledger import Context, InvalidArguments, StateReader, encode

StructT = TypeVar("StructT", bound=msgspec.Struct)

MIN_RING_SIZE = 2
RING_DOMAIN = b"gridledger/ring-call/v1\x00"
RING_FIELDS = ("ring", "ring_signature")

Eligibility = Callable[[Member | None], str]
"""Why a ring key's member may not make the call ("" if it may)."""


def ring_message(sender_key: bytes, call: tuple[str, str], fields: Mapping[str, Any]) -> bytes:
    """The bytes a ring signs: the throwaway sender, the call, and every argument but the
    signature (the ring included).

    Binding the sender keeps the signature from being moved into another envelope; the
    sender's Ed25519 signature covers the chain id, so the ring signature is bound to the
    chain through it.
    """
    signed = {k: v for k, v in fields.items() if k != "ring_signature"}
    return RING_DOMAIN + encode([sender_key, call[0], call[1], signed])


def decode_ring(ring_hex: Sequence[str]) -> list[bytes]:
    """The ring's keys as bytes: size, hex, points and duplicates checked."""
    if not MIN_RING_SIZE <= len(ring_hex) <= MAX_RING_SIZE:
        raise RingSizeOutOfRange(len(ring_hex), MIN_RING_SIZE, MAX_RING_SIZE)
    ring: list[bytes] = []
    seen: dict[bytes, int] = {}
    for position, text in enumerate(ring_hex):
        try:
            key = bytes.fromhex(text)
        except ValueError as error:
            raise NotHex(f"ring[{position}]") from error
        if key in seen:
            raise RingKeyDuplicated(key.hex(), seen[key], position)
        seen[key] = position
        try:
            decode_point(key)
        except PrivacyError as error:
            raise InvalidPrivacyKey(f"ring[{position}]", str(error)) from error
        ring.append(key)
    return ring


def check_ring_call(
    state: StateReader,
    message: bytes,
    fields: Mapping[str, Any],
    event: str,
    eligibility: Eligibility,
    fresh: bool = True,
) -> bytes:
    """Check a ring-signed call's ring, signature and key image; return the key image.

    `fields` are the call's arguments (with ``ring``, a list of hex keys, and
    ``ring_signature``, hex). With `fresh`, an image already used in `event` is refused;
    without, the caller compares the image with the one it expects (the same member acting
    again in the event, as the author of an anonymous offer withdrawing it). Reads
    `state`, writes nothing.
    """
    ring = decode_ring(fields["ring"])
    for key in ring:
        owner = owner_of_ring_key(state, key)
        if owner is None:
            raise RingMemberNotEligible(key.hex(), "", "no member registered this key")
        reason = eligibility(read_member(state, owner))
        if reason:
            raise RingMemberNotEligible(key.hex(), owner, reason)
    try:
        signature = bytes.fromhex(fields["ring_signature"])
    except ValueError as error:
        raise NotHex("ring_signature") from error
    try:
        image = ring_verify(message, ring, signature, event.encode())
    except PrivacyError as error:
        raise InvalidRingSignature(event, str(error)) from error
    if fresh and state.get(NAMESPACE, image_key(event, image)) is not None:
        raise KeyImageUsed(event, image.hex())
    return image


def image_key(event: str, image: bytes) -> str:
    return f"image/{event}/{image.hex()}"


def record_image(context: Context, event: str, image: bytes) -> None:
    """Mark the key image used in `event` (a second call with it is refused)."""
    context.write(NAMESPACE, image_key(event, image), context.height)


def active_status(member: Member | None) -> str:
    """Eligibility: an active member."""
    if member is None:
        return "not a member"
    return "" if member.status == "active" else member.status


def convert_call(
    contract: str, method: str, args: Mapping[str, Any], args_type: type[StructT]
) -> StructT:
    """Raw arguments at admission as the method's type (`InvalidArguments` if they are not)."""
    try:
        return msgspec.convert(dict(args), args_type, strict=True)
    except msgspec.ValidationError as error:
        raise InvalidArguments(contract, method, str(error)) from error
