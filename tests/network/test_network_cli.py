"""`gridledger network up|status|down` with real processes, and the client failing over."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gridledger.client import HttpClient, NodeUnavailable, Wallet
from gridledger.client.replies import TransactionReply
from gridledger.node.keystore import read_key
from gridledger.node.nats_server import pid_alive
from gridledger.node.supervisor import read_state
from tests.network.harness import NetworkDir, free_port, transaction_height, wait_until
from tests.node.harness import run_cli
from tests.signing import signed_get

pytestmark = pytest.mark.slow

CONFIG = """\
chain_id: net-cli-test
servers: 3
peers: [north, south]
block_timeout_ms: 50
"""


def test_network_up_status_down_and_a_client_failing_over_between_peers(
    tmp_path: Path, network_dirs: list[Path]
) -> None:
    config = tmp_path / "network.yaml"
    config.write_text(CONFIG)
    directory = tmp_path / "net"
    network_dirs.append(directory)
    up = run_cli("network", "up", "--config", str(config), "--dir", str(directory), timeout_s=180)
    assert up.returncode == 0, up.stdout + up.stderr
    network = NetworkDir(directory)
    assert [p.name for p in network.config.peers] == ["north", "south"]
    assert len(network.config.servers) == 3

    status = run_cli("network", "status", "--dir", str(directory), "--json")
    rows = json.loads(status.stdout)
    assert [(r["role"], r["name"], r["alive"]) for r in rows] == [
        ("server", "nats1", True),
        ("server", "nats2", True),
        ("server", "nats3", True),
        ("peer", "north", True),
        ("peer", "south", True),
    ]
    assert all(r["head_height"] == 0 and r["alarm"] is None for r in rows if r["role"] == "peer")

    view = network.view("north")
    assert view["mode"] == "nats" and view["peer"] == "north"
    assert {p["name"] for p in view["peers"]} == {"north", "south"}
    assert view["peers"][0]["api_url"] == network.url("north")

    # a client given a dead URL first, then both peers, commits through the next one
    community = directory / network.config.community
    alice = read_key(community / "keys" / "alice.key")
    bob = read_key(community / "keys" / "bob.key")
    dead = f"http://127.0.0.1:{free_port()}"
    client = HttpClient(
        [dead, network.url("north"), network.url("south")], timeout_s=60, keys=alice
    )
    wallet = Wallet(alice, client)
    first = wallet.call("tokens", "transfer", {"to": bob.address, "amount_micro": 5})
    assert isinstance(first, TransactionReply) and first.code == 0
    assert wait_until(lambda: transaction_height(network.url("south"), first.id, network.reader))

    # the peer it used dies: the client goes on with the other one
    network.kill("north")
    second = wallet.call("tokens", "transfer", {"to": bob.address, "amount_micro": 6})
    assert isinstance(second, TransactionReply) and second.height > first.height
    assert client.urls[client._current] == network.url("south")
    assert wait_until(lambda: network.view("south")["head_height"] >= second.height)

    down = run_cli("network", "down", "--dir", str(directory))
    assert down.returncode == 0 and "stopped 4 processes" in down.stdout  # north was dead
    assert not any(pid_alive(pid) for pid in (r["pid"] for r in rows))
    assert read_state(directory) == []
    with pytest.raises(NodeUnavailable):
        HttpClient([network.url("south")], timeout_s=5).head()
    nothing = run_cli("network", "status", "--dir", str(directory))
    assert nothing.returncode == 1 and "no network runs" in nothing.stderr

    # every peer's chain re-verifies from genesis
    for peer in network.config.peers:
        verify = run_cli("verify", "--dir", str(directory / peer.directory))
        assert verify.returncode == 0, verify.stdout + verify.stderr


def test_bad_invocations_are_refused_with_a_reason(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("servers: 2\n")
    result = run_cli("network", "up", "--config", str(bad), "--dir", str(tmp_path / "n"))
    assert result.returncode == 1 and "servers must be 1, 3 or 5" in result.stderr
    missing = run_cli("node", "--dir", str(tmp_path), "--ordering", "nats")
    assert missing.returncode == 1 and "needs --network" in missing.stderr


def test_the_solo_node_reports_itself_as_one_final_peer(tmp_path: Path, start_node) -> None:  # type: ignore[no-untyped-def]
    from tests.node.harness import write_community

    write_community(tmp_path / "c")
    node = start_node(tmp_path / "c")
    view = signed_get(node.url + "/v1/network", timeout=10).json()
    assert view["mode"] == "solo" and view["alarm"] is None
    assert view["finalized_height"] == view["head_height"] == 0
    assert len(view["peers"]) == 1 and view["peers"][0]["agrees"] is True


def test_a_block_limit_no_peer_could_decode_is_refused(tmp_path: Path) -> None:
    from gridledger.node.network_config import NetworkConfigError, load_spec

    too_big = tmp_path / "big.yaml"
    too_big.write_text("block_bytes: 1000000000\n")
    with pytest.raises(NetworkConfigError, match="block limits: max_bytes must be 1024"):
        load_spec(too_big)
