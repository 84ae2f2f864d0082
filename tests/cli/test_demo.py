"""`gridledger demo`, the README's first command, as a real subprocess."""

from __future__ import annotations

from pathlib import Path

from gridledger.cli.demo import DEMO_REGISTRATION
from gridledger.contracts.registration import is_personal
from gridledger.node.registry import REGISTRY_FILE, PersonalDataRegistry
from tests.cli.helpers import address_of_key
from tests.files import files_holding
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


def test_after_the_demo_the_applicants_data_is_off_the_chain_and_erasable(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "demo"
    assert run_cli("demo", "--dir", str(directory), timeout_s=120).returncode == 0
    personal = [str(value) for field, value in DEMO_REGISTRATION.items() if is_personal(field)] + [
        "Erin Example",
        "12 Mill Lane",
        "4471-0923",
    ]
    registry = PersonalDataRegistry(directory / REGISTRY_FILE)
    secrets = [*personal, *(e.salt for e in registry.entries(address_of_key(directory, "erin")))]
    registry.close()
    held = files_holding(directory, secrets)
    assert not {"chain.sqlite", "chain.sqlite-wal", "chain.sqlite-shm"} & set(held), held
    assert held, "the registry holds erin's data until it is erased"

    erased = run_cli("member", "erase", "erin", "--dir", str(directory))
    assert erased.returncode == 0, erased.stderr
    assert files_holding(directory, secrets) == {}
    verified = run_cli("verify", "--dir", str(directory))
    assert verified.returncode == 0 and "sound" in one_line(verified.stdout)
