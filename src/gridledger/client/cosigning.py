"""Multi-signed transactions: build one, pass it around as a file, co-sign it, submit it.

A policy account's transaction (``issuer``, ``grid``) and a correction signed by both
parties and the regulator are signed by several people, each on their own machine.
The transaction travels as a small JSON file (`TRANSACTION_FILE_FORMAT`)::

    {"format": "gridledger-transaction/v1",
     "transaction": "<hex of the canonical signed transaction>",
     "summary": {...}}

Only ``transaction`` is read back: the ``summary`` (sender, nonce, call, who signed)
is for the people who pass the file around, and is recomputed from the bytes whenever
the file is written. Each co-signer adds a signature over the same signing bytes
(`ledger.cosign_transaction`); the signatures are kept sorted by key, so the bytes do
not depend on who signed first. The node checks the rest when it is submitted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from gridledger.client.interface import Client
from gridledger.crypto import address_of
from gridledger.crypto.keys import KeyPair
from gridledger.ledger import (
    ENCODING_VERSION,
    DecodingError,
    LedgerError,
    MultisigAuthorization,
    SignedTransaction,
    Transaction,
    cosign_transaction,
    decode_transaction,
    encode_transaction,
    policy_account_key,
    unsigned_multisig,
)

TRANSACTION_FILE_FORMAT = "gridledger-transaction/v1"
MAX_TRANSACTION_FILE_BYTES = 1_000_000


class TransactionFileError(ValueError):
    """A transaction file that cannot be read: says which part is wrong and why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"transaction file: {reason}")


def build_transaction(
    client: Client,
    sender_key: bytes,
    call: tuple[str, str, dict[str, Any]],
    nonce: int | None = None,
) -> SignedTransaction:
    """A transaction from `sender_key` with no signature yet; the nonce is the node's next.

    `call` is (contract, method, arguments). For a policy account pass
    `policy_sender` (``"issuer"``); for a co-signed call, the sender's own public key.
    """
    contract, method, args = call
    if nonce is None:
        nonce = client.account(address_of(sender_key)).nonce
    body = Transaction(
        version=ENCODING_VERSION,
        chain_id=client.chain_id(),
        sender=sender_key,
        nonce=nonce,
        contract=contract,
        method=method,
        args=dict(args),
    )
    return unsigned_multisig(body)


def policy_sender(name: str) -> bytes:
    """The sender key of the policy account `name` (``"issuer"``, ``"grid"``)."""
    return policy_account_key(name)


def cosign(signed: SignedTransaction, keys: KeyPair) -> SignedTransaction:
    """`signed` with `keys`' signature added (`ValueError` if `keys` signed it already)."""
    return cosign_transaction(signed, keys)


def multisig_call(
    client: Client,
    sender_key: bytes,
    signers: Sequence[KeyPair],
    call: tuple[str, str, dict[str, Any]],
    nonce: int | None = None,
) -> bytes:
    """Build `call` from `sender_key` (with `nonce`, by default the sender's next), sign it
    with every one of `signers`; the raw bytes."""
    signed = build_transaction(client, sender_key, call, nonce)
    for keys in signers:
        signed = cosign(signed, keys)
    return encode_transaction(signed)


def signer_addresses(signed: SignedTransaction) -> list[str]:
    """Who signed `signed` so far, as addresses."""
    authorization = signed.authorization
    if isinstance(authorization, MultisigAuthorization):
        return [address_of(c.signer) for c in authorization.signatures]
    return [address_of(signed.transaction.sender)]


def summary_of(signed: SignedTransaction) -> dict[str, Any]:
    body = signed.transaction
    return {
        "chain_id": body.chain_id,
        "sender": address_of(body.sender),
        "nonce": body.nonce,
        "contract": body.contract,
        "method": body.method,
        "args": msgspec.to_builtins(body.args),
        "signers": signer_addresses(signed),
    }


def dump_transaction_file(signed: SignedTransaction) -> bytes:
    """The JSON file of a (partly) signed transaction."""
    document = {
        "format": TRANSACTION_FILE_FORMAT,
        "transaction": encode_transaction(signed).hex(),
        "summary": summary_of(signed),
    }
    return msgspec.json.format(msgspec.json.encode(document), indent=2) + b"\n"


def load_transaction_file(text: bytes) -> SignedTransaction:
    """Read a transaction file; `TransactionFileError` naming what is wrong."""
    if len(text) > MAX_TRANSACTION_FILE_BYTES:
        raise TransactionFileError(f"{len(text)} bytes; at most {MAX_TRANSACTION_FILE_BYTES}")
    try:
        document = msgspec.json.decode(text)
    except msgspec.DecodeError as error:
        raise TransactionFileError(f"not JSON ({error})") from error
    if not isinstance(document, dict):
        raise TransactionFileError("must be a JSON object")
    if document.get("format") != TRANSACTION_FILE_FORMAT:
        raise TransactionFileError(
            f"format is {document.get('format')!r}, expected {TRANSACTION_FILE_FORMAT!r}"
        )
    encoded = document.get("transaction")
    if not isinstance(encoded, str):
        raise TransactionFileError("transaction must be the hex of a signed transaction")
    try:
        raw = bytes.fromhex(encoded)
    except ValueError as error:
        raise TransactionFileError("transaction is not hexadecimal") from error
    try:
        return decode_transaction(raw)
    except (LedgerError, DecodingError) as error:
        raise TransactionFileError(f"transaction does not decode: {error}") from error
