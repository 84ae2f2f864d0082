"""A member's privacy tools over any client: its stealth keys, stealth payments, the scan of
the chain's outputs, spending from a one-time account, and ring-signed calls.

The stealth keys are derived from the member's key seed (`derive_stealth_keys`), so the
member's one key file is all it keeps. Ring-signed calls are sent from a throwaway Ed25519
key (nonce 0), so the envelope names nobody.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import msgspec

from gridledger.client.interface import Client
from gridledger.client.privacy_replies import MemberKeysReply, StealthOutputReply
from gridledger.contracts import privacy_rings
from gridledger.contracts.governance import SecretVoteArgs, ballot_event
from gridledger.contracts.market_bilateral import (
    AnonymousOfferArgs,
    AnonymousWithdrawArgs,
    offers_event,
)
from gridledger.contracts.market_state import SELLING_ROLES
from gridledger.crypto.keys import KeyPair, generate_keypair
from gridledger.crypto.privacy import (
    MAX_RING_SIZE,
    StealthAddress,
    StealthKeys,
    StealthOutput,
    derive_stealth_keys,
    one_time_secret,
    pay_to,
    prove_image_owner,
    ring_sign,
    scan,
)
from gridledger.ledger.encoding import ENCODING_VERSION
from gridledger.ledger.transactions import (
    SignedTransaction,
    Transaction,
    encode_transaction,
    make_transaction,
    sign_one_time,
)

PAGE = 1_000
"""Outputs read per request while scanning."""


def stealth_keys_of(keys: KeyPair) -> StealthKeys:
    """The member's view and spend keys, derived from its key seed."""
    return derive_stealth_keys(keys.seed)


def register_keys_args(keys: KeyPair, stealth_payouts: bool) -> dict[str, Any]:
    """Arguments of ``privacy.register_keys`` for the member's derived stealth address."""
    address = stealth_keys_of(keys).address()
    return {
        "view_public_key": address.view_public_key.hex(),
        "spend_public_key": address.spend_public_key.hex(),
        "stealth_payouts": stealth_payouts,
    }


def output_args(output: StealthOutput) -> dict[str, Any]:
    """A derived output as the contract's `OutputArgs`."""
    return {
        "transaction_public_key": output.transaction_public_key.hex(),
        "one_time_public_key": output.one_time_public_key.hex(),
        "view_tag": output.view_tag.hex(),
        "output_index": output.output_index,
    }


def new_output_for(recipient: MemberKeysReply) -> dict[str, Any]:
    """A fresh one-time output paying `recipient` (random r), as `OutputArgs`."""
    address = StealthAddress(
        bytes.fromhex(recipient.view_public_key), bytes.fromhex(recipient.spend_public_key)
    )
    return output_args(pay_to(address))


def registered_keys(client: Client, address: str) -> MemberKeysReply:
    """`address`'s registered keys; `LookupError` if it registered none."""
    for entry in client.privacy_keys().keys:
        if entry.address == address:
            return entry
    raise LookupError(f"{address} has registered no privacy keys (gridledger wallet keys)")


def all_outputs(client: Client) -> Iterator[StealthOutputReply]:
    """Every stealth output on the chain, page by page."""
    start = 0
    while True:
        page = client.stealth_outputs(start, PAGE)
        yield from page.outputs
        if not page.outputs:
            return
        start = page.outputs[-1].number + 1
        if start >= page.count:
            return


def as_output(reply: StealthOutputReply) -> StealthOutput:
    return StealthOutput(
        bytes.fromhex(reply.transaction_public_key),
        reply.output_index,
        bytes.fromhex(reply.one_time_public_key),
        bytes.fromhex(reply.view_tag),
    )


@dataclass(frozen=True)
class OwnOutput:
    """An output the scan found: as the chain shows it, and the secret that spends it."""

    output: StealthOutputReply
    secret: int


def scan_outputs(client: Client, keys: StealthKeys) -> list[OwnOutput]:
    """The outputs paying `keys`, found with the view key (`stealth.scan`), in order."""
    replies = list(all_outputs(client))
    by_key = {reply.one_time_public_key: reply for reply in replies}
    spend_public = keys.address().spend_public_key
    found = scan((as_output(reply) for reply in replies), keys.view_secret, spend_public)
    return [OwnOutput(by_key[o.one_time_public_key.hex()], one_time_secret(o, keys)) for o in found]


def spend_transaction(
    chain_id: str, own: OwnOutput, nonce: int, args: dict[str, Any]
) -> SignedTransaction:
    """``privacy.spend`` from a one-time account, signed by its one-time key (BIP 340)."""
    body = Transaction(
        version=ENCODING_VERSION,
        chain_id=chain_id,
        sender=bytes.fromhex(own.output.one_time_public_key),
        nonce=nonce,
        contract="privacy",
        method="spend",
        args=args,
    )
    return sign_one_time(body, own.secret)


# -- ring-signed calls -------------------------------------------------------------------


