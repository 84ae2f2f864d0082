"""Salted commitments to personal data: SD-JWT's disclosures (RFC 9901 §4.2.1, §4.2.3).

A member's personal registration fields (its name and address, identity number,
credit record) never enter the chain. For each field the applicant makes a
*disclosure*, the base64url encoding (no padding) of the UTF-8 JSON array
``[salt, field, value]`` with a salt of 128 random bits, and puts only its
*digest* on the chain: the base64url (no padding) of SHA-256 over the ASCII of
the disclosure, 43 characters. The disclosure itself goes to the regulator off
chain, who checks it against the digest when approving; erasing the disclosure
leaves a digest that reveals nothing (the salt is what keeps a guessable value,
a postcode say, from being found by trying them all).

The digest is over the disclosure *as sent*, not over a re-encoding of its
contents, so the JSON layout needs no canonical form; disclosures made here use
Python's default separators, which reproduce the RFC's example byte for byte.
No I/O: the caller stores and sends disclosures.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

SALT_BYTES = 16
"""Random bits in a salt: 128, the RFC's recommended minimum."""

DIGEST_LENGTH = 43
"""Characters in a digest: base64url of 32 bytes without padding."""

MAX_DISCLOSURE_CHARS = 2048
"""Longest disclosure accepted (a 512-character value, escaped, fits with room)."""

FIELD_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,47}")
"""Registration field names: lower-case words joined by underscores, at most 48 characters."""

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")

Value = str | int
"""A registration value: text or an integer, never a float or a structure."""


class DisclosureError(ValueError):
    """A disclosure is malformed or does not match the digest it should open.

    `kind` says which: ``malformed``, ``mismatch``, ``unknown_field``, ``repeated`` or
    ``missing``.
    """

    def __init__(self, field: str, reason: str, kind: str = "malformed") -> None:
        self.field, self.reason, self.kind = field, reason, kind
        super().__init__(f"disclosure of {field!r}: {reason}")


@dataclass(frozen=True)
class Disclosure:
    """One opened field: the salt, the field's name, its value and the encoded disclosure."""

    salt: str
    field: str
    value: Value
    encoded: str
    """The base64url disclosure string; its digest is what the chain holds."""

    @property
    def digest(self) -> str:
        return disclosure_digest(self.encoded)


def base64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_base64url(text: str) -> bytes:
    """Inverse of `base64url`; `ValueError` for anything else (padding included)."""
    if not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url without padding")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as error:
        raise ValueError(f"not base64url: {error}") from error


def new_salt() -> str:
    """A fresh salt of `SALT_BYTES` random bytes, base64url."""
    return base64url(secrets.token_bytes(SALT_BYTES))


def derived_salt(secret: bytes, field: str) -> str:
    """A salt derived from `secret` and the field (HMAC-SHA-256, first `SALT_BYTES` bytes).

    For reproducible simulations only: whoever knows `secret` can find the values
    behind the digests by guessing, just as whoever knows a simulation's key names
    has its keys.
    """
    return base64url(hmac.new(secret, field.encode(), hashlib.sha256).digest()[:SALT_BYTES])


def disclosure_digest(encoded: str) -> str:
    """base64url(SHA-256(ASCII(disclosure))), RFC 9901 §4.2.3."""
    return base64url(hashlib.sha256(encoded.encode("ascii")).digest())


def is_digest(text: object) -> bool:
    """Whether `text` has the form of a digest: 43 base64url characters (32 bytes)."""
    return (
        isinstance(text, str)
        and len(text) == DIGEST_LENGTH
        and _BASE64URL.fullmatch(text) is not None
    )


def check_value(field: str, value: object) -> Value:
    """`value` if it is text or an integer (not a boolean); else `DisclosureError`."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise DisclosureError(
            field, f"value must be text or an integer, not {type(value).__name__}"
        )
    return value


def make_disclosure(field: str, value: Value, salt: str | None = None) -> Disclosure:
    """The disclosure of `field` = `value` with `salt` (fresh if none is given)."""
    if not FIELD_PATTERN.fullmatch(field):
        raise DisclosureError(field, "field names are lower-case words joined by _")
    check_value(field, value)
    salt = new_salt() if salt is None else salt
    text = json.dumps([salt, field, value], ensure_ascii=False)
    return Disclosure(salt, field, value, base64url(text.encode("utf-8")))


def make_disclosures(
    values: Mapping[str, Value], salts: Mapping[str, str] | None = None
) -> list[Disclosure]:
    """One disclosure per field of `values`, sorted by field; `salts` by field, or fresh ones."""
    return [
        make_disclosure(field, values[field], None if salts is None else salts[field])
        for field in sorted(values)
    ]


def parse_disclosure(encoded: str) -> Disclosure:
    """Decode a disclosure string; `DisclosureError` unless it is ``[salt, field, value]``."""
    if not isinstance(encoded, str) or len(encoded) > MAX_DISCLOSURE_CHARS:
        raise DisclosureError("?", f"must be a string of at most {MAX_DISCLOSURE_CHARS} characters")
    try:
        parsed = json.loads(from_base64url(encoded).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise DisclosureError("?", f"not base64url of a JSON array ({error})") from error
    if not isinstance(parsed, list) or len(parsed) != 3:
        raise DisclosureError("?", "must be a JSON array [salt, field, value]")
    salt, field, value = parsed
    if not isinstance(field, str) or not FIELD_PATTERN.fullmatch(field):
        raise DisclosureError(str(field)[:48], "field names are lower-case words joined by _")
    if not isinstance(salt, str) or _decoded_length(salt) < SALT_BYTES:
        raise DisclosureError(field, f"salt must be base64url of at least {SALT_BYTES} bytes")
    return Disclosure(salt, field, check_value(field, value), encoded)


def _decoded_length(text: str) -> int:
    """Bytes behind a base64url string; 0 if it is not one."""
    try:
        return len(from_base64url(text))
    except ValueError:
        return 0


def open_commitments(
    commitments: Mapping[str, str], encoded: Iterable[str]
) -> dict[str, Disclosure]:
    """Check disclosures against a member's on-chain digests; the opened fields by name.

    Every committed field must be opened exactly once, by a disclosure of that
    field whose digest is the committed one; `DisclosureError` names the first
    field that is missing, unknown, repeated or does not match.
    """
    opened: dict[str, Disclosure] = {}
    for text in encoded:
        disclosure = parse_disclosure(text)
        field = disclosure.field
        if field not in commitments:
            raise DisclosureError(
                field, "no commitment to this field on the chain", "unknown_field"
            )
        if field in opened:
            raise DisclosureError(field, "disclosed twice", "repeated")
        if not hmac.compare_digest(disclosure.digest, commitments[field]):
            raise DisclosureError(field, "does not match the digest on the chain", "mismatch")
        opened[field] = disclosure
    missing = sorted(set(commitments) - set(opened))
    if missing:
        raise DisclosureError(missing[0], "committed on the chain but not disclosed", "missing")
    return opened
