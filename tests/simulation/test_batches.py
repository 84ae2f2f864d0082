"""Device-data batches of a real simulated run, checked against their anchors on its chain."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from gridledger.client import EmbeddedClient
from gridledger.ledger import load_genesis
from gridledger.simulation.batches import (
    BatchFileError,
    batch_digest,
    compare,
    period_evidence,
    prove_anchor,
    read_batch,
)
from gridledger.simulation.device_rows import DEVICE_DATA_FIELDS, device_batch_digest
from gridledger.simulation.simulate import simulate
from tests.simulation.small import small_scenario

Run = tuple[Path, EmbeddedClient, list[int]]


@pytest.fixture(scope="module")
def run(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, EmbeddedClient, list[int]]]:
    """A two-period run of the small scenario (3 households), and a client on its chain."""
    out = tmp_path_factory.mktemp("batches") / "out"
    simulate(small_scenario(periods=2), out)
    community = out / "community"
    client = EmbeddedClient.open(
        community / "chain.sqlite",
        load_genesis((community / "genesis.json").read_bytes()),
        hold_lock=False,
    )
    with (out / "device_data.csv").open() as file:
        periods = sorted({int(row["period"]) for row in csv.DictReader(file)})
    yield out / "device_data.csv", client, periods
    client.close()


def altered(source: Path, target: Path, change: object) -> Path:
    """A copy of `source` whose lines (header included) went through `change`."""
    lines = source.read_text().splitlines(keepends=True)
    target.write_text("".join(change(lines)))  # type: ignore[operator]
    return target


def set_field(line: str, name: str, value: str) -> str:
    fields = line.rstrip("\n").split(",")
    fields[DEVICE_DATA_FIELDS.index(name)] = value
    return ",".join(fields) + "\n"


def test_an_unaltered_batch_hashes_to_its_anchor_whose_inclusion_is_proven(
    run: Run,
) -> None:
    file, client, periods = run
    assert len(periods) == 2
    for period in periods:
        records = read_batch(file, period)
        assert len(records) == 3
        with file.open() as opened:
            rows = [r for r in csv.DictReader(opened) if int(r["period"]) == period]
        as_written = [
            {k: int(v) if k in ("period",) or k.endswith("_wh") else v for k, v in r.items()}
            for r in rows
        ]
        assert batch_digest(records) == device_batch_digest(as_written)
        evidence = period_evidence(client, period)
        assert len(evidence.anchors) == 1 and len(evidence.readings) == 3
        verdict = compare(records, evidence)
        assert verdict.matches and verdict.difference is None and verdict.disagreements == []
        assert verdict.anchor is not None and verdict.anchor.record_count == 3
        block = client.block(verdict.anchor.height, transactions=False)
        assert prove_anchor(client, verdict.anchor) == block.header.hash


def check(file: Path, client: EmbeddedClient, period: int) -> str:
    verdict = compare(read_batch(file, period), period_evidence(client, period))
    assert not verdict.matches and verdict.difference is not None
    return verdict.difference


def test_a_changed_meter_figure_is_named_against_the_signed_reading(
    run: Run, tmp_path: Path
) -> None:
    file, client, periods = run
    period = periods[1]
    lines = file.read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith(f"{period},"))
    target = index + 1  # the second record of the period
    member = lines[target].split(",")[1]
    exported = int(lines[target].split(",")[DEVICE_DATA_FIELDS.index("exported_wh")])

    def change(all_lines: list[str]) -> list[str]:
        all_lines[target] = set_field(all_lines[target], "exported_wh", str(exported + 7))
        return all_lines

    difference = check(altered(file, tmp_path / "d.csv", change), client, period)
    assert difference.startswith(f"the record at line {target + 1} (member {member}")
    assert f"exported_wh is {exported + 7} in the file, its meter signed {exported}" in difference


def test_a_changed_device_figure_is_named_by_its_energy_balance(run: Run, tmp_path: Path) -> None:
    file, client, periods = run
    period = periods[0]
    lines = file.read_text().splitlines(keepends=True)
    target = max(i for i, line in enumerate(lines) if line.startswith(f"{period},"))
    generation = int(lines[target].split(",")[DEVICE_DATA_FIELDS.index("generation_wh")])

    def change(all_lines: list[str]) -> list[str]:
        all_lines[target] = set_field(all_lines[target], "generation_wh", str(generation + 100))
        return all_lines

    difference = check(altered(file, tmp_path / "d.csv", change), client, period)
    assert f"the record at line {target + 1}" in difference and "does not balance" in difference


def test_a_missing_repeated_or_reordered_record_is_reported(run: Run, tmp_path: Path) -> None:
    file, client, periods = run
    period = periods[0]
    lines = file.read_text().splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.startswith(f"{period},"))
    member = lines[first].split(",")[1]

    missing = altered(file, tmp_path / "m.csv", lambda ls: ls[:first] + ls[first + 1 :])
    assert f"the record of member {member} (whose meter reading is on chain) is missing" in check(
        missing, client, period
    )
    repeated = altered(
        file, tmp_path / "r.csv", lambda ls: [*ls[: first + 1], ls[first], *ls[first + 1 :]]
    )
    assert f"the record at line {first + 2} (member {member}" in check(repeated, client, period)
    assert "repeats a member" in check(repeated, client, period)

    def swap(ls: list[str]) -> list[str]:
        ls[first], ls[first + 1] = ls[first + 1], ls[first]
        return ls

    reordered = altered(file, tmp_path / "o.csv", swap)
    assert "cannot locate it" in check(reordered, client, period)

    def respell(ls: list[str]) -> list[str]:
        value = ls[first + 1].rstrip("\n").split(",")[DEVICE_DATA_FIELDS.index("imported_wh")]
        ls[first + 1] = set_field(ls[first + 1], "imported_wh", "0" + value)
        return ls

    respelled = altered(file, tmp_path / "p.csv", respell)
    assert f"the record at line {first + 2}" in check(respelled, client, period)
    assert "imported_wh is spelled '0" in check(respelled, client, period)


def test_files_that_cannot_be_checked_are_refused_clearly(run: Run, tmp_path: Path) -> None:
    file, _, periods = run
    with pytest.raises(BatchFileError, match="no such file"):
        read_batch(tmp_path / "none.csv", periods[0])
    orders = tmp_path / "orders.csv"
    orders.write_text("order_id,owner\n1,gl00\n")
    with pytest.raises(BatchFileError, match="not a device-data batch file"):
        read_batch(orders, periods[0])
    short = altered(file, tmp_path / "s.csv", lambda ls: [ls[0], ls[1].rsplit(",", 1)[0] + "\n"])
    with pytest.raises(BatchFileError, match="line 2 has 9 fields, not 10"):
        read_batch(short, periods[0])
    with pytest.raises(
        BatchFileError,
        match=f"no records of period 7 .it holds periods {periods[0]} to {periods[1]}",
    ):
        read_batch(file, 7)
