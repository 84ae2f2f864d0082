"""`gridledger network up|down|status`: a NATS cluster and several peers on 127.0.0.1.

``up`` resolves a `NetworkSpec` into ``<dir>/network.json`` (free loopback
ports, a peer key per peer under ``<dir>/keys/``, a data directory per peer with
its own copy of genesis.json and its own chain.sqlite), starts the nats-server
cluster, waits for an acknowledged replicated publish, starts one
``gridledger node --ordering nats`` process per peer and waits until each API
answers. Every process is detached (own session), logs under ``<dir>/logs/``,
and is listed with its pid in ``<dir>/state.json``. ``down`` stops them by pid
(peers first), after checking that the pid still runs the command it started.
``up`` on a directory that already has a network.json reuses it: the same ports,
keys and chains, so a network can be stopped and started again.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from gridledger.crypto import generate_keypair
from gridledger.node.community import init_community
from gridledger.node.errors import NodeError
from gridledger.node.keystore import read_key, write_key
from gridledger.node.nats_server import (
    ServerSpec,
    free_ports,
    pid_alive,
    start_server,
    stop_pid,
    wait_until_jetstream_ready,
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
    """Write network.json, keys, community and peer directories for `spec` under `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    if spec.community is not None:
        community = Path(spec.community).resolve()
        if not (community / "genesis.json").exists():
            raise NetworkError(str(community), "has no genesis.json")
    else:
        community = directory / "community"
        if not (community / "genesis.json").exists():
            init_community(community, spec.chain_id, time.time_ns() // 1_000_000)
    ports = free_ports(3 * spec.servers + len(spec.peers))
    servers = [
        ServerSpec(f"nats{i + 1}", ports[3 * i], ports[3 * i + 1], ports[3 * i + 2])
        for i in range(spec.servers)
    ]
    api_ports = ports[3 * spec.servers :]
    peers = []
    for name, api_port in zip(spec.peers, api_ports, strict=False):
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
    dump_network(config, directory / NETWORK_FILE)
    return config


def peer_command(directory: Path, config: NetworkConfig, name: str) -> list[str]:
    entry = config.peer(name)
    return [
        *gridledger_command(),
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


def start_peer(directory: Path, config: NetworkConfig, name: str) -> subprocess.Popen[bytes]:
    """Start peer `name` of the network in `directory`, detached, logging to logs/<name>.log."""
    logs = directory / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / f"{name}.log").open("ab") as output:
        return subprocess.Popen(
            peer_command(directory, config, name),
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def wait_for_api(url: str, pid: int, timeout_s: float = PEER_START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            raise NetworkError(url, f"the peer process {pid} exited during start-up")
        try:
            if httpx.get(url + "/v1/head", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass  # not listening yet: the process is alive, so wait
        time.sleep(0.1)
    raise NetworkError(url, f"the peer API did not answer within {timeout_s:.0f} s")


def network_up(
    directory: Path, spec: NetworkSpec, peers: Sequence[str] | None = None
) -> list[ProcessRecord]:
    """Start the cluster and the peers (see the module docstring); return what runs.

    `peers` names the peers to start (default: all); start the others with `restart_peer`.
    """
    directory = directory.resolve()
    if running_records(directory):
        raise NetworkError(str(directory), "a network already runs here; `network down` first")
    network_file = directory / NETWORK_FILE
    config = load_network(network_file) if network_file.exists() else None
    if config is None:
        config = resolve_network(directory, spec)
    records: list[ProcessRecord] = []
    try:
        for server in config.servers:
            process = start_server(server, config.servers, directory / "nats", new_session=True)
            records.append(ProcessRecord("server", server.name, process.pid, server.url))
            write_state(directory, records)
        wait_until_jetstream_ready(config.nats_urls, config.replicas)
        for entry in config.peers:
            if peers is not None and entry.name not in peers:
                continue
            process = start_peer(directory, config, entry.name)
            records.append(ProcessRecord("peer", entry.name, process.pid, entry.api_url))
            write_state(directory, records)
        for record in records:
            if record.role == "peer":
                wait_for_api(record.url, record.pid)
    except BaseException:
        network_down(directory)
        raise
    return records


def restart_peer(directory: Path, name: str) -> ProcessRecord:
    """Start peer `name` again (after a crash, or for the first time) and wait for its API."""
    directory = directory.resolve()
    config = load_network(directory / NETWORK_FILE)
    records = [r for r in read_state(directory) if not (r.role == "peer" and r.name == name)]
    if any(r.name == name for r in running_records(directory)):
        raise NetworkError(name, "is running already")
    process = start_peer(directory, config, name)
    record = ProcessRecord("peer", name, process.pid, config.peer(name).api_url)
    write_state(directory, [*records, record])
    wait_for_api(record.url, record.pid)
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


def runs_expected_command(record: ProcessRecord) -> bool:
    """Whether `record`'s pid is alive and still runs what we started (not a reused pid)."""
    if not pid_alive(record.pid):
        return False
    try:
        command = Path(f"/proc/{record.pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return False
    expected = b"nats-server" if record.role == "server" else b"gridledger"
    return expected in command


def running_records(directory: Path) -> list[ProcessRecord]:
    return [record for record in read_state(directory) if runs_expected_command(record)]


def network_down(directory: Path) -> list[ProcessRecord]:
    """Stop every process of the network by pid, peers first; return those stopped."""
    records = read_state(directory.resolve())
    stopped = []
    for role in ("peer", "server"):
        for record in records:
            if record.role == role and runs_expected_command(record):
                stop_pid(record.pid)
                stopped.append(record)
    state = directory.resolve() / STATE_FILE
    if state.exists():
        state.unlink()
    return stopped


def network_status(directory: Path) -> list[dict[str, Any]]:
    """Each process: alive or not; for a peer, its head, finality and alarm from /v1/network."""
    rows: list[dict[str, Any]] = []
    for record in read_state(directory.resolve()):
        row: dict[str, Any] = {**vars(record), "alive": runs_expected_command(record)}
        if record.role == "peer" and row["alive"]:
            try:
                view = httpx.get(record.url + "/v1/network", timeout=2.0).json()
                row.update(
                    head_height=view["head_height"],
                    finalized_height=view["finalized_height"],
                    alarm=view["alarm"],
                )
            except (httpx.HTTPError, ValueError, KeyError) as error:
                row["error"] = f"{type(error).__name__}: {error}"
        rows.append(row)
    return rows


def peer_keys(directory: Path, config: NetworkConfig, name: str) -> Any:
    return read_key(directory / config.peer(name).key_file)
