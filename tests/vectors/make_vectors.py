"""Regenerate the golden test vectors in this directory.

    .venv/bin/python tests/vectors/make_vectors.py

Every vector is built from fixed inputs only: keys from `keypair_from_name` in the
``gridledger-vectors`` namespace, a fixed genesis document, fixed leaves and state
entries. `tests/ledger/test_vectors.py` recomputes each vector from the code and
compares it with the checked-in JSON, so any change to the canonical encoding, the
signing bytes, the hashes, the Merkle tree or the genesis state fails loudly.

Regenerating is a protocol change: only do it on purpose, bump `ENCODING_VERSION`
when the wire format changes, and review the diff of the JSON files.

Values in the JSON files: bytes are lower-case hex strings; inside transaction
arguments and event attributes (where a string and bytes are both possible) bytes
are written as ``{"$bytes": "<hex>"}``.

This module imports only `gridledger`, never the other test helpers, so that the
vectors do not move when the test community changes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from gridledger.contracts import Registry, membership, tokens
from gridledger.crypto import (
    hash_leaf,
    hash_node,
    keypair_from_name,
    merkle_proof,
    merkle_root,
)
from gridledger.crypto.disclosure import derived_salt, make_disclosure
from gridledger.ledger import (
    ENCODING_VERSION,
    Block,
    BlockHeader,
    Event,
    Genesis,
    GenesisMember,
    Receipt,
    Transaction,
    block_hash,
    dump_genesis,
    encode,
    encode_block,
    encode_receipt,
    encode_transaction,
    genesis_block,
    genesis_hash,
    make_transaction,
    results_root,
    signing_bytes,
    state_hash_of,
    transaction_id,
    transactions_root,
)
from gridledger.ledger.state import entry_bytes

DIRECTORY = Path(__file__).resolve().parent
KEY_NAMESPACE = "gridledger-vectors"
CHAIN_ID = "gridledger-vectors"
GENESIS_TIME_MS = 1_717_200_000_000


def typed_json(value: Any) -> Any:
    """Plain data as JSON, with bytes written as {"$bytes": hex}."""
    if isinstance(value, bytes):
        return {"$bytes": value.hex()}
    if isinstance(value, list):
        return [typed_json(item) for item in value]
    if isinstance(value, dict):
        return {key: typed_json(item) for key, item in value.items()}
    return value


def from_typed_json(value: Any) -> Any:
    """Inverse of `typed_json`."""
    if isinstance(value, dict):
        if set(value) == {"$bytes"}:
            return bytes.fromhex(value["$bytes"])
        return {key: from_typed_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [from_typed_json(item) for item in value]
    return value


def vector_key(name: str) -> Any:
    return keypair_from_name(name, namespace=KEY_NAMESPACE)


# --- transactions -----------------------------------------------------------------------------

TRANSACTION_INPUTS: list[dict[str, Any]] = [
    {
        "description": "a token transfer",
        "key_name": "alice",
        "nonce": 7,
        "contract": "tokens",
        "method": "transfer",
        "args": {
            "to": vector_key("bob").address,
            "amount_micro": 1_234_567,
            "memo": "rent, June",
        },
    },
    {
        "description": "every argument type: ints of each width and sign, text, bytes, "
        "booleans, null, nested lists and maps (keys given unsorted)",
        "key_name": "bob",
        "nonce": 0,
        "contract": "vectors",
        "method": "types",
        "args": {
            "z_last": "sorted last",
            "ints": [0, 1, 127, 128, 255, 256, 65535, 65536, 2**32, 2**63 - 1],
            "negative": [-1, -32, -33, -128, -129, -(2**31), -(2**63)],
            "bytes": b"\x00\x01\xfe\xff",
            "flags": [True, False, None],
            "text": "grüße, ☀️",
            "nested": {"b": [{"y": 2, "x": 1}], "a": {}},
            "": "empty key",
        },
    },
]


def transaction_vector(inputs: dict[str, Any]) -> dict[str, Any]:
    keys = vector_key(inputs["key_name"])
    signed = make_transaction(
        keys, CHAIN_ID, inputs["nonce"], inputs["contract"], inputs["method"], inputs["args"]
    )
    body = signed.transaction
    raw = encode_transaction(signed)
    return {
        "description": inputs["description"],
        "key_name": inputs["key_name"],
        "key_namespace": KEY_NAMESPACE,
        "seed": keys.seed.hex(),
        "public_key": keys.public_key.hex(),
        "address": keys.address,
        "fields": {
            "version": body.version,
            "chain_id": body.chain_id,
            "sender": body.sender.hex(),
            "nonce": body.nonce,
            "contract": body.contract,
            "method": body.method,
            "args": typed_json(body.args),
        },
        "transaction_hex": encode(body).hex(),
        "signing_bytes_hex": signing_bytes(body).hex(),
        "signature": signed.authorization.signature.hex(),
        "canonical_hex": raw.hex(),
        "transaction_id": transaction_id(raw).hex(),
    }


def transactions_vectors() -> dict[str, Any]:
    return {
        "encoding_version": ENCODING_VERSION,
        "transactions": [transaction_vector(inputs) for inputs in TRANSACTION_INPUTS],
    }


# --- blocks -----------------------------------------------------------------------------------


def header_fields_json(header: BlockHeader) -> dict[str, Any]:
    return {
        name: value.hex() if isinstance(value, bytes) else value
        for name, value in ((f, getattr(header, f)) for f in header.__struct_fields__)
    }


def header_from_json(fields: dict[str, Any]) -> BlockHeader:
    byte_fields = {"previous_hash", "transactions_root", "results_root", "state_hash"}
    return BlockHeader(
        **{k: bytes.fromhex(v) if k in byte_fields else v for k, v in fields.items()}
    )


def block_vectors() -> dict[str, Any]:
    raw_transactions = [
        bytes.fromhex(v["canonical_hex"]) for v in transactions_vectors()["transactions"]
    ]
    receipts = [
        Receipt(
            transaction_id(raw_transactions[0]),
            0,
            "",
            [
                Event(
                    "tokens",
                    "transferred",
                    {"source": "glsource", "target": "gltarget", "amount_micro": 1_234_567},
                )
            ],
        ),
        Receipt(
            transaction_id(raw_transactions[1]),
            9,
            "no contract named 'vectors'",
            [],
            {"contract": "vectors"},  # a refusal's values: a fifth element, keys sorted
        ),
    ]
    header = BlockHeader(
        version=ENCODING_VERSION,
        chain_id=CHAIN_ID,
        height=42,
        previous_hash=bytes(range(32)),
        timestamp_ms=GENESIS_TIME_MS + 42_000,
        transaction_count=len(raw_transactions),
        transactions_root=transactions_root(raw_transactions),
        results_root=results_root(receipts),
        state_hash=bytes(range(32, 64)),
    )
    block = Block(header, raw_transactions)
    return {
        "header": {
            "fields": header_fields_json(header),
            "canonical_hex": encode(header).hex(),
            "block_hash": block_hash(header).hex(),
        },
        "receipts": [
            {
                "transaction_id": r.transaction_id.hex(),
                "code": r.code,
                "message": r.message,
                "events": [
                    {"contract": e.contract, "name": e.name, "attributes": typed_json(e.attributes)}
                    for e in r.events
                ],
                "details": dict(r.details),
                "canonical_hex": encode_receipt(r).hex(),
            }
            for r in receipts
        ],
        "block": {
            "transaction_ids": [transaction_id(raw).hex() for raw in raw_transactions],
            "canonical_hex": encode_block(block).hex(),
        },
    }


# --- genesis ----------------------------------------------------------------------------------

GENESIS_FOUNDERS = [
    ("Regulator", "regulator", 0, []),
    ("Operator", "operator", 5_000_000, []),
    ("Alice", "prosumer", 1_000_000, ["alice-meter"]),
    ("Carol", "consumer", 250_000, []),
]


def vector_genesis() -> Genesis:
    return Genesis(
        chain_id=CHAIN_ID,
        genesis_time_ms=GENESIS_TIME_MS,
        members=[
            GenesisMember(
                name=name,
                role=role,
                public_key=vector_key(name.lower()).public_key.hex(),
                balance_micro=balance,
                meter_keys=[vector_key(m).public_key.hex() for m in meters],
                registration_commitments={
                    "basic_information": make_disclosure(
                        "basic_information",
                        f"{name}'s place",
                        derived_salt(b"gridledger-vectors", name.lower()),
                    ).digest
                },
            )
            for name, role, balance, meters in GENESIS_FOUNDERS
        ],
        parameters={"tokens": {"issuer_roles": ["operator"]}},
    )


def vector_registry() -> Registry:
    """Only the contracts the vector pins: membership and tokens, in genesis order."""
    return Registry([membership.contract, tokens.contract], membership.check_active_member)


def genesis_vectors() -> dict[str, Any]:
    genesis = vector_genesis()
    block0, state = genesis_block(genesis, vector_registry())
    return {
        "contracts": ["membership", "tokens"],
        "document": dump_genesis(genesis).decode(),
        "genesis_hash": genesis_hash(genesis).hex(),
        "header": {
            "fields": header_fields_json(block0.header),
            "canonical_hex": encode(block0.header).hex(),
            "block_hash": block_hash(block0.header).hex(),
        },
        "state": [[ns, key, value.hex()] for (ns, key), value in state.items()],
        "state_hash": state.state_hash().hex(),
    }


# --- Merkle trees -----------------------------------------------------------------------------

MERKLE_LEAVES = [b"", b"a", b"\x00", b"\x01" * 32, b"gridledger", bytes(range(64)), b"leaf 6"]


RFC6962_LEAVES = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]
"""The leaves of the Certificate Transparency reference tests (RFC 6962 trees)."""


def merkle_vectors() -> dict[str, Any]:
    leaves = MERKLE_LEAVES
    reference = [bytes.fromhex(leaf) for leaf in RFC6962_LEAVES]
    return {
        "rfc6962_reference": {
            "leaves": RFC6962_LEAVES,
            "roots_of_prefixes": [
                merkle_root(reference[:n]).hex() for n in range(1, len(reference) + 1)
            ],
        },
        "leaves": [leaf.hex() for leaf in leaves],
        "leaf_hashes": [hash_leaf(leaf).hex() for leaf in leaves],
        "node_of_first_two": hash_node(hash_leaf(leaves[0]), hash_leaf(leaves[1])).hex(),
        "roots_of_prefixes": [merkle_root(leaves[:n]).hex() for n in range(len(leaves) + 1)],
        "proofs": [
            {
                "index": index,
                "size": len(leaves),
                "path": [step.hex() for step in merkle_proof(leaves, index).path],
            }
            for index in range(len(leaves))
        ],
    }


# --- state ------------------------------------------------------------------------------------

STATE_ENTRIES: list[tuple[str, str, bytes]] = [
    ("ledger", "nonce/gl0000000000000000000000000000000000000000", encode(3)),
    ("membership", "roster", encode(["gl00", "gl01"])),
    ("tokens", "balance/gl0000000000000000000000000000000000000000", encode(1_000_000)),
    ("tokens", "supply", encode(1_000_000)),
    ("market", "", b""),
]


def state_vectors() -> dict[str, Any]:
    entries = {(ns, key): value for ns, key, value in STATE_ENTRIES}
    return {
        "empty_state_hash": state_hash_of({}).hex(),
        "entries": [
            {
                "namespace": ns,
                "key": key,
                "value": value.hex(),
                "entry_bytes": entry_bytes(ns, key, value).hex(),
                "state_hash_alone": state_hash_of({(ns, key): value}).hex(),
            }
            for ns, key, value in STATE_ENTRIES
        ],
        "state_hash": state_hash_of(entries).hex(),
    }


# --- files ------------------------------------------------------------------------------------


def build_vectors() -> dict[str, dict[str, Any]]:
    """Every vector file's content, by file stem."""
    return {
        "transactions": transactions_vectors(),
        "blocks": block_vectors(),
        "genesis": genesis_vectors(),
        "merkle": merkle_vectors(),
        "state": state_vectors(),
    }


def render(content: dict[str, Any]) -> str:
    return json.dumps(content, indent=2, ensure_ascii=False) + "\n"


def write_vectors(directory: Path = DIRECTORY) -> list[Path]:
    written = []
    for stem, content in build_vectors().items():
        path = directory / f"{stem}.json"
        path.write_text(render(content), encoding="utf-8")
        written.append(path)
    return written


def check_transaction_type() -> None:
    """Fail early if the transaction layout changed under the vectors' feet."""
    expected = ("version", "chain_id", "sender", "nonce", "contract", "method", "args")
    if Transaction.__struct_fields__ != expected:
        raise SystemExit(f"Transaction fields changed: {Transaction.__struct_fields__}")


if __name__ == "__main__":
    check_transaction_type()
    for path in write_vectors(Path(sys.argv[1]) if len(sys.argv) > 1 else DIRECTORY):
        print(f"wrote {path}")
