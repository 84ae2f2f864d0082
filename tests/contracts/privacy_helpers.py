"""Helpers for the privacy tests: members' stealth keys, registrations, ring-signed calls
and one-time spends on the test community."""

from __future__ import annotations

from typing import Any

import msgspec

from gridledger.client.privacy import ring_signed_call, stealth_keys_of
from gridledger.contracts import privacy_rings
from gridledger.crypto.keys import generate_keypair
from gridledger.crypto.privacy import StealthKeys, ring_sign
from gridledger.ledger import Receipt, Transaction, encode_transaction, sign_one_time
from gridledger.ledger.encoding import ENCODING_VERSION
from gridledger.ledger.transactions import make_transaction
from tests.community import CHAIN_ID, Community, key


def stealth(name: str) -> StealthKeys:
    return stealth_keys_of(key(name))


def spend_key_hex(name: str) -> str:
    return stealth(name).address().spend_public_key.hex()


def register(community: Community, name: str, payouts: bool = False) -> Receipt:
    address = stealth(name).address()
    args = {
        "view_public_key": address.view_public_key.hex(),
        "spend_public_key": address.spend_public_key.hex(),
        "stealth_payouts": payouts,
    }
    return community.run(name, "privacy", "register_keys", args)


def ring_raw(
    call: tuple[str, str],
    args: dict[str, Any],
    args_type: type[msgspec.Struct],
    signer: str,
    event: str,
) -> bytes:
    """A ring-signed call by `signer` (a key name), sent from a throwaway key."""
    return ring_signed_call(CHAIN_ID, call, args, args_type, (stealth(signer), event)).raw


def forged_ring_raw(
    call: tuple[str, str],
    args: dict[str, Any],
    args_type: type[msgspec.Struct],
    signer_keys: StealthKeys,
    event: str,
    tamper: Any = None,
) -> bytes:
    """As `ring_raw`, by any stealth keys (a non-member's), with `tamper(bytes) -> bytes`
    applied to the signature."""
    throwaway = generate_keypair()
    typed = msgspec.convert({**args, "ring_signature": ""}, args_type, strict=True)
    message = privacy_rings.ring_message(throwaway.public_key, call, msgspec.structs.asdict(typed))
    ring = [bytes.fromhex(k) for k in args["ring"]]
    own = signer_keys.address().spend_public_key
    signature = ring_sign(
        message, ring, ring.index(own), signer_keys.spend_secret, event.encode()
    ).encode()
    if tamper is not None:
        signature = tamper(signature)
    signed = {**args, "ring_signature": signature.hex()}
    return encode_transaction(make_transaction(throwaway, CHAIN_ID, 0, *call, signed))


def one_time_raw(secret: int, public_key: bytes, nonce: int, args: dict[str, Any]) -> bytes:
    body = Transaction(ENCODING_VERSION, CHAIN_ID, public_key, nonce, "privacy", "spend", args)
    return encode_transaction(sign_one_time(body, secret))


def commit_one(community: Community, raw: bytes, timestamp_ms: int | None = None) -> Receipt:
    _, execution = community.commit([raw], timestamp_ms)
    receipt: Receipt = execution.receipts[0]
    return receipt
