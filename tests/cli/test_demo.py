"""`gridledger demo`, the README's first command, as a real subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gridledger.cli.demo import DEMO_REGISTRATION
from gridledger.client import EmbeddedClient
from gridledger.contracts.registration import is_personal
from gridledger.ledger import load_genesis
from gridledger.market import trade_value_micro
from gridledger.node.registry import REGISTRY_FILE, PersonalDataRegistry
from tests.cli.helpers import address_of_key
from tests.conservation import assert_period_conserved, settled_periods
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


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The demo run once, as `make demo` runs it: its directory and what it printed."""
    directory = tmp_path_factory.mktemp("demo") / "demo-community"
    result = run_cli("demo", "--dir", str(directory), timeout_s=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return directory, result.stdout


def test_after_the_demo_market_trades_lists_its_trades(demo: tuple[Path, str]) -> None:
    """The README's next step: `gridledger market trades --dir demo-community --json`."""
    directory, _ = demo
    listed = run_cli("market", "trades", "--dir", str(directory), "--json")
    assert listed.returncode == 0, listed.stderr
    view = json.loads(listed.stdout)
    assert view["trades"] and view["count"] == len(view["trades"]) > 0
    assert {trade["kind"] for trade in view["trades"]} == {"order"}
    shown = run_cli("market", "trades", "--dir", str(directory))
    assert shown.returncode == 0 and f"{view['count']} trade(s)" in one_line(shown.stdout)


def test_the_demo_shows_orders_matching_a_shortfall_and_a_statement(
    demo: tuple[Path, str],
) -> None:
    directory, printed = demo
    text = one_line(printed)
    for heading in ("Orders, each a signed market.place_order", "Trades:", "Meter readings"):
        assert heading in text
    assert "shortfall: a cloud passed over carol's panels" in text
    assert "carol's settlement statement" in text and "imbalance charge" in text
    assert "re-verified from genesis: sound" in text
    assert f"gridledger market trades --dir {directory}" in text

    genesis = load_genesis((directory / "genesis.json").read_bytes())
    with EmbeddedClient.open(directory / "chain.sqlite", genesis, hold_lock=False) as client:
        carol = address_of_key(directory, "carol")
        [period] = [p for p in periods_of(client) if client.statement(p, carol).shortfall_wh > 0]
        statement = client.statement(period, carol)
        grid_price = client.parameters(period).parameters.grid_price_micro_per_kwh
        imbalance = trade_value_micro(statement.shortfall_wh, grid_price)
        assert statement.delivered_wh < statement.sold_wh
        assert statement.grid_charge_micro == imbalance > 0
        assert f"{imbalance / 1e6:,.4f}" in text  # the statement printed its charge


def periods_of(client: EmbeddedClient) -> list[int]:
    """The settled periods of a chain, from its genesis to the period open by its time."""
    current = client.market_current()
    genesis = client.genesis().genesis_time_ms // 1000 // current.period_seconds
    return settled_periods(client, range(genesis, current.chain_open_period + 1))


def test_every_settled_period_of_the_demo_conserves_energy_and_money(
    demo: tuple[Path, str],
) -> None:
    directory, _ = demo
    genesis = load_genesis((directory / "genesis.json").read_bytes())
    with EmbeddedClient.open(directory / "chain.sqlite", genesis, hold_lock=False) as client:
        periods = periods_of(client)
        assert len(periods) == 3, periods
        for period in periods:
            assert_period_conserved(client, period)
