"""Errors raised by the node package. Each carries the values involved.

Every `NodeError` also says how a client sees it: an HTTP-like ``status``, a machine
``error`` slug and the ``values`` that go beside the message in an error body. The API and
the in-process client both answer with these (`node.refusals`), so they cannot disagree.
"""

from __future__ import annotations

from typing import Any, ClassVar


class NodeError(Exception):
    """Base of every error raised by `gridledger.node`."""

    status: ClassVar[int] = 500
    error: ClassVar[str] = "node_error"

    @property
    def values(self) -> dict[str, Any]:
        """The values an error body carries beside ``error`` and ``message``."""
        return {}


class MempoolFull(NodeError):
    status = 429
    error = "mempool_full"

    def __init__(self, pending: int, limit: int, what: str) -> None:
        self.pending = pending
        self.limit = limit
        self.what = what
        super().__init__(f"mempool is full: {pending} {what} pending, limit {limit}; retry later")

    @property
    def values(self) -> dict[str, Any]:
        return {"limit": self.limit}


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
    """No `kind` (block, transaction, member, order, ...) with that `key`.

    `message` replaces the default sentence when a better one says why; `extra` values
    (``period=...``) go into the error body beside ``kind``.
    """

    status = 404
    error = "not_found"

    def __init__(self, kind: str, key: str, message: str | None = None, **extra: Any) -> None:
        self.kind = kind
        self.key = key
        self.extra = extra
        super().__init__(message or f"no {kind} {key}")

    @property
    def values(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.extra}


class NotSettled(NodeError):
    """A settlement record of a period that is not settled yet."""

    status = 404
    error = "not_settled"

    def __init__(self, period: int, settleable_from_s: int) -> None:
        self.period = period
        self.settleable_from_s = settleable_from_s
        super().__init__(f"period {period} is not settled (it can be from {settleable_from_s} s)")

    @property
    def values(self) -> dict[str, Any]:
        return {"period": self.period}


class InvalidQuery(NodeError):
    """A read's argument `field` is out of range or malformed; `reason` says how."""

    status = 400
    error = "invalid_request"

    def __init__(self, field: str, value: Any, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}: {reason}")

    @property
    def values(self) -> dict[str, Any]:
        return {"field": self.field}


class InvalidAddress(InvalidQuery):
    """A read's argument `field` is not an address."""

    error = "invalid_address"

    def __init__(self, field: str, value: str) -> None:
        super().__init__(field, value, f"{value!r} is not an address (gl + 40 hex digits)")
