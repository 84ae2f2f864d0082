"""`gridledger demo`, the README's first command, as a real subprocess."""

from __future__ import annotations

from pathlib import Path

from tests.node.harness import one_line, run_cli


def test_demo_exits_zero_and_reports_a_sound_chain(tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    result = run_cli("demo", "--dir", str(directory), timeout_s=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sound" in one_line(result.stdout)
    assert run_cli("verify", "--dir", str(directory)).returncode == 0


def test_demo_refuses_to_replace_a_directory_that_is_not_a_community(tmp_path: Path) -> None:
    directory = tmp_path / "precious"
    directory.mkdir()
    (directory / "thesis.txt").write_text("five years of work")
    result = run_cli("demo", "--dir", str(directory))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "not a gridledger community" in one_line(result.stderr)
    assert (directory / "thesis.txt").read_text() == "five years of work"
