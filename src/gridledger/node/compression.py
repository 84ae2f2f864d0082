"""How a peer's stored bytes are compressed: zstd, with dictionaries trained on its own chain.

Only the stored bytes change: every hash (block hash, Merkle roots, state hash) is
computed over the canonical encoding, which `unpack` gives back byte for byte.

A packed value starts with one format byte:

- ``0``: the bytes follow as they are (values too small to gain anything, and the state
  a chain file starts from a snapshot with: see `SQLiteStorage.start_from`);
- ``1``: a zstd frame (RFC 8878) without a dictionary;
- ``n >= 2``: a zstd frame compressed with the dictionary whose id is ``n - 1``.

Frames are written without zstd's magic number (``FORMAT_ZSTD1_MAGICLESS``), without
dictionary id and without checksum: four, four and four bytes saved per value, which
matters for state values of 5-200 bytes; the format byte says what the magic number
would, and a tampered frame is caught by the hashes over the unpacked bytes (or fails to
decompress, `UnpackError`).

Dictionaries (zstd's COVER trainer, `zstandard.train_dictionary`) are trained on samples
of the community's own transactions, receipts and state values and kept in the chain
file, each under a fixed id; a value names the dictionary it was packed with, so a
dictionary, once stored, is never changed or dropped. Transactions carry the members'
32-byte keys and addresses, which a 256 KiB dictionary holds for about a thousand
members: blocks shrink from ~350 to ~140 bytes per transaction on the 1,000-household day.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import zstandard

RAW = 0
PLAIN = 1
LEVEL = 3
"""zstd level: 9 and 19 gain under 2 % on these blocks at 2-4x the time."""
SMALLEST_PACKED = 24
"""Values shorter than this are stored raw (a frame header and one block cost ~6 bytes)."""

DICTIONARY_BYTES = {"block": 256 * 1024, "receipts": 64 * 1024, "state": 64 * 1024}
"""Dictionary size per kind of stored value."""
KINDS = tuple(DICTIONARY_BYTES)
MIN_DICTIONARY_BYTES = 1024
"""A smaller dictionary is not trained: samples of less than 8 KiB are too few to learn from."""
MIN_SAMPLES = 50
MAX_DICTIONARIES = 254
"""Format bytes 2-255 name dictionaries 1-254."""


class UnpackError(ValueError):
    """Stored bytes that do not unpack: unknown format byte or dictionary, or a bad frame."""


@dataclass(frozen=True, slots=True)
class Dictionary:
    """A trained zstd dictionary as stored: its id (1-254), its kind and its bytes."""

    id: int
    kind: str
    data: bytes


def _parameters() -> zstandard.ZstdCompressionParameters:
    return zstandard.ZstdCompressionParameters.from_level(
        LEVEL,
        format=zstandard.FORMAT_ZSTD1_MAGICLESS,
        write_checksum=0,
        write_content_size=1,
        write_dict_id=0,
    )


class Codec:
    """Packs and unpacks stored values with the chain's dictionaries (thread-safe).

    Compressors and decompressors are not thread-safe; each thread gets its own.
    """

    def __init__(self, dictionaries: Sequence[Dictionary] = ()) -> None:
        self._dictionaries: dict[int, Dictionary] = {}
        self._latest: dict[str, int] = {}
        self._local = threading.local()
        for dictionary in dictionaries:
            self.add(dictionary)

    def add(self, dictionary: Dictionary) -> None:
        """Use `dictionary` from now on for its kind (and to unpack what names it)."""
        if not 1 <= dictionary.id <= MAX_DICTIONARIES:
            raise ValueError(f"dictionary id {dictionary.id} is outside 1-{MAX_DICTIONARIES}")
        self._dictionaries[dictionary.id] = dictionary
        if dictionary.id >= self._latest.get(dictionary.kind, 0):
            self._latest[dictionary.kind] = dictionary.id

    def remove(self, dictionary_id: int) -> None:
        """Forget a dictionary whose storing was rolled back (nothing names it)."""
        removed = self._dictionaries.pop(dictionary_id, None)
        if removed is not None:
            kinds = [d.id for d in self._dictionaries.values() if d.kind == removed.kind]
            self._latest[removed.kind] = max(kinds, default=0)
            self._local = threading.local()

    @property
    def dictionaries(self) -> list[Dictionary]:
        return [self._dictionaries[i] for i in sorted(self._dictionaries)]

    def next_id(self) -> int:
        return max(self._dictionaries, default=0) + 1

    def latest(self, kind: str) -> int:
        """The id of the dictionary `kind` values are packed with now (0: none yet)."""
        return self._latest.get(kind, 0)

    def _cache(self) -> dict[tuple[str, int], object]:
        cache = getattr(self._local, "cache", None)
        if cache is None:
            cache = self._local.cache = {}
        return cache

    def _compressor(self, dictionary_id: int) -> zstandard.ZstdCompressor:
        cache = self._cache()
        found = cache.get(("c", dictionary_id))
        if found is None:
            data = self._dictionary_data(dictionary_id)
            found = zstandard.ZstdCompressor(compression_params=_parameters(), dict_data=data)
            cache[("c", dictionary_id)] = found
        return found  # type: ignore[return-value]

    def _decompressor(self, dictionary_id: int) -> zstandard.ZstdDecompressor:
        cache = self._cache()
        found = cache.get(("d", dictionary_id))
        if found is None:
            data = self._dictionary_data(dictionary_id)
            found = zstandard.ZstdDecompressor(
                dict_data=data, format=zstandard.FORMAT_ZSTD1_MAGICLESS
            )
            cache[("d", dictionary_id)] = found
        return found  # type: ignore[return-value]

    def _dictionary_data(self, dictionary_id: int) -> zstandard.ZstdCompressionDict | None:
        if dictionary_id == 0:
            return None
        stored = self._dictionaries.get(dictionary_id)
        if stored is None:
            raise UnpackError(f"names dictionary {dictionary_id}, which is not stored")
        return zstandard.ZstdCompressionDict(stored.data)

    def pack(self, kind: str, data: bytes) -> bytes:
        """`data` as stored: compressed with `kind`'s latest dictionary, or raw if tiny."""
        if len(data) < SMALLEST_PACKED:
            return b"\x00" + data
        dictionary_id = self.latest(kind)
        return bytes((dictionary_id + 1,)) + self._compressor(dictionary_id).compress(data)

    def unpack_many(self, stored: Sequence[bytes]) -> list[bytes]:
        """`unpack` of each of `stored` (one lookup of each decompressor, not one per value)."""
        decompressors: dict[int, zstandard.ZstdDecompressor] = {}
        unpacked: list[bytes] = []
        append = unpacked.append
        for value in stored:
            if not value:
                raise UnpackError("is empty")
            form = value[0]
            if form == RAW:
                append(value[1:])
                continue
            decompressor = decompressors.get(form)
            if decompressor is None:
                decompressor = decompressors[form] = self._decompressor(form - 1)
            try:
                append(decompressor.decompress(value[1:]))
            except zstandard.ZstdError as error:
                raise UnpackError(f"does not decompress ({error})") from error
        return unpacked

    def unpack(self, stored: bytes) -> bytes:
        """The bytes `pack` was given; `UnpackError` if `stored` is not a packed value."""
        if not stored:
            raise UnpackError("is empty")
        form = stored[0]
        if form == RAW:
            return stored[1:]
        try:
            return self._decompressor(form - 1).decompress(stored[1:])
        except zstandard.ZstdError as error:
            raise UnpackError(f"does not decompress ({error})") from error


