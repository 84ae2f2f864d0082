"""The ``nats`` ordering service of a peer: publish to the log, build blocks from it, attest.

`OrderedService` replaces the solo cutter (`SoloService`, whose waiters and
block stream it keeps) with four asyncio tasks around an `OrderingLog`:

- submissions: a transaction is checked statelessly (decode, signature, chain
  id; and refused if already committed or its nonce already used), then
  published to the log; the API answers once the log has acknowledged it
  (``wait=true``: once it is committed here);
- the committer reads the log from the sequence after the last committed block
  (stored with that block) and folds it through `BlockAssembler`; each block it
  closes is executed and stored in a worker thread. After downtime, or when the
  peer joins late, this is how it catches up;
- the cutter publishes a cut marker for the open block once its first pending
  transaction has waited `OrderingRules.timeout_ms` (every peer may; duplicates
  collapse, and the first marker in the log wins);
- attestations: after each commit the peer signs (height, block hash, state hash)
  and publishes the newest one (agreement at a height implies agreement below
  it, so skipping intermediate ones loses nothing); it reads every peer's and
  counts finality (`node/attestation.py`). While a conflict lies above the
  finalized height the committer stops, and `alarm` says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from gridledger.client.replies import NetworkReply, PeerReply
from gridledger.crypto.keys import KeyPair
from gridledger.ledger import block_hash
from gridledger.node.attestation import (
    FinalityTracker,
    PeerInfo,
    decode_attestation,
    encode_attestation,
    sign_attestation,
)
from gridledger.node.core import Admission, Node
from gridledger.node.errors import NodeError, StorageError
from gridledger.node.ordering import BlockAssembler, OrderingLog, OrderingRules
from gridledger.node.service import SoloService

PUBLISHED_LIMIT = 100_000
"""Published transaction ids a peer remembers, to answer "pending" for them."""

log = logging.getLogger("gridledger.peer")

RECENT_HASHES = 8192
"""(block hash, state hash) of this many recent heights kept in memory for attestation checks."""


class PeerHalted(NodeError):
    """This peer stopped committing because its chain disagrees with the network."""

    def __init__(self, alarm: str) -> None:
        self.alarm = alarm
        super().__init__(f"this peer has stopped: {alarm}")


class OrderedService(SoloService):
    """A peer in ``nats`` ordering mode (see the module docstring)."""

    def __init__(
        self,
        node: Node,
        log_: OrderingLog,
        rules: OrderingRules,
        keys: KeyPair,
        peers: Sequence[PeerInfo],
        name: str,
    ) -> None:
        super().__init__(node)
        self.log = log_
        self.rules = rules
        self.keys = keys
        self.name = name
        self.peers = list(peers)
        self.assembler = BlockAssembler(rules, node.head.height + 1, node.storage.has_transaction)
        self._recent: OrderedDict[int, tuple[bytes, bytes]] = OrderedDict()
        self._published: OrderedDict[bytes, None] = OrderedDict()
        """Ids this peer published, oldest first (bounded; committed ones are checked)."""
        self.tracker = FinalityTracker(node.chain_id, self.peers, keys.public_key, self._hashes_at)
        self._first_pending_at: float | None = None
        self._marker_sent: tuple[int, float] | None = None
        self._attestation_ready = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.log_position = node.storage.log_position()
        if node.head.height > 0 and self.log_position == 0:
            raise StorageError(
                getattr(node.storage, "path", "?"),
                f"holds {node.head.height} blocks that were not built from an ordering log "
                "(a solo chain); a nats peer starts from genesis",
            )

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.node.verifier.enable_processes()
        await self.log.connect()
        self._remember(self.node.head.height)
        self.tracker.committed(self.node.head.height)
        self._attestation_ready.set()
        for coroutine, name in (
            (self._commit_from_log(), "committer"),
            (self._cut_when_due(), "cutter"),
            (self._publish_attestations(), "attester"),
            (self._read_attestations(), "finality"),
        ):
            self._tasks.append(asyncio.create_task(self._guarded(coroutine, name), name=name))

    async def _guarded(self, coroutine: Any, name: str) -> None:
        try:
            await coroutine
        except asyncio.CancelledError:
            raise
        except Exception:  # pragma: no cover - logged so a dead task is never silent
            log.exception("peer task %s failed", name)
            raise

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.log.close()
        for queue in list(self._subscribers):
            queue.put_nowait(None)

    # -- submissions ---------------------------------------------------------------------

    async def submit_many(
        self, raws: Sequence[bytes], timeout_s: float | None = None
    ) -> list[Admission]:
        """Check, then publish the accepted ones within `timeout_s` (default: the log's own
        deadline); raises `OrderingUnavailable` (at once while the log is known to be
        unavailable) or `PeerHalted`."""
        alarm = self.alarm
        if alarm is not None and self.tracker.halted_by is not None:
            raise PeerHalted(alarm)
        admissions = await asyncio.to_thread(self.node.check_for_ordering, raws)
        accepted = [raw for raw, a in zip(raws, admissions, strict=True) if a.error is None]
        if accepted:
            await self.log.publish_transactions(accepted, timeout_s)
            for admission in admissions:
                if admission.error is None:
                    self._published[admission.transaction_id] = None
            while len(self._published) > PUBLISHED_LIMIT:
                self._published.popitem(last=False)
        return admissions

    def is_pending(self, transaction_id: bytes) -> bool:
        """Whether this peer published the transaction to the log and has not committed it.

        A transaction in the log but not yet in a block is not in the node's mempool,
        so without this a client polling right after submitting would get a 404.
        """
        return transaction_id in self._published and not self.node.storage.has_transaction(
            transaction_id
        )

    # -- the committer -------------------------------------------------------------------

    async def _commit_from_log(self) -> None:
        storage = self.node.storage
        committed_among = getattr(storage, "committed_among", None)
        async for batch in self.log.entry_batches(self.log_position + 1):
            cuts = self.assembler.apply_all(batch, committed_among)
            for cut in cuts:
                while self.tracker.halted_by is not None:
                    await asyncio.sleep(0.2)
                committed = await asyncio.to_thread(
                    self.node.commit_ordered, cut.transactions, cut.timestamp_ms, cut.last_sequence
                )
                height = committed.block.header.height
                self.log_position = cut.last_sequence
                self._recent_hashes(height, committed.hash, committed.block.header.state_hash)
                self.tracker.committed(height)
                self._attestation_ready.set()
            if cuts or self._first_pending_at is None:
                self._first_pending_at = time.monotonic() if self.assembler.pending else None

    def _remember(self, height: int) -> None:
        block = self.node.storage.block(height)
        if block is not None:
            self._recent_hashes(height, block_hash(block.header), block.header.state_hash)

    def _recent_hashes(self, height: int, block_hash_: bytes, state_hash: bytes) -> None:
        self._recent[height] = (block_hash_, state_hash)
        while len(self._recent) > RECENT_HASHES:
            self._recent.popitem(last=False)

    def _hashes_at(self, height: int) -> tuple[bytes, bytes] | None:
        """Our (block hash, state hash) at `height`, or None above the head."""
        found = self._recent.get(height)
        if found is not None or height > self.node.head.height:
            return found
        block = self.node.storage.block(height)
        if block is None:  # archived, or the snapshot this peer started from
            base = self.node.storage.base()
            if base is None or base.height != height:
                return None
            return block_hash(base), base.state_hash
        return block_hash(block.header), block.header.state_hash

    # -- the cutter ----------------------------------------------------------------------

    async def _cut_when_due(self) -> None:
        timeout_s = self.rules.timeout_ms / 1000
        poll_s = min(timeout_s / 4, 0.02)
        while True:
            await asyncio.sleep(poll_s)
            first = self._first_pending_at
            if first is None or not self.assembler.pending:
                continue
            now = time.monotonic()
            if now - first < timeout_s:
                continue
            height = self.assembler.height
            sent = self._marker_sent
            if sent is not None and sent[0] == height and now - sent[1] < max(1.0, timeout_s):
                continue  # already asked for this block; ask again only if it did not close
            self._marker_sent = (height, now)
            try:
                await self.log.publish_cut(height)
            except NodeError as error:
                log.warning("could not publish the cut marker of block %d: %s", height, error)

    # -- attestations --------------------------------------------------------------------

    async def _publish_attestations(self) -> None:
        peer = self.keys.public_key.hex()
        while True:
            await self._attestation_ready.wait()
            self._attestation_ready.clear()
            height = self.node.head.height
            hashes = self._hashes_at(height)
            if hashes is None:
                continue
            attestation = sign_attestation(self.keys, self.node.chain_id, height, *hashes)
            try:
                await self.log.publish_attestation(peer, encode_attestation(attestation))
            except NodeError as error:
                log.warning("could not publish the attestation of block %d: %s", height, error)

    async def _read_attestations(self) -> None:
        async for payload in self.log.attestations():
            attestation = decode_attestation(payload, self.tracker.wants)
            if attestation is None:
                continue
            had_alarm = self.tracker.alarm
            self.tracker.receive(attestation)
            alarm = self.tracker.alarm
            if alarm is not None and alarm != had_alarm:
                log.error("ALARM: %s", alarm)

    # -- the view ------------------------------------------------------------------------

    @property
    def alarm(self) -> str | None:
        return self.tracker.alarm

    def network_view(self) -> NetworkReply:
        tracker = self.tracker
        return NetworkReply(
            mode="nats",
            peer=self.name,
            public_key=self.keys.public_key.hex(),
            head_height=self.node.head.height,
            finalized_height=max(tracker.finalized_height, 0),
            log_position=self.log_position,
            pending=self.assembler.pending,
            halted=tracker.halted_by is not None,
            peers=[
                PeerReply(
                    name=view.info.name,
                    public_key=view.info.public_key.hex(),
                    api_url=view.info.api_url,
                    attested_height=view.attested_height,
                    agreed_height=view.agreed_height,
                    agrees=view.conflict is None,
                    conflict=view.conflict,
                )
                for view in tracker.peer_views()
            ],
            alarm=tracker.alarm,
        )
