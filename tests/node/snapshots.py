"""Helpers of the snapshot tests: peers' attestations, and a grown community to copy."""

from __future__ import annotations

import shutil
from pathlib import Path

from gridledger.crypto import KeyPair
from gridledger.ledger import Genesis
from gridledger.node import Node, SQLiteStorage
from gridledger.node.attestation import PeerInfo
from gridledger.node.snapshot import Snapshot, with_attestation
from tests.community import GENESIS_TIME_MS, address, signed_raw
from tests.node.harness import TRANSFER_CYCLE, grow_chain, write_community


def infos(keys: list[KeyPair]) -> list[PeerInfo]:
    """The network's peer list for `keys` (``peer0``, ``peer1`` ...)."""
    return [PeerInfo(f"peer{i}", k.public_key) for i, k in enumerate(keys)]


def attested(snapshot: Snapshot, keys: list[KeyPair]) -> Snapshot:
    """`snapshot` with the attestation of each of `keys` added."""
    for k in keys:
        snapshot = with_attestation(snapshot, k)
    return snapshot


def grown_community(directory: Path, blocks: int) -> tuple[Path, Genesis]:
    """A community directory whose chain has `blocks` blocks of 3 transfers."""
    genesis = write_community(directory)
    grow_chain(directory / "chain.sqlite", genesis, blocks, 3)
    return directory, genesis


def copied_chain(pristine: Path, tmp_path: Path) -> Path:
    """A copy of the community at `pristine` in `tmp_path`; its chain file's path."""
    directory = tmp_path / "community"
    shutil.copytree(pristine, directory)
    return directory / "chain.sqlite"


def ordered_chain(path: Path, genesis: Genesis, blocks: int, per_block: int = 3) -> None:
    """The chain file at `path` with `blocks` blocks committed as a ``nats`` peer commits
    them (`Node.commit_ordered`): block h closed at ordering-log sequence 10 * h."""
    node = Node.create(SQLiteStorage(path), genesis)
    nonces: dict[str, int] = {}
    try:
        for height in range(1, blocks + 1):
            raws = []
            for i in range(per_block):
                sender, recipient = TRANSFER_CYCLE[(height + i) % len(TRANSFER_CYCLE)]
                nonce = nonces.get(sender, 0)
                nonces[sender] = nonce + 1
                transfer = {"to": address(recipient), "amount_micro": 100 * height + i}
                raws.append(signed_raw(sender, nonce, "tokens", "transfer", transfer))
            node.commit_ordered(raws, GENESIS_TIME_MS + 1_000 * height, 10 * height)
    finally:
        node.close()
