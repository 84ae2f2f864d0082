"""`NatsLog`: the ordering log (`node/ordering.py`) on a NATS JetStream cluster.

Two streams per chain, replicated on every server of the cluster (file storage):

- ``GL_<chain>_ORDER`` on ``gl.<chain>.order.tx`` (transactions, message id =
  transaction id) and ``gl.<chain>.order.cut`` (cut markers, message id
  ``cut-<chain>-<h>``). It keeps everything: a late peer replays it from 1;
- ``GL_<chain>_ATTEST`` on ``gl.<chain>.attest.<peer key>``, keeping the last
  few attestations of each peer.

Publishing. Each message is published with a reply inbox of our own and its
acknowledgement awaited with a timeout, never with nats-py's ``publish_async``
(its future never completes when the server answers with an error). A batch is
published pipelined, in order, on one connection, so one client's pipelined
nonces keep their order. Messages not acknowledged (no stream leader during an
election, which takes 5-8 s when the leader is killed; an error answer; a
timeout) are published again, in order, until `PUBLISH_DEADLINE_S`; the message
id makes a retry of a message that was in fact stored a no-op. Past the deadline
the caller gets `OrderingUnavailable`. Uses ``Nats-Msg-Id`` only: the
``Nats-Expected-Last-Subject-Sequence`` header can double-append (nats-server#4320).
Known limit: when an election interrupts a pipelined batch, a later message may be
stored before a retried earlier one; a sender's pipelined nonces then arrive out of
order and the later transaction is refused by the ledger (nonce mismatch, which
changes nothing), every peer alike, and the client resubmits it.

Reading. An ephemeral pull consumer without acks reads from a given stream
sequence, in batches. This side keeps the position; on any trouble (the server
holding the consumer died, a gap in sequences, a consumer that stopped
answering) the consumer is dropped and a new one created at the next sequence.

Cost per message. A peer reads every transaction and the peer that admitted it
also publishes it and reads its acknowledgement, so the client does the least it
can per message: messages to our own inboxes (pull deliveries, publish
acknowledgements) are taken straight from nats-py's parser (`_DirectClient`) as
raw bytes, without a `Msg` object, header parsing, a subscription queue or a
callback task; a message's headers are looked at only for a status line (the
stored ``Nats-Msg-Id`` of a transaction is never decoded); a batch of publishes
is written as one buffer of ``HPUB`` commands and its acknowledgements counted
against one future; the reader hands out everything that has arrived as one list.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import re
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from nats.aio.client import Client as NatsClient
from nats.errors import ConnectionClosedError
from nats.errors import Error as NatsError
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import Error as JetStreamError

from gridledger.crypto import sha256
from gridledger.ledger import MAX_TRANSACTION_BYTES
from gridledger.node.ordering import (
    CUT,
    TRANSACTION,
    LogEntry,
    OrderingUnavailable,
    cut_message_id,
    marker_payload,
)

log = logging.getLogger("gridledger.ordering")

ATTEMPT_TIMEOUT_S = 2.0
"""How long one publish attempt waits for its acknowledgement."""
PUBLISH_DEADLINE_S = 20.0
"""How long a publish keeps retrying (longer than a leader election) before giving up."""
FETCH_BATCH = 2000
"""Messages asked for by one pull request."""
PULL_EXPIRES_S = 1.0
SILENCE_S = 3.0
"""No message and no status for this long: the consumer (or its server) has gone."""
ATTESTATIONS_KEPT = 16


def chain_token(chain_id: str) -> str:
    """The chain id as one subject token and stream-name part (hashed if it has other chars)."""
    if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", chain_id):
        return chain_id
    return sha256(chain_id.encode()).hex()[:16]


def entry_position(reply: str | bytes) -> tuple[int, int]:
    """(stream sequence, store time in ms) from a JetStream message's ``$JS.ACK...`` reply.

    ``$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<ns>.<pending>``,
    or the newer form with domain and account hash after ``ACK`` (and a trailing token).
    """
    tokens = reply.split(b".") if isinstance(reply, bytes) else reply.split(".")
    if len(tokens) == 9:
        return int(tokens[5]), int(tokens[7]) // 1_000_000
    if len(tokens) >= 11:
        return int(tokens[7]), int(tokens[9]) // 1_000_000
    raise ValueError(f"not a JetStream message reply subject: {reply!r}")


async def _quiet(error: Exception) -> None:
    log.debug("nats: %r", error)


Handler = Callable[[bytes, bytes, bytes, bytes], None]
"""Takes (subject, reply, payload, headers) of one message, raw, and must not block."""


class _DirectClient(NatsClient):
    """A nats-py client that hands the messages of chosen subscriptions straight to a handler.

    nats-py's parser awaits `_process_msg` for every message it reads; for an ordinary
    subscription that builds a `Msg` (decoding subject and reply, parsing headers), queues
    it and wakes the subscription's task, which awaits a callback. For the subscriptions
    registered here (by sid) the raw (subject, reply, payload, headers) go to a plain
    function instead. Relies on `_process_msg`'s signature, stable across nats-py 2.x.
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


