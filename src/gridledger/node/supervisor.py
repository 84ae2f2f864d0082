"""`gridledger network up|down|status`: a NATS cluster and several peers on 127.0.0.1.

``up`` resolves a `NetworkSpec` into ``<dir>/network.json`` (free loopback
ports, a peer key per peer under ``<dir>/keys/``, a data directory per peer with
its own copy of genesis.json and its own chain.sqlite), starts the nats-server
cluster, waits for an acknowledged replicated publish, starts one
``gridledger node --ordering nats`` process per peer and waits until each API
answers. Every process is detached (own session), logs under ``<dir>/logs/``,
and is listed with its pid in ``<dir>/state.json``. ``down`` stops every process of
the network by pid, peers first: those listed, and those restarted by hand, found by
their pid files and by the directory their command line names
(`node/network_processes.py`); a pid is signalled only while its command line names
the directory.
``up`` on a directory that already has a network.json reuses it: the same ports,
keys and chains, so a network can be stopped and started again.

Unless the spec says ``insecure: true``, `resolve_network` also makes the network's
PKI (`node/pki.py`): a CA under ``pki/``, a certificate per server (and per peer API
with ``api_tls``), an nkey per peer and one for the operator under ``creds/``; the
servers then require TLS and those nkeys, and each peer connects with its own.
``init`` (`network_init`) only resolves, for a network whose ``hosts`` put servers
and peers on other machines: it writes every server's config too, for copying.
"""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx

from gridledger.client.signing import RequestSigner
from gridledger.crypto import KeyPair, generate_keypair
from gridledger.node import pki
from gridledger.node.community import init_community
from gridledger.node.errors import NodeError
from gridledger.node.keystore import KeyFileError, PassphraseSource, read_key, write_key
from gridledger.node.nats_security import INSECURE_OPTION
from gridledger.node.nats_server import (
    LOOPBACK,
    ServerSpec,
    free_ports,
    pid_alive,
    start_server,
    stop_pid,
    wait_until_jetstream_ready,
    write_server_config,
)
from gridledger.node.network_config import (
    NETWORK_FILE,
    STATE_FILE,
    NetworkConfig,
    NetworkSpec,
    PeerEntry,
    dump_network,
    load_network,
)
from gridledger.node.network_processes import (
    NetworkProcess,
    network_processes,
    process_role,
    remove_pid_files,
)

PEER_START_TIMEOUT_S = 60.0


class NetworkError(NodeError):
    def __init__(self, what: str, reason: str) -> None:
        self.what = what
        self.reason = reason
        super().__init__(f"{what}: {reason}")


@dataclass(frozen=True)
class ProcessRecord:
    role: str
    """``server`` or ``peer``."""
    name: str
    pid: int
    url: str


def gridledger_command() -> list[str]:
    """How to run `gridledger` from this interpreter (the venv's script, else ``-m``)."""
    script = Path(sys.executable).with_name("gridledger")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "gridledger.cli"]


