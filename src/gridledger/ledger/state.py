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
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
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

    def expansion(self, entry: bytes) -> bytes:
        with self._lock:
            found = self._expansions.pop(entry, None)  # an entry is replaced only once
        if found is not None:
            return found
        return hashlib.shake_128(entry).digest(LATTICE_BYTES)

    def expand_and_keep(self, entry: bytes) -> bytes:
        expansion = hashlib.shake_128(entry).digest(LATTICE_BYTES)
        with self._lock:
            self._expansions[entry] = expansion
            if len(self._expansions) > self.limit:
                self._expansions.popitem(last=False)
        return expansion


_CACHE = _ExpansionCache(limit=16_384)


def _expand(entries: list[bytes], keep: bool = False) -> npt.NDArray[np.uint64]:
    """Lane-wise sum (as uint64, not yet reduced) of the expansions of `entries`.

    `keep` remembers the expansions of entries just added to a state, for when a later
    block replaces them (they are then removed, and their expansion is needed again).
    """
    if not entries:
        return np.zeros(LATTICE_LANES, dtype=np.uint64)
    expand = _CACHE.expand_and_keep if keep else _CACHE.expansion
    blob = b"".join([expand(entry) for entry in entries])
    lanes = np.frombuffer(blob, dtype="<u2").reshape(len(entries), LATTICE_LANES)
    total: npt.NDArray[np.uint64] = lanes.sum(axis=0, dtype=np.uint64)
    return total


@dataclass(slots=True)
class LatticeHash:
    """A multiset hash of state entries; see the module docstring."""

    lanes: npt.NDArray[np.uint16] = field(
        default_factory=lambda: np.zeros(LATTICE_LANES, dtype=np.uint16)
    )

    def update(self, added: list[bytes], removed: list[bytes], keep: bool = True) -> None:
        """Add the entries `added` and remove the entries `removed` (each an `entry_bytes`).

        `keep` remembers the expansions of `added` for when they are replaced later.
        """
        plus = _expand(added, keep)
        minus = _expand(removed)
        modulus = np.uint64(1 << 16)
        # (a + plus - minus) mod 2**16, computed without negative intermediates
        total = self.lanes.astype(np.uint64) + plus + (modulus - (minus % modulus))
        self.lanes = (total % modulus).astype(np.uint16)

    def digest(self) -> bytes:
        """The 32-byte state hash: SHA-256 of the little-endian lane vector."""
        return sha256(self.lanes.astype("<u2").tobytes())

    def copy(self) -> LatticeHash:
        return LatticeHash(self.lanes.copy())


class State:
    """The committed world state of one peer, held in memory.

    Storage (``node/storage.py``) persists it; this class only holds it and
    keeps its `LatticeHash` current.
    """

    __slots__ = ("_data", "_lattice", "_pending")

    def __init__(self) -> None:
        self._data: dict[StateKey, bytes] = {}
        self._lattice = LatticeHash()
        self._pending: tuple[dict[StateKey, bytes | None], LatticeHash] | None = None
        """The writes last passed to `hash_after` (a copy) and the lattice they give."""

    @classmethod
    def from_entries(cls, entries: Mapping[StateKey, bytes]) -> State:
        """A state holding exactly `entries`, with its hash computed from scratch."""
        state = cls()
        state._data = dict(entries)
        state._lattice.update(
            [entry_bytes(ns, key, value) for (ns, key), value in entries.items()], [], keep=False
        )
        return state

    def get(self, namespace: str, key: str) -> bytes | None:
        return self._data.get((namespace, key))

    def __len__(self) -> int:
        return len(self._data)

    def items(self) -> Iterator[tuple[StateKey, bytes]]:
        """All entries, in sorted key order."""
        for state_key in sorted(self._data):
            yield state_key, self._data[state_key]

    def keys_with_prefix(self, namespace: str, prefix: str) -> list[str]:
        """Keys of `namespace` starting with `prefix`, sorted (a linear scan, for queries)."""
        return sorted(k for (ns, k) in self._data if ns == namespace and k.startswith(prefix))

    def _lattice_after(self, writes: Mapping[StateKey, bytes | None]) -> LatticeHash:
        added: list[bytes] = []
        removed: list[bytes] = []
        for state_key, value in writes.items():
            old = self._data.get(state_key)
            if old == value:
                continue
            if old is not None:
                removed.append(entry_bytes(*state_key, old))
            if value is not None:
                added.append(entry_bytes(*state_key, value))
        lattice = self._lattice.copy()
        lattice.update(added, removed)
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
        for state_key, value in writes.items():
            if value is None:
                self._data.pop(state_key, None)
            else:
                self._data[state_key] = value
        self._lattice = lattice

    def state_hash(self) -> bytes:
        """The 32-byte hash of the whole state (see the module docstring)."""
        return self._lattice.digest()

    def copy(self) -> State:
        """An independent copy (the data map is copied; values are immutable bytes)."""
        other = State()
        other._data = dict(self._data)
        other._lattice = self._lattice.copy()
        return other


def state_hash_of(entries: Mapping[StateKey, bytes]) -> bytes:
    """Hash of a state given as a plain mapping, computed from scratch (for verification)."""
    lattice = LatticeHash()
    lattice.update(
        [entry_bytes(ns, key, value) for (ns, key), value in entries.items()], [], keep=False
    )
    return lattice.digest()


class Overlay:
    """Uncommitted writes on top of a parent (a `State` or another `Overlay`)."""

    __slots__ = ("parent", "writes")

    def __init__(self, parent: State | Overlay) -> None:
        self.parent = parent
        self.writes: dict[StateKey, bytes | None] = {}

    def get(self, namespace: str, key: str) -> bytes | None:
        state_key = (namespace, key)
        if state_key in self.writes:
            return self.writes[state_key]
        return self.parent.get(namespace, key)

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
