"""Run a node's API with uvicorn, in the foreground or in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import uvicorn

from gridledger.api.app import create_app
from gridledger.api.limits import RefusalLimits
from gridledger.crypto import KeyPair
from gridledger.node import Node, SoloService


class ListenError(Exception):
    """The API cannot listen on ``host:port`` (in use, no such address, not allowed)."""

    def __init__(self, host: str, port: int, reason: str) -> None:
        self.host = host
        self.port = port
        self.reason = reason
        super().__init__(f"cannot listen on {host}:{port}: {reason}")


def listen_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (port 0: any free one); `ListenError` if it cannot be."""
    if not 0 <= port <= 65535:
        raise ListenError(host, port, "a port is 0..65535")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (OSError, UnicodeError) as error:
        raise ListenError(host, port, str(error)) from error
    family, kind, protocol, _, address = infos[0]
    sock = socket.socket(family, kind, protocol)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as error:
        sock.close()
        raise ListenError(host, port, error.strerror or str(error)) from error
    sock.set_inheritable(True)
    return sock


def serve_node(
    node: Node,
    host: str = "127.0.0.1",
    port: int = 8545,
    log_level: str = "warning",
    service: SoloService | None = None,
    results_dir: Path | None = None,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
    on_listening: Callable[[str, int], None] | None = None,
    public_reads: bool = False,
    login_keys: KeyPair | None = None,
    announce_login: Callable[[str], None] | None = None,
    refusal_limits: RefusalLimits | None = None,
) -> None:
    """Serve `node` until interrupted (Ctrl-C or SIGTERM); `service` orders (default: solo);
    the dashboard shows the simulation runs under `results_dir`.

    The port is bound first (`ListenError` if it cannot be), then `on_listening` is called
    with the host and the port bound, so a banner never names a port nobody listens on.
    Given `tls_cert` and `tls_key` (PEM files), the API and the dashboard are served over
    HTTPS only (and the WebSocket as wss); one without the other is refused. Every read
    needs a signature or a session token; `public_reads` serves anonymous callers as
    auditors (a demonstration mode, warned about in the log). With `login_keys`, a one-time
    login code for that key is made at start and handed to `announce_login` (after
    `on_listening`). `refusal_limits` limits refused submissions per client address and
    per sender (default `RefusalLimits()`).
    """
    if (tls_cert is None) != (tls_key is None):
        raise ValueError("HTTPS needs both a certificate and its key (--tls-cert, --tls-key)")
    for path in (tls_cert, tls_key):
        if path is not None and not path.is_file():
            raise ValueError(f"{path}: no such certificate or key file")
    sock = listen_socket(host, port)
    if on_listening is not None:
        on_listening(host, int(sock.getsockname()[1]))
    app = create_app(
        node, service, close_node=True, public_reads=public_reads, refusal_limits=refusal_limits
    )
    if login_keys is not None and announce_login is not None:
        code, _ = app.state.gate.authenticator.login_code(login_keys.public_key)
        announce_login(code)
    app.state.results_dir = results_dir
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        ssl_certfile=None if tls_cert is None else str(tls_cert),
        ssl_keyfile=None if tls_key is None else str(tls_key),
    )
    uvicorn.Server(config).run(sockets=[sock])


class BackgroundServer:
    """A node's API served from a thread of this process (for the demo and for tests)."""

    def __init__(
        self,
        node: Node,
        host: str = "127.0.0.1",
        port: int = 0,
        results_dir: Path | None = None,
        public_reads: bool = False,
        refusal_limits: RefusalLimits | None = None,
    ) -> None:
        app = create_app(node, public_reads=public_reads, refusal_limits=refusal_limits)
        app.state.results_dir = results_dir
        self.app = app
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="api", daemon=True)

    def start(self, timeout_s: float = 10.0) -> str:
        """Start serving and return the base URL."""
        self.thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the API server did not start")
            time.sleep(0.01)
        sockets = self.server.servers[0].sockets
        host, port = sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
