"""`gridledger data verify FILE --period P`, offline and against a node, on a simulated run."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from gridledger.simulation.device_rows import DEVICE_DATA_FIELDS
from gridledger.simulation.simulate import simulate
from tests.cli.helpers import cli, fails, ok
from tests.node.harness import NodeProcess, one_line
from tests.simulation.small import small_scenario


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[int]]:
    """A two-period simulated run: its device_data.csv, its community, its periods."""
    out = tmp_path_factory.mktemp("data") / "out"
    simulate(small_scenario(periods=2), out)
    with (out / "device_data.csv").open() as file:
        periods = sorted({int(row["period"]) for row in csv.DictReader(file)})
    return out / "device_data.csv", out / "community", periods


def tampered(file: Path, target: Path, period: int) -> tuple[Path, int, str]:
    """`file` with the first record of `period` importing 1 Wh more; its line and member."""
    lines = file.read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith(f"{period},"))
    fields = lines[index].rstrip("\n").split(",")
    position = DEVICE_DATA_FIELDS.index("imported_wh")
    fields[position] = str(int(fields[position]) + 1)
    lines[index] = ",".join(fields) + "\n"
    target.write_text("".join(lines))
    return target, index + 1, fields[1]


def test_an_unaltered_batch_matches_and_a_tampered_record_is_named(
    run: tuple[Path, Path, list[int]], tmp_path: Path
) -> None:
    file, community, periods = run
    for period in periods:
        output = one_line(
            ok("data", "verify", str(file), "--period", str(period), "--dir", str(community))
        )
        assert f"period {period}: the 3 records of {file} match the anchor" in output
        assert "its inclusion proof checks" in output
    shown = json.loads(
        ok("data", "verify", str(file), "-p", str(periods[0]), "--dir", str(community), "--json")
    )
    assert shown["matches"] is True and shown["anchor"]["record_count"] == 3
    assert len(shown["anchor"]["block_hash"]) == 64

    copy, line, member = tampered(file, tmp_path / "device_data.csv", periods[1])
    error = fails("data", "verify", str(copy), "--period", str(periods[1]), "--dir", str(community))
    assert error.startswith(f"error: period {periods[1]}: {copy} does NOT match its anchor")
    assert f"the record at line {line} (member {member}" in error
    assert "imported_wh is" in error and "its meter signed" in error
    # the other period of the same file is untouched, and still matches
    ok("data", "verify", str(copy), "--period", str(periods[0]), "--dir", str(community))
    as_json = cli(
        "data", "verify", str(copy), "-p", str(periods[1]), "--dir", str(community), "--json"
    )
    assert as_json.exit_code == 1
    shown = json.loads(as_json.stdout)
    assert shown["matches"] is False and f"line {line}" in shown["difference"]


def test_what_cannot_be_checked_is_one_clear_line(
    run: tuple[Path, Path, list[int]], tmp_path: Path
) -> None:
    file, community, periods = run
    directory = str(community)
    assert "no such file" in fails(
        "data", "verify", str(tmp_path / "none.csv"), "-p", "1", "--dir", directory
    )
    genesis = community / "genesis.json"
    assert "not a device-data batch file" in fails(
        "data", "verify", str(genesis), "-p", "1", "--dir", directory
    )
    assert f"has no records of period 5 (it holds periods {periods[0]} to {periods[1]})" in fails(
        "data", "verify", str(file), "-p", "5", "--dir", directory
    )
    later = periods[1] + 10
    moved = tmp_path / "later.csv"
    text = file.read_text()
    moved.write_text(text.replace(f"\n{periods[1]},", f"\n{later},"))
    assert f"period {later}: no device-data anchor on chain" in fails(
        "data", "verify", str(moved), "-p", str(later), "--dir", directory
    )
    assert "Missing option '--period'" in fails(
        "data", "verify", str(file), "--dir", directory, code=2
    )


def test_verify_against_a_running_node(run: tuple[Path, Path, list[int]], tmp_path: Path) -> None:
    file, community, periods = run
    with NodeProcess(community) as node:
        url = node.start()
        signed = ("--url", url, "--dir", str(community), "-k", "regulator")  # an auditor's reads
        output = one_line(ok("data", "verify", str(file), "-p", str(periods[0]), *signed))
        assert "match the anchor" in output
        copy, line, _ = tampered(file, tmp_path / "d.csv", periods[0])
        error = fails("data", "verify", str(copy), "-p", str(periods[0]), *signed)
        assert f"the record at line {line}" in error
