"""The one canonical encoding of everything that is hashed or signed.

Encoding: MessagePack through msgspec. Structures are encoded as arrays in
field order (``array_like``), maps with their keys sorted, integers in their
shortest form. Decoding is strict: a byte string is accepted only if it decodes
to the expected type *and* re-encodes to exactly the same bytes, so there is
one and only one encoding of every value and every peer hashes the same bytes.

Floats are refused everywhere (see `check_no_floats`): ledger state and
contract logic are integers only (DESIGN.md, Determinism).

The encoding is versioned by the ``version`` field that leads transactions and
block headers; `ENCODING_VERSION` is the version this code writes and accepts.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from gridledger.ledger.errors import DecodingError

ENCODING_VERSION = 1
"""Version of the transaction and block encoding written and accepted here."""

MAX_TRANSACTION_BYTES = 32 * 1024
"""Largest encoded signed transaction accepted, in bytes."""

MAX_BLOCK_BYTES = 8 * 1024 * 1024
"""Largest encoded block accepted, in bytes."""

MAX_ARGUMENT_DEPTH = 16
"""Deepest nesting of arrays and maps in a transaction's arguments (the args map is level 1).

msgspec decodes nested values recursively and raises `RecursionError` at about 1,500
levels; a 950-level value decodes, and then every recursive reader (views, JSON
encoders) of the stored transaction fails. So the depth is counted on the raw bytes,
without recursion, before anything decodes them (`nesting_depth`). 16 is far above
what any contract takes (at most 3: a map of lists of maps).
"""

MAX_INTEGER = 2**63 - 1
MIN_INTEGER = -(2**63)
"""Integers in arguments and state stay within signed 64 bits, like Fabric's Int64."""

_ENCODER = msgspec.msgpack.Encoder(order="sorted")
T = TypeVar("T")
S = TypeVar("S", bound=type[msgspec.Struct])

_OPTIONAL_LAST: dict[type, int] = {}
"""Array-like struct types whose last field is left out when empty: type -> fields always kept."""


def omit_empty_last_field(cls: S) -> S:
    """Class decorator: encode the struct without its last field while that field is empty.

    A field added to an array-like struct would otherwise change the bytes of
    every value recorded before it existed (msgspec omits no trailing defaults
    from arrays). With this, a value whose new field is empty keeps its old
    bytes, and its old bytes still decode; the one encoding of each value stays
    one (`decode` refuses an explicitly empty last field).
    """
    _OPTIONAL_LAST[cls] = len(cls.__struct_fields__) - 1
    return cls


def encode(value: Any) -> bytes:
    """Return the canonical bytes of `value` (a msgspec Struct, or plain data)."""
    kept = _OPTIONAL_LAST.get(type(value))
    if kept is not None and not getattr(value, value.__struct_fields__[kept]):
        return _ENCODER.encode(msgspec.structs.astuple(value)[:kept])
    return _ENCODER.encode(value)


def decode(data: bytes, type_: type[T]) -> T:
    """Decode canonical bytes into `type_`; raise `DecodingError` for anything else."""
    name = getattr(type_, "__name__", str(type_))
    try:
        value = msgspec.msgpack.decode(data, type=type_)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as error:
        raise DecodingError(name, str(error)) from error
    try:
        canonical = encode(value)
    except (TypeError, ValueError, msgspec.EncodeError) as error:  # e.g. map keys of mixed types
        raise DecodingError(name, f"value cannot be encoded canonically ({error})") from error
    if canonical != data:
        raise DecodingError(name, "bytes are not in canonical form")
    return value


