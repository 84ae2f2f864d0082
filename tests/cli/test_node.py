"""`gridledger node`: what it refuses, as a real subprocess (serving is tested in tests/api
and tests/dashboard, the nats peer side in tests/network)."""

from __future__ import annotations

from pathlib import Path

from tests.cli.helpers import fails
from tests.node.harness import free_port, one_line, run_cli


def test_a_directory_without_genesis_is_one_clear_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli("node", "--dir", str(empty), "--port", str(free_port()))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "genesis.json not found" in one_line(result.stderr)


def test_bad_options_are_refused_before_anything_starts(community: Path) -> None:
    directory = str(community)
    assert "--ordering must be solo or nats" in fails("node", "--dir", directory, "--ordering", "x")
    assert "needs --network" in fails("node", "--dir", directory, "--ordering", "nats")
    missing = str(community / "nowhere")
    assert "not a directory" in fails("node", "--dir", directory, "--results", missing)
