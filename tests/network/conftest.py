"""Fixtures of the network tests: real nats-server clusters, stopped by pid at the end."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gridledger.node.supervisor import network_down
from tests.network.harness import Cluster, SecuredCluster


@pytest.fixture
def nats_cluster(tmp_path: Path) -> Iterator[Callable[[int], Cluster]]:
    """Start a JetStream cluster of N servers (ready for replicated publishes)."""
    started: list[Cluster] = []

    def start(size: int = 1) -> Cluster:
        cluster = Cluster(tmp_path / f"nats-{len(started)}", size)
        started.append(cluster)
        return cluster.start()

    yield start
    for cluster in started:
        cluster.stop()


@pytest.fixture
def secured_cluster(tmp_path: Path) -> Iterator[Callable[..., SecuredCluster]]:
    """Start a `SecuredCluster` (TLS, nkeys) of N servers; stopped by pid at the end."""
    started: list[SecuredCluster] = []

    def start(size: int = 1, **options: object) -> SecuredCluster:
        cluster = SecuredCluster(tmp_path / f"secured-{len(started)}", size, **options)  # type: ignore[arg-type]
        started.append(cluster)
        cluster.start()
        return cluster

    yield start
    for cluster in started:
        cluster.stop()


@pytest.fixture
def network_dirs() -> Iterator[list[Path]]:
    """Network directories to bring down (by pid, from their state.json) when the test ends."""
    directories: list[Path] = []
    yield directories
    for directory in directories:
        network_down(directory)
