"""`gridledger member ...`: membership with personal data kept off the chain.

``apply`` signs the application (technical fields in the clear, a salted digest per
personal field) and sends the personal fields themselves to the regulator's registry,
signed by the applicant's key. ``approve`` (the regulator) first checks the registry's
data against the digests on the chain and refuses if any is missing or differs.
``erase`` (GDPR art. 17) deletes a member's personal data from the registry and scrubs
the file; ``export`` (art. 15 and 20) prints everything the community holds about a
member as JSON.

The registry is the file ``registry.sqlite`` in the regulator's node directory:
``approve``, ``erase`` and the registry part of ``export`` read it from ``--dir``, so
they run on the regulator's machine. The chain part follows the usual ``--url`` /
``--dir`` rule.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import typer

from gridledger.cli.common import (
    DirOption,
    JsonOption,
    KeyOption,
    ReadKeyOption,
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
    submit_call,
)
from gridledger.client import ClientError
from gridledger.client.replies import MemberReply, RegistrationReceivedReply, TransactionReply
from gridledger.contracts.registration import application, is_personal
from gridledger.crypto import KeyPair
from gridledger.crypto import address_of as key_address
from gridledger.crypto.disclosure import DisclosureError

if TYPE_CHECKING:  # imported where used: the clients, and the registry (the contracts)
    from gridledger.client.embedded import EmbeddedClient
    from gridledger.client.http import HttpClient
    from gridledger.node.registry import PersonalDataRegistry

member_app = typer.Typer(
    help="Apply, approve, erase and export members; personal data stays off the chain.",
    no_args_is_help=True,
)

INTEGER = re.compile(r"-?[0-9]{1,19}")
EXPORT_PERIODS = 168
"""Periods of orders and statements an export covers (the dashboard view's most: a week)."""
EXPORT_TRANSACTIONS = 1000
"""Latest transactions per account an export lists (the API's most per request)."""
ApplicantArgument = typer.Argument(..., help="The applicant: a key name in DIR/keys or an address")
MemberArgument = typer.Argument(..., help="The member: a key name in DIR/keys or an address")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def read_registration(path: Path | None, fields: list[str]) -> dict[str, str | int]:
    """Registration fields from a JSON file and ``FIELD=VALUE`` options (which win).

    A technical field written as digits is an integer (``installed_capacity_w=4800``);
    a personal field stays text, so an identity number keeps its leading zeros.
    """
    values: dict[str, str | int] = {}
    if path is not None:
        try:
            loaded = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise fail(f"{path}: not a readable JSON file ({error})") from error
        if not isinstance(loaded, dict):
            raise fail(f"{path}: must hold a JSON object of registration fields")
        values.update(loaded)
    for pair in fields:
        name, separator, value = pair.partition("=")
        if not separator:
            raise fail(f"--field {pair!r}: expected FIELD=VALUE", code=2)
        values[name] = int(value) if not is_personal(name) and INTEGER.fullmatch(value) else value
    return values


def open_registry(directory: Path) -> PersonalDataRegistry:
    """The registry in `directory`; refused if there is none (not the regulator's node)."""
    from gridledger.node.registry import REGISTRY_FILE, PersonalDataRegistry

    path = directory / REGISTRY_FILE
    if not path.exists():
        raise fail(
            f"{path} not found: run this on the regulator's node directory (--dir), "
            "where the node keeps the personal-data registry"
        )
    return PersonalDataRegistry(path)


def send_registration(
    client: HttpClient | EmbeddedClient, keys: KeyPair, disclosures: list[str]
) -> RegistrationReceivedReply:
    """Send the applicant's disclosures, signed by its key, to the regulator's registry.

    Over HTTP: ``POST /v1/registry/applications``. Embedded (the node in this process): the
    same checks, then the registry file beside the chain is written directly.
    """
    from gridledger.client.http import HttpClient
    from gridledger.contracts.membership import read_member
    from gridledger.node.registry import (
        PersonalDataRegistry,
        RegistryRefusal,
        check_submission,
        sign_submission,
    )

    submission = sign_submission(keys, client.chain_id(), disclosures, now_ms())
    if isinstance(client, HttpClient):
        body = msgspec.to_builtins(submission)
        answer = client.request("POST", "/v1/registry/applications", json=body)
        return msgspec.json.decode(answer, type=RegistrationReceivedReply)
    node = client.node
    member = read_member(node.state, keys.address)
    try:
        opened = check_submission(submission, node.chain_id, member, submission.timestamp_ms)
    except RegistryRefusal as refusal:
        body = {"error": refusal.code, "message": str(refusal), **refusal.values}
        raise ClientError(refusal.http_status, refusal.code, str(refusal), body) from None
    registry = PersonalDataRegistry.beside(getattr(node.storage, "path", None))
    try:
        registry.store(keys.address, opened.values(), submission.timestamp_ms)
    finally:
        registry.close()
    return RegistrationReceivedReply(
        address=keys.address, fields=sorted(opened), received_ms=submission.timestamp_ms
    )


@member_app.command("apply")
def apply_command(
    key: str = KeyOption,
    role: str = typer.Option(..., "--role", help="consumer, producer, prosumer or storage"),
    registration: Path | None = typer.Option(
        None, "--registration", help="JSON file of registration fields (seed 003 Tables 1-2)"
    ),
    fields: list[str] = typer.Option(
        [], "--field", "-f", help="A registration field, FIELD=VALUE (repeatable)"
    ),
    label: str | None = typer.Option(
        None,
        "--label",
        help="The name every member sees (default: the key's name); never your legal name",
    ),
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Apply to join: personal fields go on the chain only as salted digests.

    Technical fields (customer or generation type, capacities) are kept in the clear; the
    personal fields' values are sent, signed, to the regulator's registry.
    """
    keys = load_key(directory, key)
    values = read_registration(registration, fields)
    try:
        arguments, split = application(label or Path(key).stem, role, values)
    except DisclosureError as error:
        raise fail(str(error), code=2) from error
    with connect(url, directory, write=True, key=key) as client:
        view = call(client, keys, "membership", "apply", arguments)
        if isinstance(view, TransactionReply) and view.code == 0:
            sent = send_registration(client, keys, split.encoded)
            if not as_json:
                console().print(
                    f"sent {len(sent.fields)} personal fields ({', '.join(sent.fields)}) "
                    "to the regulator's registry; the chain holds only their digests",
                    highlight=False,
                )
        finish(view, as_json, {"commitments": split.commitments})


def _checked(directory: Path, member: MemberReply) -> list[str]:
    """The fields whose registry data opens the member's digests; refuse otherwise."""
    from gridledger.node.registry import RegistryRefusal

    registry = open_registry(directory)
    try:
        opened = registry.check_member(member.address, member.registration_commitments)
    except RegistryRefusal as refusal:
        raise fail(f"not approved: {refusal}") from None
    finally:
        registry.close()
    return sorted(opened)


@member_app.command("approve")
def approve_command(
    name: str = ApplicantArgument,
    key: str = KeyOption,
    reason: str = typer.Option("", "--reason"),
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """The regulator admits an applicant, once its registry data matches its digests."""
    address = address_of(name, directory)
    with connect_signed(url, directory, key) as (client, keys):
        fields = _checked(directory, client.member(address))
        if not as_json:
            console().print(f"checked {', '.join(fields) or 'no personal fields'}: match")
        view = call(client, keys, "membership", "approve", {"address": address, "reason": reason})
        finish(view, as_json, {"checked_fields": fields})


@member_app.command("reject")
def reject_command(
    name: str = ApplicantArgument,
    key: str = KeyOption,
    reason: str = typer.Option(..., "--reason"),
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """The regulator turns down an applicant, with a reason."""
    args = {"address": address_of(name, directory), "reason": reason}
    submit_call(url, directory, key, ("membership", "reject", args), as_json)


@member_app.command("erase")
def erase_command(
    name: str = MemberArgument,
    directory: Path = DirOption,
    as_json: bool = JsonOption,
) -> None:
    """Erase a member's personal data (GDPR art. 17); the chain is unchanged.

    Deletes its rows from the registry in --dir, then empties the write-ahead log and
    vacuums, so the bytes are in no file of the directory. The chain holds only digests.
    """
    from gridledger.node.registry import RegistryRefusal

    address = address_of(name, directory)
    registry = open_registry(directory)
    try:
        erased = registry.erase(address, now_ms())
    except RegistryRefusal as refusal:
        raise fail(str(refusal)) from None
    finally:
        registry.close()
    if as_json:
        print_json({"address": address, "erased_fields": erased})
    else:
        console().print(
            f"erased {erased} personal fields of {address}; the registry file was vacuumed and "
            "its write-ahead log emptied. The chain keeps only salted digests.",
            highlight=False,
        )


def _chain_part(client: HttpClient | EmbeddedClient, address: str) -> dict[str, Any]:
    """What the chain holds about `address`: record, account, activity, transactions (its
    own and its meters')."""
    member = client.member(address)
    meters = [key_address(bytes.fromhex(meter)) for meter in member.meter_keys]
    transactions = {
        account: [
            client.transaction(row.id)
            for row in client.account_transactions(account, EXPORT_TRANSACTIONS).transactions
        ]
        for account in [address, *meters]
    }
    part: dict[str, Any] = msgspec.to_builtins(
        {
            "member": member,
            "account": client.account(address),
            "activity": client.member_activity(address, EXPORT_PERIODS),
            "transactions": transactions,
        }
    )
    return part


@member_app.command("export")
def export_command(
    name: str = MemberArgument,
    out: Path | None = typer.Option(None, "--out", help="Write the JSON here, not to stdout"),
    directory: Path = DirOption,
    url: str | None = UrlOption,
    key: str | None = ReadKeyOption,
) -> None:
    """Everything the community holds about a member, as JSON (GDPR art. 15 and 20).

    With --url, -k NAME signs the reads: the member itself, or an auditor.

    Its registry data (when --dir is the regulator's node), member record, balance,
    orders, statements, readings and transactions.
    """
    from gridledger.node.registry import REGISTRY_FILE, PersonalDataRegistry

    address = address_of(name, directory)
    registry_part: dict[str, Any] = {"available": False}
    if (directory / REGISTRY_FILE).exists():
        registry = PersonalDataRegistry(directory / REGISTRY_FILE)
        try:
            registry_part = {
                "available": True,
                "fields": [
                    {
                        "field": e.field,
                        "value": e.value,
                        "salt": e.salt,
                        "disclosure": e.disclosure,
                        "received_ms": e.received_ms,
                    }
                    for e in registry.entries(address)
                ],
                "erased_ms": registry.erasures(address),
            }
        finally:
            registry.close()
    with connect(url, directory, key=key) as client:
        exported = {"address": address, "registry": registry_part, **_chain_part(client, address)}
    text = json.dumps(exported, indent=2, ensure_ascii=False)
    if out is None:
        print(text)
    else:
        out.write_text(text + "\n")
        console().print(f"wrote {out}", highlight=False)
