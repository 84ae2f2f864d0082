"""`gridledger certificates list|transfer|retire|report`: certificates of origin.

A settled period certifies each member's metered export (Wh) and hands the Wh its
buyers bought to them (`gridledger.contracts.certificates`). Holders transfer them or
retire them with a claim; ``report`` matches a member's consumption hour by hour with
the certificates of the same hour and gives its 24/7 score (EnergyTag's hourly
matching). Every command follows the rule of `gridledger.cli.common`: against ``--url``
(or ``$GRIDLEDGER_URL``), else offline on the chain of ``--dir``.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from gridledger.cli.common import (
    DirOption,
    JsonOption,
    KeyOption,
    ReadKeyOption,
    UrlOption,
    address_of,
    connect,
    console,
    fail,
    print_json,
    submit_call,
)

certificates_app = typer.Typer(
    help="Certificates of origin: list, transfer, retire, and the hour-by-hour report.",
    no_args_is_help=True,
)
ProducerOption = typer.Option(..., "--producer", help="The producer (key name or address)")
PeriodOption = typer.Option(..., "--period", help="The delivery period the energy was made in")
EnergyOption = typer.Option(..., "--wh", help="Energy in Wh")
MemberArgument = typer.Argument(..., help="Key name or address")


def _percent(basis_points: int) -> str:
    return f"{basis_points / 100:.2f} %"


@certificates_app.command("list")
def list_command(
    member: str = MemberArgument,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    key: str | None = ReadKeyOption,
    as_json: bool = JsonOption,
) -> None:
    """A member's certificates (Wh held per period and producer) and its claims."""
    address = address_of(member, directory)
    with connect(url, directory, key=key) as client:
        found = client.certificates(address)
    if as_json:
        print_json(found)
        return
    if not found.enabled:
        console().print("this community issues no certificates", highlight=False)
        return
    table = Table("period", "producer", "technology", "Wh held", title=f"certificates of {member}")
    for h in found.holdings:
        table.add_row(str(h.period), h.producer, h.technology, f"{h.energy_wh:,}")
    console().print(table)
    claims = Table("claim", "period", "producer", "Wh", "beneficiary", "purpose", title="claims")
    for c in found.claims:
        claims.add_row(
            str(c.number), str(c.period), c.producer, f"{c.energy_wh:,}", c.beneficiary, c.purpose
        )
    console().print(claims)


@certificates_app.command("transfer")
def transfer_command(
    to: str = typer.Argument(..., help="The recipient (key name or address)"),
    period: int = PeriodOption,
    producer: str = ProducerOption,
    energy_wh: int = EnergyOption,
    key: str = KeyOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Give Wh of a certificate you hold to another active member."""
    args = {
        "to": address_of(to, directory),
        "period": period,
        "producer": address_of(producer, directory),
        "energy_wh": energy_wh,
    }
    submit_call(url, directory, key, ("certificates", "transfer", args), as_json)


@certificates_app.command("retire")
def retire_command(
    period: int = PeriodOption,
    producer: str = ProducerOption,
    energy_wh: int = EnergyOption,
    beneficiary: str = typer.Option(..., help="Who the claim is made for"),
    purpose: str = typer.Option(..., help="What it is claimed for"),
    key: str = KeyOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Retire Wh of a certificate you hold, with a recorded claim (they never move again)."""
    args = {
        "period": period,
        "producer": address_of(producer, directory),
        "energy_wh": energy_wh,
        "beneficiary": beneficiary,
        "purpose": purpose,
    }
    submit_call(url, directory, key, ("certificates", "retire", args), as_json)


@certificates_app.command("report")
def report_command(
    member: str = MemberArgument,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    key: str | None = ReadKeyOption,
    as_json: bool = JsonOption,
) -> None:
    """Consumption matched by certificates hour by hour, and the 24/7 matching score.

    The score is EnergyTag's hourly matching score: the consumption covered by
    certificates of the same hour, summed over the hours, over the whole consumption.
    """
    address = address_of(member, directory)
    with connect(url, directory, key=key) as client:
        report = client.certificate_report(address)
    if as_json:
        print_json(report)
        return
    if not report.hours:
        raise fail(f"{member} has no settled consumption yet")
    table = Table(
        "period", "consumed Wh", "held Wh", "retired Wh", "matched Wh", title=f"{member}, by hour"
    )
    for h in report.hours:
        table.add_row(
            str(h.period),
            f"{h.consumed_wh:,}",
            f"{h.held_wh:,}",
            f"{h.retired_wh:,}",
            f"{h.matched_wh:,}",
        )
    console().print(table)
    console().print(
        f"24/7 matching score {_percent(report.matching_score_bp)} "
        f"({report.matched_wh:,} of {report.consumed_wh:,} Wh matched hour by hour); "
        f"claimed (retired) {_percent(report.claimed_score_bp)}",
        highlight=False,
    )
