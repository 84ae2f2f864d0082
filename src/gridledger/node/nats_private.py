"""Every use of nats-py's private API, in one place: `DirectClient`.

The ordering log (`node/nats_ordering.py`) reads every transaction of the chain and
publishes the ones its peer admitted, so per message it must cost as little as the
client allows. nats-py's public API builds a `Msg` per message (decoding subject and
reply, parsing headers), queues it and wakes a task that awaits a callback; and it
writes one ``HPUB`` per `publish` call. `DirectClient` skips both, through these
private parts of nats-py (2.7 to 2.16, pinned below the next minor in pyproject.toml):

- ``Client._process_msg(sid, subject, reply, data, headers)``: overridden. nats-py's
  parser (``nats.protocol.parser.Parser.parse``) awaits it for every ``MSG``/``HMSG``
  with those five values positionally. For subscriptions registered here the raw values
  go to a plain function; every other message takes nats-py's own path.
- ``Subscription._id``: the sid that ``_process_msg`` receives, to know which
  subscriptions are ours.
- ``Client._send_command(cmd)``: appends already-framed protocol bytes to the pending
  buffer, as ``publish`` does, so a batch of ``HPUB`` commands is written as one piece.
- ``Client._flush_queue`` and ``Client._flush_pending()``: kick the flusher task after
  the write, exactly as the end of ``Client.publish`` does.

`tests/network/test_nats_private.py` checks that each of these exists with the signature
used here (and does one real round trip), so a nats-py release that changes them fails
that test by name instead of stalling the log.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from nats.aio.client import Client as NatsClient
from nats.errors import ConnectionClosedError

Handler = Callable[[bytes, bytes, bytes, bytes], None]
"""Takes (subject, reply, payload, headers) of one message, raw, and must not block."""


class DirectClient(NatsClient):
    """A nats-py client that hands the messages of chosen subscriptions straight to a handler.

    For the subscriptions registered with `subscribe_direct` (by sid) the raw (subject,
    reply, payload, headers) go to a plain function instead of a `Msg`, a queue and a
    callback task. Such messages are not counted in nats-py's ``stats``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.direct: dict[int, Handler] = {}

    async def _process_msg(
        self, sid: int, subject: bytes, reply: bytes, data: bytes, headers: bytes
    ) -> None:
        handler = self.direct.get(sid)
        if handler is None:
            await super()._process_msg(sid, subject, reply, data, headers)
        else:
            handler(subject, reply, data, headers)

    async def subscribe_direct(self, subject: str, handler: Handler) -> Any:
        """Subscribe to `subject`, its messages going to `handler`; returns the subscription."""
        subscription = await self.subscribe(subject)
        self.direct[subscription._id] = handler
        return subscription

    async def unsubscribe_direct(self, subscription: Any) -> None:
        """Stop handing `subscription`'s messages to its handler, and unsubscribe (best effort)."""
        self.direct.pop(subscription._id, None)
        with contextlib.suppress(Exception):
            await subscription.unsubscribe()

    async def publish_raw(self, commands: list[bytes]) -> None:
        """Write already-framed protocol commands (``HPUB ...``) in one piece, then flush."""
        if self.is_closed:
            raise ConnectionClosedError
        await self._send_command(b"".join(commands))
        if self._flush_queue is not None and self._flush_queue.empty():
            await self._flush_pending()
