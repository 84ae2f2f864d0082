"""`gridledger dashboard login` (a one-time link that signs the dashboard in) and
`gridledger show access-log` (who among the auditors read a member's data, and when)."""

from __future__ import annotations

import datetime
from pathlib import Path

import typer
from rich.table import Table

from gridledger.cli.common import (
    DirOption,
    JsonOption,
    KeyOption,
    UrlOption,
    chain_path,
    connect,
    console,
    fail,
    load_key,
    peer_urls,
    print_json,
)
from gridledger.client.replies import AccessLogReply
from gridledger.node.access_log import FILE_NAME, AccessLog

dashboard_app = typer.Typer(help="The community dashboard in a browser.", no_args_is_help=True)


@dashboard_app.command("login")
def login(
    key: str = KeyOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
) -> None:
    """Print a one-time link that signs the dashboard in as the member of -k NAME (5 min)."""
    peers = peer_urls(url)
    if not peers:
        raise fail("dashboard login needs the node's --url (or $GRIDLEDGER_URL)")
    from gridledger.client.http import HttpClient

    with connect(url, directory, key=key) as client:
        assert isinstance(client, HttpClient)
        code = client.login_code()
    console().print(f"{peers[0].rstrip('/')}/dashboard/#login={code.login_code}", soft_wrap=True)


def access_log(
    key: str = KeyOption,
    limit: int = typer.Option(50, help="The newest N reads"),
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Reads of your data by the operator, the regulator and consortium peers (-k NAME).

    With --url the node answers from its log; without, the log beside the chain in --dir.
    """
    if peer_urls(url):
        from gridledger.client.http import HttpClient

        with connect(url, directory, key=key) as client:
            assert isinstance(client, HttpClient)
            view = client.access_log(limit)
    else:
        path = chain_path(directory).parent / FILE_NAME
        if not path.is_file():
            raise fail(f"{path}: no access log (nobody has read through a node's API yet)")
        log = AccessLog(path)
        try:
            view = log.entries(load_key(directory, key).address, limit)
        finally:
            log.close()
    if as_json:
        print_json(view)
        return
    print_entries(view)


def print_entries(view: AccessLogReply) -> None:
    table = Table("when (UTC)", "reader", "role", "route", "resource", "whose")
    for entry in view.entries:
        when = datetime.datetime.fromtimestamp(entry.at_ms / 1000, datetime.UTC)
        table.add_row(
            when.strftime("%Y-%m-%d %H:%M:%S"),
            entry.reader,
            entry.reader_role,
            entry.route,
            entry.resource,
            "everyone" if entry.household == "*" else entry.household,
        )
    if not view.entries:
        console().print("nobody has read your data through this node")
        return
    console().print(table)
