"""Hostile command lines (issue 16, defect 6): each is one line on stderr and exit code 2,
never a traceback, and an oversized scenario is refused before it grows (its size is
estimated first, under the limits of `gridledger.simulation.scenario_checks`)."""

from __future__ import annotations

import resource
import socket
from pathlib import Path

import pytest
import yaml

from gridledger.simulation.scenario_checks import MAX_HOUSEHOLDS, MAX_PERIODS
from tests.cli.helpers import fails
from tests.node.harness import free_port, one_line, run_cli
from tests.simulation.small import small_data

MEMORY_LIMIT_BYTES = 3 * 1024**3
"""An oversized scenario, run as a subprocess, must be refused within this much memory."""


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))


def _scenario(tmp_path: Path, **changes: object) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(small_data(**changes)))  # type: ignore[arg-type]
    return path


def test_simulate_a_binary_file_is_one_line(tmp_path: Path) -> None:
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(bytes(range(256)) * 4)
    message = fails("simulate", str(binary), "--out", str(tmp_path / "out"), code=2)
    assert "not a UTF-8 text file" in message and str(binary) in message


def test_simulate_into_an_impossible_folder_is_one_line(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path)
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    for out in ("/proc/x", str(a_file / "out")):
        message = fails("simulate", str(scenario), "--out", out, "--quiet", code=2)
        assert message.startswith("error: --out:") and out in message


def test_init_onto_a_file_or_an_impossible_path_is_one_line(tmp_path: Path) -> None:
    a_file = tmp_path / "passwd"
    a_file.write_text("root:x:0:0::/root:/bin/sh\n")
    for directory in (str(a_file), str(a_file / "sub"), "/proc/x/y"):
        message = fails("init", "--dir", directory, code=2)
        assert message.startswith("error: --dir") and directory in message
    assert a_file.read_text() == "root:x:0:0::/root:/bin/sh\n"


def test_node_options_out_of_range_are_one_line(community: Path) -> None:
    directory = str(community)
    for option, value, expected in [
        ("--block-transactions", "0", "--block-transactions must be"),
        ("--block-transactions", "-5", "--block-transactions must be"),
        ("--block-timeout-ms", "0", "--block-timeout-ms must be"),
        ("--checkpoint-pages", "0", "--checkpoint-pages must be at least 1"),
        ("--port", "99999", "--port must be"),
        ("--port", "-1", "--port must be"),
        ("--refusals-per-address", "-1", "address_per_second must be 0 (off) or positive"),
        ("--refusal-burst-per-sender", "0", "sender_burst must be at least 1"),
    ]:
        message = fails("node", "--dir", directory, option, value, code=2)
        assert expected in message, (option, value, message)


def test_the_banner_shows_only_after_the_port_is_bound(community: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", free_port()))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("node", "--dir", str(community), "--port", str(port), timeout_s=30)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "API on" not in result.stdout
    message = one_line(result.stderr)
    assert message.startswith("error: --port") and f"127.0.0.1:{port}" in message


@pytest.mark.parametrize(
    ("changes", "extra", "expected"),
    [
        ({"periods": 1_000_000_000}, [], f"horizon.periods: must be at most {MAX_PERIODS:,}"),
        ({}, ["--periods", "1000000000"], "--periods: may only shorten the scenario"),
        ({}, ["--periods", "5"], "which has 4 periods"),
        (
            {"members": [{"name": "many", "role": "consumer", "count": 100_000_000}]},
            [],
            f"members[0].count: must be at most {MAX_HOUSEHOLDS:,}",
        ),
        (
            {
                "periods": MAX_PERIODS,
                "members": [{"name": "many", "role": "consumer", "count": MAX_HOUSEHOLDS}],
            },
            [],
            "estimated",
        ),
    ],
)
def test_oversized_scenarios_are_refused_before_they_grow(
    tmp_path: Path, changes: dict[str, object], extra: list[str], expected: str
) -> None:
    scenario = _scenario(tmp_path, **changes)
    out = tmp_path / "out"
    result = run_cli(
        "simulate",
        str(scenario),
        "--out",
        str(out),
        "--quiet",
        *extra,
        timeout_s=60,
        preexec_fn=_limit_memory,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert expected in one_line(result.stderr)
    assert not out.exists()
