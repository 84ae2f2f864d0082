"""`gridledger demo`: a small community's trading day on an embedded node, in seconds.

It writes a fresh community directory, opens its chain in this process through the
embedded client, on a clock the demo moves through yesterday's late morning (UTC), and
serves the node's API and dashboard meanwhile. Then it acts as the members would, every
step a signed transaction: a new household applies (its personal data goes to the
regulator's registry, off the chain, only salted digests of it onto the chain) and is
approved; five households trade three hourly periods (`demo_market`): orders, matching at
gate closure, meter readings, one of which shows a seller delivering less than it sold,
and settlement, with that seller's statement and its imbalance charge printed; members pay
each other and one payment is refused for lack of funds. The regulator reads the balances
over the API (each read lands in the household's access log). Finally it re-verifies the
chain from genesis and prints where to look next.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from gridledger.cli.common import console, fail
from gridledger.cli.demo_market import (
    CLOUD,
    HOUR_S,
    HOURS,
    UNIT,
    DemoClock,
    DemoRefused,
    Member,
    TradingDay,
    commit_at,
    genesis_time_ms,
    hour_label,
    households_table,
    orders_table,
    periods_table,
    shortfall_line,
    statement_table,
    trades_table,
)
from gridledger.cli.member import send_registration
from gridledger.client import ClientError, Wallet
from gridledger.client.cosigning import multisig_call, policy_sender
from gridledger.client.replies import TransactionReply
from gridledger.crypto import KeyPair, address_of, generate_keypair
from gridledger.node.keystore import read_key, write_key

if TYPE_CHECKING:  # imported where used: the node (and its contracts, numpy) and httpx
    from gridledger.client.embedded import EmbeddedClient
    from gridledger.client.http import HttpClient

FOUNDERS = ("regulator", "operator", "alice", "bob", "carol", "dave")
"""The members `init_community` writes (keys/NAME.key; the trading ones also NAME-meter.key)."""
GRID_FUNDS = 20 * UNIT
"""What the operator puts into the grid account, from which feed-in is paid."""

DEMO_REGISTRATION: dict[str, str | int] = {
    "generation_type": "solar",
    "installed_capacity_w": 4800,
    "basic_information": "Erin Example, 12 Mill Lane, ID 4471-0923",
    "credit_record": "none",
}
"""Erin's registration (seed 003 Table 2): the first two fields go on the chain, the
personal ones only as digests."""


def demo(
    directory: Path = typer.Option(
        Path("demo-community"), "--dir", "-d", help="Where the demo community is written (replaced)"
    ),
    port: int = typer.Option(0, help="API port (0 picks a free one)"),
    serve: bool = typer.Option(False, help="Keep the node running after the demo"),
) -> None:
    """A small community's trading day on an embedded node: orders, matching, meter readings,
    settlement, payments, then verify."""
    if directory.exists():
        if not (directory / "genesis.json").exists() and any(directory.iterdir()):
            raise fail(
                f"{directory} exists and is not a gridledger community; choose another --dir"
            )
        shutil.rmtree(directory)
    sys.exit(run_demo(directory, port, serve, console()))


def run_demo(directory: Path, port: int, serve: bool, out: Console) -> int:
    """Run the demo in a fresh `directory`; 0 if it went through, 1 if the node refused a step."""
    from gridledger.api.server import BackgroundServer
    from gridledger.client.embedded import EmbeddedClient
    from gridledger.client.http import HttpClient
    from gridledger.node.community import init_community
    from gridledger.node.registry import RegistryRefusal
    from gridledger.node.verify import verify_storage

    started = time.monotonic()
    now_s = time.time_ns() // 1_000_000_000
    genesis_ms = genesis_time_ms(now_s)
    clock = DemoClock(genesis_ms)
    genesis = init_community(directory, "gridledger-demo", genesis_ms)
    client = EmbeddedClient.open(directory / "chain.sqlite", genesis, clock_ms=clock)
    server = BackgroundServer(client.node, port=port)
    url = server.start()
    out.print(f"[bold]gridledger demo[/bold]: node for chain {genesis.chain_id} serving {url}")
    out.print(f"dashboard: {url}/dashboard/ (live while the demo runs; reads need a sign-in)")
    readers: list[HttpClient] = []

    def shut_down() -> None:
        for opened in readers:
            opened.close()
        server.stop()
        client.close()

    def reader(keys: KeyPair) -> HttpClient:
        """A member's HTTP client: its reads of the API are signed with its key (RFC 9421)."""
        readers.append(HttpClient(url, keys=keys))
        return readers[-1]

    keys = {name: read_key(directory / "keys" / f"{name}.key") for name in FOUNDERS}
    wallets = {name: Wallet(pair, client) for name, pair in keys.items()}
    regulator_reads = reader(keys["regulator"])  # an auditor: it reads the summary
    start_s = genesis_ms // 1000
    try:
        members = {
            name: Member(
                name,
                wallets[name],
                read_key(directory / "keys" / f"{name}-meter.key"),
                Wallet(read_key(directory / "keys" / f"{name}-meter.key"), client),
            )
            for name in ("alice", "bob", "carol", "dave")
        }
        erin = admit_erin(directory, client, clock, wallets, reader, start_s, out)
        members["erin"] = erin
        wallets["erin"] = erin.wallet
        first_period = start_s // HOUR_S + 1
        out.print(
            f"\n[bold]A trading day[/bold]: yesterday {hour_label(first_period)} to "
            f"{hour_label(first_period + HOURS)} UTC, three hourly periods ({first_period} to "
            f"{first_period + HOURS - 1}), on the demo's clock; each step is a block of signed "
            "transactions stamped at its time"
        )
        out.print(households_table())
        day = TradingDay(client, clock, members, wallets["operator"], first_period).run()
        names = {w.address: name for name, w in wallets.items()}
        out.print(orders_table(client, day.periods, names))
        out.print(trades_table(client, day.periods, names))
        out.print(periods_table(client, day.periods))
        out.print(shortfall_line(client, day.shortfall_period, members[CLOUD[0]]))
        out.print(statement_table(client, day.shortfall_period, members[CLOUD[0]]))
        out.print(f"the trading day took {day.blocks} blocks", highlight=False)
        last_s = (day.periods[-1] + 1) * HOUR_S + 20 * 60
        pay(client, clock, wallets, last_s, out)
        clock.release()  # the day is over: from now on, blocks bear the wall clock's time

        table = Table("member", "role", "status", "balance (units)", title="The community")
        by_address = {m.address: m for m in regulator_reads.members().members}
        for name, wallet in wallets.items():
            member = by_address[wallet.address]
            balance = regulator_reads.account(wallet.address).balance_micro
            table.add_row(name, member.role, member.status, f"{balance / UNIT:,.2f}")
        out.print(table)
        head = regulator_reads.head()
        seen = reader(erin.wallet.keys).access_log(limit=1000)  # the regulator's reads of erin
        login = reader(keys["alice"]).login_code()  # a one-time link signing alice in
        out.print(
            f"erin's access log: {len(seen.entries)} reads of her data by auditors "
            f"(`gridledger show access-log -k erin --dir {directory}`)"
        )
    except (ClientError, RegistryRefusal, DemoRefused) as error:
        out.print(f"[red]demo failed:[/red] {error}")
        shut_down()
        return 1

    report = verify_storage(client.node.storage)  # type: ignore[arg-type]
    out.print(
        f"chain height {head.height}, head {head.hash[:16]}…, "
        f"{report.transactions} transactions; re-verified from genesis: sound "
        f"({time.monotonic() - started:.1f} s in all)"
    )
    print_next_steps(out, directory, day.periods, day.shortfall_period, head.height)
    link = f"{url}/dashboard/#login={login.login_code}"
    if serve:
        out.print(
            f"\nserving {url}: dashboard at {link} (signed in as alice; a one-time link, "
            f"valid 5 minutes), API docs at {url}/docs; Ctrl-C to stop",
            soft_wrap=True,
        )
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C ends the serving, not an error
            while True:
                time.sleep(1)
    shut_down()
    return 0


