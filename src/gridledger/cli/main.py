"""The `gridledger` command: every command group assembled into one Typer app."""

from __future__ import annotations

import typer

from gridledger.cli import access, bench, chain, community, demo, market, network, node, simulate
from gridledger.cli.common import URL_RULE

app = typer.Typer(
    help="gridledger: a permissioned ledger and energy market for microgrids.\n\n" + URL_RULE,
    no_args_is_help=True,
    add_completion=False,
)
app.command("init")(community.init)
app.add_typer(community.keys_app, name="keys")
app.command("node")(node.node)
app.command("submit")(chain.submit)
chain.show_app.command("access-log")(access.access_log)
app.add_typer(chain.show_app, name="show")
app.add_typer(access.dashboard_app, name="dashboard")
app.command("verify")(chain.verify)
app.add_typer(market.market_app, name="market")
app.command("simulate")(simulate.simulate_command)
app.add_typer(network.network_app, name="network")
app.command("demo")(demo.demo)
app.command("bench")(bench.bench)
