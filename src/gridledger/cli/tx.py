"""`gridledger tx build|cosign|show|submit`: multi-signed transactions, signed offline.

A transaction that needs several signatures (the currency issuer's or the grid
account's, 2 of operator, regulator and treasurer; a correction, signed by buyer,
seller and regulator) is built once into a file, passed from signer to signer, and
submitted by any of them (`gridledger.client.cosigning` describes the file)::

    gridledger tx build tokens mint --as issuer --args '{"to": "gl…", "amount_micro": 5000000}' \\
        -k operator --out mint.json
    gridledger tx cosign mint.json -k regulator
    gridledger tx submit mint.json

``--as NAME`` sends from the policy account NAME (``issuer``, ``grid``); ``--from KEY``
from a member, whose own key signs it first (its co-signers follow). The nonce is the
sender's next at build time (``--nonce`` to choose). The node checks every signature,
and the policy, when the file is submitted.

`gridledger audit flag|flags|corrections|correct` reads and writes the corrections
contract: the regulator's audit flags, and corrections of settled trades.
"""

from __future__ import annotations

from pathlib import Path

import typer

from gridledger.cli.chain import ArgOption, ArgsOption, parse_args
from gridledger.cli.common import (
    DirOption,
    JsonOption,
    KeyOption,
    ReadKeyOption,
    UrlOption,
    connect,
    console,
    fail,
    finish,
    load_key,
    print_json,
    print_read,
    submit_call,
)
from gridledger.client.cosigning import (
    TransactionFileError,
    build_transaction,
    cosign,
    dump_transaction_file,
    load_transaction_file,
    policy_sender,
    summary_of,
)
from gridledger.contracts.vocabulary import FLAG_KINDS
from gridledger.crypto import KeyPair
from gridledger.ledger import SignedTransaction, encode_transaction

tx_app = typer.Typer(
    help="Multi-signed transactions: build one into a file, co-sign it offline, submit it.",
    no_args_is_help=True,
)
audit_app = typer.Typer(
    help="Corrections by consent and the regulator's audit flags (seed 004 §2.3).",
    no_args_is_help=True,
)

OutOption = typer.Option(..., "--out", "-o", help="The transaction file to write")
FileArgument = typer.Argument(..., help="The transaction file")


def read_file(path: Path) -> SignedTransaction:
    try:
        return load_transaction_file(path.read_bytes())
    except OSError as error:
        raise fail(f"cannot read {path}: {error.strerror}") from error
    except TransactionFileError as error:
        raise fail(f"{path}: {error.reason}") from error


def write_file(path: Path, signed: SignedTransaction) -> None:
    """Write the file whole (a temporary file renamed), so a signer never sees half of it;
    then say who has signed it so far."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_bytes(dump_transaction_file(signed))
        temporary.replace(path)
    except OSError as error:
        raise fail(f"cannot write {path}: {error.strerror}") from error
    say_signers(signed, path)


def say_signers(signed: SignedTransaction, path: Path) -> None:
    signers = summary_of(signed)["signers"]
    console().print(
        f"{path}: {len(signers)} signature(s) ({', '.join(signers) or 'none yet'})",
        highlight=False,
    )


@tx_app.command("build")
def build_command(
    contract: str,
    method: str,
    out: Path = OutOption,
    policy: str = typer.Option("", "--as", help="Send from this policy account: issuer, grid"),
    sender: str = typer.Option("", "--from", help="Send from this member's key (it signs first)"),
    key: str | None = typer.Option(None, "--key", "-k", help="Sign it now with this key too"),
    arg: list[str] = ArgOption,
    args_json: str | None = ArgsOption,
    nonce: int | None = typer.Option(None, help="The sender's nonce (default: its next)"),
    directory: Path = DirOption,
    url: str | None = UrlOption,
) -> None:
    """Build a transaction to be signed by several keys, into a file."""
    if bool(policy) == bool(sender):
        raise fail("give exactly one of --as POLICY (issuer, grid) and --from KEY")
    if nonce is not None and nonce < 0:
        raise fail(f"--nonce {nonce} is negative")
    if out.exists():
        raise fail(f"{out} already exists; choose another file")
    args = parse_args(arg, args_json)
    first = load_key(directory, sender) if sender else None
    sender_key = first.public_key if first is not None else policy_sender(policy)
    with connect(url, directory, key=key or sender or None) as client:
        signed = build_transaction(client, sender_key, (contract, method, args), nonce)
    extra = None if key is None else load_key(directory, key)
    signers = [k for k in (first, extra) if k is not None]
    for keys in {k.public_key: k for k in signers}.values():  # each key signs once
        signed = _cosigned(signed, keys)
    write_file(out, signed)


def _cosigned(signed: SignedTransaction, keys: KeyPair) -> SignedTransaction:
    try:
        return cosign(signed, keys)
    except ValueError as error:
        raise fail(str(error)) from error


@tx_app.command("cosign")
def cosign_command(
    file: Path = typer.Argument(..., help="The transaction file (rewritten in place)"),
    key: str = KeyOption,
    directory: Path = DirOption,
) -> None:
    """Add this key's signature to a transaction file (offline: no node is needed)."""
    signed = _cosigned(read_file(file), load_key(directory, key))
    write_file(file, signed)


