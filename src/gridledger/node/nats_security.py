"""Who may do what on the ordering cluster, and how a client proves it: TLS, nkeys, subjects.

Servers. Every nats-server of a secured cluster

- serves clients over TLS only, TLS first (``handshake_first``: the client starts the
  handshake before a byte of NATS protocol, so a man in the middle cannot strip TLS
  off the INFO exchange and relay the nonce signature), with a certificate signed by
  the network's CA;
- routes to the other servers over mutual TLS (``verify``): a route is accepted only
  from a certificate signed by the same CA;
- admits only the listed nkey users (``authorization { users }``), each with the
  subjects it may publish to and subscribe to (`peer_user`, `admin_user`).

A peer may publish transactions and cut markers of its chain, attestations under its
own attestation key only, and the JetStream API calls the ordering log makes (look up
and create its two streams, create, read, look up and delete consumers on them); it
may subscribe to its own inbox prefix only. It cannot delete, purge, update or rewrite
a stream, publish as another peer, or read another client's replies.

Clients. `ClientCredentials` is what a client brings (the CA certificate it pins, its
nkey seed file, its inbox prefix) and turns into nats-py connect options.
`check_ordering_cluster` asks each server what it requires before a peer connects,
and refuses a cluster that speaks plaintext or admits anyone, unless the peer's
operator said ``--insecure-ordering``.
"""

from __future__ import annotations

import json
import logging
import socket
import ssl
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gridledger.node.errors import NodeError
from gridledger.node.nats_ordering import chain_token
from gridledger.node.ordering import OrderingUnavailable

log = logging.getLogger("gridledger.ordering")

PROBE_TIMEOUT_S = 3.0
"""How long one server may take to show what it requires."""
PLAINTEXT_WAIT_S = 0.5
"""A server that sends nothing for this long after the TCP connect expects TLS first."""
DEFAULT_INBOX = "_INBOX"
INSECURE_OPTION = "--insecure-ordering"


class InsecureOrdering(NodeError):
    """The ordering cluster does not require TLS or authentication, and nobody said that is fine."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(
            f"ordering server {url}: {reason}; refusing to order through it "
            f"(start the peer with {INSECURE_OPTION} to accept an unprotected cluster)"
        )


@dataclass(frozen=True)
class NatsUser:
    """One nkey user of the cluster: its public key and the subjects it may use."""

    name: str
    nkey: str
    """The public user nkey (``U...``); the seed stays with the user."""
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]


def inbox_prefix(user: str) -> str:
    """The inbox prefix of `user`: replies to it go to ``_INBOX_<user>.>`` only."""
    return f"{DEFAULT_INBOX}_{user}"


def ordering_streams(chain_id: str) -> tuple[str, str]:
    """The names of the ordering and attestation streams of `chain_id` (as `NatsLog` names them)."""
    token = chain_token(chain_id)
    return f"GL_{token}_ORDER", f"GL_{token}_ATTEST"


def peer_user(name: str, nkey: str, chain_id: str, attestation_key_hex: str) -> NatsUser:
    """The permissions of peer `name`: order, attest as itself, and read the two streams."""
    token = chain_token(chain_id)
    publish = [f"gl.{token}.order.tx", f"gl.{token}.order.cut"]
    publish.append(f"gl.{token}.attest.{attestation_key_hex}")
    publish.append("$JS.API.INFO")
    for stream in ordering_streams(chain_id):
        publish += [
            f"$JS.API.STREAM.INFO.{stream}",
            f"$JS.API.STREAM.CREATE.{stream}",
            f"$JS.API.CONSUMER.CREATE.{stream}",
            f"$JS.API.CONSUMER.CREATE.{stream}.>",
            f"$JS.API.CONSUMER.MSG.NEXT.{stream}.*",
            f"$JS.API.CONSUMER.INFO.{stream}.*",
            f"$JS.API.CONSUMER.DELETE.{stream}.*",
        ]
    return NatsUser(name, nkey, tuple(publish), (inbox_prefix(name) + ".>",))


def admin_user(nkey: str) -> NatsUser:
    """The network operator's user: everything (readiness probes, inspection, repairs)."""
    return NatsUser("admin", nkey, (">",), (">",))


def _quoted(subjects: Sequence[str]) -> str:
    return ", ".join(json.dumps(subject) for subject in subjects)


def authorization_block(users: Sequence[NatsUser]) -> str:
    """The ``authorization`` block of a server config admitting exactly `users`."""
    rows = []
    for user in users:
        rows.append(
            f"    # {user.name}\n"
            f'    {{ nkey: "{user.nkey}", permissions: {{\n'
            f"        publish: {{ allow: [{_quoted(user.publish)}] }}\n"
            f"        subscribe: {{ allow: [{_quoted(user.subscribe)}] }}\n"
            "    } }"
        )
    return "authorization {\n  users: [\n" + ",\n".join(rows) + "\n  ]\n}"


@dataclass(frozen=True)
class ServerSecurity:
    """What a server needs to require TLS and nkeys: its certificate, the CA, the users.

    Paths are written into the config as given (absolute, or relative to the directory
    the server runs in).
    """

    ca_file: str
    cert_file: str
    key_file: str
    users: tuple[NatsUser, ...]


def tls_block(security: ServerSecurity, route: bool) -> str:
    """The ``tls`` block for the client port (TLS first) or for routes (mutual TLS)."""
    lines = [
        f"cert_file: {json.dumps(security.cert_file)}",
        f"key_file: {json.dumps(security.key_file)}",
        f"ca_file: {json.dumps(security.ca_file)}",
        "timeout: 5",
        "verify: true" if route else "handshake_first: true",
    ]
    return "tls {\n" + "".join(f"  {line}\n" for line in lines) + "}"


