"""Sealing a seed under a passphrase: Argon2id (libsodium crypto_pwhash) + secretbox."""

from __future__ import annotations

import base64
import dataclasses

import nacl.pwhash
import pytest

from gridledger.crypto import SealingError, WrongPassphrase, open_seed, seal_seed
from gridledger.crypto.sealing import COSTS, SALT_LENGTH, derive_key

argon2id = nacl.pwhash.argon2id
CHEAP = (argon2id.OPSLIMIT_MIN, argon2id.MEMLIMIT_MIN)
"""The least libsodium allows (1 pass over 8 KiB): for tests of the sealing, not the KDF."""
SEED = bytes(range(32))

# The reference implementation's (P-H-C argon2, src/test.c) Argon2id vector, version 0x13:
# password "password", salt "somesalt", t=2 passes, m=65536 KiB, p=1 lane, 32-byte tag.
REFERENCE = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def test_libsodium_argon2id_is_the_reference_argon2id() -> None:
    assert argon2id.verify(REFERENCE.encode(), b"password")
    assert COSTS["interactive"] == (2, 65536 * 1024), "interactive is the vector's t and m"


def test_derive_key_is_argon2id_with_the_stored_parameters() -> None:
    """Our key is the Argon2id tag of (passphrase, salt, t=opslimit, m=memlimit/1024 KiB, p=1):
    libsodium accepts it as such in a PHC string, and it is a fixed known answer."""
    salt = b"somesaltsomesalt"
    key = derive_key(b"password", salt, *COSTS["interactive"])
    assert key.hex() == "fc33b78139231d34b71626bd6245c1d72efa190ad605c3d8166a72adcedfa2c2"
    encoded = f"$argon2id$v=19$m=65536,t=2,p=1${b64(salt)}${b64(key)}"
    assert argon2id.verify(encoded.encode(), b"password")
    assert derive_key(b"passwore", salt, *COSTS["interactive"]) != key


def test_a_sealed_seed_opens_with_its_passphrase_only() -> None:
    sealed = seal_seed(SEED, b"correct horse", *CHEAP)
    assert SEED not in sealed.ciphertext and len(sealed.ciphertext) == 32 + 16
    assert len(sealed.salt) == SALT_LENGTH
    assert open_seed(sealed, b"correct horse") == SEED
    with pytest.raises(WrongPassphrase, match="wrong passphrase"):
        open_seed(sealed, b"correct horsE")
    again = seal_seed(SEED, b"correct horse", *CHEAP)
    assert (again.salt, again.nonce) != (sealed.salt, sealed.nonce), "fresh salt and nonce"


@pytest.mark.parametrize("part", ["ciphertext", "nonce", "salt"])
def test_any_altered_byte_is_refused(part: str) -> None:
    sealed = seal_seed(SEED, b"pass", *CHEAP)
    value = bytearray(getattr(sealed, part))
    value[len(value) // 2] ^= 0x01
    with pytest.raises(WrongPassphrase):
        open_seed(dataclasses.replace(sealed, **{part: bytes(value)}), b"pass")


def test_altered_cost_parameters_are_refused() -> None:
    sealed = seal_seed(SEED, b"pass", *CHEAP)
    with pytest.raises(WrongPassphrase):
        open_seed(dataclasses.replace(sealed, opslimit=sealed.opslimit + 1), b"pass")
    with pytest.raises(SealingError, match="memlimit 1 bytes outside"):
        open_seed(dataclasses.replace(sealed, memlimit=1), b"pass")
    with pytest.raises(SealingError, match="opslimit 0 outside"):
        seal_seed(SEED, b"pass", 0, CHEAP[1])
    with pytest.raises(SealingError, match="salt must be 16 bytes"):
        derive_key(b"pass", b"short", *CHEAP)
