"""HTTP Message Signatures (RFC 9421) with Ed25519, in the one profile gridledger uses.

A read of the API proves which key the caller holds by signing the request (RFC 9421 §3.1):

    Signature-Input: sig1=("@method" "@path" "@query");created=1700000000;
                     keyid="<public key hex>";alg="ed25519";nonce="<random>"
    Signature: sig1=:<base64 of the 64-byte Ed25519 signature>:

with ``"content-digest"`` (RFC 9530, ``sha-256=:<base64>:``) covered as well when the
request has a body. The signed bytes are the signature base of RFC 9421 §2.5: one line
``"<component>": <value>`` per covered component, then the ``"@signature-params"`` line
holding the serialized inner list itself, lines joined by a single LF with none after the
last. ``@path`` is the target path as sent (still percent-encoded, §2.2.6) and ``@query``
is ``?`` followed by the query as sent, or ``?`` alone when there is none (§2.2.7).

This module builds and parses that profile only, strictly: one signature per request,
string components, integer and string parameters, canonical spacing (RFC 8941 §4.1 gives
exactly one serialization, so the parameters as received are the ones serialized).
Anything else is `MalformedSignature`, never a guess. Pure functions, no I/O; the node
checks time, nonce reuse and who the key belongs to (`gridledger.node.authentication`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from gridledger.crypto.keys import KeyPair

ALGORITHM = "ed25519"
"""RFC 9421 §6.2.2 registry name of EdDSA over edwards25519 (§3.3.6)."""

LABEL = "sig1"
READ_COMPONENTS = ("@method", "@path", "@query")
BODY_COMPONENTS = (*READ_COMPONENTS, "content-digest")
MAX_HEADER_LENGTH = 1024
"""Longer Signature-Input or Signature values are refused before any parsing."""

_TOKEN = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_INTEGER = re.compile(r"-?[0-9]{1,15}")
_STRING = re.compile(r'"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"')
_BYTES = re.compile(r":([A-Za-z0-9+/=]*):")


class MalformedSignature(ValueError):
    """A Signature-Input or Signature header outside the profile; `reason` says how."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True, slots=True)
class SignatureInput:
    """A parsed Signature-Input member: its label, covered components and parameters, and
    the serialized inner list (the value of the ``@signature-params`` line)."""

    label: str
    components: tuple[str, ...]
    parameters: dict[str, int | str]
    serialized: str

    def text(self, name: str) -> str | None:
        value = self.parameters.get(name)
        return value if isinstance(value, str) else None

    def integer(self, name: str) -> int | None:
        value = self.parameters.get(name)
        return value if isinstance(value, int) else None


# -- building ---------------------------------------------------------------------------------