def _skip_lengths() -> tuple[tuple[int, int], ...]:
    """For each first byte of a MessagePack value: (bytes of its header, bytes of its length).

    A value that is not a container occupies its header, then (for str, bin and ext) as
    many bytes as the big-endian length right after its first byte says. The header of
    ext8/16/32 includes its type byte. Containers and the reserved byte get (0, 0).
    """
    table = [(1, 0)] * 256
    for first in range(0x80, 0xA0):
        table[first] = (0, 0)  # fixmap, fixarray: handled as containers
    for first in range(0xA0, 0xC0):
        table[first] = (1 + (first & 0x1F), 0)  # fixstr
    fixed = {0xCA: 5, 0xCB: 9, 0xCC: 2, 0xCD: 3, 0xCE: 5, 0xCF: 9, 0xD0: 2, 0xD1: 3}
    fixed |= {0xD2: 5, 0xD3: 9, 0xD4: 3, 0xD5: 4, 0xD6: 6, 0xD7: 10, 0xD8: 18}
    for first, size in fixed.items():
        table[first] = (size, 0)
    for first, (header, length) in {
        0xC4: (2, 1),
        0xC5: (3, 2),
        0xC6: (5, 4),  # bin 8/16/32
        0xC7: (3, 1),
        0xC8: (4, 2),
        0xC9: (6, 4),  # ext 8/16/32 (length, then a type byte)
        0xD9: (2, 1),
        0xDA: (3, 2),
        0xDB: (5, 4),  # str 8/16/32
    }.items():
        table[first] = (header, length)
    table[0xC1] = (0, 0)  # never used
    for first in range(0xDC, 0xE0):
        table[first] = (0, 0)  # array16/32, map16/32
    return tuple(table)


_SKIP = _skip_lengths()


def nesting_depth(data: bytes) -> int:
    """How deeply arrays and maps nest in the MessagePack `data` (a scalar is depth 0).

    A scan of the bytes with an explicit stack, never a recursion, so any depth is
    measured safely; it only reads headers and skips over strings and byte strings
    (~2 µs for a 200-byte transaction). Malformed bytes stop the scan: the depth seen
    so far is returned and the decoder that runs next reports the malformation.
    """
    size = len(data)
    position = 0
    depth = deepest = 0
    pending: list[int] = []  # items still to read in each open container
    left = 1  # items still to read at the current level
    while position < size:
        first = data[position]
        header, length = _SKIP[first]
        if header:
            if length:  # the payload's length follows the first byte
                payload = int.from_bytes(data[position + 1 : position + 1 + length], "big")
                position += header + payload
            else:
                position += header
        else:
            if 0x80 <= first <= 0x9F:
                count = (first & 0x0F) * 2 if first < 0x90 else first & 0x0F
                position += 1
            elif 0xDC <= first <= 0xDF:
                width = 2 if first in (0xDC, 0xDE) else 4
                count = int.from_bytes(data[position + 1 : position + 1 + width], "big")
                count *= 2 if first >= 0xDE else 1
                position += 1 + width
            else:
                return deepest  # 0xc1: not MessagePack
            depth += 1
            if depth > deepest:
                deepest = depth
            if count:
                pending.append(left - 1)
                left = count
                continue
            depth -= 1
        left -= 1
        while not left:
            if not pending:
                return deepest
            left = pending.pop()
            depth -= 1
    return deepest


def check_no_floats(value: Any, path: str = "") -> None:
    """Raise `DecodingError` if `value` holds a float or an out-of-range integer.

    Plain data only: None, bool, int, str, bytes, lists and str-keyed maps.
    `path` names the place of the offending value in the error message.
    """
    if value is None or isinstance(value, (bool, str, bytes)):
        return
    if isinstance(value, int):
        if not MIN_INTEGER <= value <= MAX_INTEGER:
            raise DecodingError("argument", f"{path or 'value'}: integer {value} exceeds 64 bits")
        return
    if isinstance(value, float):
        raise DecodingError("argument", f"{path or 'value'}: floats are not allowed ({value!r})")
    if isinstance(value, list):
        for index, item in enumerate(value):
            check_no_floats(item, f"{path}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise DecodingError("argument", f"{path or 'value'}: map keys must be strings")
            check_no_floats(item, f"{path}.{key}" if path else key)
        return
    raise DecodingError("argument", f"{path or 'value'}: unsupported type {type(value).__name__}")
