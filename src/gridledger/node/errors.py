"""Errors raised by the node package. Each carries the values involved."""

from __future__ import annotations


class NodeError(Exception):
    """Base of every error raised by `gridledger.node`."""


class MempoolFull(NodeError):
    def __init__(self, pending: int, limit: int, what: str) -> None:
        self.pending = pending
        self.limit = limit
        self.what = what
        super().__init__(f"mempool is full: {pending} {what} pending, limit {limit}; retry later")


class StorageError(NodeError):
    """The data directory cannot be used as it is."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class CorruptChain(NodeError):
    """What is stored does not re-verify; `height` names the first bad block.

    `path`, when given, names the chain file: a node refuses to start on it.
    """

    def __init__(self, height: int, reason: str, path: str | None = None) -> None:
        self.height = height
        self.reason = reason
        self.path = path
        where = f"{path}: the chain is damaged, refusing to start: " if path else ""
        super().__init__(f"{where}block {height}: {reason}")


class NotFound(NodeError):
    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"no {kind} {key}")
