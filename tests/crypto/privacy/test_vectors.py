"""Pinned regression vectors (tests/vectors/privacy.json): recompute each from its inputs.

If one fails, the bytes of a primitive changed and every stored signature, proof
or stealth output would stop verifying. If intended, bump the domain version and
regenerate with ``.venv/bin/python tests/vectors/make_privacy_vectors.py``.
"""

from __future__ import annotations

import json
from typing import Any

from gridledger.crypto.privacy import (
    GENERATOR_G,
    GENERATOR_H,
    Opening,
    StealthKeys,
    commit,
    decode_scalar,
    derive_output,
    encode_point,
    hash_to_point,
    hash_to_scalar,
    key_image,
    one_time_secret,
    prove_range,
    public_key_of,
    ring_sign,
    ring_verify,
    scan,
    verify_opening,
    verify_range,
)
from tests.vectors.make_privacy_vectors import PATH, build_vectors, render


def load() -> Any:
    return json.loads(PATH.read_text(encoding="utf-8"))


def scalar(hexed: str) -> int:
    return decode_scalar(bytes.fromhex(hexed))


def test_checked_in_file_matches_what_the_code_produces() -> None:
    assert PATH.read_text(encoding="utf-8") == render(build_vectors())


def test_group_vector() -> None:
    vector = load()["group"]
    assert encode_point(GENERATOR_G).hex() == vector["generator_g"]
    assert encode_point(GENERATOR_H).hex() == vector["generator_h"]
    entry = vector["hash_to_scalar"]
    parts = [bytes.fromhex(p) for p in entry["parts"]]
    assert hash_to_scalar(entry["domain"], *parts) == scalar(entry["scalar"])
    entry = vector["hash_to_point"]
    parts = [bytes.fromhex(p) for p in entry["parts"]]
    assert encode_point(hash_to_point(entry["domain"], *parts)).hex() == entry["point"]


def test_stealth_vector() -> None:
    vector = load()["stealth"]
    keys = StealthKeys(scalar(vector["view_secret"]), scalar(vector["spend_secret"]))
    address = keys.address()
    assert address.view_public_key.hex() == vector["view_public_key"]
    assert address.spend_public_key.hex() == vector["spend_public_key"]
    output = derive_output(address, scalar(vector["transaction_secret"]), vector["output_index"])
    assert output.transaction_public_key.hex() == vector["transaction_public_key"]
    assert output.one_time_public_key.hex() == vector["one_time_public_key"]
    assert output.view_tag.hex() == vector["view_tag"]
    assert scan([output], keys.view_secret, address.spend_public_key) == [output]
    assert one_time_secret(output, keys) == scalar(vector["one_time_secret"])


def test_lsag_vector() -> None:
    vector = load()["lsag"]
    ring = [bytes.fromhex(key) for key in vector["ring"]]
    secret = scalar(vector["signer_secret"])
    message, event = bytes.fromhex(vector["message"]), bytes.fromhex(vector["event"])
    assert public_key_of(secret) == ring[vector["signer_index"]]
    signature = ring_sign(
        message,
        ring,
        vector["signer_index"],
        secret,
        event,
        randomness=bytes.fromhex(vector["randomness"]),
    )
    assert signature.encode().hex() == vector["signature"]
    assert key_image(secret, event).hex() == vector["key_image"]
    assert (
        ring_verify(message, ring, bytes.fromhex(vector["signature"]), event).hex()
        == (vector["key_image"])
    )


def test_pedersen_vector() -> None:
    vector = load()["pedersen"]
    commitment, opening = commit(vector["value"], scalar(vector["blinding"]))
    assert commitment.hex() == vector["commitment"]
    verify_opening(bytes.fromhex(vector["commitment"]), Opening(vector["value"], opening.blinding))


def test_range_proof_vector() -> None:
    vector = load()["range_proof"]
    blinding = scalar(vector["blinding"])
    commitment, _ = commit(vector["value"], blinding)
    assert commitment.hex() == vector["commitment"]
    context = bytes.fromhex(vector["context"])
    proof = prove_range(
        vector["value"],
        blinding,
        vector["low"],
        vector["high"],
        context=context,
        randomness=bytes.fromhex(vector["randomness"]),
    )
    assert proof.encode().hex() == vector["proof"]
    verify_range(
        commitment, bytes.fromhex(vector["proof"]), vector["low"], vector["high"], context=context
    )
