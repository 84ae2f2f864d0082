"""A limit on refused submissions: token buckets per client address and per sender.

A submission the node refuses (a bad signature, a replay, a non-member, a malformed body)
writes nothing, but answering it still costs the node, and a client that keeps sending
them is probing or broken. Each refused submission spends one token from the bucket of
the HTTP peer's address and, when its signature verified, one from the bucket of its
sender; a bucket refills at a steady rate up to its burst. A refusal that finds either
bucket empty is answered 429 ``rate_limited`` with ``Retry-After`` (whole seconds until
a token is back) instead of its own code. Accepted submissions spend nothing and are
never limited: the benchmarks send thousands a second.

Memory is bounded: at most `RefusalLimits.max_buckets` buckets of each kind, the least
recently used evicted first, and a bucket that has refilled is dropped (it is the same as
none). The address is the TCP peer's (``request.client``): behind a reverse proxy every
client shares the proxy's address, so give that address a larger allowance there or
limit at the proxy. The buckets live in the API's event loop, so they need no lock; the
in-process client (`EmbeddedClient`) never passes through them.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from fastapi.responses import JSONResponse


@dataclass(frozen=True, slots=True)
class RefusalLimits:
    """How many refused submissions one address and one sender may have answered.

    The defaults let a client that gets a few things wrong carry on unnoticed (a burst of
    100 per address, 20 per sender) and hold one that keeps doing it to 10 refusals a
    second per address and 1 per sender. A rate of 0 turns that limit off.
    """

    address_per_second: float = 10.0
    address_burst: int = 100
    sender_per_second: float = 1.0
    sender_burst: int = 20
    max_buckets: int = 65_536
    """Buckets kept per kind (addresses, senders); the least recently used go first."""

    def __post_init__(self) -> None:
        for name in ("address_per_second", "sender_per_second"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 (off) or positive, got {getattr(self, name)}")
        for name in ("address_burst", "sender_burst", "max_buckets"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")

    @classmethod
    def off(cls) -> RefusalLimits:
        """No limit at all (tests that send many refusals on purpose, trusted networks)."""
        return cls(address_per_second=0, sender_per_second=0)


class TokenBuckets:
    """Token buckets by key, each refilling at `rate` per second up to `burst` tokens."""

    def __init__(
        self,
        rate: float,
        burst: int,
        max_buckets: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.max_buckets = max_buckets
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        """key -> (tokens, when they were counted), least recently used first."""

    def __len__(self) -> int:
        return len(self._buckets)

    def _tokens(self, key: str, now: float) -> float:
        found = self._buckets.get(key)
        if found is None:
            return float(self.burst)
        tokens, counted = found
        return min(float(self.burst), tokens + (now - counted) * self.rate)

    def wait_s(self, key: str) -> float:
        """Seconds until `key` has a token to spend (0 when it has one now)."""
        if self.rate <= 0:
            return 0.0
        tokens = self._tokens(key, self.clock())
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate

    def spend(self, key: str) -> None:
        """Take one token from `key`'s bucket (call only after `wait_s` said 0)."""
        if self.rate <= 0:
            return
        now = self.clock()
        tokens = max(self._tokens(key, now) - 1, 0.0)
        self._buckets[key] = (tokens, now)
        self._buckets.move_to_end(key)
        self._evict(now)

    def _evict(self, now: float) -> None:
        """Drop the least recently used buckets beyond the bound, and refilled ones."""
        while len(self._buckets) > self.max_buckets:
            self._buckets.popitem(last=False)
        while self._buckets:
            oldest = next(iter(self._buckets))
            if self._tokens(oldest, now) < self.burst:
                break
            del self._buckets[oldest]


@dataclass(frozen=True, slots=True)
class Limited:
    """A refusal over the limit: whose bucket is empty and when to try again."""

    kind: str
    """``address`` or ``sender``."""
    who: str
    retry_after_s: int

    def body(self) -> dict[str, object]:
        return {
            "error": "rate_limited",
            "message": (
                f"too many refused submissions from {self.kind} {self.who}; "
                f"retry after {self.retry_after_s} s"
            ),
            "limited": self.kind,
            "retry_after_s": self.retry_after_s,
        }

    def response(self) -> JSONResponse:
        headers = {"Retry-After": str(self.retry_after_s)}
        return JSONResponse(status_code=429, content=self.body(), headers=headers)


class RefusalLimiter:
    """The buckets of one API: per client address and per sender (see the module)."""

    def __init__(self, limits: RefusalLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.addresses = TokenBuckets(
            limits.address_per_second, limits.address_burst, limits.max_buckets, clock
        )
        self.senders = TokenBuckets(
            limits.sender_per_second, limits.sender_burst, limits.max_buckets, clock
        )

    def refused(self, address: str, sender: str = "") -> Limited | None:
        """Count one refused submission from `address` (and `sender`, if known); return the
        `Limited` to answer instead when a bucket is empty (nothing is spent then)."""
        waits = [("address", address, self.addresses.wait_s(address))]
        if sender:
            waits.append(("sender", sender, self.senders.wait_s(sender)))
        kind, who, wait = max(waits, key=lambda entry: entry[2])
        if wait > 0:
            return Limited(kind, who, max(1, math.ceil(wait)))
        self.addresses.spend(address)
        if sender:
            self.senders.spend(sender)
        return None
