"""World state: one key-value map per contract namespace, and its hash.

State is a map from (namespace, key) to canonical bytes. Each contract owns
one namespace (``membership``, ``tokens``, ...); the ledger itself owns
``ledger`` (nonces, parameters). Values are canonical encodings, so equal
states are equal byte for byte.

Writes go through two layers of `Overlay`: one per block and one per
transaction. A refused transaction's overlay is dropped, so it changes
nothing; a block's overlay is merged into the state only once the whole block
has been executed and checked.

The state hash is a homomorphic multiset hash (LtHash, Bellare–Micciancio
1997; the 16-bit, 1024-lane form used by Facebook and by Solana's accounts
lattice hash). Each entry is expanded by SHAKE-128 into 1024 unsigned 16-bit
lanes; the state's lattice value is the lane-wise sum of its entries, modulo
2**16, and the state hash is the SHA-256 of that vector. Adding or removing an
entry costs one expansion, so the hash after each block costs what the block
wrote, not the size of the state, and it is still a function of the state
alone: any peer can check a copy of the state against a block header.

Expanding is most of the cost of a block's hash, and it holds the GIL; a node
that serves the API gives its state a `LaneSummer` (its verify worker processes)
that expands a block's entries and returns their lane sums. The sums are the
same wherever they are computed, so the hash is too.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from gridledger.crypto import sha256
from gridledger.ledger.encoding import encode

StateKey = tuple[str, str]
"""(namespace, key)."""

LATTICE_LANES = 1024
LATTICE_BYTES = LATTICE_LANES * 2
LATTICE_DOMAIN = b"gridledger/state-entry/v1\x00"


def entry_bytes(namespace: str, key: str, value: bytes) -> bytes:
    """The canonical bytes of one state entry, as hashed into the lattice."""
    return LATTICE_DOMAIN + encode([namespace, key, value])


LaneVector = npt.NDArray[np.uint16]
"""1,024 lanes of 16 bits: an entry's expansion, or a sum of them modulo 2**16."""

LaneSummer = Callable[[list[bytes], list[bytes]], "tuple[LaneVector, LaneVector] | None"]
"""Computes (`lane_sum(added)`, `lane_sum(removed)`) elsewhere (a served node's worker
processes), or returns None when it cannot now (the entries are then expanded here)."""

OFFLOAD_MIN = 64
"""Fewest entries worth sending to a `LaneSummer`: below it, expanding here is cheaper."""


def expand_entry(entry: bytes) -> bytes:
    """The lattice expansion of one entry: 2,048 bytes (1,024 lanes) of SHAKE-128."""
    return hashlib.shake_128(entry).digest(LATTICE_BYTES)


SUM_CHUNK = 1024
"""Entries expanded and summed at a time: 2 MiB of expansions, which stay in the CPU's
caches. Joining the expansions of a whole state first (~580 MiB for 284,000 entries)
took longer than expanding them; the sum modulo 2**16 is the same in any grouping."""


def lane_sum(entries: list[bytes]) -> LaneVector:
    """The lane-wise sum modulo 2**16 of the expansions of `entries` (no memo)."""
    if len(entries) <= SUM_CHUNK:
        return _sum_expansions([expand_entry(entry) for entry in entries])
    total = np.zeros(LATTICE_LANES, dtype=np.uint16)
    for start in range(0, len(entries), SUM_CHUNK):
        chunk = entries[start : start + SUM_CHUNK]
        total += _sum_expansions([expand_entry(entry) for entry in chunk])
    return total


def lane_sum_of_items(items: Sequence[tuple[str, str, bytes]]) -> LaneVector:
    """`lane_sum` of the entries (namespace, key, value): what a worker process computes for
    a part of a whole state (the node's start-up check, a snapshot's restore)."""
    return lane_sum([entry_bytes(namespace, key, value) for namespace, key, value in items])