def pack_raw(data: bytes) -> bytes:
    """`data` stored as it is (format byte 0), whatever its size: `unpack` gives it back."""
    return b"\x00" + data


def train(kind: str, dictionary_id: int, samples: Sequence[bytes]) -> Dictionary | None:
    """A dictionary for `kind` trained on `samples`, or None if they are too few to train on."""
    total = sum(map(len, samples))
    size = min(DICTIONARY_BYTES[kind], total // 8)
    if len(samples) < MIN_SAMPLES or size < MIN_DICTIONARY_BYTES:
        return None
    try:
        trained = zstandard.train_dictionary(size, list(samples), level=LEVEL)
    except zstandard.ZstdError:
        return None
    return Dictionary(dictionary_id, kind, trained.as_bytes())


FIRST_TRAINING = 5_000
"""Transactions stored before the first dictionaries are trained."""
RETRAIN_FACTOR = 8
"""New dictionaries are trained each time the chain has grown this many times over."""
SAMPLES = 20_000
"""Recent samples kept per kind for training (~7 MB of transactions at most)."""


class Trainer:
    """Collects samples of what a chain stores and trains its dictionaries in the background.

    Training takes about a second per kind; it runs in a thread so that no block waits
    for it, and the block stored after it finishes stores the new dictionaries with it
    (`take_trained`), in the same SQLite transaction as the first rows packed with them.
    """

    def __init__(self, codec: Codec, seen: int) -> None:
        self.codec = codec
        self.seen = seen
        """Transactions stored in the chain so far."""
        self._samples: dict[str, deque[bytes]] = {kind: deque(maxlen=SAMPLES) for kind in KINDS}
        self._trained: list[Dictionary] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        trained_at = max((d.id for d in codec.dictionaries), default=0)
        self._next = FIRST_TRAINING if trained_at == 0 else seen * RETRAIN_FACTOR

    def sample(
        self,
        transactions: Iterable[bytes],
        receipt_tails: Iterable[bytes],
        values: Iterable[bytes | None],
    ) -> None:
        self._samples["block"].extend(transactions)
        self._samples["receipts"].extend(receipt_tails)
        self._samples["state"].extend(v for v in values if v is not None)

    def counted(self, transactions: int) -> None:
        """`transactions` more are stored; start training when the chain has grown enough."""
        self.seen += transactions
        if self.seen < self._next or self._thread is not None:
            return
        self._next = self.seen * RETRAIN_FACTOR
        self._thread = threading.Thread(target=self.train_now, name="dictionary-trainer")
        self._thread.daemon = True
        self._thread.start()

    def train_now(self, covering: int = 0) -> list[Dictionary]:
        """Train one dictionary per kind on the current samples; `take_trained` hands them out.

        `covering`: the chain size the samples stand for (no new training before it has
        grown `RETRAIN_FACTOR` times over).
        """
        self._next = max(self._next, covering * RETRAIN_FACTOR)
        snapshot = {kind: list(samples) for kind, samples in self._samples.items()}
        trained: list[Dictionary] = []
        with self._lock:
            first = max(self.codec.next_id(), max((d.id for d in self._trained), default=0) + 1)
        for kind in KINDS:
            dictionary = train(kind, first + len(trained), snapshot[kind])
            if dictionary is not None:
                trained.append(dictionary)
        with self._lock:
            self._trained.extend(trained)
            if not trained:  # too few samples (say, just after a restart): try again soon
                self._next = min(self._next, self.seen + FIRST_TRAINING)
        return trained

    def take_trained(self) -> list[Dictionary]:
        """Dictionaries trained and not yet stored (the caller stores them, or `give_back`)."""
        with self._lock:
            trained, self._trained = self._trained, []
            if self._thread is not None and not self._thread.is_alive():
                self._thread = None
        return trained

    def give_back(self, dictionaries: Sequence[Dictionary]) -> None:
        """Dictionaries whose storing was rolled back: store them with the next block."""
        with self._lock:
            self._trained = [*dictionaries, *self._trained]

    def close(self) -> None:
        thread = self._thread
        if thread is not None:
            thread.join()
