"""Real nats-server clusters and `gridledger network` directories for the network tests.

Every server and peer is a real process on 127.0.0.1 with free ports; every wait is
bounded; everything started is stopped by its pid when the test ends.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import nats

from gridledger.crypto import KeyPair
from gridledger.node.nats_ordering import NatsLog
from gridledger.node.nats_server import (
    cluster_specs,
    pid_alive,
    start_server,
    stop_pid,
    wait_until_jetstream_ready,
)
from gridledger.node.network_config import NETWORK_FILE, NetworkConfig, load_network
from gridledger.node.supervisor import read_state
from tests.signing import signed_get

WAIT_S = 90.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], Any], timeout_s: float = WAIT_S, what: str = "") -> Any:
    """Poll `predicate` until it returns something true; fail naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout_s:.0f} s: {what} (last: {last!r})")


class Cluster:
    """`size` nats-servers with JetStream, routed to each other, in `directory`."""

    def __init__(self, directory: Path, size: int = 1) -> None:
        self.directory = directory
        self.specs = cluster_specs(size, prefix="n")
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def urls(self) -> list[str]:
        return [spec.url for spec in self.specs]

    def start(self) -> Cluster:
        for spec in self.specs:
            self.processes[spec.name] = start_server(spec, self.specs, self.directory)
        wait_until_jetstream_ready(self.urls, len(self.specs))
        return self

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                stop_pid(process.pid)
            process.wait(timeout=10)


def ordering_log(cluster_urls: list[str], chain_id: str, replicas: int = 1) -> NatsLog:
    return NatsLog(cluster_urls, chain_id, replicas, name="test")


async def stream_leader(urls: list[str], stream: str, options: dict[str, Any] | None = None) -> str:
    """The server leading `stream` (asked with `options`: the admin's TLS and nkey, if secured)."""
    client = await nats.connect(
        servers=urls, connect_timeout=2, max_reconnect_attempts=2, **(options or {})
    )
    try:
        info = await client.jetstream(timeout=5).stream_info(stream)
        assert info.cluster is not None and info.cluster.leader
        return str(info.cluster.leader)
    finally:
        await client.close()