def _sum_expansions(expansions: list[bytes]) -> LaneVector:
    """Lane-wise sum modulo 2**16 of expansions.

    Summed in uint16, whose arithmetic wraps: exactly the sum modulo 2**16, at half
    the memory traffic of a uint64 sum reduced afterwards.
    """
    if not expansions:
        return np.zeros(LATTICE_LANES, dtype=np.uint16)
    blob = b"".join(expansions)
    lanes = np.frombuffer(blob, dtype="<u2").reshape(len(expansions), LATTICE_LANES)
    total: LaneVector = lanes.sum(axis=0, dtype=np.uint16)
    return total


class _ExpansionCache:
    """Expansions of the entries most recently added to a state.

    An entry that one block adds is usually replaced by a later block (a balance, a
    nonce), which must then subtract its expansion: remembering it saves expanding it
    again. A memo of a pure function, so the hash is the same with or without it.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._expansions: OrderedDict[bytes, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, entries: list[bytes]) -> list[bytes | None]:
        """The remembered expansion of each entry (None if not), forgotten once taken.

        An entry is removed from a state only once, so it is not needed again.
        """
        with self._lock:
            pop = self._expansions.pop
            return [pop(entry, None) for entry in entries]

    def keep(self, entries: list[bytes], expansions: list[bytes]) -> None:
        """Remember the expansions of entries just added (the oldest go beyond `limit`)."""
        with self._lock:
            kept = self._expansions
            for entry, expansion in zip(entries, expansions, strict=True):
                kept[entry] = expansion
            while len(kept) > self.limit:
                kept.popitem(last=False)


_CACHE = _ExpansionCache(limit=16_384)


def _sums(
    added: list[bytes], removed: list[bytes], keep: bool, summer: LaneSummer | None
) -> tuple[LaneVector, LaneVector]:
    """Lane-wise sums modulo 2**16 of the expansions of `added` and of `removed`.

    Removed entries whose expansion is remembered are not expanded again. `keep`
    remembers the expansions of `added`, for when a later block replaces them. With
    enough entries left to expand, `summer` expands them elsewhere (see `LaneSummer`);
    what it expands is not remembered, so it expands those entries again on removal.
    """
    found = _CACHE.take(removed)
    missing = [entry for entry, known in zip(removed, found, strict=True) if known is None]
    known = _sum_expansions([expansion for expansion in found if expansion is not None])
    sums = None
    if summer is not None and len(added) + len(missing) >= OFFLOAD_MIN:
        sums = summer(added, missing)
    if sums is not None:
        return sums[0], sums[1] + known
    if not keep:
        return lane_sum(added), lane_sum(missing) + known
    expansions = [expand_entry(entry) for entry in added]
    _CACHE.keep(added, expansions)
    return _sum_expansions(expansions), lane_sum(missing) + known


def lane_sums_remembered(added: list[bytes], removed: list[bytes]) -> tuple[LaneVector, LaneVector]:
    """(`lane_sum(added)`, `lane_sum(removed)`) through this process's expansion memo.

    The expansions of `added` are remembered, and a removed entry whose expansion is
    remembered is not expanded again: what a worker process that sums a block's lanes
    runs, when the same entry is always sent to the same worker (`Verifier.lane_sums`).
    """
    return _sums(added, removed, True, None)


@dataclass(slots=True)
class LatticeHash:
    """A multiset hash of state entries; see the module docstring."""

    lanes: npt.NDArray[np.uint16] = field(
        default_factory=lambda: np.zeros(LATTICE_LANES, dtype=np.uint16)
    )

    def update(
        self,
        added: list[bytes],
        removed: list[bytes],
        keep: bool = True,
        summer: LaneSummer | None = None,
    ) -> None:
        """Add the entries `added` and remove the entries `removed` (each an `entry_bytes`).

        `keep` remembers the expansions of `added` for when they are replaced later;
        `summer` may expand them elsewhere (see `LaneSummer`).
        """
        plus, minus = _sums(added, removed, keep, summer)
        # (a + plus - minus) mod 2**16: uint16 arithmetic wraps modulo 2**16
        self.lanes = self.lanes + plus - minus

    def digest(self) -> bytes:
        """The 32-byte state hash: SHA-256 of the little-endian lane vector."""
        return sha256(self.lanes.astype("<u2").tobytes())

    def copy(self) -> LatticeHash:
        return LatticeHash(self.lanes.copy())


class State:
    """The committed world state of one peer, held in memory.

    Storage (``node/storage.py``) persists it; this class only holds it and
    keeps its `LatticeHash` current.

    Entries are kept in one dict per namespace, keyed by the key alone: a (namespace,
    key) tuple per entry cost 56 bytes more, a seventh of an entry, and a day of ten
    thousand households keeps 2.8 million entries.
    """

    __slots__ = ("_data", "_lattice", "_owed", "_pending", "lane_summer")

    def __init__(self) -> None:
        self.lane_summer: LaneSummer | None = None
        """Where a block's entries are expanded for the hash, if not here (`LaneSummer`)."""
        self._data: dict[str, dict[str, bytes]] = {}
        self._lattice = LatticeHash()
        self._pending: tuple[dict[StateKey, bytes | None], LatticeHash] | None = None
        """The writes last passed to `hash_after` (a copy) and the lattice they give."""
        self._owed = 0
        """Blocks committed by `commit_unhashed` whose lane sums are not `settle`d yet."""

    @classmethod
    def from_entries(
        cls, entries: Mapping[StateKey, bytes], lanes: LaneVector | None = None
    ) -> State:
        """A state holding exactly `entries`, with its hash computed from scratch.

        `lanes`: the `lane_sum` of exactly these entries, computed elsewhere (the node's
        worker processes, `lane_sum_of_items`); the caller vouches for it.
        """
        state = cls()
        data = state._data
        for (namespace, key), value in entries.items():
            space = data.get(namespace)
            if space is None:
                space = data[namespace] = {}
            space[key] = value
        if lanes is not None:
            state._lattice = LatticeHash(lanes.astype(np.uint16, copy=True))
            return state
        state._lattice.update(
            [entry_bytes(ns, key, value) for (ns, key), value in entries.items()], [], keep=False
        )
        return state

    def get(self, namespace: str, key: str) -> bytes | None:
        space = self._data.get(namespace)
        return None if space is None else space.get(key)

    def lookup(self, state_key: StateKey) -> bytes | None:
        """`get` by a (namespace, key) pair already built (what an `Overlay` has)."""
        space = self._data.get(state_key[0])
        return None if space is None else space.get(state_key[1])

    def __len__(self) -> int:
        return sum(len(space) for space in self._data.values())

    def items(self) -> Iterator[tuple[StateKey, bytes]]:
        """All entries, in sorted key order."""
        for namespace in sorted(self._data):
            space = self._data[namespace]
            for key in sorted(space):
                yield (namespace, key), space[key]

    def keys_with_prefix(self, namespace: str, prefix: str) -> list[str]:
        """Keys of `namespace` starting with `prefix`, sorted (a scan of the namespace)."""
        return sorted(k for k in self._data.get(namespace, ()) if k.startswith(prefix))

    def entry_changes(
        self, writes: Mapping[StateKey, bytes | None]
    ) -> tuple[list[bytes], list[bytes]]:
        """(added, removed): the `entry_bytes` that `writes` would add to and remove from
        this state (a write of the value already there changes nothing)."""
        added: list[bytes] = []
        removed: list[bytes] = []
        lookup = self.lookup
        for state_key, value in writes.items():
            old = lookup(state_key)
            if old == value:
                continue
            if old is not None:
                removed.append(entry_bytes(*state_key, old))
            if value is not None:
                added.append(entry_bytes(*state_key, value))
        return added, removed

    def _check_settled(self) -> None:
        if self._owed:
            raise RuntimeError(f"the state hash owes the lane sums of {self._owed} block(s)")

    def _lattice_after(self, writes: Mapping[StateKey, bytes | None]) -> LatticeHash:
        self._check_settled()
        added, removed = self.entry_changes(writes)
        lattice = self._lattice.copy()
        lattice.update(added, removed, summer=self.lane_summer)
        return lattice

    def hash_after(self, writes: Mapping[StateKey, bytes | None]) -> bytes:
        """The state hash the state would have after `writes`, without applying them."""
        lattice = self._lattice_after(writes)
        self._pending = (dict(writes), lattice)
        return lattice.digest()

    def apply_writes(self, writes: Mapping[StateKey, bytes | None]) -> None:
        """Merge a block's writes (None deletes) and update the state hash."""
        pending = self._pending
        if pending is not None and pending[0] == writes:
            lattice = pending[1]
        else:
            lattice = self._lattice_after(writes)
        self._pending = None
        self._merge(writes)
        self._lattice = lattice

    def _merge(self, writes: Mapping[StateKey, bytes | None]) -> None:
        data = self._data
        for (namespace, key), value in writes.items():
            space = data.get(namespace)
            if value is None:
                if space is not None:
                    space.pop(key, None)
                continue
            if space is None:
                space = data[namespace] = {}
            space[key] = value

    def commit_unhashed(
        self, writes: Mapping[StateKey, bytes | None]
    ) -> tuple[list[bytes], list[bytes]]:
        """Merge a block's writes now and owe the hash its lane sums; return (added, removed).

        For a replay that computes the sums elsewhere while it executes the next blocks
        (`node.verify`): the caller passes `lane_sum(added)` and `lane_sum(removed)` to
        `settle`, block after block in the order committed; until every committed
        block is settled, `state_hash`, `hash_after` and `apply_writes` raise
        `RuntimeError` (the hash would be wrong), while reads see the merged writes.
        """
        added, removed = self.entry_changes(writes)
        self._pending = None
        self._merge(writes)
        self._owed += 1
        return added, removed

    def settle(self, plus: LaneVector, minus: LaneVector) -> bytes:
        """Add the lane sums of the oldest block committed by `commit_unhashed` and
        return the state hash after that block.

        Blocks must be settled in the order they were committed for the hash returned
        to be the one after each block (the last one settled gives the state's hash).
        """
        if not self._owed:
            raise RuntimeError("no block committed by commit_unhashed is owed its lane sums")
        self._lattice = LatticeHash(self._lattice.lanes + plus - minus)
        self._owed -= 1
        return self._lattice.digest()

    def state_hash(self) -> bytes:
        """The 32-byte hash of the whole state (see the module docstring)."""
        self._check_settled()
        return self._lattice.digest()

    def copy(self) -> State:
        """An independent copy (the data maps are copied; values are immutable bytes)."""
        self._check_settled()
        other = State()
        other._data = {namespace: dict(space) for namespace, space in self._data.items()}
        other._lattice = self._lattice.copy()
        return other


