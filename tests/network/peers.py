"""In-process peers for the network tests: a `Node` and an `OrderedService` on a shared log."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

from gridledger.crypto import keypair_from_name
from gridledger.crypto.keys import KeyPair
from gridledger.ledger import Genesis
from gridledger.node import Node
from gridledger.node.attestation import PeerInfo
from gridledger.node.ordered_service import OrderedService
from gridledger.node.ordering import OrderingLog, OrderingRules

RULES = OrderingRules(max_transactions=50, timeout_ms=20)


def peer_keys(name: str) -> KeyPair:
    return keypair_from_name(f"peer-{name}", "gridledger-tests")


def peer_infos(names: Sequence[str]) -> list[PeerInfo]:
    return [PeerInfo(name, peer_keys(name).public_key) for name in names]


@dataclass
class Peer:
    name: str
    node: Node
    service: OrderedService

    @classmethod
    async def start(
        cls,
        name: str,
        genesis: Genesis,
        log: OrderingLog,
        names: Sequence[str],
        node: Node | None = None,
        rules: OrderingRules = RULES,
    ) -> Peer:
        node = node or Node.in_memory(genesis)
        service = OrderedService(node, log, rules, peer_keys(name), peer_infos(names), name)
        await service.start()
        return cls(name, node, service)

    async def stop(self) -> None:
        await self.service.stop()


async def wait_for(predicate, timeout_s: float = 30.0, what: str = "") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not within {timeout_s:.0f} s: {what}")


def same_head(peers: Sequence[Peer], height: int | None = None) -> bool:
    heads = {(p.node.head.height, p.node.head_hash) for p in peers}
    return len(heads) == 1 and (height is None or next(iter(heads))[0] >= height)
