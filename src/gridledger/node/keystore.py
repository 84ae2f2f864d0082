"""Key files: one JSON file per key, ``keys/NAME.key`` in a community directory.

Losing a key file loses the identity; anyone who reads it can sign as that member.
So key files are the owner's alone:

- they are created with mode 0600 in one step (``O_CREAT | O_EXCL``, never
  written first and restricted afterwards), and a ``keys/`` directory the
  project creates is 0700;
- a key file that group or others may access (any of the mode bits 0077) is
  refused when read, naming the file, its mode and the fix (``chmod 600 FILE``),
  as ssh refuses such a private key;
- a key path that is itself a symbolic link is refused (``O_NOFOLLOW``): a link
  planted in ``keys/`` could make a node sign with, or write over, a file
  elsewhere. Directories on the way may be links; point ``-k`` at the real file
  (or copy it) instead of linking it.

Two formats, told apart by their fields:

plain (the original, unchanged byte for byte: simulations write the same bytes
for the same scenario)::

    {"name": ..., "seed": "<32 bytes hex>", "public_key": "<hex>", "address": "gl..."}

encrypted, version 1 (the seed sealed by `gridledger.crypto.sealing`: Argon2id,
then XSalsa20-Poly1305)::

    {"name": ..., "public_key": "<hex>", "address": "gl...",
     "encrypted": {"version": 1, "kdf": "argon2id13", "opslimit": 3,
                   "memlimit": 268435456, "salt": "<16 bytes hex>",
                   "cipher": "xsalsa20poly1305", "nonce": "<24 bytes hex>",
                   "ciphertext": "<48 bytes hex: seed + Poly1305 tag>"}}

The public key and address of an encrypted file are readable without the
passphrase (``keys list``, ``keys show``); once opened, the seed must give that
public key or the file is refused.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gridledger.crypto import KeyPair, SealedSeed, SealingError, keypair_from_seed, open_seed
from gridledger.crypto.keys import address_of
from gridledger.crypto.sealing import COSTS, DEFAULT_COST, seal_seed

KEY_FILE_MODE = 0o600
KEY_DIRECTORY_MODE = 0o700
ENCRYPTION_VERSION = 1
KDF = "argon2id13"
CIPHER = "xsalsa20poly1305"

PassphraseSource = Callable[[Path], bytes]
"""Called with an encrypted key file's path; answers its passphrase (see node/passphrase.py)."""


