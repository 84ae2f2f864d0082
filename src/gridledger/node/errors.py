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


class ChainBehind(NodeError):
    """The chain file lacks blocks this node acknowledged as committed (a silent rollback)."""

    def __init__(
        self, path: str, acknowledged_height: int, stored_height: int | None, forked: bool = False
    ) -> None:
        self.path = path
        self.acknowledged_height = acknowledged_height
        self.stored_height = stored_height
        self.forked = forked
        if forked:
            what = f"holds another block {acknowledged_height} than the one acknowledged"
        elif stored_height is None:
            what = "holds no blocks"
        else:
            lost = acknowledged_height - stored_height
            what = f"ends at block {stored_height}: {lost} acknowledged block(s) are lost"
        super().__init__(
            f"{path}: block {acknowledged_height} was acknowledged as committed, but the chain "
            f"{what} (a truncated write-ahead log, or an older copy of the file?); refusing to "
            "start. To serve the chain as it is, start once with --accept-rollback (recorded "
            "in the .rollbacks file beside it); a nats peer then reads the lost blocks again "
            "from the stream"
        )


class NotFound(NodeError):
    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"no {kind} {key}")
