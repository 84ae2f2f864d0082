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


def test_login_prints_a_one_time_dashboard_link_and_public_reads_warn(community: Path) -> None:
    import re

    import httpx

    from tests.node.harness import NodeProcess

    with NodeProcess(community, ["--login", "alice"]) as node:
        node.start()
        match = re.search(r"/dashboard/#login=(\S+)", node.logs().replace("\n", ""))
        assert match is not None, node.logs()
        assert f"{node.url}/dashboard/#login=" in node.logs().replace("\n", "")
        session = httpx.post(f"{node.url}/v1/auth/session", json={"login_code": match.group(1)})
        assert session.status_code == 200 and session.json()["role"] == "prosumer"
        assert httpx.get(f"{node.url}/v1/members").status_code == 401
    with NodeProcess(community, ["--public-reads"]) as node:
        node.start()
        assert "WARNING: --public-reads" in node.logs().replace("\n", " ")
        assert httpx.get(f"{node.url}/v1/members").status_code == 200
    assert "no such key file" in fails("node", "--dir", str(community), "--login", "nobody")
