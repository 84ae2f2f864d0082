"""Regenerate tests/vectors/multisig.json, the pinned bytes of multi-signed transactions.

    .venv/bin/python tests/vectors/make_multisig_vectors.py

Fixed inputs only: keys from `keypair_from_name` in the ``gridledger-vectors`` namespace,
the policy account ``issuer`` (2 of operator, regulator, treasurer) and a fixed mint.
`tests/ledger/test_multisig_vectors.py` recomputes each value from the code. The file pins
the policy account's key and address, the stored policy's bytes, the signing bytes, and
the signed transaction's bytes and id (Ed25519 is deterministic, so the signatures are
fixed too). Regenerating is a protocol change: do it only on purpose.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from gridledger.crypto import keypair_from_name
from gridledger.ledger import (
    ENCODING_VERSION,
    Transaction,
    cosign_transaction,
    encode,
    encode_transaction,
    make_policy,
    policy_account_key,
    policy_address,
    signing_bytes,
    transaction_id,
    unsigned_multisig,
)

PATH = Path(__file__).resolve().parent / "multisig.json"
KEY_NAMESPACE = "gridledger-vectors"
CHAIN_ID = "gridledger-vectors"
SIGNERS = ("operator", "regulator", "treasurer")


def build() -> dict[str, Any]:
    keys = {name: keypair_from_name(name, namespace=KEY_NAMESPACE) for name in SIGNERS}
    policy = make_policy("issuer", 2, [k.public_key for k in keys.values()])
    sender = policy_account_key("issuer")
    recipient = keypair_from_name("alice", namespace=KEY_NAMESPACE).address
    body = Transaction(
        ENCODING_VERSION,
        CHAIN_ID,
        sender,
        0,
        "tokens",
        "mint",
        {"to": recipient, "amount_micro": 25_000_000, "reference": "bank transfer 0001"},
    )
    signed = unsigned_multisig(body)
    for name in ("regulator", "operator"):  # any order: the signatures are sorted by key
        signed = cosign_transaction(signed, keys[name])
    raw = encode_transaction(signed)
    return {
        "key_namespace": KEY_NAMESPACE,
        "chain_id": CHAIN_ID,
        "signers": {name: k.public_key.hex() for name, k in keys.items()},
        "policy": {
            "name": "issuer",
            "threshold": 2,
            "account_key": sender.hex(),
            "address": policy_address("issuer"),
            "stored_bytes": encode(policy).hex(),
        },
        "transaction": {
            "recipient": recipient,
            "signed_by": ["operator", "regulator"],
            "signing_bytes": signing_bytes(body).hex(),
            "raw": raw.hex(),
            "id": transaction_id(raw).hex(),
        },
    }


def render(vectors: dict[str, Any]) -> str:
    return json.dumps(vectors, indent=2) + "\n"


if __name__ == "__main__":
    PATH.write_text(render(build()), encoding="utf-8")
    sys.stdout.write(f"wrote {PATH}\n")
