"""`gridledger data verify`: raw device data kept off the chain, checked against its anchor."""

from __future__ import annotations

from pathlib import Path

import typer

from gridledger.cli.common import (
    DirOption,
    JsonOption,
    ReadKeyOption,
    UrlOption,
    connect,
    console,
    fail,
    print_json,
)

data_app = typer.Typer(
    help="Raw device data kept off the chain (seed 001 §4.3), checked against its anchors.",
    no_args_is_help=True,
)


@data_app.command("verify")
def verify(
    file: Path = typer.Argument(..., help="A device-data batch file (a run's device_data.csv)"),
    period: int = typer.Option(..., "--period", "-p", help="The delivery period to check"),
    directory: Path = DirOption,
    url: str | None = UrlOption,
    key: str | None = ReadKeyOption,
    as_json: bool = JsonOption,
) -> None:
    """Check a period's records in FILE against the batch hash anchored on chain.

    Exits 0 if they hash to the period's anchor (whose inclusion in its block is checked
    here, not taken from the node); otherwise 1, naming the first record that differs
    from what the chain holds of it (its meter's signed reading, its energy balance, the
    anchored record count), or saying why the anchor cannot locate the difference.
    """
    from gridledger.simulation.batches import (
        AnchorNotProven,
        BatchFileError,
        compare,
        period_evidence,
        prove_anchor,
        read_batch,
    )

    try:
        records = read_batch(file, period)
    except BatchFileError as error:
        raise fail(str(error)) from error
    with connect(url, directory, key=key) as client:
        evidence = period_evidence(client, period)
        verdict = compare(records, evidence)
        try:
            block = None if verdict.anchor is None else prove_anchor(client, verdict.anchor)
        except AnchorNotProven as error:
            raise fail(str(error)) from error
    anchor = verdict.anchor
    if as_json:
        print_json(
            {
                "file": str(file),
                "period": period,
                "records": verdict.records,
                "sha256": verdict.computed_sha256,
                "matches": verdict.matches,
                "anchor": None if anchor is None else {**vars(anchor), "block_hash": block},
                "difference": verdict.difference,
                "disagreements": verdict.disagreements,
            }
        )
        if not verdict.matches:
            raise typer.Exit(1)
        return
    if anchor is None:
        searched = (
            f"searched blocks {evidence.first_height} to {evidence.last_height}"
            if evidence.last_height
            else "no block is stamped at or after its start"
        )
        raise fail(
            f"period {period}: no device-data anchor on chain ({searched}); "
            f"nothing to check {file} against"
        )
    where = f"transaction {anchor.transaction_id} in block {anchor.height}, hash {block}"
    if not verdict.matches:
        raise fail(
            f"period {period}: {file} does NOT match its anchor (its {verdict.records} records "
            f"hash to {verdict.computed_sha256}, the chain anchored {anchor.sha256}, {where}): "
            f"{verdict.difference}"
        )
    out = console()
    out.print(
        f"period {period}: the {verdict.records} records of {file} match the anchor "
        f"{anchor.sha256} ({where}; its inclusion proof checks)",
        highlight=False,
        soft_wrap=True,
    )
    for disagreement in verdict.disagreements:
        out.print(f"warning: the anchored batch itself disagrees with the chain: {disagreement}")