class NetworkDir:
    """A `gridledger network` directory: its config, state, peers' URLs and views."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()

    @property
    def config(self) -> NetworkConfig:
        return load_network(self.directory / NETWORK_FILE)

    def pid(self, name: str) -> int:
        for record in read_state(self.directory):
            if record.name == name:
                return record.pid
        raise KeyError(name)

    def url(self, name: str) -> str:
        return self.config.peer(name).api_url

    def kill(self, name: str) -> None:
        """SIGKILL process `name` (a server or a peer) and wait until it has gone."""
        pid = self.pid(name)
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not pid_alive(pid), 10, f"{name} ({pid}) to die")

    @property
    def reader(self) -> KeyPair:
        """A consortium peer's key, an auditor that every peer answers (reads are signed);
        the community's regulator when the peers' keys are encrypted."""
        from gridledger.node.keystore import KeyFileError, read_key

        try:
            return read_key(self.directory / self.config.peers[0].key_file)
        except KeyFileError:
            community = self.directory / self.config.community
            return read_key(community / "keys" / "regulator.key")

    def view(self, name: str) -> dict[str, Any]:
        return dict(signed_get(self.url(name) + "/v1/network", self.reader, timeout=5).json())

    def head(self, name: str) -> dict[str, Any]:
        return dict(httpx.get(self.url(name) + "/v1/head", timeout=5).json())

    def leader(self) -> str:
        """The name of the server leading the ordering stream."""
        config = self.config
        from gridledger.node.nats_ordering import chain_token

        stream = f"GL_{chain_token(config.chain_id)}_ORDER"
        admin = config.admin_credentials(self.directory)
        options = None if admin is None else admin.connect_options()
        return asyncio.run(stream_leader(config.nats_urls, stream, options))

    def converged(self, names: list[str]) -> dict[str, Any] | None:
        """The common head if every peer in `names` has the same head and nothing pending."""
        try:
            views = {name: self.view(name) for name in names}
            heads = {name: self.head(name) for name in names}
        except httpx.HTTPError:
            return None
        if any(v["pending"] for v in views.values()):
            return None
        if len({(h["height"], h["hash"], h["state_hash"]) for h in heads.values()}) != 1:
            return None
        return next(iter(heads.values()))


class Load:
    """Signed transfers sent to a network from threads, one sender each, until stopped.

    Each sender submits with ``wait=true`` through an `HttpClient` that fails over between
    all the peers, and records every transaction the network acknowledged as committed
    (id -> height). Refusals and unavailability are expected during faults: the sender
    resynchronises its nonce and goes on.
    """

    def __init__(self, network: NetworkDir, senders: list[str], to: str) -> None:
        from gridledger.node.keystore import read_key

        self.network = network
        community = network.directory / network.config.community
        self.keys = {name: read_key(community / "keys" / f"{name}.key") for name in senders}
        self.to = read_key(community / "keys" / f"{to}.key").address
        self.urls = [peer.api_url for peer in network.config.peers]
        self.committed: dict[str, int] = {}
        self.refusals: list[str] = []
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._send, args=(name,), daemon=True) for name in senders
        ]

    def start(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=120)
        assert not any(t.is_alive() for t in self._threads), "a load thread did not stop"
        assert not self.errors, self.errors

    def count(self) -> int:
        with self._lock:
            return len(self.committed)

    def _send(self, name: str) -> None:
        from gridledger.client import ClientError, HttpClient, Wallet
        from gridledger.client.replies import TransactionReply

        client = HttpClient(self.urls, timeout_s=60, keys=self.keys[name])
        wallet = Wallet(self.keys[name], client)
        amount = 1
        try:
            while not self._stop.is_set():
                try:
                    view = wallet.call(
                        "tokens",
                        "transfer",
                        {"to": self.to, "amount_micro": amount},
                        timeout_ms=30_000,
                    )
                except ClientError as error:  # unavailable, refused: expected around faults
                    with self._lock:
                        self.refusals.append(str(error))
                    wallet.resync()
                    time.sleep(0.2)
                    continue
                amount += 1
                if isinstance(view, TransactionReply):
                    with self._lock:
                        self.committed[view.id] = view.height
                else:
                    wallet.resync()
        except BaseException as error:  # pragma: no cover - reported by stop()
            self.errors.append(error)
        finally:
            client.close()


def transaction_height(url: str, transaction_id: str, reader: KeyPair) -> int | None:
    response = signed_get(f"{url}/v1/transactions/{transaction_id}", reader, timeout=10)
    if response.status_code == 404:
        return None
    body = response.json()
    return int(body["height"]) if body.get("status") == "committed" else None


class SecuredCluster(Cluster):
    """A `Cluster` with the network's PKI: TLS-first clients, mutual-TLS routes, nkey users.

    Users: ``admin`` (everything) and one peer per name in `peers`, with the permissions of
    `peer_user` for chain `chain_id` (attestation key: the peer test key). `users=False`
    leaves out authorization (TLS only, anyone admitted).
    """

    def __init__(
        self,
        directory: Path,
        size: int = 1,
        chain_id: str = "secured",
        peers: tuple[str, ...] = ("p1", "p2"),
        users: bool = True,
    ) -> None:
        from gridledger.node import pki
        from gridledger.node.nats_security import admin_user, peer_user
        from tests.network.peers import peer_keys

        super().__init__(directory, size)
        self.ca = pki.create_ca(directory / "pki", "test ordering CA")
        self.chain_id = chain_id
        admin = pki.create_nkey(directory / "creds" / "admin.nk")
        found = [admin_user(admin)]
        for name in peers:
            nkey = pki.create_nkey(directory / "creds" / f"{name}.nk")
            found.append(peer_user(name, nkey, chain_id, peer_keys(name).public_key.hex()))
        self.users = tuple(found) if users else ()

    def credentials(self, name: str) -> Any:
        from gridledger.node.nats_security import ClientCredentials, inbox_prefix

        inbox = "_INBOX" if name == "admin" else inbox_prefix(name)
        return ClientCredentials(self.ca.cert_file, self.directory / "creds" / f"{name}.nk", inbox)

    def start(self) -> Cluster:
        from gridledger.node import pki
        from gridledger.node.nats_security import ServerSecurity

        for spec in self.specs:
            files = pki.issue_certificate(self.ca, self.directory / "pki", spec.name)
            security = ServerSecurity(
                str(self.ca.cert_file), str(files.cert_file), str(files.key_file), self.users
            )
            self.processes[spec.name] = start_server(
                spec, self.specs, self.directory, security=security
            )
        options = self.credentials("admin").connect_options()
        if not any(user.name == "admin" for user in self.users):
            options.pop("nkeys_seed")
        wait_until_jetstream_ready(self.urls, len(self.specs), options=options)
        return self
