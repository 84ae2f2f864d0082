"""Who is asking: request signatures (RFC 9421) and session tokens, checked by the node.

Two ways to prove which key a caller holds (docs/security.md, "Authentication"):

- a signed request (`gridledger.crypto.message_signatures`): ``@method``, ``@path``,
  ``@query`` and, with a body, ``content-digest`` covered; ``created`` within
  `WINDOW_S` of the node's clock; a ``nonce`` never seen within the window (kept in a
  bounded store: a full store refuses new signatures rather than forget a live nonce);
- a session token (``Authorization: Bearer``), obtained by signing a single-use challenge
  (``"gridledger-login:" + chain_id + ":" + challenge``) or by a one-time login code,
  valid `SESSION_S`; signing out ends it.

The result is the caller's public key; `gridledger.node.access` decides what it may read.
Parsed public keys are cached (an LRU of `KEY_CACHE`), so an authenticated read costs
one Ed25519 verification and a few dictionary operations. Every refusal is a
`Unauthenticated` (401) carrying a specific ``error`` code.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from gridledger.crypto import is_valid_public_key, is_valid_signature
from gridledger.crypto.message_signatures import (
    ALGORITHM,
    BODY_COMPONENTS,
    READ_COMPONENTS,
    MalformedSignature,
    content_digest,
    parse_signature,
    parse_signature_input,
    request_components,
    signature_base,
)
from gridledger.node.errors import NodeError

WINDOW_S = 60
"""A signature's ``created`` may be this far from the node's clock, either way."""
MAX_NONCES = 200_000
"""Nonces remembered at once (each for 2 × `WINDOW_S`); beyond, new signatures wait."""
KEY_CACHE = 4096
CHALLENGE_S = 60
SESSION_S = 15 * 60
LOGIN_CODE_S = 5 * 60
MAX_CHALLENGES = 10_000
MAX_SESSIONS = 10_000
MAX_LOGIN_CODES = 10_000
LOGIN_PREFIX = "gridledger-login:"
MAX_NONCE_LENGTH = 128


class Unauthenticated(NodeError):
    """The request does not prove a key: 401 with a specific code."""

    status: ClassVar[int] = 401
    error: ClassVar[str] = "unauthenticated"

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)

    @property
    def values(self) -> dict[str, Any]:
        return {}


class TooManySignatures(NodeError):
    """The nonce store is full of live nonces: retry in a moment."""

    status: ClassVar[int] = 429
    error: ClassVar[str] = "too_many_signatures"


def login_message(chain_id: str, challenge_hex: str) -> bytes:
    """What a caller signs to turn a challenge into a session (UTF-8)."""
    return (LOGIN_PREFIX + chain_id + ":" + challenge_hex).encode()


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    public_key: bytes
    expires_at_ms: int


class _Expiring:
    """A bounded map of key -> (expiry ms, value); expired entries are dropped as it grows."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.entries: OrderedDict[str, tuple[int, Any]] = OrderedDict()

    def prune(self, now_ms: int) -> None:
        expired = [k for k, (expiry, _) in self.entries.items() if expiry <= now_ms]
        for key in expired:
            del self.entries[key]

    def add(self, key: str, expiry_ms: int, value: Any, now_ms: int) -> None:
        if len(self.entries) >= self.limit:
            self.prune(now_ms)
        while len(self.entries) >= self.limit:  # still full: the oldest goes
            self.entries.popitem(last=False)
        self.entries[key] = (expiry_ms, value)

    def get(self, key: str, now_ms: int) -> Any:
        found = self.entries.get(key)
        if found is None or found[0] <= now_ms:
            return None
        return found[1]

    def take(self, key: str, now_ms: int) -> Any:
        """The live value of `key`, removed (single use)."""
        found = self.entries.pop(key, None)
        if found is None or found[0] <= now_ms:
            return None
        return found[1]