@dataclass(frozen=True)
class ClientCredentials:
    """What a client of a secured cluster brings: the CA it pins, its nkey seed, its inbox."""

    ca_file: Path
    nkey_file: Path
    inbox: str = DEFAULT_INBOX

    def tls_context(self) -> ssl.SSLContext:
        """A TLS client context that trusts the network's CA and nothing else."""
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(self.ca_file))
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context

    def connect_options(self) -> dict[str, Any]:
        """Keyword arguments for nats-py's ``connect``: TLS first with the pinned CA, the nkey.

        One TLS session per connection: nats-py keeps its connection (and reconnects with
        a new handshake only after a failure), so the handshake is not on any hot path.
        """
        return {
            "tls": self.tls_context(),
            "tls_handshake_first": True,
            "nkeys_seed": str(self.nkey_file),
            "inbox_prefix": self.inbox,
        }


class CredentialsError(NodeError):
    """A peer's credentials file is missing or exposed."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def check_private(path: Path) -> None:
    """Refuse a secret file that is missing, or that its group or others can read."""
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError as error:
        raise CredentialsError(str(path), "no such credentials file") from error
    if mode & 0o077:
        raise CredentialsError(
            str(path), f"readable by others (mode {mode:o}); refusing to use it (chmod 600)"
        )


@dataclass(frozen=True)
class ServerFacts:
    """What a server said about itself in its INFO line, and how it had to be reached."""

    tls_first: bool
    tls_required: bool
    auth_required: bool


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url if "://" in url else f"nats://{url}")
    return parts.hostname or "127.0.0.1", parts.port or 4222


def _read_info(read: Any) -> dict[str, Any]:
    data = b""
    while b"\r\n" not in data and len(data) < 65536:
        chunk = read(4096)
        if not chunk:
            break
        data += chunk
    line = data.split(b"\r\n", 1)[0]
    if not line.startswith(b"INFO "):
        raise ValueError(f"not a NATS server (it said {line[:40]!r})")
    info: dict[str, Any] = json.loads(line[5:])
    return info


def probe_server(url: str, context: ssl.SSLContext | None) -> ServerFacts:
    """Connect to `url` and read its INFO: in plaintext if it speaks first, else after TLS.

    Raises OSError if the server cannot be reached, `ssl.SSLError` if its certificate is not
    one `context` trusts, ValueError if what answers is not a NATS server.
    """
    host, port = _host_port(url)
    with socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S) as raw:
        raw.settimeout(PLAINTEXT_WAIT_S)
        try:
            first = raw.recv(5, socket.MSG_PEEK)
        except TimeoutError:
            first = b""
        raw.settimeout(PROBE_TIMEOUT_S)
        if first:
            info = _read_info(raw.recv)
            return ServerFacts(
                False, bool(info.get("tls_required")), bool(info.get("auth_required"))
            )
        if context is None:
            context = ssl.create_default_context()
        with context.wrap_socket(raw, server_hostname=host) as secured:
            info = _read_info(secured.recv)
        return ServerFacts(True, True, bool(info.get("auth_required")))


def insecurity(facts: ServerFacts) -> str | None:
    """Why a server with `facts` is not safe to order through, or None."""
    if not facts.tls_required:
        return "it speaks plaintext (no TLS)"
    if not facts.tls_first:
        return "it does not start with TLS (set handshake_first in its tls block)"
    if not facts.auth_required:
        return "it admits clients without credentials (no authorization)"
    return None


def check_ordering_cluster(
    urls: Sequence[str],
    credentials: ClientCredentials | None,
    insecure: bool = False,
    timeout_s: float = 60.0,
) -> None:
    """Refuse (`InsecureOrdering`) a cluster that does not require TLS and credentials.

    Every server that answers is asked; unreachable ones are skipped, but at least one
    must answer within `timeout_s`. A peer without credentials in its network file is
    refused outright. With `insecure`, nothing is refused and a WARNING says so.
    """
    if insecure:
        log.warning(
            "WARNING: %s: the ordering cluster is not checked for TLS and credentials; "
            "anyone on the network path can read, forge or drop what this peer orders",
            INSECURE_OPTION,
        )
        return
    if credentials is None:
        raise InsecureOrdering(
            ",".join(urls), "this peer has no TLS CA and nkey credentials in its network file"
        )
    check_private(credentials.nkey_file)
    context = credentials.tls_context()
    deadline = time.monotonic() + timeout_s
    unreachable: dict[str, str] = {}

    def probe(url: str) -> ServerFacts | Exception:
        try:
            return probe_server(url, context)
        except (OSError, ValueError) as error:  # ssl.SSLError is an OSError
            return error

    while True:
        answered = 0
        with ThreadPoolExecutor(len(urls)) as pool:  # each may wait PLAINTEXT_WAIT_S
            outcomes = list(pool.map(probe, urls))
        for url, facts in zip(urls, outcomes, strict=True):
            if isinstance(facts, ssl.SSLCertVerificationError):
                raise InsecureOrdering(
                    url, f"its TLS certificate is not one the pinned CA signed ({facts})"
                ) from facts
            if isinstance(facts, ssl.SSLError):
                raise InsecureOrdering(url, f"the TLS handshake failed ({facts})") from facts
            if isinstance(facts, Exception):
                unreachable[url] = f"{type(facts).__name__}: {facts}"
                continue
            answered += 1
            reason = insecurity(facts)
            if reason is not None:
                raise InsecureOrdering(url, reason)
        if answered:
            return
        if time.monotonic() > deadline:
            raise OrderingUnavailable(
                ",".join(urls),
                f"no ordering server answered within {timeout_s:.0f} s ({unreachable})",
            )
        time.sleep(0.5)
