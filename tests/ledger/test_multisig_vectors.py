"""The pinned multi-signature vector (tests/vectors/multisig.json): the policy account's key
and address, the stored policy, the signing bytes and the signed transaction, recomputed."""

from __future__ import annotations

import json
from typing import Any

from gridledger.crypto import address_of, keypair_from_name
from gridledger.ledger import (
    MultisigAuthorization,
    decode_transaction,
    encode,
    make_policy,
    policy_account_key,
    signing_bytes,
    transaction_id,
    validate_transaction,
)
from tests.vectors.make_multisig_vectors import PATH, build, render


def load() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(PATH.read_text(encoding="utf-8"))
    return loaded


def test_the_checked_in_file_is_what_the_code_produces() -> None:
    assert PATH.read_text(encoding="utf-8") == render(build())


def test_the_vector_from_its_own_inputs() -> None:
    vector = load()
    keys = [bytes.fromhex(k) for k in vector["signers"].values()]
    for name, public_key in vector["signers"].items():
        assert keypair_from_name(name, namespace=vector["key_namespace"]).public_key.hex() == (
            public_key
        )
    policy = vector["policy"]
    account = policy_account_key(policy["name"])
    assert account.hex() == policy["account_key"]
    assert address_of(account) == policy["address"]
    stored = make_policy(policy["name"], policy["threshold"], keys)
    assert encode(stored).hex() == policy["stored_bytes"]
    tx = vector["transaction"]
    raw = bytes.fromhex(tx["raw"])
    signed = validate_transaction(raw, vector["chain_id"])
    assert signed.transaction.sender == account
    assert signing_bytes(signed.transaction).hex() == tx["signing_bytes"]
    assert transaction_id(raw).hex() == tx["id"]
    assert isinstance(signed.authorization, MultisigAuthorization)
    signers = [c.signer.hex() for c in signed.authorization.signatures]
    assert signers == sorted(vector["signers"][n] for n in tx["signed_by"])
    assert decode_transaction(raw) == signed
