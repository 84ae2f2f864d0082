"""A network's configuration: what `gridledger network up` reads, and what each peer reads.

`NetworkSpec` is the user's file (YAML, TOML or JSON): how many ordering servers
and peers, the block limits, and optionally an existing community directory.
`NetworkConfig` is what ``up`` resolves it to and writes as
``<network dir>/network.json``: the servers with their loopback ports, the NATS
URLs, the ordering rules every peer must share, and each peer's name, public key,
API port, data directory and key file (paths relative to the network directory).
A peer started with ``gridledger node --ordering nats --network network.json
--peer NAME`` takes everything from it, so the peers cannot disagree on the rules.

Security (unless the spec says ``insecure: true``): the network's CA certificate
(``pki/ca.pem``), each server's certificate (``pki/<server>.pem`` and its key), each
peer's nkey seed (``creds/<peer>.nk``) and public nkey, and the operator's admin nkey.
`server_security` turns them into what a server's config admits; `peer_credentials`
into what a peer connects with.

Several machines: ``hosts`` in the spec names the host (DNS name or address) of every
server (``nats1``..) and every peer. Ports are then fixed (`NetworkSpec.client_port`
and the others) rather than chosen free on this machine, certificates carry the host
names, and each machine needs only its own files (README, "One peer per machine").
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
from gridledger.node.nats_ordering import NatsLog
from gridledger.node.nats_security import (
    ClientCredentials,
    NatsUser,
    ServerSecurity,
    admin_user,
    check_ordering_cluster,
    inbox_prefix,
    peer_user,
)
from gridledger.node.nats_server import LOOPBACK, ServerSpec
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
    hosts: dict[str, str] = field(default_factory=dict)
    """Server (nats1..) and peer name -> the host it runs on; empty: all on 127.0.0.1."""
    client_port: int = 4222
    cluster_port: int = 6222
    monitor_port: int = 8222
    api_port: int = 8545
    """The ports used with `hosts` (one server and one peer per host at most)."""
    insecure: bool = False
    """No TLS and no credentials on the ordering cluster (peers must be told so too)."""
    api_tls: bool = False
    """The peers' APIs serve HTTPS with a certificate from the network's CA."""

    def __post_init__(self) -> None:
        if self.servers not in (1, 3, 5):
            raise ValueError(f"servers must be 1, 3 or 5, got {self.servers}")
        if not self.peers or len(set(self.peers)) != len(self.peers):
            raise ValueError(f"peers must be distinct names, at least one: {self.peers}")
        for name in self.peers:
            if not name.replace("-", "").replace("_", "").isalnum():
                raise ValueError(f"peer name {name!r}: letters, digits, - and _ only")
        if self.hosts:
            self._check_hosts()
        if self.insecure and self.api_tls:
            raise ValueError("api_tls needs the network's CA, which insecure: true does without")
        try:
            check_block_limits(self.block_transactions, self.block_bytes, self.block_timeout_ms)
        except ValueError as error:
            raise ValueError(f"block limits: {error}") from error

    @property
    def rules(self) -> OrderingRules:
        return OrderingRules(self.block_transactions, self.block_bytes, self.block_timeout_ms)

    @property
    def server_names(self) -> list[str]:
        return [f"nats{i + 1}" for i in range(self.servers)]

    def _check_hosts(self) -> None:
        missing = [n for n in [*self.server_names, *self.peers] if not self.hosts.get(n)]
        if missing:
            raise ValueError(f"hosts: every server and peer needs a host; missing {missing}")
        for kind, names in (("servers", self.server_names), ("peers", self.peers)):
            hosts = [self.hosts[name] for name in names]
            shared = sorted({host for host in hosts if hosts.count(host) > 1})
            if shared:
                raise ValueError(f"hosts: two {kind} on {shared} would share ports; one each")

    def host(self, name: str) -> str:
        return self.hosts.get(name, LOOPBACK)


@dataclass(frozen=True)
class PeerEntry:
    name: str
    public_key: str
    """Hex of the peer's Ed25519 attestation key."""
    api_port: int
    directory: str
    """The peer's data directory (genesis.json, chain.sqlite), relative to the network dir."""
    key_file: str
    host: str = LOOPBACK
    nkey: str | None = None
    """The peer's public NATS user nkey (``U...``); None in an insecure network."""
    nkey_file: str | None = None
    """Its seed file, relative to the network dir (on the peer's machine only)."""
    api_cert_file: str | None = None
    api_key_file: str | None = None
    """The API's TLS certificate and key, when the API serves HTTPS."""

    @property
    def api_url(self) -> str:
        scheme = "https" if self.api_cert_file else "http"
        return f"{scheme}://{self.host}:{self.api_port}"


@dataclass(frozen=True)
class NetworkConfig:
    chain_id: str
    servers: list[ServerSpec]
    rules: OrderingRules
    peers: list[PeerEntry]
    community: str
    """The community directory (genesis.json, member keys), relative to the network dir."""
    ca_file: str | None = None
    """The CA certificate every client pins (None: an insecure network)."""
    admin_nkey: str | None = None
    admin_nkey_file: str | None = None
    """The operator's nkey (public, and its seed file), admitted with every permission."""

    @property
    def secured(self) -> bool:
        return self.ca_file is not None

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

    def users(self) -> tuple[NatsUser, ...]:
        """Every user the servers admit: the admin, and each peer with its permissions."""
        users = [admin_user(self.admin_nkey)] if self.admin_nkey else []
        users += [
            peer_user(p.name, p.nkey, self.chain_id, p.public_key) for p in self.peers if p.nkey
        ]
        return tuple(users)

    def server_security(self, name: str) -> ServerSecurity | None:
        """Server `name`'s TLS files (``pki/<name>.pem``) and users; None when insecure."""
        if self.ca_file is None:
            return None
        pki = Path(self.ca_file).parent
        return ServerSecurity(
            self.ca_file, str(pki / f"{name}.pem"), str(pki / f"{name}-key.pem"), self.users()
        )

    def peer_credentials(self, directory: Path, name: str) -> ClientCredentials | None:
        """What peer `name` connects with (files under `directory`); None if it has none."""
        entry = self.peer(name)
        if self.ca_file is None or entry.nkey_file is None:
            return None
        return ClientCredentials(
            directory / self.ca_file, directory / entry.nkey_file, inbox_prefix(name)
        )

    def admin_credentials(self, directory: Path) -> ClientCredentials | None:
        if self.ca_file is None or self.admin_nkey_file is None:
            return None
        return ClientCredentials(directory / self.ca_file, directory / self.admin_nkey_file)


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


def peer_ordering_log(
    config: NetworkConfig, directory: Path, peer: str, insecure: bool = False
) -> NatsLog:
    """The ordering log peer `peer` connects to, with its own TLS CA and nkey.

    Refuses (`InsecureOrdering`) a peer without credentials, or a cluster that answers
    without TLS first or without requiring credentials, unless `insecure` (which says
    so in a WARNING). `directory` holds network.json; the files are relative to it.
    """
    credentials = config.peer_credentials(directory, peer)
    check_ordering_cluster(config.nats_urls, credentials, insecure)
    options = {} if credentials is None else credentials.connect_options()
    return NatsLog(config.nats_urls, config.chain_id, config.replicas, peer, options)
