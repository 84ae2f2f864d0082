"""A network's configuration: what `gridledger network up` reads, and what each peer reads.

`NetworkSpec` is the user's file (YAML, TOML or JSON): how many ordering servers
and peers, the block limits, and optionally an existing community directory.
`NetworkConfig` is what ``up`` resolves it to and writes as
``<network dir>/network.json``: the servers with their loopback ports, the NATS
URLs, the ordering rules every peer must share, and each peer's name, public key,
API port, data directory and key file (paths relative to the network directory).
A peer started with ``gridledger node --ordering nats --network network.json
--peer NAME`` takes everything from it, so the peers cannot disagree on the rules.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import yaml

from gridledger.node.attestation import PeerInfo
from gridledger.node.errors import NodeError
from gridledger.node.nats_server import ServerSpec
from gridledger.node.ordering import OrderingRules, check_block_limits

NETWORK_FILE = "network.json"
STATE_FILE = "state.json"


class NetworkConfigError(NodeError):
    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


@dataclass(frozen=True)
class NetworkSpec:
    """The user's description of a network (every field has a default)."""

    chain_id: str = "gridledger-net"
    servers: int = 3
    """nats-server processes in the JetStream cluster (1, 3 or 5)."""
    peers: list[str] = field(default_factory=lambda: ["peer1", "peer2"])
    block_transactions: int = 2000
    block_bytes: int = 4 * 1024 * 1024
    block_timeout_ms: int = 100
    community: str | None = None
    """A directory with genesis.json and keys/ to use (default: a new demo community)."""

    def __post_init__(self) -> None:
        if self.servers not in (1, 3, 5):
            raise ValueError(f"servers must be 1, 3 or 5, got {self.servers}")
        if not self.peers or len(set(self.peers)) != len(self.peers):
            raise ValueError(f"peers must be distinct names, at least one: {self.peers}")
        for name in self.peers:
            if not name.replace("-", "").replace("_", "").isalnum():
                raise ValueError(f"peer name {name!r}: letters, digits, - and _ only")
        try:
            check_block_limits(self.block_transactions, self.block_bytes, self.block_timeout_ms)
        except ValueError as error:
            raise ValueError(f"block limits: {error}") from error

    @property
    def rules(self) -> OrderingRules:
        return OrderingRules(self.block_transactions, self.block_bytes, self.block_timeout_ms)


@dataclass(frozen=True)
class PeerEntry:
    name: str
    public_key: str
    """Hex of the peer's Ed25519 attestation key."""
    api_port: int
    directory: str
    """The peer's data directory (genesis.json, chain.sqlite), relative to the network dir."""
    key_file: str

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"


@dataclass(frozen=True)
class NetworkConfig:
    chain_id: str
    servers: list[ServerSpec]
    rules: OrderingRules
    peers: list[PeerEntry]
    community: str
    """The community directory (genesis.json, member keys), relative to the network dir."""

    @property
    def nats_urls(self) -> list[str]:
        return [server.url for server in self.servers]

    @property
    def replicas(self) -> int:
        return len(self.servers)

    def peer(self, name: str) -> PeerEntry:
        for entry in self.peers:
            if entry.name == name:
                return entry
        known = ", ".join(p.name for p in self.peers)
        raise NetworkConfigError(name, f"no such peer in the network (peers: {known})")

    def peer_infos(self) -> list[PeerInfo]:
        return [PeerInfo(p.name, bytes.fromhex(p.public_key), p.api_url) for p in self.peers]


def load_spec(path: Path) -> NetworkSpec:
    """Read a `NetworkSpec` from YAML (.yaml/.yml), TOML (.toml) or JSON."""
    try:
        text = path.read_text()
        raw: Any
        if path.suffix in (".yaml", ".yml"):
            raw = yaml.safe_load(text) or {}
        elif path.suffix == ".toml":
            raw = tomllib.loads(text)
        else:
            raw = json.loads(text)
        if isinstance(raw.get("peers"), int):
            raw["peers"] = [f"peer{i + 1}" for i in range(raw["peers"])]
        return msgspec.convert(raw, NetworkSpec)
    except FileNotFoundError as error:
        raise NetworkConfigError(str(path), "no such file") from error
    except (ValueError, AttributeError, yaml.YAMLError, msgspec.ValidationError) as error:
        raise NetworkConfigError(str(path), f"not a network description ({error})") from error


def load_network(path: Path) -> NetworkConfig:
    try:
        return msgspec.json.decode(path.read_bytes(), type=NetworkConfig)
    except FileNotFoundError as error:
        raise NetworkConfigError(str(path), "no such file; run `gridledger network up`") from error
    except (ValueError, msgspec.ValidationError) as error:
        raise NetworkConfigError(str(path), f"not a network.json ({error})") from error


def dump_network(config: NetworkConfig, path: Path) -> None:
    path.write_bytes(msgspec.json.format(msgspec.json.encode(config)) + b"\n")
