"""Helpers for tests that run real nodes: community directories, chains, `gridledger node`.

A `NodeProcess` is a `gridledger node --dir D --port P` subprocess on 127.0.0.1
with a free port. Every wait is bounded; the process is stopped by its pid
(SIGTERM, then SIGKILL) when the `with` block ends, whatever happened.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from gridledger.ledger import Genesis, dump_genesis
from gridledger.node import Node, SQLiteStorage
from tests.community import GENESIS_TIME_MS, address, make_genesis, signed_raw

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


def gridledger_command() -> list[str]:
    """The installed `gridledger` script of this venv (falls back to ``python -m``-style)."""
    script = Path(sys.executable).with_name("gridledger")
    if script.exists():
        return [str(script)]
    found = shutil.which("gridledger")
    if found:
        return [found]
    return [sys.executable, "-c", "from gridledger.cli import app; app()"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_community(directory: Path, founders: dict[str, tuple[str, int]] | None = None) -> Genesis:
    """A community directory holding only ``genesis.json`` (test keys from `tests.community`)."""
    directory.mkdir(parents=True, exist_ok=True)
    genesis = make_genesis(founders)
    (directory / "genesis.json").write_bytes(dump_genesis(genesis) + b"\n")
    return genesis


TRANSFER_CYCLE = (("alice", "bob"), ("bob", "carol"), ("carol", "dave"), ("dave", "alice"))


def grow_chain(path: Path, genesis: Genesis, blocks: int, per_block: int = 3) -> list[bytes]:
    """Create the SQLite chain at `path` with `blocks` blocks of transfers; return the tx ids.

    Block timestamps are fixed, so the same call always gives the same chain.
    """
    node = Node.create(SQLiteStorage(path), genesis)
    nonces: dict[str, int] = {}
    ids: list[bytes] = []
    try:
        for height in range(1, blocks + 1):
            for i in range(per_block):
                sender, recipient = TRANSFER_CYCLE[(height + i) % len(TRANSFER_CYCLE)]
                nonce = nonces.get(sender, 0)
                nonces[sender] = nonce + 1
                raw = signed_raw(
                    sender,
                    nonce,
                    "tokens",
                    "transfer",
                    {"to": address(recipient), "amount_micro": 100 * height + i},
                )
                ids.append(node.submit(raw))
            committed = node.cut_block(GENESIS_TIME_MS + 1_000 * height)
            assert committed is not None and committed.block.header.height == height
    finally:
        node.close()
    return ids


class NodeProcess:
    """`gridledger node` as a subprocess, bound to a free port of 127.0.0.1."""

    def __init__(self, directory: Path, extra_args: Sequence[str] = (), log: Path | None = None):
        self.directory = directory
        self.extra_args = list(extra_args)
        self.log = log or directory.parent / f"{directory.name}-node.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout_s: float = START_TIMEOUT_S) -> str:
        """Start the node and wait until its API answers; return its URL."""
        for _attempt in range(3):  # another process may take the free port before the node does
            self.port = free_port()
            command = [
                *gridledger_command(),
                "node",
                "--dir",
                str(self.directory),
                "--port",
                str(self.port),
                *self.extra_args,
            ]
            with self.log.open("ab") as log:
                self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
            if self._wait_ready(timeout_s):
                return self.url
            if self.process.poll() is None:
                self.stop()
                raise AssertionError(f"node did not answer within {timeout_s} s: {self.logs()}")
        raise AssertionError(f"node exited during start-up: {self.logs()}")

    def _wait_ready(self, timeout_s: float) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if httpx.get(self.url + "/v1/head", timeout=2.0).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        return False

    def logs(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def kill(self) -> int:
        """SIGKILL the node (no chance to clean up) and reap it; return its exit status."""
        assert self.process is not None
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        return self.process.wait(timeout=STOP_TIMEOUT_S)

    def stop(self) -> None:
        """SIGTERM the node, and SIGKILL it if it does not exit in time."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT_S)

    def __enter__(self) -> NodeProcess:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def run_cli(*args: str, timeout_s: float = 60.0, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run `gridledger ARGS` as a subprocess and capture its output (wide lines, no colour)."""
    env = {**os.environ, "COLUMNS": "250", "NO_COLOR": "1", "TERM": "dumb"}
    return subprocess.run(
        [*gridledger_command(), *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
        env=env,
        **kwargs,
    )


class Output(str):
    """Command output made one line; ``in`` also ignores whitespace, because Rich wraps long
    lines at the console width (80 under pytest-xdist), even inside a long path."""

    def __contains__(self, text: object) -> bool:
        return isinstance(text, str) and "".join(text.split()) in "".join(self.split())


def one_line(text: str) -> Output:
    """`text` with every run of whitespace made one space (see `Output`)."""
    return Output(" ".join(text.split()))


__all__ = [
    "NodeProcess",
    "Output",
    "free_port",
    "grow_chain",
    "one_line",
    "run_cli",
    "write_community",
]
