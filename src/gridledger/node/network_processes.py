"""The processes of a `gridledger network` directory, wherever they were started from.

``network up`` lists what it starts in ``state.json``, but an operator may restart a
server or a peer by hand. So the processes of a network are found three ways:

- ``state.json``, as written by ``up`` and `restart_peer`;
- pid files: every nats-server writes ``nats/<name>.pid`` itself (``pid_file`` in the
  config `node/nats_server.py` writes), and every peer ``run/peer-<name>.pid`` (written by
  ``gridledger node --ordering nats`` as it starts, removed as it stops);
- the directory: every running nats-server or ``gridledger node`` whose command line names
  a path inside the network directory (a relative path is resolved against the process's
  working directory).

Whichever way a pid was found, it is the network's only if it runs a nats-server or a
``gridledger node`` whose command line names the directory (`process_role`): a stale pid
file, or a pid reused by another program, is never signalled.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

RUN_DIRECTORY = "run"
"""Where peers' pid files go, under the network directory."""
PID_FILE_GLOBS = ("nats/*.pid", f"{RUN_DIRECTORY}/*.pid")


@dataclass(frozen=True, slots=True)
class NetworkProcess:
    role: str
    """``server`` or ``peer``."""
    name: str
    """The server's or peer's name, or ``?`` if its command line does not say."""
    pid: int


def peer_pid_file(directory: Path, name: str) -> Path:
    """Where peer `name` of the network in `directory` records its pid."""
    return directory / RUN_DIRECTORY / f"peer-{name}.pid"


def write_pid_file(path: Path) -> None:
    """Record this process's pid in `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{os.getpid()}\n")


def remove_pid_file(path: Path) -> None:
    """Remove `path` if it still holds this process's pid (a successor's is left alone)."""
    if read_pid_file(path) == os.getpid():
        path.unlink(missing_ok=True)


def read_pid_file(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _command_line(pid: int) -> tuple[list[str], Path | None] | None:
    """The arguments of `pid` and its working directory (None if unreadable)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    arguments = [part.decode(errors="replace") for part in raw.split(b"\0") if part]
    try:
        cwd: Path | None = Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        cwd = None
    return (arguments, cwd) if arguments else None


def _names_directory(argument: str, cwd: Path | None, directory: Path) -> bool:
    path = Path(argument)
    if not path.is_absolute():
        if cwd is None or not argument or argument.startswith("-"):
            return False
        path = cwd / path
    for form in (Path(os.path.normpath(path)), path.resolve()):
        if form == directory or directory in form.parents:
            return True
    return False


def _option(arguments: list[str], name: str) -> str | None:
    if name in arguments[:-1]:
        return arguments[arguments.index(name) + 1]
    return None


def process_role(pid: int, directory: Path) -> NetworkProcess | None:
    """`pid` as a process of the network in `directory` (resolved), or None if it is not one:
    it must run a nats-server, or a ``gridledger node`` with ``--network``, and name a path
    inside `directory` on its command line."""
    if pid <= 0 or pid == os.getpid():
        return None
    found = _command_line(pid)
    if found is None:
        return None
    arguments, cwd = found
    if Path(arguments[0]).name.startswith("nats-server"):
        config = _option(arguments, "-c") or _option(arguments, "--config") or "?"
        process = NetworkProcess("server", Path(config).stem, pid)
    elif (
        "gridledger" in " ".join(arguments[:3]) and "node" in arguments and "--network" in arguments
    ):
        process = NetworkProcess("peer", _option(arguments, "--peer") or "?", pid)
    else:
        return None
    if any(_names_directory(argument, cwd, directory) for argument in arguments[1:]):
        return process
    return None


def _running_pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def network_processes(directory: Path, known: list[int] | None = None) -> list[NetworkProcess]:
    """Every running process of the network in `directory`: the pids `known` (from
    ``state.json``), those of its pid files, and those naming the directory; each checked
    with `process_role`. Peers come first, then servers."""
    directory = directory.resolve()
    candidates = set(known or [])
    for pattern in PID_FILE_GLOBS:
        for path in directory.glob(pattern):
            pid = read_pid_file(path)
            if pid is not None:
                candidates.add(pid)
    candidates.update(_running_pids())
    found = [process_role(pid, directory) for pid in sorted(candidates)]
    processes = [process for process in found if process is not None]
    return sorted(processes, key=lambda process: (process.role != "peer", process.pid))


def remove_pid_files(directory: Path) -> None:
    """Remove the pid files of the network in `directory` whose process is not running it."""
    directory = directory.resolve()
    for pattern in PID_FILE_GLOBS:
        for path in directory.glob(pattern):
            pid = read_pid_file(path)
            if pid is None or process_role(pid, directory) is None:
                path.unlink(missing_ok=True)
