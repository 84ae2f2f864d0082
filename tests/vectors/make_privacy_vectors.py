"""Regenerate tests/vectors/privacy.json, the pinned vectors of `gridledger.crypto.privacy`.

    .venv/bin/python tests/vectors/make_privacy_vectors.py

Every secret, nonce seed and message is fixed (secrets are `hash_to_scalar` of a
label in the ``vector`` domain; randomness is a fixed byte string), so the file
is a regression vector: `tests/crypto/privacy/test_vectors.py` recomputes each
entry from its inputs and compares. Regenerating changes the protocol's bytes:
do it only on purpose (bump `DOMAIN_PREFIX`'s version) and review the diff.
Bytes are lower-case hex; scalars are hex strings of their 32-byte encoding.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from gridledger.crypto.privacy import (
    GENERATOR_G,
    GENERATOR_H,
    StealthKeys,
    commit,
    derive_output,
    encode_point,
    encode_scalar,
    hash_to_point,
    hash_to_scalar,
    one_time_secret,
    prove_range,
    public_key_of,
    ring_sign,
)

PATH = Path(__file__).resolve().parent / "privacy.json"


def secret(label: str) -> int:
    """A fixed secret scalar named by `label`."""
    return hash_to_scalar("vector", label.encode())


def randomness(label: str) -> bytes:
    """Fixed 32 bytes of nonce randomness named by `label`."""
    return encode_scalar(secret("randomness " + label))


def group_vectors() -> dict[str, Any]:
    return {
        "generator_g": encode_point(GENERATOR_G).hex(),
        "generator_h": encode_point(GENERATOR_H).hex(),
        "hash_to_scalar": {
            "domain": "vector",
            "parts": ["616263", ""],
            "scalar": encode_scalar(hash_to_scalar("vector", b"abc", b"")).hex(),
        },
        "hash_to_point": {
            "domain": "vector",
            "parts": ["616263"],
            "point": encode_point(hash_to_point("vector", b"abc")).hex(),
        },
    }


def stealth_vectors() -> dict[str, Any]:
    keys = StealthKeys(secret("view"), secret("spend"))
    output = derive_output(keys.address(), secret("transaction"), output_index=3)
    return {
        "view_secret": encode_scalar(keys.view_secret).hex(),
        "spend_secret": encode_scalar(keys.spend_secret).hex(),
        "view_public_key": keys.address().view_public_key.hex(),
        "spend_public_key": keys.address().spend_public_key.hex(),
        "transaction_secret": encode_scalar(secret("transaction")).hex(),
        "output_index": 3,
        "transaction_public_key": output.transaction_public_key.hex(),
        "one_time_public_key": output.one_time_public_key.hex(),
        "view_tag": output.view_tag.hex(),
        "one_time_secret": encode_scalar(one_time_secret(output, keys)).hex(),
    }


def lsag_vectors() -> dict[str, Any]:
    secrets = [secret(f"member {i}") for i in range(4)]
    ring = [public_key_of(s) for s in secrets]
    signature = ring_sign(
        b"ballot: yes", ring, 2, secrets[2], b"vote 7", randomness=randomness("lsag")
    )
    return {
        "ring": [key.hex() for key in ring],
        "signer_index": 2,
        "signer_secret": encode_scalar(secrets[2]).hex(),
        "message": b"ballot: yes".hex(),
        "event": b"vote 7".hex(),
        "randomness": randomness("lsag").hex(),
        "key_image": signature.key_image.hex(),
        "signature": signature.encode().hex(),
    }


def pedersen_vectors() -> dict[str, Any]:
    commitment, opening = commit(123_456, secret("blinding"))
    return {
        "value": opening.value,
        "blinding": encode_scalar(opening.blinding).hex(),
        "commitment": commitment.hex(),
    }


def range_vectors() -> dict[str, Any]:
    blinding = secret("range blinding")
    commitment, _ = commit(4_321, blinding)
    proof = prove_range(
        4_321, blinding, 1_000, 5_000, context=b"order 1", randomness=randomness("range")
    )
    return {
        "value": 4_321,
        "blinding": encode_scalar(blinding).hex(),
        "low": 1_000,
        "high": 5_000,
        "context": b"order 1".hex(),
        "randomness": randomness("range").hex(),
        "commitment": commitment.hex(),
        "proof": proof.encode().hex(),
    }


def build_vectors() -> dict[str, Any]:
    return {
        "group": group_vectors(),
        "stealth": stealth_vectors(),
        "lsag": lsag_vectors(),
        "pedersen": pedersen_vectors(),
        "range_proof": range_vectors(),
    }


def render(content: dict[str, Any]) -> str:
    return json.dumps(content, indent=2) + "\n"


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else PATH
    path.write_text(render(build_vectors()), encoding="utf-8")
    print(f"wrote {path}")
