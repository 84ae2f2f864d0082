"""Faults survived by a real network: nats-server cluster and peers as processes on 127.0.0.1.

Each test brings a network up with `network_up` (3 JetStream servers, replicated streams,
TLS and per-peer nkeys on, as `network up` always sets them up),
drives it through the peers' HTTP APIs, injects the fault with SIGKILL, and checks the
outcome: nothing acknowledged as committed is lost, there is no fork (every peer ends on
the same head hash and state hash), and a restarted or late peer catches up from the log.
Every wait is bounded; every process is stopped by its pid when the test ends.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from gridledger.client import ClientError, HttpClient, Wallet
from gridledger.ledger import encode_transaction, make_transaction, transaction_id
from gridledger.node.keystore import read_key
from gridledger.node.nats_security import check_ordering_cluster
from gridledger.node.network_config import NetworkSpec
from gridledger.node.supervisor import network_down, network_up, restart_peer
from tests.network.harness import Load, NetworkDir, transaction_height, wait_until
from tests.node.harness import run_cli
from tests.signing import signed_get

pytestmark = pytest.mark.slow

SENDERS = ["alice", "bob", "carol", "dave"]
COMMITTED_BEFORE_FAULT = 40
COMMITTED_AFTER_FAULT = 40


def start(
    tmp_path: Path, network_dirs: list[Path], peers: list[str], **options: object
) -> NetworkDir:
    directory = tmp_path / "net"
    network_dirs.append(directory)
    spec = NetworkSpec(chain_id="faults", servers=3, peers=peers, block_timeout_ms=50, **options)  # type: ignore[arg-type]
    network_up(directory, spec)
    network = NetworkDir(directory)
    assert_secured(network)
    return network


def assert_secured(network: NetworkDir) -> None:
    """The network runs with TLS and credentials on: each peer's check of the cluster passes."""
    config = network.config
    for peer in config.peers:
        credentials = config.peer_credentials(network.directory, peer.name)
        assert credentials is not None
        check_ordering_cluster(config.nats_urls, credentials)


def check_no_loss_no_fork(network: NetworkDir, names: list[str], load: Load) -> dict[str, Any]:
    """Every peer ends on one head; every acknowledged commit is on every peer, at its height."""
    head = wait_until(lambda: network.converged(names), what="the peers to converge")
    for name in names:
        view = network.view(name)
        assert view["alarm"] is None and not view["halted"], view
    committed = dict(load.committed)
    assert committed, "the load committed nothing"
    for tx_id, height in committed.items():
        for name in names:
            assert transaction_height(network.url(name), tx_id, network.reader) == height, (
                name,
                tx_id,
            )
    return dict(head)


def verify_chains(network: NetworkDir, names: list[str]) -> None:
    network_down(network.directory)
    for name in names:
        verify = run_cli(
            "verify", "--dir", str(network.directory / network.config.peer(name).directory)
        )
        assert verify.returncode == 0, verify.stdout + verify.stderr


def test_killing_the_stream_leader_under_load_loses_nothing_and_forks_nothing(
    tmp_path: Path, network_dirs: list[Path]
) -> None:
    network = start(tmp_path, network_dirs, ["p1", "p2", "p3"])
    names = ["p1", "p2", "p3"]
    load = Load(network, SENDERS, "regulator").start()
    try:
        wait_until(lambda: load.count() >= COMMITTED_BEFORE_FAULT, what="load before the kill")
        leader = network.leader()
        network.kill(leader)
        before = load.count()
        wait_until(
            lambda: load.count() >= before + COMMITTED_AFTER_FAULT, what="commits after the kill"
        )
        assert network.leader() != leader  # a new leader was elected and serves
    finally:
        load.stop()
    head = check_no_loss_no_fork(network, names, load)
    assert int(head["height"]) >= 2
    verify_chains(network, names)


