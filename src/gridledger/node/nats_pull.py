"""Reading a JetStream stream with pull requests issued by hand (used by `NatsLog`).

An ephemeral pull consumer without acks delivers to an inbox of our own, handled by
`DirectClient` as raw bytes; `Arrivals` keeps what has arrived until the reader takes
it all, and `Cursor` keeps the reader's position and sorts each delivery: stored
messages in order, status messages (end of a request, heartbeat, failure), and gaps.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import NamedTuple

from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

log = logging.getLogger("gridledger.ordering")

FETCH_BATCH = 2000
"""Messages asked for by one pull request."""
PULL_EXPIRES_S = 1.0
"""A pull request ends (with a 404/408 status) after this long, delivered or not."""
SILENCE_S = 3.0
"""No message and no status for this long: the consumer (or its server) has gone."""
Stored = tuple[int, int, bytes, bytes]
"""One message read from a stream: (sequence, store time in ms, subject, payload)."""
Delivered = tuple[bytes, bytes, bytes, bytes]
"""One message delivered to a pull inbox, raw: (subject, reply, payload, headers)."""
PULL_REQUEST = json.dumps({"batch": FETCH_BATCH, "expires": int(PULL_EXPIRES_S * 1e9)}).encode()
"""The body of every pull request: `FETCH_BATCH` messages, expiring after `PULL_EXPIRES_S`."""


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


def status_of(headers: bytes) -> bytes | None:
    """The status code of a status message (``NATS/1.0 404 ...``), or None for another message."""
    if headers and headers[8:9] == b" ":
        return headers[9:12]
    return None


def consumer_config(subject: str, next_sequence: int | None) -> ConsumerConfig:
    """An ephemeral, unacknowledged, in-memory consumer of `subject` from `next_sequence`
    (None: the last message of each subject, then new ones)."""
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
    return config


class Arrivals:
    """The messages delivered to one pull inbox, kept until the reader takes them all."""

    __slots__ = ("messages", "wakeup")

    def __init__(self) -> None:
        self.messages: list[Delivered] = []
        self.wakeup: asyncio.Future[None] | None = None

    def take(self, subject: bytes, reply: bytes, data: bytes, headers: bytes) -> None:
        """The inbox's handler (see `DirectClient`): keep the message, wake a waiting reader."""
        self.messages.append((subject, reply, data, headers))
        if self.wakeup is not None and not self.wakeup.done():
            self.wakeup.set_result(None)

    async def take_all(self) -> list[Delivered]:
        """All that has arrived, waiting up to `SILENCE_S` for something (else TimeoutError)."""
        if not self.messages:  # a timed wait only when nothing is waiting: it costs a task
            self.wakeup = asyncio.get_running_loop().create_future()
            await asyncio.wait_for(self.wakeup, SILENCE_S)
            self.wakeup = None
        messages, self.messages = self.messages, []
        return messages


class Delivery(NamedTuple):
    """What one look at a pull inbox yields, and whether the consumer must go."""

    batch: list[Stored]
    outstanding: int
    """Messages the current pull request may still deliver (0 or less: ask again)."""
    gap: bool
    """A sequence was skipped (contiguous reading): re-create the consumer at the cursor."""
    refused: bytes | None
    """The status code of an unexpected status message: the consumer has failed."""


class Cursor:
    """Where a reader of `stream` is: the next sequence it wants (None: not yet known)."""

    __slots__ = ("contiguous", "next_sequence", "stream")

    def __init__(self, stream: str, next_sequence: int | None, contiguous: bool) -> None:
        self.stream = stream
        self.next_sequence = next_sequence
        self.contiguous = contiguous

    def sift(self, messages: list[Delivered], outstanding: int) -> Delivery:
        """The new stored messages among `messages`, in order, moving the cursor past them.

        Status 404/408 ends the current pull request and 100 is a heartbeat; any other
        status, or a skipped sequence when reading contiguously, stops the sifting there.
        Messages before the cursor (a re-created consumer delivering again) are dropped.
        """
        batch: list[Stored] = []
        for subject, reply, data, headers in messages:
            status = status_of(headers)
            if status is not None:
                if status in (b"404", b"408"):  # nothing (more) in this request
                    outstanding = 0
                elif status != b"100":  # 100: a heartbeat
                    return Delivery(batch, outstanding, False, status)
                continue
            outstanding -= 1
            sequence, timestamp_ms = entry_position(reply)
            expected = self.next_sequence
            if expected is not None and sequence < expected:
                continue
            if self.contiguous and expected is not None and sequence > expected:
                log.warning(
                    "%s: expected sequence %d, got %d; re-reading", self.stream, expected, sequence
                )
                return Delivery(batch, outstanding, True, None)
            self.next_sequence = sequence + 1
            batch.append((sequence, timestamp_ms, subject, data))
        return Delivery(batch, outstanding, False, None)
