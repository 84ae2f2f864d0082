"""A peer whose key file is encrypted: it starts only when given the passphrase file."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridledger.node.keystore import encrypt_key_file
from gridledger.node.network_config import NetworkSpec
from gridledger.node.supervisor import NetworkError, network_down, network_up, resolve_network
from tests.network.harness import NetworkDir

pytestmark = pytest.mark.slow


def test_a_peer_with_an_encrypted_key_needs_the_passphrase_file(
    tmp_path: Path, network_dirs: list[Path]
) -> None:
    directory = (tmp_path / "net").resolve()
    network_dirs.append(directory)
    spec = NetworkSpec(chain_id="sealed", servers=1, peers=["north"], block_timeout_ms=50)
    config = resolve_network(directory, spec)
    key_file = directory / config.peer("north").key_file
    encrypt_key_file(key_file, b"peer passphrase", cost="interactive")
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("peer passphrase\n")
    passphrase.chmod(0o600)

    with pytest.raises(NetworkError, match="exited during start-up"):
        network_up(directory, spec)
    log = (directory / "logs" / "north.log").read_text()
    assert f"{key_file}: is encrypted; give its passphrase with --passphrase-file" in log
    assert "Traceback" not in log

    network_up(directory, spec, passphrase_file=passphrase)
    view = NetworkDir(directory).view("north")
    assert view["peer"] == "north" and view["alarm"] is None
    network_down(directory)
