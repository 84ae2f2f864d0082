"""Golden vectors: recompute every checked-in vector from the code and compare.

If one of these fails, the canonical encoding, the signing bytes, a hash, the Merkle
tree or the genesis state changed, and every existing chain would stop verifying.
If the change is intended, bump the encoding version, regenerate the files with
``.venv/bin/python tests/vectors/make_vectors.py`` and review the diff.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gridledger.crypto import (
    MerkleProof,
    hash_leaf,
    hash_node,
    keypair_from_name,
    keypair_from_seed,
    merkle_proof,
    merkle_root,
    sha256,
    verify_proof,
    verify_signature,
)
from gridledger.ledger import (
    ENCODING_VERSION,
    Block,
    Ed25519Authorization,
    Event,
    Receipt,
    SignedTransaction,
    Transaction,
    block_hash,
    decode,
    decode_block,
    encode,
    encode_block,
    encode_receipt,
    encode_transaction,
    genesis_block,
    genesis_hash,
    load_genesis,
    results_root,
    signing_bytes,
    state_hash_of,
    transaction_id,
    transactions_root,
    validate_transaction,
)
from gridledger.ledger.state import entry_bytes
from gridledger.ledger.transactions import SIGNING_DOMAIN
from tests.vectors.make_vectors import (
    DIRECTORY,
    build_vectors,
    from_typed_json,
    header_from_json,
    render,
    vector_registry,
)

STEMS = ["transactions", "blocks", "genesis", "merkle", "state"]


def load(stem: str) -> Any:
    return json.loads((DIRECTORY / f"{stem}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def generated() -> dict[str, Any]:
    return build_vectors()


@pytest.mark.parametrize("stem", STEMS)
def test_checked_in_file_matches_what_the_code_produces(
    stem: str, generated: dict[str, Any]
) -> None:
    path: Path = DIRECTORY / f"{stem}.json"
    assert path.exists(), f"run tests/vectors/make_vectors.py to create {path.name}"
    assert load(stem) == generated[stem]
    assert path.read_text(encoding="utf-8") == render(generated[stem])


def test_every_vector_file_is_checked() -> None:
    # privacy.json is checked by tests/crypto/privacy/test_vectors.py, multisig.json by
    # tests/ledger/test_multisig_vectors.py
    assert sorted(p.stem for p in DIRECTORY.glob("*.json")) == sorted(
        [*STEMS, "privacy", "multisig"]
    )


# The checks below rebuild each vector from the file's own inputs with the library
# functions, without going through make_vectors, so a bug in the script that happened to
# agree with a bug in the code would still show.


def transaction_vectors() -> list[dict[str, Any]]:
    vectors: list[dict[str, Any]] = load("transactions")["transactions"]
    return vectors


@pytest.mark.parametrize("index", [0, 1])
def test_transaction_vector(index: int) -> None:
    vector = transaction_vectors()[index]
    keys = keypair_from_name(vector["key_name"], namespace=vector["key_namespace"])
    assert keys.seed.hex() == vector["seed"]
    assert keypair_from_seed(bytes.fromhex(vector["seed"])).public_key == keys.public_key
    assert keys.public_key.hex() == vector["public_key"]
    assert keys.address == vector["address"]

    fields = vector["fields"]
    body = Transaction(
        version=fields["version"],
        chain_id=fields["chain_id"],
        sender=bytes.fromhex(fields["sender"]),
        nonce=fields["nonce"],
        contract=fields["contract"],
        method=fields["method"],
        args=from_typed_json(fields["args"]),
    )
    assert body.version == ENCODING_VERSION
    assert encode(body).hex() == vector["transaction_hex"]
    assert signing_bytes(body).hex() == vector["signing_bytes_hex"]
    assert signing_bytes(body) == SIGNING_DOMAIN + encode(body)
    assert SIGNING_DOMAIN == b"gridledger/transaction/v1\x00"

    # Ed25519 is deterministic: the same key and message always give the same signature
    signature = keys.sign(signing_bytes(body))
    assert signature.hex() == vector["signature"]
    verify_signature(keys.public_key, bytes.fromhex(vector["signing_bytes_hex"]), signature)

    raw = encode_transaction(SignedTransaction(body, Ed25519Authorization(signature)))
    assert raw.hex() == vector["canonical_hex"]
    assert transaction_id(raw).hex() == vector["transaction_id"] == sha256(raw).hex()

    decoded = validate_transaction(bytes.fromhex(vector["canonical_hex"]), fields["chain_id"])
    assert decoded.transaction == body
    assert decoded.authorization.signature == signature


def test_the_type_vector_covers_every_argument_type() -> None:
    args = from_typed_json(transaction_vectors()[1]["fields"]["args"])
    seen = set()

    def walk(value: Any) -> None:
        seen.add(type(value))
        if isinstance(value, list):
            for item in value:
                walk(item)
        if isinstance(value, dict):
            for item in value.values():
                walk(item)

    walk(args)
    assert seen == {dict, list, str, int, bytes, bool, type(None)}
    assert 2**63 - 1 in args["ints"] and -(2**63) in args["negative"]
    assert list(args) != sorted(args)  # written unsorted: the encoding must sort them


def test_block_header_vector() -> None:
    vector = load("blocks")["header"]
    header = header_from_json(vector["fields"])
    assert encode(header).hex() == vector["canonical_hex"]
    assert block_hash(header).hex() == vector["block_hash"]
    assert sha256(bytes.fromhex(vector["canonical_hex"])).hex() == vector["block_hash"]


def test_receipt_and_block_vectors() -> None:
    vectors = load("blocks")
    receipts = [
        Receipt(
            bytes.fromhex(r["transaction_id"]),
            r["code"],
            r["message"],
            [
                Event(e["contract"], e["name"], from_typed_json(e["attributes"]))
                for e in r["events"]
            ],
            r["details"],
        )
        for r in vectors["receipts"]
    ]
    for receipt, vector in zip(receipts, vectors["receipts"], strict=True):
        assert encode_receipt(receipt).hex() == vector["canonical_hex"]
        assert decode(bytes.fromhex(vector["canonical_hex"]), Receipt) == receipt
    header = header_from_json(vectors["header"]["fields"])
    assert results_root(receipts) == header.results_root

    raws = [bytes.fromhex(v["canonical_hex"]) for v in transaction_vectors()]
    assert [transaction_id(raw).hex() for raw in raws] == vectors["block"]["transaction_ids"]
    assert transactions_root(raws) == header.transactions_root
    assert header.transaction_count == len(raws)
    block = Block(header, raws)
    assert encode_block(block).hex() == vectors["block"]["canonical_hex"]
    assert decode_block(bytes.fromhex(vectors["block"]["canonical_hex"])) == block


def test_genesis_vector() -> None:
    vector = load("genesis")
    genesis = load_genesis(vector["document"])
    assert genesis_hash(genesis).hex() == vector["genesis_hash"]
    block0, state = genesis_block(genesis, vector_registry())
    header = header_from_json(vector["header"]["fields"])
    assert block0.header == header
    assert block0.transactions == []
    assert encode(block0.header).hex() == vector["header"]["canonical_hex"]
    assert block_hash(block0.header).hex() == vector["header"]["block_hash"]
    assert header.previous_hash.hex() == vector["genesis_hash"]
    assert [[ns, key, value.hex()] for (ns, key), value in state.items()] == vector["state"]
    assert state.state_hash().hex() == vector["state_hash"] == header.state_hash.hex()
    recorded = {(ns, key): bytes.fromhex(value) for ns, key, value in vector["state"]}
    assert state_hash_of(recorded).hex() == vector["state_hash"]
    assert vector["contracts"] == list(vector_registry().contracts)


def test_merkle_vectors() -> None:
    vector = load("merkle")
    leaves = [bytes.fromhex(leaf) for leaf in vector["leaves"]]
    assert [hash_leaf(leaf).hex() for leaf in leaves] == vector["leaf_hashes"]
    assert (
        hash_node(hash_leaf(leaves[0]), hash_leaf(leaves[1])).hex() == vector["node_of_first_two"]
    )
    roots = [merkle_root(leaves[:n]).hex() for n in range(len(leaves) + 1)]
    assert roots == vector["roots_of_prefixes"]
    root = bytes.fromhex(vector["roots_of_prefixes"][-1])
    for proof_vector in vector["proofs"]:
        index = proof_vector["index"]
        path = tuple(bytes.fromhex(step) for step in proof_vector["path"])
        assert merkle_proof(leaves, index) == MerkleProof(index, proof_vector["size"], path)
        verify_proof(leaves[index], MerkleProof(index, proof_vector["size"], path), root)


def test_merkle_roots_match_the_certificate_transparency_reference() -> None:
    """Roots from the CT reference implementation's tests (independent of this code)."""
    reference = load("merkle")["rfc6962_reference"]
    leaves = [bytes.fromhex(leaf) for leaf in reference["leaves"]]
    roots = [merkle_root(leaves[:n]).hex() for n in range(1, len(leaves) + 1)]
    assert roots == reference["roots_of_prefixes"]
    assert roots[0] == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert roots[2] == "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"
    assert roots[7] == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"


def test_state_vectors() -> None:
    vector = load("state")
    assert state_hash_of({}).hex() == vector["empty_state_hash"]
    entries = {}
    for entry in vector["entries"]:
        value = bytes.fromhex(entry["value"])
        ns, key = entry["namespace"], entry["key"]
        assert entry_bytes(ns, key, value).hex() == entry["entry_bytes"]
        assert state_hash_of({(ns, key): value}).hex() == entry["state_hash_alone"]
        entries[(ns, key)] = value
    assert state_hash_of(entries).hex() == vector["state_hash"]
