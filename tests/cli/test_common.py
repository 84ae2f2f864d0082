"""The rule every command follows: --url (or $GRIDLEDGER_URL) talks HTTP to those nodes,
otherwise the chain in --dir is opened in process; and every error is one line on stderr."""

from __future__ import annotations

from pathlib import Path

from gridledger.cli.common import URL_ENV
from tests.cli.helpers import address_of_key, cli, fails, ok_json
from tests.node.harness import free_port


def test_the_url_comes_from_the_environment_unless_given(community: Path) -> None:
    directory = str(community)
    dead = {URL_ENV: f"http://127.0.0.1:{free_port()}"}
    assert "no node answered" in fails("show", "head", "--dir", directory, env=dead)
    assert "no node answered" in fails("market", "book", "--dir", directory, env=dead)
    transfer = ("submit", "tokens", "transfer", "-k", "alice", "--dir", directory)
    assert "no node answered" in fails(*transfer, "--arg", "amount_micro=1", env=dead)
    # an empty --url is no URL: offline on the chain of --dir, whatever the environment says
    assert ok_json("show", "head", "--dir", directory, "--url", "", env=dead)["height"] == 0


def test_offline_is_refused_while_a_node_runs_on_the_chain(served: tuple[Path, str]) -> None:
    directory, url = served
    bob = address_of_key(directory, "bob")
    transfer = ("submit", "tokens", "transfer", "-k", "alice", "--dir", str(directory))
    refused = fails(*transfer, "--arg", f"to={bob}", "--arg", "amount_micro=1")
    assert "has this chain open" in refused and "--url" in refused
    assert "has this chain open" in fails("show", "head", "--dir", str(directory))
    view = ok_json(*transfer, "--arg", f"to={bob}", "--arg", "amount_micro=1", "--url", url)
    assert view["status"] == "committed" and view["code"] == 0


def test_no_wait_needs_a_node(community: Path) -> None:
    transfer = ("submit", "tokens", "transfer", "-k", "alice", "--dir", str(community))
    refused = fails(*transfer, "--arg", "amount_micro=1", "--no-wait", code=2)
    assert "--no-wait needs --url" in refused
    assert ok_json("show", "head", "--dir", str(community))["height"] == 0, "nothing was sent"


def test_an_error_is_one_line_however_narrow_the_terminal(tmp_path: Path) -> None:
    missing = tmp_path / ("a-long-directory-name-" * 4)
    result = cli("show", "head", "--dir", str(missing), env={"COLUMNS": "40"})
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("error: ") and "gridledger init" in result.stderr
