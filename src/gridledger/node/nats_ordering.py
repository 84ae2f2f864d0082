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
timeout) are published again, in order, until `PUBLISH_DEADLINE_S` (or the caller's
shorter timeout); the message id makes a retry of a message that was in fact stored a
no-op. Past the deadline the caller gets `OrderingUnavailable`, and the log is known to be
unavailable (`NatsLog.outage`): from then on every publish is refused at once, without
waiting, until a probe of the order stream (every `PROBE_INTERVAL_S`) finds a leader with
a quorum of current replicas again. Uses ``Nats-Msg-Id`` only: the
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
acknowledgements) are taken straight from nats-py's parser (`DirectClient`, in
`node/nats_private.py` with every other use of nats-py's private API) as raw bytes,
without a `Msg` object, header parsing, a subscription queue or a callback task; a
message's headers are looked at only for a status line (the stored ``Nats-Msg-Id``
of a transaction is never decoded); a batch of publishes is written as one buffer
of ``HPUB`` commands and its acknowledgements counted against one future; the
reader hands out everything that has arrived as one list.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import re
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import Any

from nats.errors import Error as NatsError
from nats.js.api import (
    ClusterInfo,
    DiscardPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import Error as JetStreamError

from gridledger.crypto import sha256
from gridledger.ledger import MAX_TRANSACTION_BYTES
from gridledger.node.nats_private import DirectClient
from gridledger.node.nats_pull import (
    FETCH_BATCH,
    PULL_REQUEST,
    Arrivals,
    Cursor,
    Stored,
    consumer_config,
    status_of,
)
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
ATTESTATIONS_KEPT = 16
PROBE_INTERVAL_S = 0.5
"""While the log is known to be unavailable, how often the order stream is asked if it is back."""
REPLICA_SILENCE_S = 2.5
"""A replica last heard from longer ago than this is not counted as current by the probe.

A stream leader that has lost its followers still reports them ``current`` (and not
``offline``) for about 10 s, the Raft lost-quorum interval of nats-server, while their
``active`` (time since last heard) grows; a live follower is heard at every heartbeat
(~1 s; measured up to 1.7 s on an idle cluster). Trusting the flag alone, the probe found
the quorum back half a second after an outage was marked, and the next submission waited
out its whole timeout (a ``wait=false`` refusal took 10.3 s)."""


def chain_token(chain_id: str) -> str:
    """The chain id as one subject token and stream-name part (hashed if it has other chars)."""
    if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", chain_id):
        return chain_id
    return sha256(chain_id.encode()).hex()[:16]


async def _quiet(error: Exception) -> None:
    log.debug("nats: %r", error)


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


async def _read_one_consumer(
    client: DirectClient, subject: str, cursor: Cursor
) -> AsyncGenerator[list[Stored], None]:
    """Batches from a new consumer starting at the cursor; ends at a gap, raises on trouble."""
    arrivals = Arrivals()
    inbox = client.new_inbox()
    subscription = await client.subscribe_direct(inbox, arrivals.take)
    try:
        manager = client.jetstream(timeout=ATTEMPT_TIMEOUT_S)
        config = consumer_config(subject, cursor.next_sequence)
        info = await manager.add_consumer(cursor.stream, config)
        pull_subject = f"$JS.API.CONSUMER.MSG.NEXT.{cursor.stream}.{info.name}"
        outstanding = 0
        while True:
            if outstanding <= 0:
                await client.publish(pull_subject, PULL_REQUEST, reply=inbox)
                outstanding = FETCH_BATCH
            delivery = cursor.sift(await arrivals.take_all(), outstanding)
            outstanding = delivery.outstanding
            if delivery.batch:
                yield delivery.batch
            if delivery.refused is not None:
                raise JetStreamError(description=f"pull status {delivery.refused!r}")
            if delivery.gap:
                return
    finally:
        await client.unsubscribe_direct(subscription)


def has_quorum(cluster: ClusterInfo | None, replicas: int) -> bool:
    """Whether a stream's cluster info shows a leader and a majority of its `replicas`
    current: flagged current, not offline, and heard from within `REPLICA_SILENCE_S`
    (``active`` is in nanoseconds). No cluster info: a single server, which answered."""
    if cluster is None:
        return True
    if not cluster.leader:
        return False
    silence_ns = REPLICA_SILENCE_S * 1e9
    current = 1 + sum(
        1
        for peer in cluster.replicas or []
        if peer.current and not peer.offline and (peer.active or 0) <= silence_ns
    )
    return current >= replicas // 2 + 1


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
        self._client: DirectClient | None = None
        self._acks: dict[int, tuple[_PublishBatch, int]] = {}
        """Reply token -> (its batch, its index in the batch)."""
        self._counter = itertools.count()
        self._inbox = ""
        self._outage: str | None = None
        self._probe: asyncio.Task[None] | None = None

    @property
    def outage(self) -> str | None:
        """Why the log is known to be unavailable (a publish failed, and no probe has found
        it back since), or None."""
        return self._outage

    def _mark_unavailable(self, reason: str) -> None:
        if self._outage is None:
            log.warning("the ordering log is unavailable: %s", reason)
        self._outage = reason
        if self._probe is None or self._probe.done():
            self._probe = asyncio.create_task(self._probe_until_back(), name="ordering-probe")

    async def _probe_until_back(self) -> None:
        while self._outage is not None:
            await asyncio.sleep(PROBE_INTERVAL_S)
            if await self._stream_has_quorum():
                log.warning("the ordering log is available again")
                self._outage = None

    async def _stream_has_quorum(self) -> bool:
        """Whether the order stream has a leader and a majority of its replicas current."""
        try:
            manager = self.client.jetstream(timeout=ATTEMPT_TIMEOUT_S)
            info = await manager.stream_info(self.order_stream)
        except (NatsError, JetStreamError, TimeoutError, OrderingUnavailable) as error:
            log.debug("ordering probe: %r", error)
            return False
        return has_quorum(info.cluster, self.replicas)

    @property
    def client(self) -> DirectClient:
        if self._client is None:
            raise OrderingUnavailable("the log", "not connected")
        return self._client

    async def connect(self, timeout_s: float = 60.0) -> None:
        """Connect (reconnecting forever afterwards) and create the two streams if missing."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            client = DirectClient()
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

    async def _publish(
        self, messages: list[tuple[str, bytes, str]], timeout_s: float | None = None
    ) -> None:
        """Publish (subject, payload, message id) in order; retry the unacknowledged ones
        until `PUBLISH_DEADLINE_S`, or `timeout_s` if shorter. Refused at once while the log
        is known to be unavailable."""
        if self._outage is not None:
            raise OrderingUnavailable(
                f"{len(messages)} messages", f"the log has been unavailable ({self._outage})"
            )
        loop = asyncio.get_running_loop()
        started = loop.time()
        budget = PUBLISH_DEADLINE_S if timeout_s is None else min(timeout_s, PUBLISH_DEADLINE_S)
        deadline = started + budget
        pending = messages
        reason = "no attempt"
        refused = False
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
                refused = True
            else:
                wait_s = min(ATTEMPT_TIMEOUT_S, max(deadline - loop.time(), 0.05))
                await asyncio.wait([batch.done], timeout=wait_s)
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
                    refused = True
            if not batch.done.done():
                batch.done.cancel()
            pending = failed
            if pending and loop.time() + 0.25 > deadline:
                # an answer that refused, or silence for a whole attempt, is an outage; a
                # caller's budget shorter than one attempt says nothing about the log
                if refused or loop.time() - started >= ATTEMPT_TIMEOUT_S:
                    self._mark_unavailable(reason)
                raise OrderingUnavailable(f"{len(pending)} messages", reason)
            if pending:
                await asyncio.sleep(0.25)

    async def publish_transactions(
        self, raws: Sequence[bytes], timeout_s: float | None = None
    ) -> None:
        subject = self.transaction_subject
        await self._publish([(subject, raw, sha256(raw).hex()) for raw in raws], timeout_s)

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
    ) -> AsyncIterator[list[Stored]]:
        """Messages from `start_sequence` (None: the last of each subject, then new ones),
        as lists of (sequence, store time in ms, subject, payload): all that has arrived.

        Pull requests are issued by hand and their messages taken as they arrive (nats-py's
        ``fetch`` would hold a partly filled batch until the request expires). A request
        expires after `PULL_EXPIRES_S` with a status message; silence for longer than
        `SILENCE_S` means the consumer has gone, and a new one is created where we are.
        With `contiguous`, a skipped sequence is an error: the consumer is re-created there.
        """
        client = self.client
        cursor = Cursor(stream, start_sequence, contiguous)
        while True:
            consumer = _read_one_consumer(client, subject, cursor)
            try:
                async for batch in consumer:
                    yield batch
            except (NatsError, JetStreamError, TimeoutError) as error:
                log.info("consumer of %s lost (%r); re-creating it", stream, error)
                await asyncio.sleep(0.25)
            finally:
                await consumer.aclose()

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._probe
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.drain()
            with contextlib.suppress(Exception):
                await self._client.close()
            self._client = None
