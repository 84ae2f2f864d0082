"""The README's "One peer per machine", played on one machine with one loopback address each.

``network init`` writes everything on the administrator's machine; each "machine" (a
directory, and an address of 127.0.0.0/8) gets only the files the README lists for it;
servers start with ``nats-server -c nats/<name>.conf`` inside it, peers with the README's
``gridledger node`` command, serving HTTPS. Every process is stopped by its pid.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest

from gridledger.ledger import encode_transaction, make_transaction
from gridledger.node.keystore import read_key
from gridledger.node.nats_server import (
    free_ports,
    nats_server_binary,
    stop_pid,
    wait_until_jetstream_ready,
)
from gridledger.node.network_config import load_network
from tests.network.harness import wait_until
from tests.node.harness import gridledger_command, run_cli

pytestmark = pytest.mark.slow

HOSTS = {"nats1": "127.0.0.2", "nats2": "127.0.0.3", "nats3": "127.0.0.4"}
PEERS = {"north": "127.0.0.2", "south": "127.0.0.3"}


def machine_files(role: str, name: str) -> list[str]:
    """The files the README tells the operator to copy to a machine running `name`."""
    shared = ["network.json", "pki/ca.pem"]
    if role == "server":
        return [*shared, f"nats/{name}.conf", f"pki/{name}.pem", f"pki/{name}-key.pem"]
    return [
        *shared,
        f"creds/{name}.nk",
        f"keys/peer-{name}.key",
        f"pki/api-{name}.pem",
        f"pki/api-{name}-key.pem",
        f"peers/{name}/genesis.json",
    ]


def copy_to_machine(source: Path, machine: Path, files: list[str]) -> Path:
    target = machine / "net"
    for relative in files:
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / relative, target / relative)  # keeps 0600
    return target


def test_a_network_initialised_on_one_machine_runs_with_one_server_and_peer_per_host(
    tmp_path: Path,
) -> None:
    client_port, cluster_port, monitor_port, api_port = free_ports(4)
    hosts = "\n".join(f"  {name}: {host}" for name, host in {**HOSTS, **PEERS}.items())
    config = tmp_path / "pilot.yaml"
    config.write_text(
        f"chain_id: pilot\nservers: 3\npeers: [north, south]\napi_tls: true\n"
        f"client_port: {client_port}\ncluster_port: {cluster_port}\n"
        f"monitor_port: {monitor_port}\napi_port: {api_port}\nhosts:\n{hosts}\n"
    )
    admin = tmp_path / "admin" / "net"
    init = run_cli("network", "init", "--config", str(config), "--dir", str(admin))
    assert init.returncode == 0, init.stdout + init.stderr
    network = load_network(admin / "network.json")
    assert [s.url for s in network.servers] == [
        f"nats://{host}:{client_port}" for host in HOSTS.values()
    ]
    refused = run_cli("network", "up", "--dir", str(admin))
    assert refused.returncode == 1 and "start each on its own machine" in refused.stderr

    processes: list[subprocess.Popen[bytes]] = []
    try:
        for name in HOSTS:
            net = copy_to_machine(admin, tmp_path / name, machine_files("server", name))
            with (net / f"{name}.log").open("wb") as log:
                processes.append(
                    subprocess.Popen(
                        [str(nats_server_binary()), "-c", f"nats/{name}.conf"],
                        cwd=net,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        credentials = network.admin_credentials(admin)
        assert credentials is not None
        wait_until_jetstream_ready(network.nats_urls, 3, options=credentials.connect_options())

        for name, host in PEERS.items():
            machine = tmp_path / name
            net = copy_to_machine(admin, machine, machine_files("peer", name))
            assert (net / f"creds/{name}.nk").stat().st_mode & 0o777 == 0o600
            command = [
                *gridledger_command(),
                "node",
                "--ordering",
                "nats",
                "--network",
                "net/network.json",
                "--peer",
                name,
                "--dir",
                f"net/peers/{name}",
                "--host",
                host,
                "--port",
                str(api_port),
                "--tls-cert",
                f"net/pki/api-{name}.pem",
                "--tls-key",
                f"net/pki/api-{name}-key.pem",
            ]
            with (machine / "peer.log").open("wb") as log:
                processes.append(
                    subprocess.Popen(command, cwd=machine, stdout=log, stderr=subprocess.STDOUT)
                )

        trusted = ssl.create_default_context(cafile=str(admin / "pki" / "ca.pem"))
        urls = [f"https://{host}:{api_port}" for host in PEERS.values()]

        def answers(url: str) -> bool:
            try:
                return httpx.get(url + "/v1/head", timeout=2, verify=trusted).status_code == 200
            except httpx.TransportError:
                return False

        for url, machine in zip(urls, PEERS, strict=True):
            wait_until(
                lambda url=url, machine=machine: (
                    answers(url)  # type: ignore[misc]
                    or (tmp_path / machine / "peer.log").read_text().count("error:") > 0
                ),
                what=f"{url} to answer",
            )
            assert answers(url), (tmp_path / machine / "peer.log").read_text()

        alice = read_key(admin / "community" / "keys" / "alice.key")
        bob = read_key(admin / "community" / "keys" / "bob.key")
        raw = encode_transaction(
            make_transaction(
                alice, "pilot", 0, "tokens", "transfer", {"to": bob.address, "amount_micro": 7}
            )
        )
        answer = httpx.post(
            urls[0] + "/v1/transactions?wait=true",
            content=raw,
            headers={"content-type": "application/octet-stream"},
            timeout=60,
            verify=trusted,
        ).json()
        assert answer["status"] == "committed", answer

        def same_head() -> bool:
            heads = [httpx.get(u + "/v1/head", timeout=5, verify=trusted).json() for u in urls]
            return heads[0]["height"] >= 1 and heads[0]["hash"] == heads[1]["hash"]

        wait_until(same_head, 60, "both peers to commit the same block")
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                stop_pid(process.pid)
            process.wait(timeout=15)
