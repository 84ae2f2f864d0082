"""Sealing a key's seed under a passphrase: Argon2id, then XSalsa20-Poly1305. No I/O.

The passphrase is stretched into a 32-byte key by libsodium's ``crypto_pwhash``
with the Argon2id algorithm (RFC 9106, version 0x13, one lane), with a random
16-byte salt and the cost given as libsodium's ``opslimit`` (passes over memory)
and ``memlimit`` (bytes of memory); see
https://doc.libsodium.org/password_hashing/default_phf. The seed is then sealed
with ``crypto_secretbox`` (XSalsa20 stream cipher, Poly1305 authenticator, a
random 24-byte nonce; https://doc.libsodium.org/secret-key_cryptography/secretbox),
so a wrong passphrase and a tampered file are both refused by the authenticator,
never decrypted into a wrong seed.

Salt, nonce, opslimit and memlimit are stored beside the ciphertext, so a file
sealed with today's cost still opens after the defaults rise. Both calls go
through PyNaCl (``nacl.pwhash.argon2id.kdf``, ``nacl.secret.SecretBox``), the
libsodium binding already used for every signature.
"""

from __future__ import annotations

from dataclasses import dataclass

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils

from gridledger.crypto.errors import CryptoError

argon2id = nacl.pwhash.argon2id

SALT_LENGTH = argon2id.SALTBYTES
"""16 bytes: libsodium's ``crypto_pwhash_argon2id_SALTBYTES``."""
NONCE_LENGTH = nacl.secret.SecretBox.NONCE_SIZE
"""24 bytes: ``crypto_secretbox_NONCEBYTES`` (XSalsa20's extended nonce, safe to draw at random)."""
KEY_LENGTH = nacl.secret.SecretBox.KEY_SIZE
"""32 bytes: ``crypto_secretbox_KEYBYTES``."""

COSTS: dict[str, tuple[int, int]] = {
    "interactive": (argon2id.OPSLIMIT_INTERACTIVE, argon2id.MEMLIMIT_INTERACTIVE),
    "moderate": (argon2id.OPSLIMIT_MODERATE, argon2id.MEMLIMIT_MODERATE),
    "sensitive": (argon2id.OPSLIMIT_SENSITIVE, argon2id.MEMLIMIT_SENSITIVE),
}
"""libsodium's named costs as (opslimit, memlimit in bytes): interactive is 2 passes
over 64 MiB, moderate 3 over 256 MiB, sensitive 4 over 1 GiB."""
DEFAULT_COST = "moderate"


class SealingError(CryptoError):
    """A sealed seed that cannot be opened or parameters that cannot be used."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class WrongPassphrase(SealingError):
    """The authenticator refused: a wrong passphrase, or the sealed bytes were altered."""

    def __init__(self) -> None:
        super().__init__("wrong passphrase, or the encrypted key was altered")


@dataclass(frozen=True)
class SealedSeed:
    """Everything needed, with the passphrase, to open a sealed seed."""

    salt: bytes
    opslimit: int
    memlimit: int
    """Bytes of memory Argon2id fills."""
    nonce: bytes
    ciphertext: bytes
    """The seed encrypted, followed by the 16-byte Poly1305 tag."""


def check_cost(opslimit: int, memlimit: int) -> None:
    """Raise `SealingError` unless libsodium accepts `opslimit` and `memlimit` for Argon2id."""
    if not argon2id.OPSLIMIT_MIN <= opslimit <= argon2id.OPSLIMIT_MAX:
        raise SealingError(
            f"opslimit {opslimit} outside [{argon2id.OPSLIMIT_MIN}, {argon2id.OPSLIMIT_MAX}]"
        )
    if not argon2id.MEMLIMIT_MIN <= memlimit <= argon2id.MEMLIMIT_MAX:
        raise SealingError(
            f"memlimit {memlimit} bytes outside [{argon2id.MEMLIMIT_MIN}, {argon2id.MEMLIMIT_MAX}]"
        )


def derive_key(passphrase: bytes, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    """The 32-byte secretbox key of `passphrase`: Argon2id (``crypto_pwhash``, ALG_ARGON2ID13)."""
    if len(salt) != SALT_LENGTH:
        raise SealingError(f"salt must be {SALT_LENGTH} bytes, got {len(salt)}")
    check_cost(opslimit, memlimit)
    return bytes(argon2id.kdf(KEY_LENGTH, passphrase, salt, opslimit=opslimit, memlimit=memlimit))


def seal_seed(
    seed: bytes,
    passphrase: bytes,
    opslimit: int,
    memlimit: int,
    salt: bytes | None = None,
    nonce: bytes | None = None,
) -> SealedSeed:
    """Encrypt `seed` under `passphrase`; a fresh random salt and nonce unless given (tests)."""
    salt = nacl.utils.random(SALT_LENGTH) if salt is None else salt
    nonce = nacl.utils.random(NONCE_LENGTH) if nonce is None else nonce
    if len(nonce) != NONCE_LENGTH:
        raise SealingError(f"nonce must be {NONCE_LENGTH} bytes, got {len(nonce)}")
    box = nacl.secret.SecretBox(derive_key(passphrase, salt, opslimit, memlimit))
    ciphertext = box.encrypt(seed, nonce).ciphertext
    return SealedSeed(salt, opslimit, memlimit, nonce, bytes(ciphertext))


def open_seed(sealed: SealedSeed, passphrase: bytes) -> bytes:
    """The seed sealed in `sealed`; `WrongPassphrase` if the authenticator refuses."""
    if len(sealed.nonce) != NONCE_LENGTH:
        raise SealingError(f"nonce must be {NONCE_LENGTH} bytes, got {len(sealed.nonce)}")
    key = derive_key(passphrase, sealed.salt, sealed.opslimit, sealed.memlimit)
    try:
        return bytes(nacl.secret.SecretBox(key).decrypt(sealed.ciphertext, sealed.nonce))
    except nacl.exceptions.CryptoError as error:
        raise WrongPassphrase() from error
