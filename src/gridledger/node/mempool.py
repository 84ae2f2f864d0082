"""The mempool: transactions admitted but not yet in a block.

Admission checks what can be checked before ordering: the stateless checks
(done by the caller, in parallel), duplicates (already pending or already
committed), the sender's right to call the method (`Registry.admit`, which
asks `outstanding` for one pending application per key) and the sender's nonce.
A sender's transactions must arrive in nonce order: the mempool tracks the
next nonce it expects from each sender with transactions outstanding, so a
client can pipeline many transactions without waiting for blocks.

Limits: a maximum number of pending transactions and a maximum number of
pending bytes; beyond them `MempoolFull` asks the client to retry later.
Transactions leave in arrival order (FIFO), which is the order of execution.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

from gridledger.ledger import DuplicateTransaction, NonceMismatch, SignedTransaction
from gridledger.node.errors import MempoolFull


@dataclass(frozen=True, slots=True)
class PendingTransaction:
    transaction_id: bytes
    raw: bytes
    signed: SignedTransaction
    sender: str


class Mempool:
    def __init__(self, max_transactions: int = 200_000, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.max_transactions = max_transactions
        self.max_bytes = max_bytes
        self._pending: OrderedDict[bytes, PendingTransaction] = OrderedDict()
        self._in_flight: set[bytes] = set()
        """Ids taken into a block that is being built and not yet committed."""
        self._bytes = 0
        self._next_nonce: dict[str, int] = {}
        self._outstanding: dict[str, int] = {}
        self._admitted_at: deque[float] = deque()
        """Monotonic admission time of each pending transaction, oldest first (FIFO)."""
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._pending)

    @property
    def pending_bytes(self) -> int:
        return self._bytes

    def oldest_age_s(self) -> float | None:
        """Seconds since the oldest pending transaction was admitted (None when empty)."""
        with self._lock:
            if not self._admitted_at:
                return None
            return time.monotonic() - self._admitted_at[0]

    def contains(self, transaction_id: bytes) -> bool:
        """Whether the transaction is waiting, or in a block being built (not yet committed)."""
        return transaction_id in self._pending or transaction_id in self._in_flight

    def outstanding(self, sender: str) -> int:
        """How many of `sender`'s transactions are admitted and not yet committed."""
        return self._outstanding.get(sender, 0)

    def add(self, pending: PendingTransaction, committed_nonce: Callable[[], int]) -> None:
        """Admit `pending`; `committed_nonce()` reads the sender's nonce in the committed state.

        It is read under the mempool's lock, and only for a sender with nothing outstanding:
        a block that commits the sender's last outstanding transaction updates the state
        before it releases the sender's tracking, so the value read is never stale.
        """
        with self._lock:
            if pending.transaction_id in self._pending or pending.transaction_id in self._in_flight:
                raise DuplicateTransaction(pending.transaction_id.hex())
            if len(self._pending) >= self.max_transactions:
                raise MempoolFull(len(self._pending), self.max_transactions, "transactions")
            if self._bytes + len(pending.raw) > self.max_bytes:
                raise MempoolFull(self._bytes, self.max_bytes, "bytes")
            expected = self._next_nonce.get(pending.sender)
            if expected is None:
                expected = committed_nonce()
            nonce = pending.signed.transaction.nonce
            if nonce != expected:
                raise NonceMismatch(pending.sender, expected=expected, got=nonce)
            self._pending[pending.transaction_id] = pending
            self._admitted_at.append(time.monotonic())
            self._bytes += len(pending.raw)
            self._next_nonce[pending.sender] = expected + 1
            self._outstanding[pending.sender] = self._outstanding.get(pending.sender, 0) + 1

    def take(self, max_transactions: int, max_bytes: int) -> list[PendingTransaction]:
        """Remove and return the oldest transactions that fit the limits (at least one)."""
        taken: list[PendingTransaction] = []
        size = 0
        with self._lock:
            pending_by_id = self._pending
            while pending_by_id and len(taken) < max_transactions:
                tx_id, pending = pending_by_id.popitem(last=False)
                length = len(pending.raw)
                if taken and size + length > max_bytes:
                    pending_by_id[tx_id] = pending  # it stays first in line
                    pending_by_id.move_to_end(tx_id, last=False)
                    break
                size += length
                taken.append(pending)
            self._in_flight.update(p.transaction_id for p in taken)
            for _ in taken:
                self._admitted_at.popleft()
            self._bytes -= size
        return taken

    def committed(self, taken: list[PendingTransaction]) -> None:
        """Forget transactions now committed, and the nonce tracking of senders with none left."""
        with self._lock:
            for pending in taken:
                self._in_flight.discard(pending.transaction_id)
                sender = pending.sender
                left = self._outstanding.get(sender, 0) - 1
                if left <= 0:
                    self._outstanding.pop(sender, None)
                    self._next_nonce.pop(sender, None)
                else:
                    self._outstanding[sender] = left
