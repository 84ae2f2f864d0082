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
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import re
from collections.abc import AsyncIterator, Sequence
from typing import Any

import nats
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
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


def entry_position(reply: str) -> tuple[int, int]:
    """(stream sequence, store time in ms) from a JetStream message's ``$JS.ACK...`` reply.

    ``$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<ns>.<pending>``,
    or the newer form with domain and account hash after ``ACK`` (and a trailing token).
    """
    tokens = reply.split(".")
    if len(tokens) == 9:
        return int(tokens[5]), int(tokens[7]) // 1_000_000
    if len(tokens) >= 11:
        return int(tokens[7]), int(tokens[9]) // 1_000_000
    raise ValueError(f"not a JetStream message reply subject: {reply!r}")


async def _quiet(error: Exception) -> None:
    log.debug("nats: %r", error)


class NatsLog:
    """The ordering log of one chain on a JetStream cluster (see the module docstring)."""

    def __init__(self, urls: Sequence[str], chain_id: str, replicas: int, name: str = "") -> None:
        self.urls = list(urls)
        self.chain_id = chain_id
        self.replicas = replicas
        self.name = name
        token = chain_token(chain_id)
        self.order_stream = f"GL_{token}_ORDER"
        self.attest_stream = f"GL_{token}_ATTEST"
        self.transaction_subject = f"gl.{token}.order.tx"
        self.cut_subject = f"gl.{token}.order.cut"
        self.attest_prefix = f"gl.{token}.attest"
        self._client: NatsClient | None = None
        self._acks: dict[str, asyncio.Future[int]] = {}
        self._counter = itertools.count()
        self._inbox = ""

    @property
    def client(self) -> NatsClient:
        if self._client is None:
            raise OrderingUnavailable("the log", "not connected")
        return self._client

    async def connect(self, timeout_s: float = 60.0) -> None:
        """Connect (reconnecting forever afterwards) and create the two streams if missing."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            try:
                self._client = await nats.connect(
                    servers=self.urls,
                    name=self.name or None,
                    connect_timeout=2,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.25,
                    error_cb=_quiet,
                    pending_size=64 * 1024 * 1024,
                )
                break
            except (NatsError, OSError) as error:
                if loop.time() > deadline:
                    raise OrderingUnavailable("connect", repr(error)) from error
                await asyncio.sleep(0.5)
        self._inbox = self.client.new_inbox()
        await self.client.subscribe(self._inbox + ".*", cb=self._on_ack)
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

    async def _on_ack(self, message: Msg) -> None:
        future = self._acks.pop(message.subject, None)
        if future is None or future.done():
            return
        try:
            answer: dict[str, Any] = json.loads(message.data) if message.data else {}
        except ValueError:
            answer = {}
        if "seq" in answer and "error" not in answer:
            future.set_result(int(answer["seq"]))
        else:
            reason = answer.get("error") or (message.headers or {}).get("Status", "no answer")
            future.set_exception(OrderingUnavailable("a publish", str(reason)))

    async def _publish(self, messages: list[tuple[str, bytes, str]]) -> None:
        """Publish (subject, payload, message id) in order; retry the unacknowledged ones."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PUBLISH_DEADLINE_S
        pending = messages
        reason = "no attempt"
        while pending:
            futures: list[asyncio.Future[int]] = []
            replies: list[str] = []
            try:
                for subject, payload, message_id in pending:
                    reply = f"{self._inbox}.{next(self._counter)}"
                    future: asyncio.Future[int] = loop.create_future()
                    self._acks[reply] = future
                    futures.append(future)
                    replies.append(reply)
                    await self.client.publish(
                        subject, payload, reply=reply, headers={"Nats-Msg-Id": message_id}
                    )
            except NatsError as error:
                reason = repr(error)
            if futures:
                await asyncio.wait(futures, timeout=ATTEMPT_TIMEOUT_S)
            failed = []
            for message, reply, future in zip(pending, replies, futures, strict=False):
                self._acks.pop(reply, None)
                if not future.done():
                    future.cancel()
                    failed.append(message)
                    reason = "no acknowledgement in time"
                elif future.exception() is not None:
                    failed.append(message)
                    reason = str(future.exception())
            failed.extend(pending[len(futures) :])
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
        async for sequence, timestamp_ms, subject, data in self._read(
            self.order_stream, f"gl.{chain_token(self.chain_id)}.order.>", start_sequence, True
        ):
            kind = CUT if subject == self.cut_subject else TRANSACTION
            yield LogEntry(sequence, timestamp_ms, kind, data)

    async def attestations(self) -> AsyncIterator[bytes]:
        stream, subject = self.attest_stream, self.attest_prefix + ".>"
        async for _, _, _, data in self._read(stream, subject, None, False):
            yield data

    async def _read(
        self, stream: str, subject: str, start_sequence: int | None, contiguous: bool
    ) -> AsyncIterator[tuple[int, int, str, bytes]]:
        """Messages from `start_sequence` (None: the last of each subject, then new ones).

        Pull requests are issued by hand and their messages taken as they arrive (nats-py's
        ``fetch`` would hold a partly filled batch until the request expires). A request
        expires after `PULL_EXPIRES_S` with a status message; silence for longer than
        `SILENCE_S` means the consumer has gone, and a new one is created where we are.
        With `contiguous`, a skipped sequence is an error: the consumer is re-created there.
        """
        next_sequence = start_sequence
        client = self.client
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
            arrived: asyncio.Queue[Msg] = asyncio.Queue()

            async def take(message: Msg, arrived: asyncio.Queue[Msg] = arrived) -> None:
                arrived.put_nowait(message)

            subscription = await client.subscribe(inbox, cb=take)
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
                    try:  # a timed wait only when nothing is waiting: it costs a task
                        message = arrived.get_nowait()
                    except asyncio.QueueEmpty:
                        message = await asyncio.wait_for(arrived.get(), SILENCE_S)
                    status = (message.headers or {}).get("Status")
                    if status is not None:
                        if status in ("404", "408"):  # nothing (more) in this request
                            outstanding = 0
                            continue
                        if status == "100":  # heartbeat
                            continue
                        raise JetStreamError(description=f"pull status {status}")
                    outstanding -= 1
                    sequence, timestamp_ms = entry_position(message.reply)
                    if next_sequence is not None and sequence < next_sequence:
                        continue
                    if contiguous and next_sequence is not None and sequence > next_sequence:
                        log.warning(
                            "%s: expected sequence %d, got %d; re-reading",
                            stream,
                            next_sequence,
                            sequence,
                        )
                        break
                    next_sequence = sequence + 1
                    yield sequence, timestamp_ms, message.subject, message.data
            except (NatsError, JetStreamError, TimeoutError) as error:
                log.info("consumer of %s lost (%r); re-creating it", stream, error)
                await asyncio.sleep(0.25)
            finally:
                with contextlib.suppress(Exception):
                    await subscription.unsubscribe()

    async def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.drain()
            with contextlib.suppress(Exception):
                await self._client.close()
            self._client = None
