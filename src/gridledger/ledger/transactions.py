"""Transactions: the signed envelope and its stateless checks.

A `Transaction` says who (``sender``, a 32-byte Ed25519 public key) asks which
contract to run which method with which typed arguments, on which chain, as
the sender's ``nonce``-th transaction. A `SignedTransaction` pairs it with an
`Authorization`, a tagged union of schemes:

- ``ed25519``: one Ed25519 signature by the sender, a member's (or applicant's,
  or meter's) 32-byte key: every ordinary transaction;
- ``one_time``: one BIP-340 Schnorr signature (secp256k1, through libsecp256k1's
  ``schnorrsig`` module in coincurve) by a stealth one-time key, a 33-byte
  compressed point P (`gridledger.crypto.privacy.stealth`). Such a sender is an
  account, not a member: it may only make the calls in `ONE_TIME_CALLS` (spend
  what was paid to it). BIP 340 signs 32-byte messages, so the signed message is
  the SHA-256 of the signing bytes; BIP 340 verifies against the x-only key,
  which is P without its parity byte (its signer negates the secret when P's y
  is odd, BIP 340 "Default Signing").

- ``multisig``: several Ed25519 signatures over the same signing bytes
  (`gridledger.ledger.multisig`): a policy account's M of N (the currency issuer,
  the grid account), or a member's transaction co-signed by the parties whose
  consent it needs (a correction).

Further schemes become further tagged variants without changing the transaction
itself.

The transaction id is the SHA-256 of the canonical bytes of the signed
envelope. What is signed is `SIGNING_DOMAIN` followed by the canonical bytes
of the `Transaction`, so a signature can never be replayed as a signature of
some other kind of message.
"""

from __future__ import annotations

import secrets
from typing import Any

import msgspec
from coincurve import PrivateKey, PublicKeyXOnly

from gridledger.crypto import (
    InvalidPublicKey,
    address_of,
    is_valid_signature,
    sha256,
    validate_public_key,
)
from gridledger.crypto.keys import PUBLIC_KEY_LENGTH, KeyPair
from gridledger.crypto.privacy import PrivacyError, decode_point
from gridledger.ledger.encoding import (
    ENCODING_VERSION,
    MAX_ARGUMENT_DEPTH,
    MAX_TRANSACTION_BYTES,
    check_no_floats,
    decode,
    encode,
    nesting_depth,
)
from gridledger.ledger.errors import (
    BadSignature,
    DecodingError,
    InvalidSenderKey,
    MalformedTransaction,
    OneTimeCallRefused,
    OversizedTransaction,
    TooDeeplyNested,
    UnsupportedVersion,
    WrongChain,
)
from gridledger.ledger.multisig import (
    Cosignature,
    MultisigAuthorization,
    verify_cosignatures,
)

SIGNING_DOMAIN = b"gridledger/transaction/v1\x00"
"""Prefix of every signed message; separates transaction signatures from any other."""


ENVELOPE_DEPTH = 2
"""Levels of nesting above the arguments: the signed envelope's array, the body's array."""


