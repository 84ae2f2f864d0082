"""A new peer joins from a snapshot: write, attest, check and restore the state of a chain file.

Run: ``.venv/bin/python benchmarks/snapshot_bench.py --chain PATH [--peers N]``

PATH is a chain file, e.g. the 1,000-household day kept by
``benchmarks/simulate_bench.py --out DIR`` (DIR/community/chain.sqlite). Times:

- ``write``: the peer that has the chain writes the snapshot at its head
  (`snapshot_of_chain` + `write_snapshot`), and the peers attest it (each signs);
- ``join``: the new peer reads the file, checks it (body hash, more than two thirds
  of the listed peers' attestations, the entries' state hash), stores the state
  (`restore_snapshot`), and opens the node on it (`Node.open_path`: the start-up
  check, loading the state, comparing its hash): after this it replays only later
  blocks. Target: join <= 10 s for the 1,000-household day.

Prints a summary and, as its last line, one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from gridledger.crypto import generate_keypair
from gridledger.node import Node
from gridledger.node.attestation import PeerInfo
from gridledger.node.snapshot import (
    read_snapshot,
    restore_snapshot,
    snapshot_of_chain,
    with_attestation,
    write_snapshot,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chain", type=Path, required=True)
    parser.add_argument("--peers", type=int, default=4)
    options = parser.parse_args()
    keys = [generate_keypair() for _ in range(options.peers)]
    peers = [PeerInfo(f"peer{i}", k.public_key) for i, k in enumerate(keys)]
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="gridledger-snapbench-") as scratch:
        snapshot_file = Path(scratch) / "state.glsnap"
        started = time.perf_counter()
        snapshot = snapshot_of_chain(options.chain)
        for k in keys[: 2 * options.peers // 3 + 1]:
            snapshot = with_attestation(snapshot, k)
        write_snapshot(snapshot, snapshot_file)
        write_s = time.perf_counter() - started

        started = time.perf_counter()
        head = restore_snapshot(read_snapshot(snapshot_file), peers, Path(scratch) / "new.sqlite")
        restore_s = time.perf_counter() - started
        node = Node.open_path(Path(scratch) / "new.sqlite")
        join_s = time.perf_counter() - started
        assert node.head == head
        node.close()
        figures = {
            "benchmark": "snapshot",
            "height": head.height,
            "entries": snapshot.header.entries,
            "snapshot_bytes": snapshot_file.stat().st_size,
            "new_chain_file_bytes": (Path(scratch) / "new.sqlite").stat().st_size,
            "write_s": round(write_s, 2),
            "restore_s": round(restore_s, 2),
            "join_s": round(join_s, 2),
            "target_join_s": 10,
            "load_average_before": round(load_before, 2),
            "load_average_after": round(os.getloadavg()[0], 2),
        }
    print(
        f"snapshot of block {head.height}: {figures['entries']:,} entries, "
        f"{figures['snapshot_bytes']:,} bytes; written and attested in {write_s:.1f} s; "
        f"a new peer joined in {join_s:.1f} s (restore {restore_s:.1f} s; target <= 10 s)"
    )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
