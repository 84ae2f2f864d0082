"""The solo ordering service: cuts blocks in the node process, on asyncio.

A block is cut when `CutterConfig.max_transactions` are pending, or
`CutterConfig.timeout_ms` after the first pending transaction (Fabric's
BatchSize and BatchTimeout). Cutting runs in a worker thread so the API stays
responsive. The service also turns committed blocks into asyncio events:
waiters for a transaction's commit, and subscribers to the block stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Sequence

from gridledger.client.replies import NetworkReply
from gridledger.node.core import Admission, CommittedBlock, Node
from gridledger.node.views import solo_network_view

GC_THRESHOLDS = (10_000, 10, 10)
"""Python's collector thresholds in a node process (the defaults are 700, 10, 10)."""


def settle_heap() -> None:
    """Tune the garbage collector for a process that serves a node, once it has started.

    Executing an order allocates dozens of short-lived containers, so with the default
    threshold (a young collection every 700 allocations) the collector runs hundreds of
    times a second, and each full collection walks every object alive - modules, the
    API's routes and schemas included. So: collect once, freeze the survivors of start-up
    (`gc.freeze`: never scanned again), and collect the young generation every 10,000
    allocations. Reference counting frees almost everything anyway; only cycles wait a
    little longer. In a node on the bench this takes about 5 µs of CPU off each order.
    Call it only in a process that is the node (`gridledger node`), not in a library user.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


class SoloService:
    def __init__(self, node: Node) -> None:
        self.node = node
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._waiters: dict[bytes, list[asyncio.Future[tuple[CommittedBlock, int]]]] = {}
        self._subscribers: set[asyncio.Queue[CommittedBlock | None]] = set()
        node.listeners.append(self._on_commit_threadsafe)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        # a served node takes large batches: check them in worker processes (verifier.py)
        self.node.verifier.enable_processes()
        self._task = asyncio.create_task(self._run(), name="solo-cutter")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for queue in list(self._subscribers):
            queue.put_nowait(None)

    async def submit_many(
        self, raws: Sequence[bytes], timeout_s: float | None = None
    ) -> list[Admission]:
        """Admit `raws` to the mempool (at once: `timeout_s` is for ordering services that
        publish, see `OrderedService`)."""
        del timeout_s
        admissions = await asyncio.to_thread(self.node.submit_many, raws)
        self._wakeup.set()
        return admissions

    def is_pending(self, transaction_id: bytes) -> bool:
        """Whether this node accepted the transaction and has not committed it yet."""
        return self.node.mempool.contains(transaction_id)

    def waiter(self, transaction_id: bytes) -> asyncio.Future[tuple[CommittedBlock, int]]:
        """A future resolved with (block, position) when the transaction commits."""
        assert self._loop is not None
        future: asyncio.Future[tuple[CommittedBlock, int]] = self._loop.create_future()
        self._waiters.setdefault(transaction_id, []).append(future)
        return future

    def forget(
        self, transaction_id: bytes, future: asyncio.Future[tuple[CommittedBlock, int]]
    ) -> None:
        futures = self._waiters.get(transaction_id)
        if futures and future in futures:
            futures.remove(future)
            if not futures:
                del self._waiters[transaction_id]

    def subscribe(self) -> asyncio.Queue[CommittedBlock | None]:
        queue: asyncio.Queue[CommittedBlock | None] = asyncio.Queue(maxsize=1000)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[CommittedBlock | None]) -> None:
        self._subscribers.discard(queue)

    async def _run(self) -> None:
        cutter = self.node.cutter
        mempool = self.node.mempool
        timeout_s = cutter.timeout_ms / 1000
        while True:
            if len(mempool) == 0:
                self._wakeup.clear()
                await self._wakeup.wait()
            if len(mempool) < cutter.max_transactions:
                # BatchTimeout counts from the oldest pending transaction's admission, so
                # transactions that arrived while the previous block was being cut wait
                # only for what is left of their timeout.
                age = mempool.oldest_age_s()
                if age is None:
                    continue
                if age < timeout_s:
                    await asyncio.sleep(timeout_s - age)
            await asyncio.to_thread(self.node.cut_block)

    def network_view(self) -> NetworkReply:
        """``GET /v1/network`` in solo mode: one peer, every committed block final."""
        return solo_network_view(self.node)

    def _on_commit_threadsafe(self, committed: CommittedBlock) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._on_commit, committed)

    def _on_commit(self, committed: CommittedBlock) -> None:
        for position, receipt in enumerate(committed.receipts):
            for future in self._waiters.pop(receipt.transaction_id, []):
                if not future.done():
                    future.set_result((committed, position))
        for queue in list(self._subscribers):
            if queue.full():  # a slow reader loses its oldest block rather than stalling the node
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(committed)
