"""Keys, addresses, hashing and Merkle trees. No I/O."""

from gridledger.crypto.errors import CryptoError, InvalidProof, InvalidPublicKey, InvalidSignature
from gridledger.crypto.hashing import HASH_LENGTH, ZERO_HASH, sha256
from gridledger.crypto.keys import (
    PUBLIC_KEY_LENGTH,
    SIGNATURE_LENGTH,
    KeyPair,
    address_of,
    generate_keypair,
    is_address,
    is_valid_public_key,
    is_valid_signature,
    keypair_from_name,
    keypair_from_seed,
    validate_public_key,
    verify_signature,
)
from gridledger.crypto.merkle import (
    MerkleProof,
    hash_leaf,
    hash_node,
    merkle_proof,
    merkle_root,
    root_from_proof,
    verify_proof,
)
from gridledger.crypto.sealing import (
    SealedSeed,
    SealingError,
    WrongPassphrase,
    open_seed,
    seal_seed,
)

__all__ = [
    "HASH_LENGTH",
    "PUBLIC_KEY_LENGTH",
    "SIGNATURE_LENGTH",
    "ZERO_HASH",
    "CryptoError",
    "InvalidProof",
    "InvalidPublicKey",
    "InvalidSignature",
    "KeyPair",
    "MerkleProof",
    "SealedSeed",
    "SealingError",
    "WrongPassphrase",
    "address_of",
    "generate_keypair",
    "hash_leaf",
    "hash_node",
    "is_address",
    "is_valid_public_key",
    "is_valid_signature",
    "keypair_from_name",
    "keypair_from_seed",
    "merkle_proof",
    "merkle_root",
    "open_seed",
    "root_from_proof",
    "seal_seed",
    "sha256",
    "validate_public_key",
    "verify_proof",
    "verify_signature",
]