def status_of(headers: bytes) -> bytes | None:
    """The status code of a status message (``NATS/1.0 404 ...``), or None for another message."""
    if headers and headers[8:9] == b" ":
        return headers[9:12]
    return None


def hpub_command(subject: bytes, reply: bytes, message_id: str, payload: bytes) -> bytes:
    """The ``HPUB`` protocol command of one message with a ``Nats-Msg-Id`` header."""
    header = b"NATS/1.0\r\nNats-Msg-Id: " + message_id.encode() + b"\r\n\r\n"
    size = len(header)
    return b"HPUB %s %s %d %d\r\n%s%s\r\n" % (
        subject,
        reply,
        size,
        size + len(payload),
        header,
        payload,
    )


class _PublishBatch:
    """The acknowledgements of one pipelined batch of publishes, counted against one future."""

    __slots__ = ("answers", "done", "remaining")

    def __init__(self, size: int, done: asyncio.Future[None]) -> None:
        self.answers: list[str | None] = [None] * size
        """Per message: "" once acknowledged, an error text if refused, None if no answer yet."""
        self.remaining = size
        self.done = done

    def answer(self, index: int, outcome: str) -> None:
        if self.answers[index] is None:
            self.answers[index] = outcome
            self.remaining -= 1
            if self.remaining <= 0 and not self.done.done():
                self.done.set_result(None)


def ack_outcome(data: bytes, headers: bytes) -> str:
    """ "" for a JetStream publish acknowledgement, else why the publish was not stored."""
    if data:
        if b'"seq"' in data and b'"error"' not in data:  # {"stream":...,"seq":n[,...]}
            return ""
        try:
            answer: dict[str, Any] = json.loads(data)
        except ValueError:
            return f"unreadable answer {data[:80]!r}"
        if "seq" in answer and "error" not in answer:
            return ""
        return str(answer.get("error") or "no sequence in the answer")
    status = status_of(headers)
    return f"status {status.decode(errors='replace')}" if status is not None else "no answer"