def resolve_network(directory: Path, spec: NetworkSpec) -> NetworkConfig:
    """Write network.json, keys, credentials, community and peer directories for `spec`."""
    directory.mkdir(parents=True, exist_ok=True)
    if spec.community is not None:
        community = Path(spec.community).resolve()
        if not (community / "genesis.json").exists():
            raise NetworkError(str(community), "has no genesis.json")
    else:
        community = directory / "community"
        if not (community / "genesis.json").exists():
            init_community(community, spec.chain_id, time.time_ns() // 1_000_000)
    servers, api_ports = network_ports(spec)
    peers = []
    for name, api_port in zip(spec.peers, api_ports, strict=True):
        keys = generate_keypair()
        key_file = write_key(directory / "keys", f"peer-{name}", keys)
        peer_directory = directory / "peers" / name
        peer_directory.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(community / "genesis.json", peer_directory / "genesis.json")
        peers.append(
            PeerEntry(
                name=name,
                public_key=keys.public_key.hex(),
                api_port=api_port,
                directory=str(peer_directory.relative_to(directory)),
                key_file=str(key_file.relative_to(directory)),
                host=spec.host(name),
            )
        )
    chain_id = json.loads((community / "genesis.json").read_text())["chain_id"]
    config = NetworkConfig(
        chain_id=chain_id,
        servers=servers,
        rules=spec.rules,
        peers=peers,
        community=str(community if spec.community else community.relative_to(directory)),
    )
    if not spec.insecure:
        config = make_credentials(directory, config, spec.api_tls)
    dump_network(config, directory / NETWORK_FILE)
    return config


def network_ports(spec: NetworkSpec) -> tuple[list[ServerSpec], list[int]]:
    """The servers and the peers' API ports: free loopback ports, or fixed ones with `hosts`."""
    if spec.hosts:
        servers = [
            ServerSpec(
                name, spec.client_port, spec.cluster_port, spec.monitor_port, spec.host(name)
            )
            for name in spec.server_names
        ]
        return servers, [spec.api_port] * len(spec.peers)
    ports = free_ports(3 * spec.servers + len(spec.peers))
    servers = [
        ServerSpec(name, ports[3 * i], ports[3 * i + 1], ports[3 * i + 2])
        for i, name in enumerate(spec.server_names)
    ]
    return servers, ports[3 * spec.servers :]


def make_credentials(directory: Path, config: NetworkConfig, api_tls: bool) -> NetworkConfig:
    """The CA, server certificates, nkeys (and API certificates) of `config`, recorded in it."""
    ca = pki.create_ca(directory / "pki", f"gridledger {config.chain_id} ordering CA")
    for server in config.servers:
        pki.issue_certificate(ca, directory / "pki", server.name, [server.host])
    peers = []
    for entry in config.peers:
        seed = directory / "creds" / f"{entry.name}.nk"
        entry = replace(
            entry, nkey=pki.create_nkey(seed), nkey_file=str(seed.relative_to(directory))
        )
        if api_tls:
            files = pki.issue_certificate(ca, directory / "pki", f"api-{entry.name}", [entry.host])
            entry = replace(
                entry,
                api_cert_file=str(files.cert_file.relative_to(directory)),
                api_key_file=str(files.key_file.relative_to(directory)),
            )
        peers.append(entry)
    admin = directory / "creds" / "admin.nk"
    return replace(
        config,
        peers=peers,
        ca_file=str(ca.cert_file.relative_to(directory)),
        admin_nkey=pki.create_nkey(admin),
        admin_nkey_file=str(admin.relative_to(directory)),
    )


def network_init(directory: Path, spec: NetworkSpec) -> NetworkConfig:
    """Resolve `spec` into `directory` and write every server's config, starting nothing.

    For a network on several machines: each machine then gets its own files (README).
    Server configs name their files relative to the network directory, where they run.
    """
    directory = directory.resolve()
    if (directory / NETWORK_FILE).exists():
        raise NetworkError(str(directory / NETWORK_FILE), "exists already; choose another --dir")
    config = resolve_network(directory, spec)
    for server in config.servers:
        write_server_config(
            server,
            config.servers,
            directory / "nats",
            config.server_security(server.name),
            store_directory=f"nats/{server.name}",
        )
    return config


def peer_command(
    directory: Path, config: NetworkConfig, name: str, passphrase_file: Path | None = None
) -> list[str]:
    """The command line of peer `name`; `passphrase_file` opens its key if that is encrypted
    (a ``$GRIDLEDGER_PASSPHRASE_FILE`` in the environment reaches the peer by inheritance)."""
    entry = config.peer(name)
    passphrase = [] if passphrase_file is None else ["--passphrase-file", str(passphrase_file)]
    command = [
        *gridledger_command(),
        *passphrase,
        "node",
        "--dir",
        str(directory / entry.directory),
        "--port",
        str(entry.api_port),
        "--ordering",
        "nats",
        "--network",
        str(directory / NETWORK_FILE),
        "--peer",
        name,
    ]
    if not config.secured:
        command.append(INSECURE_OPTION)
    if entry.api_cert_file and entry.api_key_file:
        command += [
            "--tls-cert",
            str(directory / entry.api_cert_file),
            "--tls-key",
            str(directory / entry.api_key_file),
        ]
    return command


def start_peer(
    directory: Path, config: NetworkConfig, name: str, passphrase_file: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start peer `name` of the network in `directory`, detached, logging to logs/<name>.log."""
    logs = directory / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / f"{name}.log").open("ab") as output:
        return subprocess.Popen(
            peer_command(directory, config, name, passphrase_file),
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def api_verify(directory: Path, config: NetworkConfig) -> ssl.SSLContext | bool:
    """What httpx should verify a peer's API certificate with: the network's CA, if any."""
    if config.ca_file is None:
        return True
    return ssl.create_default_context(cafile=str(directory / config.ca_file))


def wait_for_api(
    url: str,
    pid: int,
    timeout_s: float = PEER_START_TIMEOUT_S,
    verify: ssl.SSLContext | bool = True,
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            raise NetworkError(url, f"the peer process {pid} exited during start-up")
        try:
            if httpx.get(url + "/v1/head", timeout=2.0, verify=verify).status_code == 200:
                return
        except httpx.TransportError:
            pass  # not listening yet: the process is alive, so wait
        time.sleep(0.1)
    raise NetworkError(url, f"the peer API did not answer within {timeout_s:.0f} s")


def network_up(
    directory: Path,
    spec: NetworkSpec,
    peers: Sequence[str] | None = None,
    passphrase_file: Path | None = None,
) -> list[ProcessRecord]:
    """Start the cluster and the peers (see the module docstring); return what runs.

    `peers` names the peers to start (default: all); start the others with `restart_peer`.
    `passphrase_file` is handed to every peer for its key, if that is encrypted.
    """
    if passphrase_file is not None:
        passphrase_file = passphrase_file.resolve()
    directory = directory.resolve()
    if running_records(directory) or network_processes(directory):
        raise NetworkError(str(directory), "a network already runs here; `network down` first")
    network_file = directory / NETWORK_FILE
    config = load_network(network_file) if network_file.exists() else None
    if config is None:
        config = resolve_network(directory, spec)
    remote = [s.name for s in config.servers if s.host != LOOPBACK]
    remote += [p.name for p in config.peers if p.host != LOOPBACK]
    if remote:
        raise NetworkError(
            str(directory), f"{remote} run on other hosts: start each on its own machine (README)"
        )
    admin = config.admin_credentials(directory)
    records: list[ProcessRecord] = []
    try:
        for server in config.servers:
            process = start_server(
                server,
                config.servers,
                directory / "nats",
                new_session=True,
                security=config.server_security(server.name),
                working_directory=directory,
            )
            records.append(ProcessRecord("server", server.name, process.pid, server.url))
            write_state(directory, records)
        options = None if admin is None else admin.connect_options()
        wait_until_jetstream_ready(config.nats_urls, config.replicas, options=options)
        for entry in config.peers:
            if peers is not None and entry.name not in peers:
                continue
            process = start_peer(directory, config, entry.name, passphrase_file)
            records.append(ProcessRecord("peer", entry.name, process.pid, entry.api_url))
            write_state(directory, records)
        for record in records:
            if record.role == "peer":
                wait_for_api(record.url, record.pid, verify=api_verify(directory, config))
    except BaseException:
        network_down(directory)
        raise
    return records


def restart_peer(directory: Path, name: str, passphrase_file: Path | None = None) -> ProcessRecord:
    """Start peer `name` again (after a crash, or for the first time) and wait for its API."""
    directory = directory.resolve()
    config = load_network(directory / NETWORK_FILE)
    records = [r for r in read_state(directory) if not (r.role == "peer" and r.name == name)]
    running: list[ProcessRecord | NetworkProcess] = [
        *running_records(directory),
        *network_processes(directory),
    ]
    if any(r.name == name for r in running if r.role == "peer"):
        raise NetworkError(name, "is running already")
    process = start_peer(
        directory, config, name, None if passphrase_file is None else passphrase_file.resolve()
    )
    record = ProcessRecord("peer", name, process.pid, config.peer(name).api_url)
    write_state(directory, [*records, record])
    wait_for_api(record.url, record.pid, verify=api_verify(directory, config))
    return record


def write_state(directory: Path, records: list[ProcessRecord]) -> None:
    rows = [vars(record) for record in records]
    (directory / STATE_FILE).write_text(json.dumps({"processes": rows}, indent=2) + "\n")


def read_state(directory: Path) -> list[ProcessRecord]:
    try:
        rows = json.loads((directory / STATE_FILE).read_text())["processes"]
    except FileNotFoundError:
        return []
    return [ProcessRecord(**row) for row in rows]


def runs_expected_command(record: ProcessRecord, directory: Path) -> bool:
    """Whether `record`'s pid is alive and still runs what we started (not a reused pid):
    a server or a peer whose command line names `directory`."""
    if not pid_alive(record.pid):
        return False
    found = process_role(record.pid, directory.resolve())
    return found is not None and found.role == record.role


def running_records(directory: Path) -> list[ProcessRecord]:
    return [record for record in read_state(directory) if runs_expected_command(record, directory)]


def network_down(directory: Path) -> list[NetworkProcess]:
    """Stop every process of the network by pid, peers first (see the module docstring);
    return those stopped."""
    directory = directory.resolve()
    known = [record.pid for record in read_state(directory)]
    stopped = []
    for process in network_processes(directory, known):
        stop_pid(process.pid)
        stopped.append(process)
    state = directory / STATE_FILE
    if state.exists():
        state.unlink()
    remove_pid_files(directory)
    return stopped


def network_status(
    directory: Path, passphrase: PassphraseSource | None = None
) -> list[dict[str, Any]]:
    """Each process: alive or not; for a peer, its head, finality and alarm from /v1/network,
    read signed with the peer's own key (opened with `passphrase` if encrypted)."""
    rows: list[dict[str, Any]] = []
    directory = directory.resolve()
    records = read_state(directory)
    config = load_network(directory / NETWORK_FILE) if records else None
    verify = api_verify(directory, config) if config is not None else True
    for record in records:
        row: dict[str, Any] = {**vars(record), "alive": runs_expected_command(record, directory)}
        if record.role == "peer" and row["alive"] and config is not None:
            try:  # read as the peer itself: a consortium peer is an auditor of every peer
                signer = RequestSigner(peer_keys(directory, config, record.name, passphrase))
                view = httpx.get(
                    record.url + "/v1/network", timeout=2.0, verify=verify, auth=signer
                ).json()
                row.update(
                    head_height=view["head_height"],
                    finalized_height=view["finalized_height"],
                    alarm=view["alarm"],
                )
            except (httpx.HTTPError, ValueError, KeyError, KeyFileError) as error:
                row["error"] = f"{type(error).__name__}: {error}"
        rows.append(row)
    return rows


def peer_keys(
    directory: Path, config: NetworkConfig, name: str, passphrase: PassphraseSource | None = None
) -> KeyPair:
    return read_key(directory / config.peer(name).key_file, passphrase)
