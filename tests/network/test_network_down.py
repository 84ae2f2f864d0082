"""`gridledger network down` stops every process of the network (issue 16, defect 9): those
`up` started, and a server and a peer restarted by hand (with paths relative to the network
directory), found by their pid files and by the directory their command line names; and
never a process that is not the network's, even when a stale pid file names it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gridledger.node.nats_server import nats_server_binary, pid_alive, stop_pid
from gridledger.node.network_config import NetworkSpec
from gridledger.node.supervisor import (
    api_verify,
    gridledger_command,
    network_up,
    wait_for_api,
)
from tests.network.harness import NetworkDir, wait_until
from tests.node.harness import run_cli


def by_hand(command: list[str], directory: Path, log: str) -> subprocess.Popen[bytes]:
    """Start `command` in `directory`, detached, as an operator would from a shell there."""
    with (directory / "logs" / log).open("ab") as output:
        return subprocess.Popen(
            command,
            cwd=directory,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def test_down_stops_processes_restarted_by_hand_and_nothing_else(
    tmp_path: Path, network_dirs: list[Path]
) -> None:
    directory = tmp_path / "net"
    network_dirs.append(directory)
    spec = NetworkSpec(chain_id="down", servers=3, peers=["p1", "p2"], block_timeout_ms=50)
    network_up(directory, spec)
    network = NetworkDir(directory)
    config = network.config
    started = {name: network.pid(name) for name in ("nats1", "nats2", "nats3", "p1", "p2")}

    network.kill("nats1")
    server = by_hand(
        [str(nats_server_binary()), "-c", "nats/nats1.conf"], network.directory, "nats1-hand.log"
    )
    network.kill("p2")
    p2 = config.peer("p2")
    peer = by_hand(
        [
            *gridledger_command(),
            "node",
            "--dir",
            p2.directory,
            "--port",
            str(p2.api_port),
            "--ordering",
            "nats",
            "--network",
            "network.json",
            "--peer",
            "p2",
        ],
        network.directory,
        "p2-hand.log",
    )
    decoys = [
        # names the directory, but is neither a nats-server nor a gridledger node
        subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(120)", str(directory / "nats")],
            start_new_session=True,
        ),
        # a gridledger-looking process of another directory
        subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(120)", "gridledger", "node"],
            start_new_session=True,
        ),
    ]
    try:
        wait_for_api(p2.api_url, peer.pid, verify=api_verify(network.directory, config))
        stale = network.directory / "run"
        stale.mkdir(exist_ok=True)
        (stale / "peer-ghost.pid").write_text(f"{decoys[0].pid}\n")
        (network.directory / "nats" / "ghost.pid").write_text(f"{decoys[1].pid}\n")

        result = run_cli("network", "down", "--dir", str(directory), timeout_s=120)
        assert result.returncode == 0, result.stdout + result.stderr
        for name, pid in {**started, "nats1 by hand": server.pid, "p2 by hand": peer.pid}.items():
            wait_until(lambda p=pid: not pid_alive(p), 15, f"{name} ({pid}) to stop")  # type: ignore[misc]
        assert all(decoy.poll() is None for decoy in decoys), "a process not ours was stopped"
        assert "stopped 5 processes" in result.stdout, result.stdout
    finally:
        for process in (server, peer, *decoys):
            if process.poll() is None:
                stop_pid(process.pid)
            process.wait(timeout=15)