def admit_erin(
    directory: Path,
    client: EmbeddedClient,
    clock: DemoClock,
    wallets: dict[str, Wallet],
    reader: Callable[[KeyPair], HttpClient],
    start_s: int,
    out: Console,
) -> Member:
    """Erin applies, the regulator checks her data and approves, the operator binds her meter
    and issues her currency; the operator also funds the grid account (it pays feed-in)."""
    from gridledger.contracts.registration import application
    from gridledger.node.registry import PersonalDataRegistry

    erin_keys = generate_keypair()
    write_key(directory / "keys", "erin", erin_keys)
    erin_meter = generate_keypair()
    write_key(directory / "keys", "erin-meter", erin_meter)
    erin = Wallet(erin_keys, client)
    arguments, split = application("erin", "prosumer", DEMO_REGISTRATION)
    commit_at(client, clock, start_s + 60, [erin.sign("membership", "apply", arguments)])
    send_registration(reader(erin_keys), erin_keys, split.encoded)
    registry = PersonalDataRegistry.beside(directory / "chain.sqlite")
    try:
        checked = registry.check_member(erin.address, split.commitments)
    finally:
        registry.close()
    operator = wallets["operator"]
    # the issuer is a policy account: 2 of operator, regulator and treasurer sign an issue
    issuer = policy_sender("issuer")
    issued = client.account(address_of(issuer)).nonce
    signers = [operator.keys, wallets["regulator"].keys]
    issues = [
        multisig_call(client, issuer, signers, ("tokens", "mint", args), issued + i)
        for i, args in enumerate(
            [
                {"to": erin.address, "amount_micro": 25 * UNIT, "reference": "bank transfer 0001"},
                {"to": operator.address, "amount_micro": GRID_FUNDS, "reference": "utility"},
            ]
        )
    ]
    commit_at(
        client,
        clock,
        start_s + 120,
        [
            wallets["regulator"].sign("membership", "approve", {"address": erin.address}),
            operator.sign(
                "membership",
                "bind_meter",
                {"member": erin.address, "meter_key": erin_meter.public_key.hex()},
            ),
            *issues,
            operator.sign(
                "settlement", "fund_grid", {"amount_micro": GRID_FUNDS, "reference": "feed-in"}
            ),
        ],
    )
    out.print(
        f"erin applied to join as a prosumer: {', '.join(sorted(split.technical))} on the "
        f"chain, {', '.join(sorted(checked))} only as salted digests, their values in the "
        "regulator's registry (registry.sqlite); the regulator checked them and approved, the "
        "operator bound her meter; the issuer (2 of operator, regulator and treasurer: the "
        "operator and the regulator signed) issued her 25.00 units, and the operator "
        f"{GRID_FUNDS // UNIT} units, with which it funded the grid account for feed-in"
    )
    return Member("erin", erin, erin_meter, Wallet(erin_meter, client))


