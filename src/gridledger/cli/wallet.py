"""`gridledger wallet ...`: stealth keys, stealth payments, the scan and one-time spends.

A member's view and spend keys are derived from its key file (`client.privacy`), so there
is nothing new to keep. ``keys`` publishes them (and chooses stealth payouts);
``pay-stealth`` pays another member to a fresh one-time account; ``scan`` finds the
member's outputs with its view key and adds them up; ``spend`` pays out of one of them,
signed by its one-time key. Every command follows the rule of `gridledger.cli.common`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import typer
from rich.table import Table

from gridledger.cli.common import (
    DirOption,
    JsonOption,
    KeyOption,
    UrlOption,
    address_of,
    call,
    connect,
    connect_signed,
    console,
    fail,
    finish,
    load_key,
    print_json,
)
from gridledger.ledger.transactions import encode_transaction

if TYPE_CHECKING:  # imported where used: the clients, and `client.privacy` (the contracts)
    from gridledger.client.embedded import EmbeddedClient
    from gridledger.client.http import HttpClient

wallet_app = typer.Typer(
    help="Stealth payments: publish your keys, pay privately, scan for and spend your outputs.",
    no_args_is_help=True,
)


def _new_output(client: HttpClient | EmbeddedClient, address: str) -> dict[str, Any]:
    """A fresh one-time output paying the member at `address`; refused if it has published
    no stealth keys (`gridledger wallet keys`)."""
    from gridledger.client.privacy import new_output_for, registered_keys

    try:
        return new_output_for(registered_keys(client, address))
    except LookupError as error:
        raise fail(str(error)) from error


@wallet_app.command("keys")
def keys_command(
    stealth_payouts: bool = typer.Option(
        False, "--stealth-payouts/--plain-payouts", help="Settlement pays you to fresh accounts"
    ),
    key: str = KeyOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Publish your view and spend public keys (derived from your key) and choose payouts."""
    from gridledger.client.privacy import register_keys_args

    with connect_signed(url, directory, key) as (client, keys):
        args = register_keys_args(keys, stealth_payouts)
        finish(call(client, keys, "privacy", "register_keys", args), as_json, args)


@wallet_app.command("pay-stealth")
def pay_stealth_command(
    recipient: str = typer.Argument(..., help="The member paid: key name in DIR/keys or address"),
    amount_micro: int = typer.Argument(..., help="Micro-units"),
    key: str = KeyOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Pay a member to a fresh one-time account: the chain does not name the recipient."""
    keys = load_key(directory, key)
    to = address_of(recipient, directory)
    with connect(url, directory, write=True, key=key) as client:
        output = _new_output(client, to)
        args = {"amount_micro": amount_micro, "output": output}
        finish(call(client, keys, "privacy", "pay", args), as_json, {"output": output})


@wallet_app.command("scan")
def scan_command(
    key: str = KeyOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Find your stealth outputs with your view key: payments and payouts, and their total."""
    from gridledger.client.privacy import scan_outputs, stealth_keys_of

    keys = load_key(directory, key)
    with connect(url, directory, key=key) as client:
        found = scan_outputs(client, stealth_keys_of(keys))
    received = sum(o.output.amount_micro for o in found)
    held = sum(o.output.balance_micro for o in found)
    if as_json:
        outputs = [msgspec.to_builtins(o.output) for o in found]
        print_json({"outputs": outputs, "received_micro": received, "balance_micro": held})
        return
    table = Table("output", "kind", "period", "received µ", "balance µ", "one-time account")
    for own in found:
        o = own.output
        period = "" if o.period < 0 else str(o.period)
        table.add_row(
            str(o.number),
            o.kind,
            period,
            str(o.amount_micro),
            str(o.balance_micro),
            o.one_time_account,
        )
    console().print(table)
    console().print(f"{len(found)} output(s): received {received} µ, holding {held} µ")


@wallet_app.command("spend")
def spend_command(
    output_number: int = typer.Argument(..., help="The output to spend from (see scan)"),
    amount_micro: int = typer.Argument(..., help="Micro-units"),
    to: str = typer.Option(..., "--to", help="The member paid: key name in DIR/keys or address"),
    stealth: bool = typer.Option(False, "--stealth", help="Pay it to a fresh one-time account"),
    key: str = KeyOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Pay out of one of your one-time accounts, signed by its one-time key (BIP 340)."""
    from gridledger.client.privacy import scan_outputs, spend_transaction, stealth_keys_of

    keys = load_key(directory, key)
    recipient = address_of(to, directory)
    with connect(url, directory, write=True, key=key) as client:
        own = scan_outputs(client, stealth_keys_of(keys))
        chosen = [o for o in own if o.output.number == output_number]
        if not chosen:
            raise fail(f"output {output_number} is not yours (gridledger wallet scan lists them)")
        if stealth:
            args = {"amount_micro": amount_micro, "output": _new_output(client, recipient)}
        else:
            args = {"amount_micro": amount_micro, "to": recipient}
        signed = spend_transaction(client.chain_id(), chosen[0], chosen[0].output.nonce, args)
        view = client.submit(encode_transaction(signed), wait=True)
    finish(view, as_json)
