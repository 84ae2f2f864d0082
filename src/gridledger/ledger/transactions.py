"""Transactions: the signed envelope and its stateless checks.

A `Transaction` says who (``sender``, a 32-byte Ed25519 public key) asks which
contract to run which method with which typed arguments, on which chain, as
the sender's ``nonce``-th transaction. A `SignedTransaction` pairs it with an
`Authorization`, a tagged union: one Ed25519 signature by the sender
(``"ed25519"``, every ordinary transaction), or several signatures over the same
bytes (``"multisig"``, `gridledger.ledger.multisig`: a policy account's M of N,
or a transaction co-signed by the parties whose consent it needs).

The transaction id is the SHA-256 of the canonical bytes of the signed
envelope. What is signed is `SIGNING_DOMAIN` followed by the canonical bytes
of the `Transaction`, so a signature can never be replayed as a signature of
some other kind of message.
"""

from __future__ import annotations

from typing import Any

import msgspec

from gridledger.crypto import (
    InvalidPublicKey,
    address_of,
    is_valid_signature,
    sha256,
    validate_public_key,
)
from gridledger.crypto.keys import PUBLIC_KEY_LENGTH, KeyPair
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
    """The sender's 32-byte Ed25519 public key."""
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


Authorization = Ed25519Authorization | MultisigAuthorization
"""Union of the authorisation schemes (new schemes become new tagged variants)."""


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
    else:
        present = list(authorization.signatures)
    if any(c.signer == keys.public_key for c in present):
        raise ValueError(f"{keys.address} has already signed this transaction")
    present.append(Cosignature(keys.public_key, keys.sign(signing_bytes(body))))
    present.sort(key=lambda c: c.signer)
    return SignedTransaction(body, MultisigAuthorization(present))


def unsigned_multisig(transaction: Transaction) -> SignedTransaction:
    """`transaction` with no signature yet: to be co-signed (`cosign_transaction`)."""
    return SignedTransaction(transaction, MultisigAuthorization([]))


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
    if isinstance(authorization, Ed25519Authorization):
        try:
            validate_public_key(body.sender)
        except InvalidPublicKey as error:
            raise InvalidSenderKey(body.sender.hex(), error.reason) from error
        if not is_valid_signature(body.sender, signing_bytes(body), authorization.signature):
            raise BadSignature(sender_address(body))
    elif isinstance(authorization, MultisigAuthorization):
        check_multisig(body, authorization)
    else:  # pragma: no cover - every variant of `Authorization` has its branch above
        raise MalformedTransaction(f"unknown authorization {type(authorization).__name__}")
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