def pay(
    client: EmbeddedClient, clock: DemoClock, wallets: dict[str, Wallet], at_s: int, out: Console
) -> None:
    """A few payments between members in one block, then one refused for lack of funds."""
    payments = [
        ("alice", "bob", 3_250_000),
        ("bob", "carol", 1_800_000),
        ("dave", "alice", 4_100_000),
        ("carol", "erin", 900_000),
        ("erin", "dave", 2_000_000),
        ("bob", "alice", 700_000),
    ]
    raws = [
        wallets[source].sign(
            "tokens",
            "transfer",
            {"to": wallets[target].address, "amount_micro": amount, "memo": f"invoice {i}"},
        )
        for i, (source, target, amount) in enumerate(payments, start=1)
    ]
    commit_at(client, clock, at_s, raws)
    out.print(f"{len(raws)} payments between members, signed and committed in one block")
    clock.at(at_s + 60)
    refused = wallets["erin"].call(
        "tokens", "transfer", {"to": wallets["bob"].address, "amount_micro": 1_000 * UNIT}
    )
    if isinstance(refused, TransactionReply):
        out.print(
            f"erin tried to pay 1,000.00 units: [yellow]{refused.result}[/yellow] "
            f"- {refused.message}"
        )


def print_next_steps(
    out: Console, directory: Path, periods: list[int], shortfall_period: int, height: int
) -> None:
    """The commands that show what the demo left on the chain."""
    d = directory
    lines = [
        (f"gridledger market trades --dir {d}", "the newest period's trades"),
        (f"gridledger market trades {periods[0]} --dir {d} --json", "a period's, as JSON"),
        (f"gridledger market orders {periods[0]} --dir {d}", "its orders after matching"),
        (
            f"gridledger market statement {shortfall_period} --dir {d}",
            "every household's statement of the shortfall hour",
        ),
        (f"gridledger market statement {shortfall_period} carol --dir {d}", "carol's"),
        (
            f"gridledger node --dir {d} --login alice",
            "run this community's node; it prints a one-time link that signs the dashboard "
            "in as alice (market, energy, chain pages; API docs at http://127.0.0.1:8545/docs)",
        ),
        (
            f"gridledger dashboard login -k bob --dir {d} --url http://127.0.0.1:8545",
            "a link for another member, from a running node",
        ),
        (f"gridledger show members --dir {d}", "who is who"),
        (f"gridledger show access-log -k erin --dir {d}", "who read erin's data"),
        (f"gridledger show block {height} --dir {d}", "the newest block"),
        (f"gridledger verify --dir {d}", "re-check the chain yourself"),
        (f"gridledger member export erin --dir {d}", "all the community holds on erin"),
        (f"gridledger member erase erin --dir {d}", "GDPR erasure; verify stays sound"),
        ("gridledger simulate seed000_case_study --out runs/seed000", "a longer market"),
    ]
    out.print("\n[bold]Where to look next[/bold]")
    for command, what in lines:
        out.print(f"  {command}   [dim]# {what}[/dim]", soft_wrap=True, highlight=False)
