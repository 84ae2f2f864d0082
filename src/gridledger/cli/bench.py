"""`gridledger bench`: the load generator of `gridledger.bench`, from the command line."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from gridledger.cli.common import URL_ENV, console, passphrase_source


def bench(
    url: str | None = typer.Option(
        None,
        "--url",
        help="Load the running node at this URL (default: start one as a separate process "
        f"on a temporary community). Never taken from ${URL_ENV}: a load test loads only the "
        "node it is told to",
    ),
    rate: int = typer.Option(3000, help="Send rate, transactions per second"),
    duration: float = typer.Option(60.0, help="Seconds of sending"),
    accounts: int = typer.Option(200, help="Sending accounts"),
    workload: str = typer.Option(
        "transfer",
        help="transfer (token transfers), orders (market place_order, continuous matching) or "
        "reads (signed reads of accounts, statements and the book; reports node CPU per read)",
    ),
    directory: Path | None = typer.Option(
        None,
        "--dir",
        "-d",
        help="With --url: the community directory whose key files (active, funded members) send",
    ),
    drain_timeout: float | None = typer.Option(
        None, help="Seconds to wait for commits after sending (default: the duration, 10..60)"
    ),
    lifetime_days: int = typer.Option(
        0,
        min=0,
        help="The bench community's currency lifetime in days (seed 004 §3.4; 0: no expiry)",
    ),
    block_transactions: int | None = typer.Option(
        None,
        help="The bench's own node cuts a block at this many transactions (its "
        "`--block-transactions`; default the node's, 2,000). Not with --url",
    ),
) -> None:
    """Load generator: signed transfers at a fixed send rate; reports like Hyperledger Caliper.

    The last line of output is one JSON object with the figures.
    """
    from gridledger.bench import run_bench

    sys.exit(
        run_bench(
            url=url,
            rate=rate,
            duration_s=duration,
            accounts=accounts,
            workload=workload,
            console=console(),
            directory=directory,
            drain_timeout_s=drain_timeout,
            passphrase=passphrase_source(),
            lifetime_days=lifetime_days,
            block_transactions=block_transactions,
        )
    )
