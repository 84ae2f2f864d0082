"""A community directory: ``genesis.json`` and a key file per founding member and meter.

This is the one writer of communities. `gridledger init` and `gridledger demo`
write the demo community (fresh random keys), simulations write their scenario's
households (keys derived from the scenario, so a rerun writes the same bytes),
the bench writes its funded accounts, and `gridledger network up` a community
for its peers; each describes its founders and lets `write_community` write them.

The directory is an ordinary gridledger community: ``gridledger node --dir``
serves it and ``gridledger verify --dir`` re-checks its chain. A founder with
personal registration data has only its digests in genesis; the data itself goes
to the regulator's registry (``registry.sqlite``, `gridledger.node.registry`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gridledger.contracts.policies import default_policies
from gridledger.crypto import KeyPair, generate_keypair
from gridledger.crypto.disclosure import Disclosure
from gridledger.ledger import Genesis, GenesisMember, dump_genesis, validate_genesis
from gridledger.node.keystore import KeyFileError, write_key
from gridledger.node.registry import REGISTRY_FILE, PersonalDataRegistry

GENESIS_FILE = "genesis.json"
KEYS_DIRECTORY = "keys"

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
DEMO_TREASURER = "alice"
"""The member who holds the third key of the demo's issuer and grid policies."""
METERED_ROLES = ("prosumer", "producer", "consumer", "storage")
"""Roles whose demo members get a smart meter (and its key)."""


@dataclass(frozen=True)
class Founder:
    """A member written into genesis, with the keys written beside it."""

    name: str
    role: str
    keys: KeyPair
    balance_micro: int = 0
    """Opening balance in micro-units."""
    meter: KeyPair | None = None
    """Its smart meter's key, bound in genesis and written as ``NAME-meter.key``."""
    registration: Mapping[str, Any] = field(default_factory=dict)
    """Technical registration fields, in genesis in the clear."""
    disclosures: Sequence[Disclosure] = ()
    """Its personal registration fields: digests in genesis, the rest in the registry."""


def founding_genesis(
    chain_id: str,
    genesis_time_ms: int,
    founders: Sequence[Founder],
    parameters: Mapping[str, Any],
) -> Genesis:
    """The genesis document of `founders`, in their order."""
    members = [
        GenesisMember(
            name=founder.name,
            role=founder.role,
            public_key=founder.keys.public_key.hex(),
            balance_micro=founder.balance_micro,
            meter_keys=[] if founder.meter is None else [founder.meter.public_key.hex()],
            registration=dict(founder.registration),
            registration_commitments={d.field: d.digest for d in founder.disclosures},
        )
        for founder in founders
    ]
    return Genesis(
        chain_id=chain_id,
        genesis_time_ms=genesis_time_ms,
        members=members,
        parameters=dict(parameters),
    )


def write_community(directory: Path, genesis: Genesis, founders: Sequence[Founder]) -> None:
    """Write every founder's key files and ``genesis.json`` into `directory`.

    Refuses, before it writes anything: a directory that already holds a genesis or
    one of the key files, a genesis that would not load (`GenesisError`, naming the
    field), and founders that are not members of `genesis` with the same public key
    (their key files would sign for nobody).
    """
    validate_genesis(genesis)
    genesis_file = directory / GENESIS_FILE
    if genesis_file.exists():
        raise KeyFileError(genesis_file, "already exists; choose another directory")
    members = {member.name: member.public_key for member in genesis.members}
    for founder in founders:
        if members.get(founder.name) != founder.keys.public_key.hex():
            raise KeyFileError(genesis_file, f"founder {founder.name!r} is not in this genesis")
    key_files = [(founder.name, founder.keys) for founder in founders] + [
        (f"{founder.name}-meter", founder.meter) for founder in founders if founder.meter
    ]
    keys = directory / KEYS_DIRECTORY
    for name, _ in key_files:
        if (keys / f"{name}.key").exists():
            raise KeyFileError(keys / f"{name}.key", "already exists; refusing to overwrite a key")
    directory.mkdir(parents=True, exist_ok=True)
    for name, pair in key_files:
        write_key(keys, name, pair)
    if any(founder.disclosures for founder in founders):
        registry = PersonalDataRegistry(directory / REGISTRY_FILE)
        try:
            for founder in founders:
                if founder.disclosures:
                    registry.store(
                        founder.keys.address, founder.disclosures, genesis.genesis_time_ms
                    )
        finally:
            registry.close()
    genesis_file.write_bytes(dump_genesis(genesis) + b"\n")


def demo_founders() -> list[Founder]:
    """The demo community's members with fresh keys; the trading ones have a meter."""
    return [
        Founder(
            name,
            role,
            generate_keypair(),
            balance,
            generate_keypair() if role in METERED_ROLES else None,
        )
        for name, role, balance in DEMO_MEMBERS
    ]


def init_community(
    directory: Path,
    chain_id: str,
    genesis_time_ms: int,
    lifetime_days: int = 0,
    certificates: bool = False,
) -> Genesis:
    """Write the demo community into `directory`: what `gridledger init` writes.

    The currency issuer and the grid account are policy accounts: 2 of the operator, the
    regulator and the treasurer (`DEMO_TREASURER`) sign for them. `lifetime_days` > 0 makes
    the currency time-attributed (seed 004 §3.4); `certificates` switches on certificates of
    origin. Both are named in genesis only when chosen.
    """
    founders = demo_founders()
    by_name = {founder.name: founder.keys for founder in founders}
    parameters: dict[str, Any] = {name: dict(section) for name, section in DEMO_PARAMETERS.items()}
    parameters["policies"] = default_policies(
        by_name["operator"].public_key,
        by_name["regulator"].public_key,
        by_name[DEMO_TREASURER].public_key,
    )
    if lifetime_days:
        parameters["tokens"]["lifetime_days"] = lifetime_days
    if certificates:
        parameters["certificates"] = {"enabled": True}
    genesis = founding_genesis(chain_id, genesis_time_ms, founders, parameters)
    write_community(directory, genesis, founders)
    return genesis
