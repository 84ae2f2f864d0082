"""Key files: one JSON file per key, ``keys/NAME.key`` in a community directory.

A key file holds the 32-byte Ed25519 seed in hex, with the public key and address
beside it for people to read, and is readable by its owner only (mode 0600).
Losing it loses the identity; anyone who reads it can sign as that member.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from gridledger.crypto import KeyPair, keypair_from_seed


class KeyFileError(Exception):
    """A key or community file that cannot be read, or must not be overwritten."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def write_key(directory: Path, name: str, keys: KeyPair) -> Path:
    """Write ``directory/NAME.key`` (mode 0600); refuse to overwrite an existing key."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.key"
    if path.exists():
        raise KeyFileError(path, "already exists; refusing to overwrite a key")
    content = {
        "name": name,
        "seed": keys.seed.hex(),
        "public_key": keys.public_key.hex(),
        "address": keys.address,
    }
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(content, file, indent=2)
    return path


def read_key(path: Path) -> KeyPair:
    try:
        content = json.loads(path.read_text())
        keys = keypair_from_seed(bytes.fromhex(content["seed"]))
    except FileNotFoundError as error:
        raise KeyFileError(path, "no such key file") from error
    except (ValueError, KeyError, TypeError) as error:
        raise KeyFileError(path, f"not a gridledger key file ({error})") from error
    if content.get("public_key") not in (None, keys.public_key.hex()):
        raise KeyFileError(path, "public key does not match the seed")
    return keys


def find_key(directory: Path, name_or_path: str) -> KeyPair:
    """A key by file path, or by name in `directory/keys`."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".key" or candidate.exists():
        return read_key(candidate)
    return read_key(directory / "keys" / f"{name_or_path}.key")
