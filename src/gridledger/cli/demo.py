"""`gridledger demo`: a small community on an embedded node, end to end, in a few seconds.

It writes a fresh community directory, starts a node with its API in this
process, and then acts as the members would, through the HTTP API only, each
member signing its own reads (RFC 9421): a new household applies (its personal
data goes to the regulator's registry, off the chain, and only salted digests
of it onto the chain), the regulator checks the data against the digests and
approves it, the operator binds its meter and issues it currency, members pay
each other, and one payment is refused for lack of funds. The regulator reads
the balances (each read lands in the household's access log). It then
re-verifies the chain from genesis and prints a summary, a one-time link that
signs the dashboard in as a member, and where to look next.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from gridledger.cli.common import console, fail
from gridledger.cli.member import send_registration
from gridledger.client import ClientError, HttpClient, Wallet
from gridledger.client.cosigning import multisig_call, policy_sender
from gridledger.client.replies import TransactionReply
from gridledger.contracts.registration import application
from gridledger.crypto import KeyPair, generate_keypair
from gridledger.node import CutterConfig, Node
from gridledger.node.community import init_community
from gridledger.node.keystore import read_key, write_key
from gridledger.node.registry import PersonalDataRegistry, RegistryRefusal

UNIT = 1_000_000
"""Micro-units per unit of the community currency."""

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
    """Start an embedded node, enrol a small community, trade currency and summarise."""
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
    from gridledger.node.verify import verify_storage

    started = time.monotonic()
    genesis = init_community(directory, "gridledger-demo", time.time_ns() // 1_000_000)
    node = Node.open_path(directory / "chain.sqlite", genesis, cutter=CutterConfig(timeout_ms=20))
    server = BackgroundServer(node, port=port)
    url = server.start()
    out.print(f"[bold]gridledger demo[/bold]: node for chain {genesis.chain_id} serving {url}")
    out.print(f"dashboard: {url}/dashboard/ (live while the demo runs; reads need a sign-in)")
    clients: list[HttpClient] = []

    def shut_down() -> None:
        for opened in clients:
            opened.close()
        server.stop()
        node.close()

    def wallet_of(keys: KeyPair) -> Wallet:
        """A member's wallet over its own client: its reads are signed with its key."""
        clients.append(HttpClient(url, keys=keys))
        return Wallet(keys, clients[-1])

    wallets = {
        name: wallet_of(read_key(directory / "keys" / f"{name}.key"))
        for name in ("regulator", "operator", "alice", "bob", "carol", "dave")
    }
    client = clients[0]  # the regulator's: an auditor, it reads the summary
    try:
        erin_keys = generate_keypair()
        write_key(directory / "keys", "erin", erin_keys)
        erin_meter = generate_keypair()
        write_key(directory / "keys", "erin-meter", erin_meter)
        erin = wallets["erin"] = wallet_of(erin_keys)

        step = out.status("erin applies to join as a prosumer")
        with step:
            arguments, split = application("erin", "prosumer", DEMO_REGISTRATION)
            erin.call("membership", "apply", arguments)
            send_registration(client, erin_keys, split.encoded)
            registry = PersonalDataRegistry.beside(directory / "chain.sqlite")
            try:
                checked = registry.check_member(erin.address, split.commitments)
            finally:
                registry.close()
            wallets["regulator"].call("membership", "approve", {"address": erin.address})
            wallets["operator"].call(
                "membership",
                "bind_meter",
                {"member": erin.address, "meter_key": erin_meter.public_key.hex()},
            )
            # the issuer is a policy account: the operator and the regulator sign (2 of 3)
            mint = (
                "tokens",
                "mint",
                {"to": erin.address, "amount_micro": 25 * UNIT, "reference": "bank transfer 0001"},
            )
            signers = [wallets["operator"].keys, wallets["regulator"].keys]
            issued = client.submit(
                multisig_call(client, policy_sender("issuer"), signers, mint), wait=True
            )
            if not isinstance(issued, TransactionReply) or issued.code != 0:
                raise RuntimeError(f"the issue to erin was not committed: {issued}")
        out.print(
            f"erin applied: {', '.join(sorted(split.technical))} on the chain, "
            f"{', '.join(sorted(checked))} only as salted digests, their values in the "
            "regulator's registry (registry.sqlite)"
        )
        out.print(
            "the regulator checked them against the digests and approved, the operator "
            "bound her meter, and the issuer (2 of operator, regulator and treasurer; "
            "the operator and the regulator signed) issued her 25.00 units"
        )

        payments = [
            ("alice", "bob", 3_250_000),
            ("bob", "carol", 1_800_000),
            ("dave", "alice", 4_100_000),
            ("carol", "erin", 900_000),
            ("erin", "dave", 2_000_000),
            ("bob", "alice", 700_000),
        ] * 5
        raws = [
            wallets[src].sign(
                "tokens",
                "transfer",
                {"to": wallets[dst].address, "amount_micro": amount, "memo": f"energy, hour {i}"},
            )
            for i, (src, dst, amount) in enumerate(payments)
        ]
        batch = client.submit_batch(raws)
        ids = [r.id for r in batch.results]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if all(client.transaction(i).status == "committed" for i in ids[-3:]):
                break
            time.sleep(0.05)
        out.print(f"{batch.accepted} payments submitted in one batch and committed")

        refused = erin.call(
            "tokens", "transfer", {"to": wallets["bob"].address, "amount_micro": 1_000 * UNIT}
        )
        if isinstance(refused, TransactionReply):
            out.print(
                f"erin tried to pay 1,000.00 units: [yellow]{refused.result}[/yellow] "
                f"- {refused.message}"
            )

        table = Table("member", "role", "status", "balance (units)", title="The community")
        by_address = {m.address: m for m in client.members().members}
        for name, wallet in wallets.items():
            member = by_address[wallet.address]
            balance = client.account(wallet.address).balance_micro
            table.add_row(name, member.role, member.status, f"{balance / UNIT:,.2f}")
        out.print(table)
        head = client.head()
        seen = clients[-1].access_log(limit=1000)  # erin's: the regulator's reads of her data
        alice = next(c for c in clients if c.keys == wallets["alice"].keys)
        login = alice.login_code()  # a one-time link that signs the dashboard in as alice
        out.print(
            f"erin's access log: {len(seen.entries)} reads of her data by auditors "
            f"(`gridledger show access-log -k erin --dir {directory}`)"
        )
    except (ClientError, RegistryRefusal) as error:
        out.print(f"[red]demo failed:[/red] {error}")
        shut_down()
        return 1

    report = verify_storage(node.storage)  # type: ignore[arg-type]
    out.print(
        f"chain height {head.height}, head {head.hash[:16]}…, "
        f"{report.transactions} transactions; re-verified from genesis: sound "
        f"({time.monotonic() - started:.1f} s in all)"
    )
    out.print("\n[bold]Where to look next[/bold]")
    out.print(
        f"  gridledger node --dir {directory} --login alice   # run this community's node; "
        "it prints a one-time link that signs the dashboard in as alice (API docs at "
        "http://127.0.0.1:8545/docs)"
    )
    out.print(
        f"  gridledger dashboard login -k bob --dir {directory} --url http://127.0.0.1:8545"
        "  # another member's link, from a running node"
    )
    out.print(f"  gridledger show members --dir {directory}")
    out.print(f"  gridledger show access-log -k erin --dir {directory}   # who read erin's data")
    out.print(f"  gridledger show block {head.height} --dir {directory}")
    out.print(f"  gridledger verify --dir {directory}      # re-check the chain yourself")
    out.print(
        f"  gridledger member export erin --dir {directory}   # all the community holds on erin"
    )
    out.print(
        f"  gridledger member erase erin --dir {directory}    # GDPR erasure; verify stays sound"
    )
    out.print("  gridledger bench --rate 2800 --duration 60   # measure throughput and latency")
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
