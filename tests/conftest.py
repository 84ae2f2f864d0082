"""Shared fixtures for the node, API and CLI tests (helpers live in tests/node/harness.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.node.harness import NodeProcess

# No timing threshold in a unit test (README, "How we build"): Hypothesis's default
# 200 ms deadline per example is one, and it failed pure tests on a loaded machine.
settings.register_profile("gridledger", deadline=None)
settings.load_profile("gridledger")


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