class Authenticator:
    """Checks request signatures and keeps the challenges, login codes and sessions of
    one node (in memory: a restart signs everyone out)."""

    def __init__(self, chain_id: str, clock_ms: Callable[[], int] | None = None) -> None:
        self.chain_id = chain_id
        self.clock_ms = clock_ms or (lambda: time.time_ns() // 1_000_000)
        self._lock = threading.Lock()
        self._keys: OrderedDict[str, bytes] = OrderedDict()
        self._nonces: OrderedDict[str, int] = OrderedDict()
        self._challenges = _Expiring(MAX_CHALLENGES)
        self._codes = _Expiring(MAX_LOGIN_CODES)
        self._sessions = _Expiring(MAX_SESSIONS)

    # -- request signatures ----------------------------------------------------------------

    def public_key(self, keyid: str) -> bytes:
        """The key named by `keyid` (64 hex digits of a valid Ed25519 key), from the cache."""
        found = self._keys.get(keyid)
        if found is not None:
            return found
        if len(keyid) != 64:
            raise Unauthenticated("bad_request_signature", "keyid: not 64 hex digits")
        try:
            key = bytes.fromhex(keyid)
        except ValueError as error:
            raise Unauthenticated("bad_request_signature", "keyid: not hexadecimal") from error
        if not is_valid_public_key(key):
            raise Unauthenticated("bad_request_signature", "keyid: not an Ed25519 public key")
        with self._lock:
            self._keys[keyid] = key
            if len(self._keys) > KEY_CACHE:
                self._keys.popitem(last=False)
        return key

    def verify_request(
        self,
        method: str,
        path: str,
        query: str,
        signature_input: str,
        signature: str,
        digest: str | None,
        body: bytes | None,
    ) -> bytes:
        """The public key that signed this request; `Unauthenticated` otherwise.

        `path` and `query` are as received (percent-encoded; `query` without ``?``);
        `body` is None when the request has none, else its bytes (checked against
        `digest`, the Content-Digest header).
        """
        try:
            parsed = parse_signature_input(signature_input)
            raw_signature = parse_signature(signature, parsed.label)
        except MalformedSignature as error:
            raise Unauthenticated("bad_request_signature", error.reason) from error
        expected = BODY_COMPONENTS if body else READ_COMPONENTS
        if parsed.components != expected:
            raise Unauthenticated(
                "bad_request_signature",
                f"the signature must cover {' '.join(expected)}; it covers "
                f"{' '.join(parsed.components) or 'nothing'}",
            )
        if parsed.text("alg") != ALGORITHM:
            raise Unauthenticated("bad_request_signature", f'alg must be "{ALGORITHM}"')
        keyid = parsed.text("keyid")
        nonce = parsed.text("nonce")
        created = parsed.integer("created")
        if keyid is None or nonce is None or created is None:
            raise Unauthenticated(
                "bad_request_signature", "created, keyid and nonce parameters are required"
            )
        if not 8 <= len(nonce) <= MAX_NONCE_LENGTH:
            raise Unauthenticated(
                "bad_request_signature", f"nonce must be 8 to {MAX_NONCE_LENGTH} characters"
            )
        if body and (digest is None or digest != content_digest(body)):
            raise Unauthenticated(
                "bad_request_signature", "Content-Digest is missing or not the body's sha-256"
            )
        key = self.public_key(keyid)
        now_s = self.clock_ms() // 1000
        if abs(now_s - created) > WINDOW_S:
            raise Unauthenticated(
                "signature_expired",
                f"created={created} is {now_s - created} s from the node's clock "
                f"(at most {WINDOW_S} s either way)",
            )
        base = signature_base(request_components(method, path, query, digest), parsed.serialized)
        if not is_valid_signature(key, base, raw_signature):
            raise Unauthenticated("bad_request_signature", "the signature does not verify")
        self._use_nonce(keyid + ":" + nonce, now_s)
        return key

    def _use_nonce(self, nonce: str, now_s: int) -> None:
        with self._lock:
            nonces = self._nonces
            while nonces:
                oldest, expiry = next(iter(nonces.items()))
                if expiry > now_s:
                    break
                del nonces[oldest]
            if nonce in nonces:
                raise Unauthenticated(
                    "nonce_replayed", "this request's nonce was already used; sign it anew"
                )
            if len(nonces) >= MAX_NONCES:
                raise TooManySignatures("too many signed requests at once; retry in a moment")
            nonces[nonce] = now_s + 2 * WINDOW_S + 1

    # -- challenges, login codes and sessions ------------------------------------------------

    def challenge(self) -> tuple[str, int]:
        """A fresh single-use challenge (64 hex digits) and when it expires (ms)."""
        now = self.clock_ms()
        value = secrets.token_hex(32)
        expires = now + CHALLENGE_S * 1000
        with self._lock:
            self._challenges.add(value, expires, True, now)
        return value, expires

    def session_from_challenge(
        self, public_key_hex: str, challenge: str, signature: str
    ) -> Session:
        """A session for the key that signed the challenge (`login_message`)."""
        now = self.clock_ms()
        with self._lock:
            live = self._challenges.take(challenge, now)
        if live is None:
            raise Unauthenticated(
                "bad_challenge", "unknown, used or expired challenge; ask for a new one"
            )
        try:
            key = bytes.fromhex(public_key_hex)
            raw = bytes.fromhex(signature)
        except ValueError as error:
            raise Unauthenticated("bad_login_signature", "public_key/signature: not hex") from error
        if not is_valid_public_key(key) or not is_valid_signature(
            key, login_message(self.chain_id, challenge), raw
        ):
            raise Unauthenticated(
                "bad_login_signature", "the challenge's signature does not verify"
            )
        return self._open_session(key, now)

    def login_code(self, public_key: bytes) -> tuple[str, int]:
        """A one-time login code for `public_key` and when it expires (ms)."""
        now = self.clock_ms()
        code = secrets.token_urlsafe(24)
        expires = now + LOGIN_CODE_S * 1000
        with self._lock:
            self._codes.add(code, expires, public_key, now)
        return code, expires

    def session_from_code(self, code: str) -> Session:
        now = self.clock_ms()
        with self._lock:
            key = self._codes.take(code, now)
        if key is None:
            raise Unauthenticated("bad_login_code", "unknown, used or expired login code")
        return self._open_session(key, now)

    def _open_session(self, key: bytes, now: int) -> Session:
        session = Session(secrets.token_urlsafe(32), key, now + SESSION_S * 1000)
        with self._lock:
            self._sessions.add(session.token, session.expires_at_ms, session, now)
        return session

    def session(self, token: str) -> Session:
        """The live session of `token`; `Unauthenticated` ``session_expired`` otherwise."""
        found: Session | None = self._sessions.get(token, self.clock_ms())
        if found is None:
            raise Unauthenticated(
                "session_expired", "unknown or expired session token; sign in again"
            )
        return found

    def end_session(self, token: str) -> None:
        with self._lock:
            self._sessions.entries.pop(token, None)


__all__ = [
    "CHALLENGE_S",
    "LOGIN_CODE_S",
    "SESSION_S",
    "WINDOW_S",
    "Authenticator",
    "Session",
    "TooManySignatures",
    "Unauthenticated",
    "login_message",
]