class NatsLog:
    """The ordering log of one chain on a JetStream cluster (see the module docstring)."""

    def __init__(
        self,
        urls: Sequence[str],
        chain_id: str,
        replicas: int,
        name: str = "",
        options: dict[str, Any] | None = None,
    ) -> None:
        self.urls = list(urls)
        self.options = dict(options or {})
        """Further nats-py connect options: TLS and credentials (`ClientCredentials`)."""
        self.chain_id = chain_id
        self.replicas = replicas
        self.name = name
        token = chain_token(chain_id)
        self.order_stream = f"GL_{token}_ORDER"
        self.attest_stream = f"GL_{token}_ATTEST"
        self.transaction_subject = f"gl.{token}.order.tx"
        self.cut_subject = f"gl.{token}.order.cut"
        self.attest_prefix = f"gl.{token}.attest"
        self._client: _DirectClient | None = None
        self._acks: dict[int, tuple[_PublishBatch, int]] = {}
        """Reply token -> (its batch, its index in the batch)."""
        self._counter = itertools.count()
        self._inbox = ""

    @property
    def client(self) -> _DirectClient:
        if self._client is None:
            raise OrderingUnavailable("the log", "not connected")
        return self._client

    async def connect(self, timeout_s: float = 60.0) -> None:
        """Connect (reconnecting forever afterwards) and create the two streams if missing."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            client = _DirectClient()
            try:
                await client.connect(
                    servers=self.urls,
                    name=self.name or None,
                    connect_timeout=2,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.25,  # type: ignore[arg-type]  # a float works
                    error_cb=_quiet,
                    pending_size=64 * 1024 * 1024,
                    **self.options,
                )
                self._client = client
                break
            except (NatsError, OSError) as error:
                if loop.time() > deadline:
                    raise OrderingUnavailable("connect", repr(error)) from error
                await asyncio.sleep(0.5)
        self._inbox = self.client.new_inbox()
        await self.client.subscribe_direct(self._inbox + ".*", self._on_ack)
        await self._ensure_streams(deadline)

    async def _ensure_streams(self, deadline: float) -> None:
        order = StreamConfig(
            name=self.order_stream,
            subjects=[f"gl.{chain_token(self.chain_id)}.order.>"],
            num_replicas=self.replicas,
            storage=StorageType.FILE,
            max_msg_size=MAX_TRANSACTION_BYTES + 1024,
            duplicate_window=120.0,
        )
        attest = StreamConfig(
            name=self.attest_stream,
            subjects=[self.attest_prefix + ".>"],
            num_replicas=self.replicas,
            storage=StorageType.FILE,
            max_msgs_per_subject=ATTESTATIONS_KEPT,
            discard=DiscardPolicy.OLD,
        )
        loop = asyncio.get_running_loop()
        stream = self.client.jetstream(timeout=ATTEMPT_TIMEOUT_S)
        for config in (order, attest):
            while True:
                try:
                    await stream.stream_info(str(config.name))
                    break
                except (NatsError, JetStreamError, TimeoutError) as missing:
                    try:
                        await stream.add_stream(config)
                        break
                    except (NatsError, JetStreamError, TimeoutError) as error:
                        if loop.time() > deadline:
                            raise OrderingUnavailable(
                                f"stream {config.name}", f"{missing!r}; {error!r}"
                            ) from error
                        await asyncio.sleep(0.5)

    def _on_ack(self, subject: bytes, reply: bytes, data: bytes, headers: bytes) -> None:
        try:
            token = int(subject[subject.rindex(b".") + 1 :])
        except ValueError:
            return
        found = self._acks.pop(token, None)
        if found is not None:
            batch, index = found
            batch.answer(index, ack_outcome(data, headers))

    async def _publish(self, messages: list[tuple[str, bytes, str]]) -> None:
        """Publish (subject, payload, message id) in order; retry the unacknowledged ones."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PUBLISH_DEADLINE_S
        pending = messages
        reason = "no attempt"
        inbox = self._inbox.encode() + b"."
        while pending:
            batch = _PublishBatch(len(pending), loop.create_future())
            tokens = [next(self._counter) for _ in pending]
            acks = self._acks
            commands = []
            for index, ((subject, payload, message_id), token) in enumerate(
                zip(pending, tokens, strict=True)
            ):
                acks[token] = (batch, index)
                reply = inbox + str(token).encode()
                commands.append(hpub_command(subject.encode(), reply, message_id, payload))
            try:
                await self.client.publish_raw(commands)
            except (NatsError, OrderingUnavailable) as error:
                reason = repr(error)
            else:
                await asyncio.wait([batch.done], timeout=ATTEMPT_TIMEOUT_S)
            for token in tokens:
                acks.pop(token, None)
            failed = []
            for message, answer in zip(pending, batch.answers, strict=True):
                if answer is None:
                    failed.append(message)
                    reason = "no acknowledgement in time"
                elif answer:
                    failed.append(message)
                    reason = answer
            if not batch.done.done():
                batch.done.cancel()
            pending = failed
            if pending and loop.time() > deadline:
                raise OrderingUnavailable(f"{len(pending)} messages", reason)
            if pending:
                await asyncio.sleep(0.25)

    async def publish_transactions(self, raws: Sequence[bytes]) -> None:
        subject = self.transaction_subject
        await self._publish([(subject, raw, sha256(raw).hex()) for raw in raws])

    async def publish_cut(self, height: int) -> None:
        message_id = cut_message_id(self.chain_id, height)
        await self._publish([(self.cut_subject, marker_payload(height), message_id)])

    async def publish_attestation(self, peer: str, payload: bytes) -> None:
        subject = f"{self.attest_prefix}.{peer}"
        await self._publish([(subject, payload, sha256(payload).hex())])

    async def entries(self, start_sequence: int) -> AsyncIterator[LogEntry]:
        async for batch in self.entry_batches(start_sequence):
            for entry in batch:
                yield entry

    async def entry_batches(self, start_sequence: int) -> AsyncIterator[list[LogEntry]]:
        cut_subject = self.cut_subject.encode()
        async for batch in self._read(
            self.order_stream, f"gl.{chain_token(self.chain_id)}.order.>", start_sequence, True
        ):
            yield [
                LogEntry(
                    sequence, timestamp_ms, CUT if subject == cut_subject else TRANSACTION, data
                )
                for sequence, timestamp_ms, subject, data in batch
            ]

    async def attestations(self) -> AsyncIterator[bytes]:
        stream, subject = self.attest_stream, self.attest_prefix + ".>"
        async for batch in self._read(stream, subject, None, False):
            for _, _, _, data in batch:
                yield data

    async def _read(
        self, stream: str, subject: str, start_sequence: int | None, contiguous: bool
    ) -> AsyncIterator[list[tuple[int, int, bytes, bytes]]]:
        """Messages from `start_sequence` (None: the last of each subject, then new ones),
        as lists of (sequence, store time in ms, subject, payload): all that has arrived.

        Pull requests are issued by hand and their messages taken as they arrive (nats-py's
        ``fetch`` would hold a partly filled batch until the request expires). A request
        expires after `PULL_EXPIRES_S` with a status message; silence for longer than
        `SILENCE_S` means the consumer has gone, and a new one is created where we are.
        With `contiguous`, a skipped sequence is an error: the consumer is re-created there.
        """
        next_sequence = start_sequence
        client = self.client
        loop = asyncio.get_running_loop()
        while True:
            if next_sequence is None:
                config = ConsumerConfig(deliver_policy=DeliverPolicy.LAST_PER_SUBJECT)
            else:
                config = ConsumerConfig(
                    deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=next_sequence
                )
            config.ack_policy = AckPolicy.NONE
            config.inactive_threshold = 30.0
            config.mem_storage = True
            config.num_replicas = 1
            config.filter_subject = subject
            inbox = client.new_inbox()
            arrived: list[tuple[bytes, bytes, bytes, bytes]] = []
            wakeup: list[asyncio.Future[None]] = []

            def take(
                subject: bytes,
                reply: bytes,
                data: bytes,
                headers: bytes,
                arrived: list[tuple[bytes, bytes, bytes, bytes]] = arrived,
                wakeup: list[asyncio.Future[None]] = wakeup,
            ) -> None:
                arrived.append((subject, reply, data, headers))
                if wakeup and not wakeup[0].done():
                    wakeup[0].set_result(None)

            subscription = await client.subscribe_direct(inbox, take)
            try:
                manager = client.jetstream(timeout=ATTEMPT_TIMEOUT_S)
                info = await manager.add_consumer(stream, config)
                pull_subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{info.name}"
                request = json.dumps(
                    {"batch": FETCH_BATCH, "expires": int(PULL_EXPIRES_S * 1e9)}
                ).encode()
                outstanding = 0
                while True:
                    if outstanding <= 0:
                        await client.publish(pull_subject, request, reply=inbox)
                        outstanding = FETCH_BATCH
                    if not arrived:  # a timed wait only when nothing is waiting: it costs a task
                        wakeup[:] = [loop.create_future()]
                        await asyncio.wait_for(wakeup[0], SILENCE_S)
                        wakeup.clear()
                    messages = arrived[:]
                    del arrived[:]
                    batch: list[tuple[int, int, bytes, bytes]] = []
                    gap = False
                    for message_subject, reply, data, headers in messages:
                        status = status_of(headers)
                        if status is not None:
                            if status in (b"404", b"408"):  # nothing (more) in this request
                                outstanding = 0
                                continue
                            if status == b"100":  # heartbeat
                                continue
                            if batch:
                                yield batch
                            raise JetStreamError(description=f"pull status {status!r}")
                        outstanding -= 1
                        sequence, timestamp_ms = entry_position(reply)
                        if next_sequence is not None and sequence < next_sequence:
                            continue
                        if contiguous and next_sequence is not None and sequence > next_sequence:
                            log.warning(
                                "%s: expected sequence %d, got %d; re-reading",
                                stream,
                                next_sequence,
                                sequence,
                            )
                            gap = True
                            break
                        next_sequence = sequence + 1
                        batch.append((sequence, timestamp_ms, message_subject, data))
                    if batch:
                        yield batch
                    if gap:
                        break
            except (NatsError, JetStreamError, TimeoutError) as error:
                log.info("consumer of %s lost (%r); re-creating it", stream, error)
                await asyncio.sleep(0.25)
            finally:
                await client.unsubscribe_direct(subscription)

    async def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.drain()
            with contextlib.suppress(Exception):
                await self._client.close()
            self._client = None