def test_a_peer_killed_in_the_middle_of_blocks_restarts_and_catches_up(
    tmp_path: Path, network_dirs: list[Path]
) -> None:
    network = start(tmp_path, network_dirs, ["p1", "p2"])
    names = ["p1", "p2"]
    load = Load(network, SENDERS, "regulator").start()
    try:
        wait_until(lambda: load.count() >= COMMITTED_BEFORE_FAULT, what="load before the kill")
        network.kill("p2")  # while blocks are being committed
        before = load.count()
        wait_until(lambda: load.count() >= before + COMMITTED_AFTER_FAULT, what="commits by p1")
        restart_peer(network.directory, "p2")
        wait_until(lambda: load.count() >= before + 2 * COMMITTED_AFTER_FAULT, what="more load")
    finally:
        load.stop()
    head = check_no_loss_no_fork(network, names, load)
    assert network.view("p2")["finalized_height"] == head["height"]
    verify_chains(network, names)


def test_a_peer_that_joins_late_replays_the_stream(
    tmp_path: Path, network_dirs: list[Path]
) -> None:
    directory = tmp_path / "net"
    network_dirs.append(directory)
    spec = NetworkSpec(chain_id="late", servers=3, peers=["p1", "p2", "late"], block_timeout_ms=50)
    network_up(directory, spec, peers=["p1", "p2"])
    network = NetworkDir(directory)
    assert_secured(network)
    load = Load(network, SENDERS[:2], "regulator").start()
    try:
        wait_until(lambda: load.count() >= COMMITTED_BEFORE_FAULT, what="load before the join")
    finally:
        load.stop()
    height = network.head("p1")["height"]
    restart_peer(directory, "late")
    head = check_no_loss_no_fork(network, ["p1", "p2", "late"], load)
    assert head["height"] == height
    view = network.view("late")
    assert view["finalized_height"] == height  # three of three attest the same blocks
    verify_chains(network, ["p1", "p2", "late"])


def test_the_same_transaction_sent_to_two_peers_is_committed_once(
    tmp_path: Path, network_dirs: list[Path]
) -> None:
    network = start(tmp_path, network_dirs, ["p1", "p2"])
    community = network.directory / network.config.community
    alice = read_key(community / "keys" / "alice.key")
    bob = read_key(community / "keys" / "bob.key")
    nonce = int(
        signed_get(f"{network.url('p1')}/v1/accounts/{alice.address}", alice, timeout=10).json()[
            "nonce"
        ]
    )
    raw = encode_transaction(
        make_transaction(
            alice, "faults", nonce, "tokens", "transfer", {"to": bob.address, "amount_micro": 9}
        )
    )
    one = HttpClient(network.url("p1"), timeout_s=60, keys=alice)
    two = HttpClient(network.url("p2"), timeout_s=60, keys=alice)
    start_together = threading.Barrier(2)

    def send(client: HttpClient) -> str:
        """The id the peer accepted, or the refusal's slug: a peer that has already
        committed the copy it read from the log refuses the second as a duplicate (409),
        which is the other correct answer (a slow machine sees either)."""
        start_together.wait(timeout=30)
        try:
            return client.submit(raw).id
        except ClientError as refused:
            assert (refused.status, refused.error) == (409, "duplicate"), refused
            return refused.error

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(send, [one, two]))
    tx_id = transaction_id(raw).hex()
    assert tx_id in answers and set(answers) <= {tx_id, "duplicate"}, answers
    for name in ("p1", "p2"):
        assert wait_until(lambda n=name: transaction_height(network.url(n), tx_id, network.reader))  # type: ignore[misc]
    # one more block after it, so a second copy would have had every chance to be applied
    later = Wallet(alice, one).call("tokens", "transfer", {"to": bob.address, "amount_micro": 1})
    assert later.status == "committed"
    wait_until(lambda: network.converged(["p1", "p2"]), what="the peers to converge")
    for url in (network.url("p1"), network.url("p2")):
        mine = signed_get(f"{url}/v1/accounts/{alice.address}/transactions", alice, timeout=10)
        mine = mine.json()
        ids = [t["id"] for t in mine["transactions"]]
        assert ids.count(tx_id) == 1 and later.id in ids
        assert (
            signed_get(f"{url}/v1/accounts/{bob.address}", bob, timeout=10).json()["balance_micro"]
            == 50_000_010
        )
    refused = httpx.post(
        f"{network.url('p2')}/v1/transactions",
        content=raw,
        headers={"content-type": "application/octet-stream"},
        timeout=10,
    )
    assert refused.status_code == 409 and refused.json()["error"] == "duplicate"