class KeyFileError(Exception):
    """A key or community file that cannot be read, or must not be overwritten."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class NotAKeyFile(KeyFileError):
    """A file that does not hold a gridledger key (bad JSON, missing or malformed fields)."""


class PassphraseRequired(KeyFileError):
    """An encrypted key file was read without a passphrase source."""


class PassphraseRefused(KeyFileError):
    """The passphrase does not open the key file (or its sealed part was altered)."""


@dataclass(frozen=True)
class KeyInfo:
    """What a key file says about itself without its seed (no passphrase needed)."""

    path: Path
    name: str
    public_key: bytes
    address: str
    encrypted: bool


def read_private_file(path: Path, follow_symlinks: bool = False, what: str = "key file") -> bytes:
    """The bytes of a secret file that only its owner may access (mode 0600 or tighter).

    Opened first and checked on the open descriptor (``fstat``), so the file checked is
    the file read. Refuses a symbolic link unless `follow_symlinks`.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK  # a FIFO planted there must not hang the read
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(path, flags)
    except FileNotFoundError as error:
        raise KeyFileError(path, f"no such {what}") from error
    except OSError as error:
        if error.errno == errno.ELOOP and not follow_symlinks:
            raise KeyFileError(
                path, f"is a symbolic link; a {what} must be a regular file (give its real path)"
            ) from error
        raise KeyFileError(path, f"cannot read the {what} ({error.strerror})") from error
    with os.fdopen(descriptor, "rb") as file:
        status = os.fstat(file.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise KeyFileError(path, f"not a regular file; a {what} must be one")
        mode = stat.S_IMODE(status.st_mode)
        if os.name == "posix" and mode & 0o077:
            raise KeyFileError(
                path,
                f"group or others may access this {what} (mode {mode:04o}); "
                f"it must be its owner's alone: run `chmod 600 {path}`",
            )
        return file.read()


def _decode(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        content = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise NotAKeyFile(path, f"not a gridledger key file ({error})") from error
    if not isinstance(content, dict):
        raise NotAKeyFile(path, "not a gridledger key file (not a JSON object)")
    return content


def _hex_field(path: Path, content: dict[str, Any], field: str, length: int) -> bytes:
    try:
        value = bytes.fromhex(content[field])
    except KeyError as error:
        raise NotAKeyFile(path, f"not a gridledger key file (no {field!r})") from error
    except (ValueError, TypeError) as error:
        raise NotAKeyFile(path, f"not a gridledger key file ({field!r} is not hex)") from error
    if len(value) != length:
        raise NotAKeyFile(path, f"{field!r} must be {length} bytes, got {len(value)}")
    return value


def _sealed(path: Path, content: dict[str, Any]) -> SealedSeed:
    box = content["encrypted"]
    if not isinstance(box, dict) or box.get("version") != ENCRYPTION_VERSION:
        version = box.get("version") if isinstance(box, dict) else None
        raise NotAKeyFile(
            path, f"encrypted key format version {version!r}; this gridledger reads version 1"
        )
    if box.get("kdf") != KDF or box.get("cipher") != CIPHER:
        raise NotAKeyFile(
            path, f"encrypted with {box.get('kdf')}/{box.get('cipher')}, not {KDF}/{CIPHER}"
        )
    opslimit, memlimit = box.get("opslimit"), box.get("memlimit")
    if not isinstance(opslimit, int) or not isinstance(memlimit, int):
        raise NotAKeyFile(path, "opslimit and memlimit must be integers")
    return SealedSeed(
        salt=_hex_field(path, box, "salt", 16),
        opslimit=opslimit,
        memlimit=memlimit,
        nonce=_hex_field(path, box, "nonce", 24),
        ciphertext=_hex_field(path, box, "ciphertext", 48),
    )


def _public_key(path: Path, content: dict[str, Any]) -> bytes:
    if "encrypted" in content:
        return _hex_field(path, content, "public_key", 32)
    keys = keypair_from_seed(_hex_field(path, content, "seed", 32))
    if content.get("public_key") not in (None, keys.public_key.hex()):
        raise NotAKeyFile(path, "public key does not match the seed")
    return keys.public_key


def key_info(path: Path) -> KeyInfo:
    """Name, public key and address of a key file, and whether it is encrypted."""
    content = _decode(path, read_private_file(path))
    public_key = _public_key(path, content)
    return KeyInfo(
        path,
        str(content.get("name", path.stem)),
        public_key,
        address_of(public_key),
        "encrypted" in content,
    )


def read_key(path: Path, passphrase: PassphraseSource | None = None) -> KeyPair:
    """The key pair in `path`; an encrypted one is opened with the passphrase `passphrase` gives."""
    content = _decode(path, read_private_file(path))
    if "encrypted" not in content:
        seed = _hex_field(path, content, "seed", 32)
    else:
        sealed = _sealed(path, content)
        if passphrase is None:
            raise PassphraseRequired(
                path, "is encrypted; give its passphrase (--passphrase-file FILE)"
            )
        try:
            seed = open_seed(sealed, passphrase(path))
        except SealingError as error:
            raise PassphraseRefused(path, error.reason) from error
    keys = keypair_from_seed(seed)
    if content.get("public_key") not in (None, keys.public_key.hex()):
        raise NotAKeyFile(path, "public key does not match the seed")
    return keys


def key_path(directory: Path, name_or_path: str) -> Path:
    """A key file by path (``*.key`` or an existing file), or by name in `directory/keys`."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".key" or candidate.exists():
        return candidate
    return directory / "keys" / f"{name_or_path}.key"


def find_key(
    directory: Path, name_or_path: str, passphrase: PassphraseSource | None = None
) -> KeyPair:
    """A key by file path, or by name in `directory/keys`."""
    return read_key(key_path(directory, name_or_path), passphrase)


# -- writing ----------------------------------------------------------------------------------


def plain_content(name: str, keys: KeyPair) -> bytes:
    """The bytes of a plain key file (as every gridledger has written them)."""
    content = {
        "name": name,
        "seed": keys.seed.hex(),
        "public_key": keys.public_key.hex(),
        "address": keys.address,
    }
    return json.dumps(content, indent=2).encode()


def encrypted_content(
    name: str, keys: KeyPair, passphrase: bytes, cost: str = DEFAULT_COST
) -> bytes:
    """The bytes of an encrypted key file (format version 1), at a named libsodium `cost`."""
    opslimit, memlimit = COSTS[cost]
    sealed = seal_seed(keys.seed, passphrase, opslimit, memlimit)
    content = {
        "name": name,
        "public_key": keys.public_key.hex(),
        "address": keys.address,
        "encrypted": {
            "version": ENCRYPTION_VERSION,
            "kdf": KDF,
            "opslimit": sealed.opslimit,
            "memlimit": sealed.memlimit,
            "salt": sealed.salt.hex(),
            "cipher": CIPHER,
            "nonce": sealed.nonce.hex(),
            "ciphertext": sealed.ciphertext.hex(),
        },
    }
    return json.dumps(content, indent=2).encode()


def _create_private(path: Path, content: bytes, sync: bool = False) -> None:
    """Create `path` with mode 0600 from the first byte on; fails if anything is there
    (a symbolic link included). `sync`: on disk before returning."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
        if sync:
            file.flush()
            os.fsync(file.fileno())


def make_key_directory(directory: Path) -> None:
    """Create `directory` (0700) for key files if it does not exist; parents as usual."""
    directory.mkdir(mode=KEY_DIRECTORY_MODE, parents=True, exist_ok=True)


def write_key(
    directory: Path,
    name: str,
    keys: KeyPair,
    passphrase: bytes | None = None,
    cost: str = DEFAULT_COST,
) -> Path:
    """Write ``directory/NAME.key`` (mode 0600), encrypted under `passphrase` if one is given
    (never on disk in plain form then); refuse to overwrite an existing key."""
    make_key_directory(directory)
    path = directory / f"{name}.key"
    if path.exists() or path.is_symlink():
        raise KeyFileError(path, "already exists; refusing to overwrite a key")
    if passphrase is None:
        content = plain_content(name, keys)
    else:
        content = encrypted_content(name, keys, passphrase, cost)
    try:
        _create_private(path, content)
    except FileExistsError as error:
        raise KeyFileError(path, "already exists; refusing to overwrite a key") from error
    return path


def replace_key_file(path: Path, content: bytes) -> None:
    """Replace the key file `path` by `content` atomically: a 0600 file beside it, renamed over."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        _create_private(temporary, content, sync=True)
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def encrypt_key_file(path: Path, passphrase: bytes, cost: str = DEFAULT_COST) -> KeyInfo:
    """Encrypt the plain key file `path` in place under `passphrase`."""
    info = key_info(path)
    if info.encrypted:
        raise KeyFileError(path, "is encrypted already")
    keys = read_key(path)
    replace_key_file(path, encrypted_content(info.name, keys, passphrase, cost))
    return key_info(path)


def decrypt_key_file(path: Path, passphrase: PassphraseSource) -> KeyInfo:
    """Write the encrypted key file `path` back as a plain one (the same bytes as before)."""
    info = key_info(path)
    if not info.encrypted:
        raise KeyFileError(path, "is not encrypted")
    keys = read_key(path, passphrase)
    replace_key_file(path, plain_content(info.name, keys))
    return key_info(path)