@tx_app.command("show")
def show_command(file: Path = FileArgument) -> None:
    """What a transaction file asks for, and who has signed it so far (JSON)."""
    print_json(summary_of(read_file(file)))


@tx_app.command("submit")
def submit_command(
    file: Path = FileArgument,
    key: str | None = ReadKeyOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Submit a signed transaction file and wait for its block (exit 2 if refused)."""
    raw = encode_transaction(read_file(file))
    with connect(url, directory, write=True, key=key) as client:
        view = client.submit(raw, wait=True)
    finish(view, as_json)


# -- audit -----------------------------------------------------------------------------------


@audit_app.command("flag")
def flag_command(
    kind: str = typer.Argument(..., help=f"One of {', '.join(FLAG_KINDS)}"),
    subject: str = typer.Argument(..., help="The trade id (PERIOD-tINDEX) or transaction id"),
    reason: str = typer.Option(..., "--reason", help="Why it is audited (recorded)"),
    key: str = KeyOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """The regulator flags a trade or a transaction for audit; nothing else changes."""
    if kind not in FLAG_KINDS:
        raise fail(f"kind {kind!r}: expected one of {', '.join(FLAG_KINDS)}")
    args = {"kind": kind, "subject": subject, "reason": reason}
    submit_call(url, directory, key, ("corrections", "flag", args), as_json)


@audit_app.command("flags")
def flags_command(
    directory: Path = DirOption, url: str | None = UrlOption, key: str | None = ReadKeyOption
) -> None:
    """Every audit flag you may see (JSON)."""
    print_read(url, directory, key, lambda client: client.audit_flags())


@audit_app.command("trade")
def trade_command(
    trade_id: str,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    key: str | None = ReadKeyOption,
) -> None:
    """A trade as recorded, with its corrections and flags beside it (JSON)."""
    print_read(url, directory, key, lambda client: client.trade_corrections(trade_id))


@audit_app.command("corrections")
def corrections_command(
    period: int,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    key: str | None = ReadKeyOption,
) -> None:
    """Every correction of a period's trades you may see (JSON)."""
    if period < 0:
        raise fail(f"period {period} is negative")
    print_read(url, directory, key, lambda client: client.period_corrections(period))


@audit_app.command("correct")
def correct_command(
    trade_id: str,
    out: Path = OutOption,
    refund_micro: int = typer.Option(
        ..., help="Paid back by the seller to the buyer (negative: by the buyer to the seller)"
    ),
    energy_wh: int | None = typer.Option(None, help="Energy really delivered (default: traded)"),
    reason: str = typer.Option(..., "--reason", help="Why (recorded beside the trade)"),
    key: str = KeyOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
) -> None:
    """Build a correction of a settled trade into a file, signed by KEY (a party or the
    regulator); the other two co-sign it (`tx cosign`) and anyone submits it (`tx submit`)."""
    if out.exists():
        raise fail(f"{out} already exists; choose another file")
    keys = load_key(directory, key)
    with connect(url, directory, key=key) as client:
        current = client.trade_corrections(trade_id)
        args = {
            "trade_id": trade_id,
            "sequence": len(current.corrections),
            "refund_micro": refund_micro,
            "energy_wh": current.trade.energy_wh if energy_wh is None else energy_wh,
            "reason": reason,
        }
        signed = build_transaction(client, keys.public_key, ("corrections", "correct", args))
    signed = _cosigned(signed, keys)
    write_file(out, signed)
    console().print(
        f"the trade's buyer {current.trade.buyer}, seller {current.trade.seller} and a "
        "regulator must all sign it: `gridledger tx cosign` it, then `gridledger tx submit`",
        highlight=False,
    )