def content_digest(body: bytes) -> str:
    """The RFC 9530 ``Content-Digest`` field value of `body`: ``sha-256=:<base64>:``."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


def sf_string(text: str) -> str:
    """`text` as an RFC 8941 sf-string (printable ASCII; quote and backslash escaped)."""
    if any(not 0x20 <= ord(c) <= 0x7E for c in text):
        raise MalformedSignature(f"{text!r} is not printable ASCII")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def serialize_signature_params(
    components: tuple[str, ...], parameters: list[tuple[str, int | str]]
) -> str:
    """The inner list of covered components with its parameters, in the given order
    (RFC 9421 §2.3; RFC 8941 §4.1.1.1)."""
    inner = "(" + " ".join(sf_string(c) for c in components) + ")"
    for name, value in parameters:
        inner += f";{name}={value}" if isinstance(value, int) else f";{name}={sf_string(value)}"
    return inner


def signature_base(components: list[tuple[str, str]], signature_params: str) -> bytes:
    """The signature base of RFC 9421 §2.5: ``"<name>": <value>`` per covered component,
    then ``"@signature-params": <inner list>``, joined by LF (no LF after the last)."""
    lines = [f'"{name}": {value}' for name, value in components]
    lines.append(f'"@signature-params": {signature_params}')
    return "\n".join(lines).encode()


def request_components(
    method: str, path: str, query: str, digest: str | None
) -> list[tuple[str, str]]:
    """The covered components' values of a request in this profile (`query` without ``?``).

    The method is taken as it is: method names are case-sensitive (RFC 9421 §2.2.1)."""
    values = [("@method", method), ("@path", path or "/"), ("@query", "?" + query)]
    if digest is not None:
        values.append(("content-digest", digest))
    return values


def sign_request(
    keys: KeyPair,
    method: str,
    path: str,
    query: str,
    body: bytes,
    created: int,
    nonce: str,
) -> dict[str, str]:
    """The headers that sign a request: ``Signature-Input``, ``Signature`` and, when there is
    a body, ``Content-Digest``. `path` and `query` are as sent (percent-encoded)."""
    digest = content_digest(body) if body else None
    covered = BODY_COMPONENTS if body else READ_COMPONENTS
    params = serialize_signature_params(
        covered,
        [
            ("created", created),
            ("keyid", keys.public_key.hex()),
            ("alg", ALGORITHM),
            ("nonce", nonce),
        ],
    )
    base = signature_base(request_components(method, path, query, digest), params)
    signature = base64.b64encode(keys.sign(base)).decode()
    headers = {
        "signature-input": f"{LABEL}={params}",
        "signature": f"{LABEL}=:{signature}:",
    }
    if digest is not None:
        headers["content-digest"] = digest
    return headers


# -- parsing ----------------------------------------------------------------------------------


def _split_member(header: str, what: str) -> tuple[str, str]:
    if len(header) > MAX_HEADER_LENGTH:
        raise MalformedSignature(f"{what} is longer than {MAX_HEADER_LENGTH} characters")
    label, equals, value = header.strip(" ").partition("=")
    if not equals or not _TOKEN.fullmatch(label):
        raise MalformedSignature(f"{what} is not one labelled member (label=value)")
    return label, value


def parse_signature_input(header: str) -> SignatureInput:
    """The one member of a ``Signature-Input`` header (strict RFC 8941 subset)."""
    label, value = _split_member(header, "Signature-Input")
    if not value.startswith("("):
        raise MalformedSignature("Signature-Input: the covered components are not an inner list")
    close = value.find(")")
    if close < 0:
        raise MalformedSignature("Signature-Input: the inner list is not closed")
    inside = value[1:close]
    components: list[str] = []
    for item in inside.split(" ") if inside else []:
        match = _STRING.fullmatch(item)
        if match is None or "\\" in item:
            raise MalformedSignature(f"Signature-Input: {item[:40]!r} is not a component name")
        components.append(match.group(1))
    parameters: dict[str, int | str] = {}
    rest = value[close + 1 :]
    while rest:
        if not rest.startswith(";"):
            raise MalformedSignature("Signature-Input: parameters must follow ';'")
        name, equals, rest = rest[1:].partition("=")
        if not equals or not _KEY.fullmatch(name) or name in parameters:
            raise MalformedSignature(f"Signature-Input: bad or repeated parameter {name[:20]!r}")
        end = rest.find(";") if not rest.startswith('"') else rest.find('"', 1) + 1
        raw = rest if end <= 0 else rest[:end]
        rest = "" if end <= 0 else rest[end:]
        if (string := _STRING.fullmatch(raw)) is not None and "\\" not in raw:
            parameters[name] = string.group(1)
        elif _INTEGER.fullmatch(raw):
            parameters[name] = int(raw)
        else:
            raise MalformedSignature(f"Signature-Input: parameter {name} has a bad value")
    return SignatureInput(label, tuple(components), parameters, value)


def parse_signature(header: str, label: str) -> bytes:
    """The signature bytes of the ``Signature`` member labelled `label`."""
    found, value = _split_member(header, "Signature")
    if found != label:
        raise MalformedSignature(f"Signature is labelled {found!r}, Signature-Input {label!r}")
    match = _BYTES.fullmatch(value)
    if match is None:
        raise MalformedSignature("Signature is not a byte sequence (:base64:)")
    try:
        signature = base64.b64decode(match.group(1), validate=True)
    except (binascii.Error, ValueError) as error:
        raise MalformedSignature("Signature is not valid base64") from error
    if base64.b64encode(signature).decode() != match.group(1):
        # RFC 8941 §3.3.5 lets a parser reject non-zero pad bits; we do, so that one
        # signature has exactly one header value (no malleable spellings of it).
        raise MalformedSignature("Signature is not canonical base64 (padding or pad bits)")
    return signature


__all__ = [
    "ALGORITHM",
    "BODY_COMPONENTS",
    "LABEL",
    "MAX_HEADER_LENGTH",
    "READ_COMPONENTS",
    "MalformedSignature",
    "SignatureInput",
    "content_digest",
    "parse_signature",
    "parse_signature_input",
    "request_components",
    "serialize_signature_params",
    "sign_request",
    "signature_base",
]