def state_hash_of(entries: Mapping[StateKey, bytes]) -> bytes:
    """Hash of a state given as a plain mapping, computed from scratch (for verification)."""
    lattice = LatticeHash()
    lattice.update(
        [entry_bytes(ns, key, value) for (ns, key), value in entries.items()], [], keep=False
    )
    return lattice.digest()


_ABSENT = object()
"""Marks a key an overlay has not written (None means the overlay deleted it)."""


class Overlay:
    """Uncommitted writes on top of a parent (a `State` or another `Overlay`)."""

    __slots__ = ("parent", "writes")

    def __init__(self, parent: State | Overlay) -> None:
        self.parent = parent
        self.writes: dict[StateKey, bytes | None] = {}

    def get(self, namespace: str, key: str) -> bytes | None:
        """The value in the nearest layer that wrote the key (None if deleted or absent).

        A loop down the layers rather than a call per layer: a contract reads through
        two overlays (transaction, block) to the state, dozens of times per transaction.
        """
        state_key = (namespace, key)
        layer = self
        while True:
            value = layer.writes.get(state_key, _ABSENT)
            if value is not _ABSENT:
                return value  # type: ignore[return-value]
            parent = layer.parent
            if not isinstance(parent, Overlay):
                return parent.lookup(state_key)
            layer = parent

    def put(self, namespace: str, key: str, value: bytes) -> None:
        self.writes[(namespace, key)] = value

    def delete(self, namespace: str, key: str) -> None:
        self.writes[(namespace, key)] = None

    def merge_into_parent(self) -> None:
        """Push these writes down into the parent overlay (not into a `State`)."""
        if not isinstance(self.parent, Overlay):
            raise TypeError("merge a block overlay with State.apply_writes")
        self.parent.writes.update(self.writes)
        self.writes = {}