class Transaction(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """The body of a transaction: everything the signature covers."""

    version: int
    chain_id: str
    sender: bytes
    """The sender's 32-byte Ed25519 public key (or, with `OneTimeAuthorization`, a 33-byte
    secp256k1 one-time key)."""
    nonce: int
    """The sender's transaction count before this one (0 for the first)."""
    contract: str
    method: str
    args: dict[str, Any]
    """Typed arguments: integers (64-bit), strings, bytes, booleans, None, lists, maps."""


class Ed25519Authorization(
    msgspec.Struct, frozen=True, array_like=True, tag="ed25519", forbid_unknown_fields=True
):
    """One Ed25519 signature by `Transaction.sender` over the signing bytes."""

    signature: bytes


class OneTimeAuthorization(
    msgspec.Struct, frozen=True, array_like=True, tag="one_time", forbid_unknown_fields=True
):
    """One BIP-340 Schnorr signature by the one-time key `Transaction.sender` (33 bytes)
    over SHA-256 of the signing bytes (see the module's docstring)."""

    signature: bytes


Authorization = Ed25519Authorization | OneTimeAuthorization | MultisigAuthorization
"""Union of the authorisation schemes (new schemes become new tagged variants)."""

ONE_TIME_CALLS = frozenset({("privacy", "spend")})
"""(contract, method) a one-time account may call: spending what a stealth payment or a
stealth payout left in it. Anything else (applying, trading, voting) needs a member."""

ONE_TIME_KEY_LENGTH = 33
SCHNORR_SIGNATURE_LENGTH = 64


class SignedTransaction(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """A transaction with its authorisation: what is submitted, ordered and stored."""

    transaction: Transaction
    authorization: Authorization


def signing_bytes(transaction: Transaction) -> bytes:
    """The exact bytes an Ed25519 signature covers."""
    return SIGNING_DOMAIN + encode(transaction)


def sign_transaction(transaction: Transaction, keys: KeyPair) -> SignedTransaction:
    """Sign `transaction` with `keys` (whose public key must be the sender)."""
    if keys.public_key != transaction.sender:
        raise ValueError("the signing key is not the transaction's sender")
    signature = keys.sign(signing_bytes(transaction))
    return SignedTransaction(transaction, Ed25519Authorization(signature))


def cosign_transaction(signed: SignedTransaction, keys: KeyPair) -> SignedTransaction:
    """Add `keys`' signature to a transaction (offline co-signing, in any order).

    An Ed25519-signed transaction becomes multi-signed, its signature the first; the
    signatures are kept sorted by signer key, so the bytes do not depend on who
    signed first. Signing twice with the same key is refused (`ValueError`).
    """
    body = signed.transaction
    authorization = signed.authorization
    if isinstance(authorization, Ed25519Authorization):
        present = [Cosignature(body.sender, authorization.signature)]
    elif isinstance(authorization, MultisigAuthorization):
        present = list(authorization.signatures)
    else:
        raise ValueError("a one-time account's transaction is signed by its one key only")
    if any(c.signer == keys.public_key for c in present):
        raise ValueError(f"{keys.address} has already signed this transaction")
    present.append(Cosignature(keys.public_key, keys.sign(signing_bytes(body))))
    present.sort(key=lambda c: c.signer)
    return SignedTransaction(body, MultisigAuthorization(present))


def unsigned_multisig(transaction: Transaction) -> SignedTransaction:
    """`transaction` with no signature yet: to be co-signed (`cosign_transaction`)."""
    return SignedTransaction(transaction, MultisigAuthorization([]))


def sign_one_time(transaction: Transaction, secret: int) -> SignedTransaction:
    """Sign `transaction` with a one-time secret x (whose x·G, compressed, is the sender).

    BIP 340 signing with 32 bytes of fresh auxiliary randomness (its recommended use).
    """
    key = PrivateKey(secret.to_bytes(32, "big"))
    if key.public_key.format(compressed=True) != transaction.sender:
        raise ValueError("the one-time secret is not the transaction's sender")
    digest = sha256(signing_bytes(transaction))
    signature = key.sign_schnorr(digest, secrets.token_bytes(32))
    return SignedTransaction(transaction, OneTimeAuthorization(signature))


def make_transaction(
    keys: KeyPair,
    chain_id: str,
    nonce: int,
    contract: str,
    method: str,
    args: dict[str, Any] | None = None,
) -> SignedTransaction:
    """Build and sign a transaction in one step."""
    body = Transaction(
        version=ENCODING_VERSION,
        chain_id=chain_id,
        sender=keys.public_key,
        nonce=nonce,
        contract=contract,
        method=method,
        args=dict(args or {}),
    )
    return sign_transaction(body, keys)


def encode_transaction(signed: SignedTransaction) -> bytes:
    """Canonical bytes of a signed transaction."""
    return encode(signed)


def transaction_id(raw: bytes) -> bytes:
    """Id of a transaction: SHA-256 of its canonical bytes (also defined for malformed bytes)."""
    return sha256(raw)


_ADDRESSES: dict[bytes, str] = {}
"""Addresses of public keys seen (a memo of a pure function)."""
ADDRESS_MEMO_LIMIT = 65_536


def key_address(public_key: bytes) -> str:
    """`address_of(public_key)`, remembered: a community's few senders send many transactions.

    Admission, execution and the contract context each need the sender's address;
    a SHA-256 per call is ~1 µs, a lookup ~0.05 µs. At most `ADDRESS_MEMO_LIMIT`
    keys are kept (the memo is cleared when full).
    """
    address = _ADDRESSES.get(public_key)
    if address is None:
        if len(_ADDRESSES) >= ADDRESS_MEMO_LIMIT:
            _ADDRESSES.clear()
        address = _ADDRESSES[public_key] = address_of(public_key)
    return address


def sender_address(transaction: Transaction) -> str:
    """Address of the transaction's sender."""
    return key_address(transaction.sender)


def decode_transaction(raw: bytes) -> SignedTransaction:
    """Decode and check the shape of a signed transaction.

    Raises `OversizedTransaction`, `TooDeeplyNested`, `MalformedTransaction` or
    `UnsupportedVersion`. Does not check the signature or the chain. The nesting
    depth is measured on the bytes before msgspec decodes them (recursively).
    """
    if len(raw) > MAX_TRANSACTION_BYTES:
        raise OversizedTransaction(len(raw), MAX_TRANSACTION_BYTES)
    depth = nesting_depth(raw) - ENVELOPE_DEPTH
    if depth > MAX_ARGUMENT_DEPTH:
        raise TooDeeplyNested(depth, MAX_ARGUMENT_DEPTH)
    try:
        signed = decode(raw, SignedTransaction)
        check_no_floats(signed.transaction.args, "args")
    except DecodingError as error:
        raise MalformedTransaction(error.reason) from error
    body = signed.transaction
    if body.version != ENCODING_VERSION:
        raise UnsupportedVersion(body.version, ENCODING_VERSION)
    if body.nonce < 0:
        raise MalformedTransaction(f"nonce {body.nonce} is negative")
    if not body.contract or not body.method:
        raise MalformedTransaction("contract and method must be non-empty")
    return signed


_SIGNED_DECODER = msgspec.msgpack.Decoder(SignedTransaction)


def decode_checked_transaction(raw: bytes) -> SignedTransaction:
    """Decode bytes that already passed `decode_transaction` elsewhere (a verify worker).

    Skips the re-encoding, float and shape checks: they depend on the bytes alone,
    so for the same bytes they pass again. The value is the one `decode_transaction`
    returns. Never call it on bytes nobody has checked.
    """
    return _SIGNED_DECODER.decode(raw)


def validate_transaction(raw: bytes, chain_id: str) -> SignedTransaction:
    """All stateless checks of a transaction: size, encoding, version, chain, key, signature.

    These need no state, so a node runs them in parallel before execution
    (DESIGN.md, Transactions and blocks). Returns the decoded transaction.
    """
    signed = decode_transaction(raw)
    body = signed.transaction
    if body.chain_id != chain_id:
        raise WrongChain(expected=chain_id, got=body.chain_id)
    authorization = signed.authorization
    if type(authorization) is Ed25519Authorization:
        try:
            validate_public_key(body.sender)
        except InvalidPublicKey as error:
            raise InvalidSenderKey(body.sender.hex(), error.reason) from error
        if not is_valid_signature(body.sender, signing_bytes(body), authorization.signature):
            raise BadSignature(sender_address(body))
        return signed
    if isinstance(authorization, MultisigAuthorization):
        check_multisig(body, authorization)
        return signed
    check_one_time_key(body)
    check_authorization(signed)
    return signed


def check_multisig(body: Transaction, authorization: MultisigAuthorization) -> None:
    """The stateless checks of a multi-signed transaction (the chain is checked already).

    The sender is a 32-byte account key: a policy account's is no Ed25519 point
    (`multisig.policy_account_key`), so only its length is checked here; whether its
    policy exists, and whether the signers satisfy it, needs the state
    (`multisig.check_signers`).
    """
    if len(body.sender) != PUBLIC_KEY_LENGTH:
        raise InvalidSenderKey(
            body.sender.hex(), f"length {len(body.sender)}, expected {PUBLIC_KEY_LENGTH}"
        )
    verify_cosignatures(sender_address(body), signing_bytes(body), authorization)


def check_one_time_key(body: Transaction) -> None:
    """A one-time sender is a compressed secp256k1 point making a call in `ONE_TIME_CALLS`."""
    if len(body.sender) != ONE_TIME_KEY_LENGTH:
        raise InvalidSenderKey(body.sender.hex(), f"a one-time key has {ONE_TIME_KEY_LENGTH} bytes")
    try:
        decode_point(body.sender)
    except PrivacyError as error:
        raise InvalidSenderKey(body.sender.hex(), str(error)) from error
    if (body.contract, body.method) not in ONE_TIME_CALLS:
        raise OneTimeCallRefused(sender_address(body), body.contract, body.method)


def check_authorization(signed: SignedTransaction) -> None:
    """Verify the signature of a transaction whose sender key has been checked.

    Ed25519 first and without detour: nearly every transaction is one. Raises
    `BadSignature` (a multi-signature: every check of `check_multisig`).
    """
    body = signed.transaction
    authorization = signed.authorization
    if type(authorization) is Ed25519Authorization:
        if not is_valid_signature(body.sender, signing_bytes(body), authorization.signature):
            raise BadSignature(sender_address(body))
        return
    if isinstance(authorization, MultisigAuthorization):
        check_multisig(body, authorization)
        return
    if len(body.sender) != ONE_TIME_KEY_LENGTH:
        raise InvalidSenderKey(body.sender.hex(), "an Ed25519 key signs only with ed25519")
    if (body.contract, body.method) not in ONE_TIME_CALLS:
        raise OneTimeCallRefused(sender_address(body), body.contract, body.method)
    if not is_valid_schnorr(body.sender[1:], sha256(signing_bytes(body)), authorization.signature):
        raise BadSignature(sender_address(body))


def is_valid_schnorr(x_only_key: bytes, message: bytes, signature: bytes) -> bool:
    """BIP 340 verification of a 64-byte signature of a 32-byte message by a 32-byte x-only
    key (libsecp256k1's ``schnorrsig_verify``); False for any malformed input.

    Checked against the BIP's test vectors (tests/ledger/test_bip340_vectors.py).
    """
    if len(signature) != SCHNORR_SIGNATURE_LENGTH or len(x_only_key) != 32:
        return False
    try:
        return bool(PublicKeyXOnly(x_only_key).verify(signature, message))
    except ValueError:
        return False