def choose_ring(
    entries: list[MemberKeysReply],
    own_key: str,
    eligible: Callable[[MemberKeysReply], bool],
    ring_size: int = MAX_RING_SIZE,
) -> list[str]:
    """The caller's key and up to `ring_size - 1` other eligible members' keys (all when few
    enough), in a random order: a fixed position would name the signer."""
    others = [e.spend_public_key for e in entries if e.spend_public_key != own_key and eligible(e)]
    rng = secrets.SystemRandom()
    chosen = rng.sample(others, min(len(others), max(ring_size - 1, 0)))
    chosen.append(own_key)
    rng.shuffle(chosen)
    return chosen


@dataclass(frozen=True)
class RingCall:
    """A ring-signed transaction and the throwaway key that sends it (and signs the requests
    that submit it and read it back, so that the node is not told the member either)."""

    raw: bytes
    sender: KeyPair


def submit_ring_call(client: Client, call: RingCall, timeout_ms: int = 10_000) -> Any:
    """Submit a ring-signed call and wait for its block, the request signed by the call's
    throwaway sender (an HTTP client signs as before afterwards)."""
    sign_with = getattr(client, "sign_with", None)
    if sign_with is None:
        return client.submit(call.raw, wait=True, timeout_ms=timeout_ms)
    previous = getattr(client, "keys", None)
    sign_with(call.sender)
    try:
        return client.submit(call.raw, wait=True, timeout_ms=timeout_ms)
    finally:
        if previous is not None:
            sign_with(previous)


def ring_signed_call(
    chain_id: str,
    call: tuple[str, str],
    args: dict[str, Any],
    args_type: type[msgspec.Struct],
    signer: tuple[StealthKeys, str],
) -> RingCall:
    """A ring-signed call sent from a fresh throwaway key: `args` hold the ring; the ring
    signature over `privacy_rings.ring_message` is added under ``ring_signature``.

    `signer` is (the member's stealth keys, the event the key image is scoped to).
    """
    keys, event = signer
    throwaway = generate_keypair()
    typed = msgspec.convert({**args, "ring_signature": ""}, args_type, strict=True)
    fields = msgspec.structs.asdict(typed)
    message = privacy_rings.ring_message(throwaway.public_key, call, fields)
    ring = [bytes.fromhex(k) for k in args["ring"]]
    own = keys.address().spend_public_key
    signature = ring_sign(message, ring, ring.index(own), keys.spend_secret, event.encode())
    signed_args = {**args, "ring_signature": signature.encode().hex()}
    raw = encode_transaction(make_transaction(throwaway, chain_id, 0, *call, signed_args))
    return RingCall(raw, throwaway)


def secret_ballot(
    client: Client, keys: KeyPair, proposal_id: int, choice: str, ring_size: int = MAX_RING_SIZE
) -> RingCall:
    """A ring-signed ballot on a secret vote, over members of the proposal's electorate."""
    proposal = client.proposal(proposal_id)
    stealth = stealth_keys_of(keys)
    own = stealth.address().spend_public_key.hex()

    def in_electorate(entry: MemberKeysReply) -> bool:
        return entry.status == "active" and entry.since_height < proposal.created_height

    ring = choose_ring(client.privacy_keys().keys, own, in_electorate, ring_size)
    args = {"proposal_id": proposal_id, "choice": choice, "ring": ring}
    call = ("governance", "vote_secretly")
    return ring_signed_call(
        client.chain_id(), call, args, SecretVoteArgs, (stealth, ballot_event(proposal_id))
    )


def anonymous_offer(
    client: Client, keys: KeyPair, terms: dict[str, Any], ring_size: int = MAX_RING_SIZE
) -> RingCall:
    """A ring-signed offer (energy_wh, price_micro_per_kwh, period, ...) over active sellers."""
    stealth = stealth_keys_of(keys)
    own = stealth.address().spend_public_key.hex()

    def sells(entry: MemberKeysReply) -> bool:
        return entry.status == "active" and entry.role in SELLING_ROLES

    ring = choose_ring(client.privacy_keys().keys, own, sells, ring_size)
    call = ("market", "publish_offer_anonymously")
    event = offers_event(int(terms["period"]))
    return ring_signed_call(
        client.chain_id(), call, {**terms, "ring": ring}, AnonymousOfferArgs, (stealth, event)
    )


def anonymous_withdrawal(
    client: Client, keys: KeyPair, offer_id: str, period: int, ring_size: int = MAX_RING_SIZE
) -> RingCall:
    """A ring-signed withdrawal of the member's anonymous offer: its key image in the
    offer's event is the offer's, so the contract knows the author without naming it."""
    stealth = stealth_keys_of(keys)
    own = stealth.address().spend_public_key.hex()

    def sells(entry: MemberKeysReply) -> bool:
        return entry.status == "active" and entry.role in SELLING_ROLES

    ring = choose_ring(client.privacy_keys().keys, own, sells, ring_size)
    call = ("market", "withdraw_offer_anonymously")
    args = {"offer_id": offer_id, "ring": ring}
    signer = (stealth, offers_event(period))
    return ring_signed_call(client.chain_id(), call, args, AnonymousWithdrawArgs, signer)


def seller_proof(keys: KeyPair, agreement_message: bytes, period: int) -> str:
    """Hex proof that the member made its anonymous offer for `period` (`prove_image_owner`
    over the agreement it signs), for the buyer's ``agree``."""
    secret = stealth_keys_of(keys).spend_secret
    return prove_image_owner(agreement_message, secret, offers_event(period).encode()).hex()
