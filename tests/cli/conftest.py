"""Community directories written by `gridledger init`, offline and served by a node."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.helpers import ok
from tests.node.harness import NodeProcess


@pytest.fixture
def community(tmp_path: Path) -> Path:
    directory = tmp_path / "community"
    ok("init", "--dir", str(directory), "--chain-id", "cli-test")
    return directory


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A community made by `gridledger init`, served by a `gridledger node` subprocess."""
    directory = tmp_path_factory.mktemp("served") / "community"
    ok("init", "--dir", str(directory), "--chain-id", "cli-served")
    with NodeProcess(directory, ["--block-timeout-ms", "5"]) as node:
        node.start()
        yield directory, node.url
