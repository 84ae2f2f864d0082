"""Key files and the demo community: what `gridledger init` writes.

A key file is JSON with the 32-byte Ed25519 seed in hex, readable by its owner
only (mode 0600). Losing it loses the identity; anyone who reads it can sign
as that member.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from gridledger.crypto import KeyPair, generate_keypair, keypair_from_seed
from gridledger.ledger import Genesis, GenesisMember, dump_genesis

DEMO_MEMBERS = (
    # name, role, opening balance in micro-units (1 unit = 1,000,000 micro)
    ("regulator", "regulator", 0),
    ("operator", "operator", 0),
    ("alice", "prosumer", 50_000_000),
    ("bob", "consumer", 50_000_000),
    ("carol", "producer", 20_000_000),
    ("dave", "storage", 30_000_000),
)

DEMO_PARAMETERS: dict[str, dict[str, object]] = {
    "tokens": {"issuer_roles": ["operator"]},
}


class KeyFileError(Exception):
    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def write_key(directory: Path, name: str, keys: KeyPair) -> Path:
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


def init_community(directory: Path, chain_id: str, genesis_time_ms: int) -> Genesis:
    """Write keys and a genesis document for the demo community into `directory`."""
    if (directory / "genesis.json").exists():
        raise KeyFileError(directory / "genesis.json", "already exists; choose another directory")
    members = []
    for name, role, balance in DEMO_MEMBERS:
        keys = generate_keypair()
        write_key(directory / "keys", name, keys)
        meter_keys: list[str] = []
        if role in ("prosumer", "producer", "consumer", "storage"):
            meter = generate_keypair()
            write_key(directory / "keys", f"{name}-meter", meter)
            meter_keys.append(meter.public_key.hex())
        members.append(
            GenesisMember(
                name=name,
                role=role,
                public_key=keys.public_key.hex(),
                balance_micro=balance,
                meter_keys=meter_keys,
            )
        )
    genesis = Genesis(
        chain_id=chain_id,
        genesis_time_ms=genesis_time_ms,
        members=members,
        parameters=DEMO_PARAMETERS,
    )
    (directory / "genesis.json").write_bytes(dump_genesis(genesis) + b"\n")
    return genesis
