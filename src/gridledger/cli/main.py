"""The `gridledger` command: every command group assembled into one Typer app."""

from __future__ import annotations

from pathlib import Path

import typer

from gridledger.cli import (
    access,
    bench,
    certificates,
    chain,
    community,
    data,
    demo,
    gov,
    market,
    member,
    network,
    node,
    simulate,
    storage,
    tx,
    wallet,
)
from gridledger.cli.common import URL_RULE, PassphraseFileOption, start_command

app = typer.Typer(
    help="gridledger: a permissioned ledger and energy market for microgrids.\n\n" + URL_RULE,
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def main(passphrase_file: Path | None = PassphraseFileOption) -> None:
    """gridledger: a permissioned ledger and energy market for microgrids."""
    start_command(passphrase_file)


app.command("init")(community.init)
app.add_typer(community.keys_app, name="keys")
app.command("node")(node.node)
app.command("submit")(chain.submit)
chain.show_app.command("access-log")(access.access_log)
app.add_typer(chain.show_app, name="show")
app.add_typer(access.dashboard_app, name="dashboard")
app.command("verify")(chain.verify)
app.add_typer(market.market_app, name="market")
app.add_typer(member.member_app, name="member")
app.add_typer(gov.gov_app, name="gov")
app.add_typer(tx.tx_app, name="tx")
app.add_typer(tx.audit_app, name="audit")
app.add_typer(wallet.wallet_app, name="wallet")
app.add_typer(certificates.certificates_app, name="certificates")
app.command("simulate")(simulate.simulate_command)
app.add_typer(data.data_app, name="data")
app.add_typer(network.network_app, name="network")
app.command("demo")(demo.demo)
app.command("bench")(bench.bench)
app.add_typer(storage.chain_app, name="chain")
app.command("archive")(storage.archive)
