"""`gridledger gov ...`: put community decisions to the members' vote, vote, count, list.

One ballot serves every decision (`gridledger.contracts.governance`): the admission of an
applicant, the revocation of a member, a market parameter change from a future period,
or a motion. Deadlines are block times; ``--minutes`` counts from the wall clock, which
is what a running node stamps its blocks with. Every command follows the rule of
`gridledger.cli.common`: against ``--url`` (or ``$GRIDLEDGER_URL``), else offline on the
chain of ``--dir``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from gridledger.cli.common import (
    DirOption,
    JsonOption,
    KeyOption,
    ReadKeyOption,
    RingSizeOption,
    UrlOption,
    address_of,
    call,
    connect,
    connect_signed,
    console,
    fail,
    finish,
    print_json,
    submit_call,
)
from gridledger.contracts.vocabulary import CHOICES, KINDS

gov_app = typer.Typer(
    help="Community decisions by vote: propose, vote, tally and list proposals.",
    no_args_is_help=True,
)
ProposalArgument = typer.Argument(..., help="The proposal's number")


def parse_changes(assignments: list[str]) -> dict[str, Any]:
    """``NAME=VALUE`` options as a parameter map; a VALUE is read as JSON, else as text."""
    changes: dict[str, Any] = {}
    for assignment in assignments:
        name, equals, text = assignment.partition("=")
        if not equals or not name:
            raise fail(f"--change {assignment!r}: expected NAME=VALUE")
        try:
            changes[name] = json.loads(text)
        except json.JSONDecodeError:
            changes[name] = text
    return changes


@gov_app.command("propose")
def propose_command(
    kind: str = typer.Argument(..., help=f"One of {', '.join(KINDS)}"),
    subject: str = typer.Option(
        "", help="Admission or revocation: the member (key name in DIR/keys or address)"
    ),
    text: str = typer.Option("", help="What is proposed, in words"),
    change: list[str] = typer.Option(
        [], "--change", help="Parameters: NAME=VALUE (repeatable), e.g. mechanism=continuous"
    ),
    from_period: int = typer.Option(0, help="Parameters: the first delivery period they apply"),
    minutes: int = typer.Option(60 * 24, help="Voting stays open this many minutes"),
    deadline_ms: int = typer.Option(0, help="Voting closes at this block time (overrides)"),
    secret: bool = typer.Option(False, "--secret", help="A secret vote: ring-signed ballots only"),
    key: str = KeyOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Put a decision to the members' vote."""
    if kind not in KINDS:
        raise fail(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    deadline = deadline_ms or time.time_ns() // 1_000_000 + minutes * 60_000
    args: dict[str, Any] = {"kind": kind, "deadline_ms": deadline, "text": text}
    if secret:
        args["secret"] = True
    if subject:
        args["subject"] = address_of(subject, directory)
    if change:
        args["changes"] = parse_changes(change)
        args["from_period"] = from_period
    submit_call(
        url, directory, key, ("governance", "propose", args), as_json, {"deadline_ms": deadline}
    )


@gov_app.command("vote")
def vote_command(
    proposal_id: int = ProposalArgument,
    choice: str = typer.Argument(..., help=f"One of {', '.join(CHOICES)}"),
    secret: bool = typer.Option(
        False, "--secret", help="Ring-signed from a throwaway key, for a secret vote"
    ),
    ring_size: int = RingSizeOption,
    key: str = KeyOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Vote yes, no or abstain on an open proposal (once); ``--secret`` on a secret vote."""
    if choice not in CHOICES:
        raise fail(f"choice {choice!r}: expected one of {', '.join(CHOICES)}")
    with connect_signed(url, directory, key) as (client, keys):
        if secret:
            from gridledger.client.privacy import secret_ballot, submit_ring_call

            ballot = secret_ballot(client, keys, proposal_id, choice, ring_size)
            finish(submit_ring_call(client, ballot), as_json)
            return
        view = call(
            client, keys, "governance", "vote", {"proposal_id": proposal_id, "choice": choice}
        )
        finish(view, as_json)


@gov_app.command("veto")
def veto_command(
    proposal_id: int = typer.Argument(..., help="The admission proposal's number"),
    reason: str = typer.Option(..., "--reason", help="What the audit found (recorded)"),
    key: str = KeyOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """The regulator vetoes an open admission, with a reason; the applicant is rejected."""
    args = {"proposal_id": proposal_id, "reason": reason}
    submit_call(url, directory, key, ("governance", "veto", args), as_json)


@gov_app.command("tally")
def tally_command(
    proposal_id: int = ProposalArgument,
    key: str = KeyOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Count a proposal after its deadline; the contract records the tally and applies it."""
    with connect_signed(url, directory, key) as (client, keys):
        view = call(client, keys, "governance", "tally", {"proposal_id": proposal_id})
        if as_json:
            finish(view, True, {"proposal": client.proposal(proposal_id)})
            return
        finish(view, False)
        decided = client.proposal(proposal_id)
        console().print(
            f"proposal {proposal_id}: {decided.status} "
            f"({decided.yes} yes, {decided.no} no, {decided.abstain} abstain "
            f"of {decided.electorate})",
            highlight=False,
        )


@gov_app.command("list")
def list_command(
    directory: Path = DirOption,
    url: str | None = UrlOption,
    key: str | None = ReadKeyOption,
    as_json: bool = JsonOption,
) -> None:
    """Every proposal: kind, subject, deadline, ballots so far and outcome."""
    with connect(url, directory, key=key) as client:
        listed = client.proposals()
    if as_json:
        print_json(listed)
        return
    rules = listed.rules
    console().print(
        f"quorum {rules.quorum_percent} %, majority over {rules.majority_percent} %, "
        f"founding phase: {'yes' if rules.founding_phase else 'no'}",
        highlight=False,
    )
    table = Table("id", "kind", "subject", "deadline (s)", "yes", "no", "abstain", "of", "status")
    for p in listed.proposals:
        table.add_row(
            str(p.proposal_id),
            p.kind,
            (p.subject[:14] + "…") if p.subject else p.text[:15],
            str(p.deadline_ms // 1000),
            str(p.yes),
            str(p.no),
            str(p.abstain),
            str(p.electorate),
            p.status + (f" ({p.reason})" if p.reason else ""),
        )
    console().print(table)
