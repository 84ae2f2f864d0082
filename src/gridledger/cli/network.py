"""`gridledger network up|down|status|init`: a NATS JetStream cluster and its peers.

``up`` runs them all on this machine; ``init`` writes a network for several machines.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from gridledger.cli.common import (
    URL_ENV,
    JsonOption,
    console,
    fail,
    passphrase_source,
    print_json,
)
from gridledger.node.errors import NodeError
from gridledger.node.keystore import KeyFileError

network_app = typer.Typer(
    help="A NATS JetStream ordering cluster and several peers on this machine.",
    no_args_is_help=True,
)

NetworkDirOption = typer.Option(
    Path("network"), "--dir", "-d", help="Network directory (network.json, state, logs, peers)"
)


@network_app.command("up")
def up(
    config: Path | None = typer.Option(
        None, "--config", "-c", help="network.yaml / .toml / .json (default: 3 servers, 2 peers)"
    ),
    directory: Path = NetworkDirOption,
) -> None:
    """Start the nats-server cluster and the peers; write network.json and state.json.

    Peers whose key files are encrypted get `gridledger --passphrase-file FILE` (or
    inherit $GRIDLEDGER_PASSPHRASE_FILE); they run detached, so nothing can prompt.
    """
    from gridledger.node.network_config import (
        NETWORK_FILE,
        NetworkConfigError,
        NetworkSpec,
        load_spec,
    )
    from gridledger.node.supervisor import NetworkError, network_up

    try:
        spec = load_spec(config) if config is not None else NetworkSpec()
        records = network_up(directory, spec, passphrase_file=passphrase_source().file)
    except (NetworkConfigError, NetworkError, KeyFileError, ValueError) as error:
        raise fail(str(error)) from error
    except Exception as error:  # a server or peer failed to start: say which, with the log
        raise fail(f"{type(error).__name__}: {error} (logs in {directory}/)") from error
    table = Table("role", "name", "pid", "url")
    for record in records:
        table.add_row(record.role, record.name, str(record.pid), record.url)
    out = console()
    out.print(table)
    peers = ",".join(r.url for r in records if r.role == "peer")
    out.print(f"network up in {directory}/ ({directory / NETWORK_FILE})")
    out.print(f"use it with: gridledger show head --url {peers}", highlight=False)
    out.print(f"or for every command: export {URL_ENV}={peers}", highlight=False)


@network_app.command("init")
def init(
    config: Path = typer.Option(..., "--config", "-c", help="network.yaml with hosts"),
    directory: Path = NetworkDirOption,
) -> None:
    """Write network.json, the CA, certificates, credentials and server configs; start nothing."""
    from gridledger.node.network_config import NetworkConfigError, load_spec
    from gridledger.node.supervisor import NetworkError, network_init

    try:
        resolved = network_init(directory, load_spec(config))
    except (NetworkConfigError, NetworkError, NodeError, KeyFileError, ValueError) as error:
        raise fail(str(error)) from error
    out = console()
    for server in resolved.servers:
        out.print(f"{server.name} on {server.host}: nats-server -c nats/{server.name}.conf")
    for entry in resolved.peers:
        out.print(f"{entry.name} on {entry.host}: gridledger node --peer {entry.name} ...")
    out.print(f"written to {directory}/; copy each machine its files (README)", highlight=False)


@network_app.command("down")
def down(directory: Path = NetworkDirOption) -> None:
    """Stop every process of the network by pid (peers first)."""
    from gridledger.node.supervisor import network_down

    stopped = network_down(directory)
    console().print(f"stopped {len(stopped)} processes")


@network_app.command("status")
def status(directory: Path = NetworkDirOption, as_json: bool = JsonOption) -> None:
    """Each process (alive?) and each peer's head, finalized height and alarm."""
    from gridledger.node.supervisor import network_status

    rows = network_status(directory, passphrase_source())
    if as_json:
        print_json(rows)
        return
    if not rows:
        raise fail(f"no network runs in {directory}/")
    table = Table("role", "name", "pid", "alive", "url", "head", "final", "alarm")
    for row in rows:
        table.add_row(
            row["role"],
            row["name"],
            str(row["pid"]),
            "yes" if row["alive"] else "[red]no[/red]",
            row["url"],
            str(row.get("head_height", "")),
            str(row.get("finalized_height", "")),
            str(row.get("alarm") or row.get("error") or ""),
        )
    console().print(table)
