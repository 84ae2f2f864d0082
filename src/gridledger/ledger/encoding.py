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
