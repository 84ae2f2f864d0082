"""The compact forms `SQLiteStorage` keeps, and the canonical bytes they give back.

Nothing the block holds is stored twice:

- A receipt's canonical encoding is ``[transaction_id, code, message, events(,
  details)]``. The id is the hash of the transaction the block holds at the same
  position, and the code is kept in the transaction index (the API and the offline
  commands read it there), so only the receipt's `receipt_tail` is stored: its array
  header and everything after the code. `receipt_bytes` puts the canonical bytes
  together again, byte for byte, so the results root is computed over the very bytes
  that were committed.
- The transaction index keeps the first 8 bytes of each id (`id_prefix`, a signed
  64-bit SQLite integer) for lookups; a hit is confirmed against the full id of the
  transaction in the block, so two ids sharing a prefix are told apart.
- State keys are stored in `pack_key`'s form: runs of lowercase hexadecimal (the
  40-digit addresses and 64-digit hashes state keys are made of) as the bytes they
  spell. The form is a function of the key alone and `unpack_key` inverts it, so it
  can serve as the primary key.
"""

from __future__ import annotations

import re

import msgspec

_ENCODE_INT = msgspec.msgpack.Encoder().encode
_HEX_RUN = re.compile(rb"[0-9a-f]{8,}")
ESCAPE = 0
"""A packed key's escape byte: ``0, n`` is followed by n bytes spelled as 2n hex digits;
``0, 0`` is a literal NUL character."""
MAX_RUN_BYTES = 255


class FormError(ValueError):
    """Stored bytes that are not in the form this module writes."""


def id_prefix(transaction_id: bytes) -> int:
    """The first 8 bytes of a transaction id as a signed 64-bit integer (SQLite's INTEGER)."""
    return int.from_bytes(transaction_id[:8], "big", signed=True)


def prefix_bytes(prefix: int) -> bytes:
    """The 8 bytes `id_prefix` was given, from its stored integer."""
    return int(prefix).to_bytes(8, "big", signed=True)


def _code_length(raw: bytes, at: int) -> int:
    first = raw[at]
    if first < 0x80 or first >= 0xE0:  # positive or negative fixint
        return 1
    widths = {0xCC: 2, 0xCD: 3, 0xCE: 5, 0xCF: 9, 0xD0: 2, 0xD1: 3, 0xD2: 5, 0xD3: 9}
    if first not in widths:
        raise FormError(f"receipt code starts with byte {first:#x}, not an integer")
    return widths[first]


def receipt_tail(raw: bytes) -> bytes:
    """A receipt's canonical bytes without its transaction id and code (what is stored)."""
    if len(raw) < 36 or raw[0] not in (0x94, 0x95) or raw[1:3] != b"\xc4\x20":
        raise FormError("not a receipt's canonical encoding (array of 4 or 5, 32-byte id)")
    return raw[:1] + raw[35 + _code_length(raw, 35) :]


def receipt_bytes(tail: bytes, transaction_id: bytes, code: int) -> bytes:
    """The canonical receipt bytes `receipt_tail` was taken from."""
    if not tail or len(transaction_id) != 32:
        raise FormError("a receipt tail and a 32-byte transaction id are needed")
    return tail[:1] + b"\xc4\x20" + transaction_id + _ENCODE_INT(code) + tail[1:]


def _pack_run(run: re.Match[bytes]) -> bytes:
    digits = run.group()
    length = len(digits) // 2
    if length <= MAX_RUN_BYTES:  # the usual run (an address, a hash): one escape
        return (
            bytes((ESCAPE, length))
            + bytes.fromhex(digits[: 2 * length].decode())
            + (digits[2 * length :])
        )
    out = bytearray()
    end = len(digits) - len(digits) % 2
    for start in range(0, end, 2 * MAX_RUN_BYTES):
        piece = digits[start : min(end, start + 2 * MAX_RUN_BYTES)]
        out += bytes((ESCAPE, len(piece) // 2)) + bytes.fromhex(piece.decode())
    return bytes(out) + digits[end:]


def pack_key(key: str) -> bytes:
    """`key` in its stored form (hex runs of 8+ digits as bytes; see the module docstring)."""
    raw = key.encode()
    if b"\x00" not in raw:  # the usual key: one substitution pass
        return _HEX_RUN.sub(_pack_run, raw)
    out = bytearray()
    done = 0
    for run in _HEX_RUN.finditer(raw):
        start, end = run.span()
        end -= (end - start) % 2
        out += raw[done:start].replace(b"\x00", b"\x00\x00")
        while start < end:
            piece = min(end - start, 2 * MAX_RUN_BYTES)
            out += bytes((ESCAPE, piece // 2)) + bytes.fromhex(raw[start : start + piece].decode())
            start += piece
        done = end
    out += raw[done:].replace(b"\x00", b"\x00\x00")
    return bytes(out)


def unpack_key(stored: bytes) -> str:
    """The key `pack_key` was given."""
    if b"\x00" not in stored:
        try:
            return stored.decode()
        except UnicodeDecodeError as error:
            raise FormError(f"packed key is not UTF-8 ({error})") from error
    out = bytearray()
    at = 0
    while at < len(stored):
        escape = stored.find(b"\x00", at)
        if escape < 0:
            out += stored[at:]
            break
        out += stored[at:escape]
        if escape + 1 >= len(stored):
            raise FormError("packed key ends inside an escape")
        length = stored[escape + 1]
        if length == 0:
            out += b"\x00"
            at = escape + 2
            continue
        end = escape + 2 + length
        if end > len(stored):
            raise FormError("packed key ends inside a hex run")
        out += stored[escape + 2 : end].hex().encode()
        at = end
    try:
        return out.decode()
    except UnicodeDecodeError as error:
        raise FormError(f"packed key is not UTF-8 ({error})") from error
