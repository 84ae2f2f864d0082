"""What a client raises when a node refuses a request or cannot be reached."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class ClientError(Exception):
    """The node refused a request: HTTP ``status``, machine ``error`` slug, the ``message``,
    and the whole error ``body`` (``error``, ``message`` and the values the error carries,
    such as ``expected`` and ``got`` of a nonce mismatch)."""

    def __init__(self, status: int, error: str, message: str, body: dict[str, Any] | None = None):
        self.status = status
        self.error = error
        self.message = message
        self.body = body or {"error": error, "message": message}
        super().__init__(f"{error} ({status}): {message}")

    @property
    def values(self) -> dict[str, Any]:
        """The body's values beside ``error`` and ``message``."""
        return {k: v for k, v in self.body.items() if k not in ("error", "message")}


class NodeUnavailable(ClientError):
    """No node answered at any of the URLs tried (status 0)."""

    def __init__(self, urls: Sequence[str], reason: str) -> None:
        self.urls = list(urls)
        self.reason = reason
        super().__init__(0, "unavailable", f"no node answered at {', '.join(urls)}: {reason}")
