"""Shared fixtures for the node, API and CLI tests (helpers live in tests/node/harness.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.node.harness import NodeProcess


@pytest.fixture
def start_node() -> Iterator[Callable[..., NodeProcess]]:
    """Start `gridledger node --dir D ARGS` and wait for its API; every node started is
    stopped by its pid when the test ends, whatever happened."""
    started: list[NodeProcess] = []

    def start(directory: Path, *args: str) -> NodeProcess:
        node = NodeProcess(directory, args)
        started.append(node)
        node.start()
        return node

    yield start
    for node in started:
        node.stop()
