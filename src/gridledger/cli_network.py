"""`gridledger network up|down|status`, and the peer side of `gridledger node --ordering nats`."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from gridledger.keystore import KeyFileError, read_key
from gridledger.node import Node, NodeError, StorageError
from gridledger.node.network_config import (
    NETWORK_FILE,
    NetworkConfigError,
    NetworkSpec,
    load_network,
    load_spec,
    peer_ordering_log,
)
from gridledger.node.ordered_service import OrderedService
from gridledger.node.supervisor import (
    NetworkError,
    network_down,
    network_init,
    network_status,
    network_up,
)

network_app = typer.Typer(
    help="A NATS JetStream ordering cluster and several peers on this machine.",
    no_args_is_help=True,
)
console = Console()
error_console = Console(stderr=True)

NetworkDirOption = typer.Option(
    Path("network"), "--dir", "-d", help="Network directory (network.json, state, logs, peers)"
)


def fail(message: str) -> typer.Exit:
    error_console.print(f"[red]error:[/red] {message}")
    return typer.Exit(1)


def nats_service(node: Node, network: Path, peer: str, insecure: bool = False) -> OrderedService:
    """The ordering service of peer `peer` of the network described by `network` (network.json)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("nats").setLevel(logging.WARNING)
    try:
        config = load_network(network)
        entry = config.peer(peer)
        keys = read_key(network.parent / entry.key_file)
    except (NetworkConfigError, KeyFileError) as error:
        raise fail(str(error)) from error
    if config.chain_id != node.chain_id:
        raise fail(f"{network} is for chain {config.chain_id!r}; this chain is {node.chain_id!r}")
    if keys.public_key.hex() != entry.public_key:
        raise fail(f"{entry.key_file}: its key is not peer {peer}'s key in {network}")
    try:
        ordering_log = peer_ordering_log(config, network.parent, peer, insecure)
    except NodeError as error:
        raise fail(str(error)) from error
    try:
        return OrderedService(node, ordering_log, config.rules, keys, config.peer_infos(), peer)
    except StorageError as error:
        raise fail(str(error)) from error


@network_app.command("up")
def up(
    config: Path | None = typer.Option(
        None, "--config", "-c", help="network.yaml / .toml / .json (default: 3 servers, 2 peers)"
    ),
    directory: Path = NetworkDirOption,
) -> None:
    """Start the nats-server cluster and the peers; write network.json and state.json."""
    try:
        spec = load_spec(config) if config is not None else NetworkSpec()
        records = network_up(directory, spec)
    except (NetworkConfigError, NetworkError, KeyFileError, ValueError) as error:
        raise fail(str(error)) from error
    except Exception as error:  # a server or peer failed to start: say which, with the log
        raise fail(f"{type(error).__name__}: {error} (logs in {directory}/)") from error
    table = Table("role", "name", "pid", "url")
    for record in records:
        table.add_row(record.role, record.name, str(record.pid), record.url)
    console.print(table)
    peers = ",".join(r.url for r in records if r.role == "peer")
    console.print(f"network up in {directory}/ ({directory / NETWORK_FILE})")
    console.print(f"use it with: gridledger show head --url {peers}")


@network_app.command("init")
def init(
    config: Path = typer.Option(..., "--config", "-c", help="network.yaml with hosts"),
    directory: Path = NetworkDirOption,
) -> None:
    """Write network.json, the CA, certificates, credentials and server configs; start nothing."""
    try:
        resolved = network_init(directory, load_spec(config))
    except (NetworkConfigError, NetworkError, NodeError, KeyFileError, ValueError) as error:
        raise fail(str(error)) from error
    for server in resolved.servers:
        console.print(f"{server.name} on {server.host}: nats-server -c nats/{server.name}.conf")
    for entry in resolved.peers:
        console.print(f"{entry.name} on {entry.host}: gridledger node --peer {entry.name} ...")
    console.print(f"written to {directory}/; copy each machine its files (README)")


@network_app.command("down")
def down(directory: Path = NetworkDirOption) -> None:
    """Stop every process of the network by pid (peers first)."""
    stopped = network_down(directory)
    console.print(f"stopped {len(stopped)} processes")


@network_app.command("status")
def status(
    directory: Path = NetworkDirOption,
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Each process (alive?) and each peer's head, finalized height and alarm."""
    rows = network_status(directory)
    if as_json:
        console.print_json(json.dumps(rows))
        return
    if not rows:
        console.print(f"no network runs in {directory}/")
        raise typer.Exit(1)
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
    console.print(table)
