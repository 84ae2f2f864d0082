"""`gridledger node --results DIR` serves the dashboard and the runs under DIR from a
separate process; `gridledger dashboard login` prints a link that signs it in; `gridledger
demo` prints the two steps."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import Browser, expect

from gridledger.client.signing import RequestSigner
from gridledger.node.keystore import write_key
from tests.community import key
from tests.dashboard.browser import new_page
from tests.dashboard.scenario import write_results
from tests.node.harness import NodeProcess, one_line, run_cli, write_community


def test_node_serves_the_dashboard_and_its_results(
    tmp_path: Path, start_node: Callable[..., NodeProcess]
) -> None:
    directory = tmp_path / "community"
    write_community(directory)
    results = write_results(tmp_path / "results")
    node = start_node(directory, "--results", str(results))
    page = httpx.get(f"{node.url}/dashboard/", timeout=10)
    assert page.status_code == 200 and "gridledger" in page.text
    with httpx.Client(base_url=node.url, timeout=10, auth=RequestSigner(key("carol"))) as reader:
        runs = reader.get("/v1/results").json()["runs"]
        assert [run["name"] for run in runs] == ["sunny-week"]
        escape = reader.get("/v1/results/sunny-week/files/..%2F..%2Fsecret.txt")
        assert escape.status_code == 400 and escape.json()["error"] == "invalid_request"
    assert f"dashboard: {node.url}/dashboard/" in one_line(node.logs())


def test_node_without_results_says_how_to_give_them(
    tmp_path: Path, start_node: Callable[..., NodeProcess]
) -> None:
    directory = tmp_path / "community"
    write_community(directory)
    node = start_node(directory)
    signer = RequestSigner(key("carol"))
    response = httpx.get(f"{node.url}/v1/results", timeout=10, auth=signer)
    assert response.status_code == 404
    assert response.json()["error"] == "no_results"
    assert "--results" in response.json()["message"]


def test_node_refuses_a_results_folder_that_does_not_exist(tmp_path: Path) -> None:
    directory = tmp_path / "community"
    write_community(directory)
    result = run_cli("node", "--dir", str(directory), "--results", str(tmp_path / "missing"))
    assert result.returncode != 0
    assert "not a directory" in one_line(result.stderr)


def test_demo_prints_the_dashboards_address(tmp_path: Path) -> None:
    result = run_cli("demo", "--dir", str(tmp_path / "demo"), timeout_s=120)
    assert result.returncode == 0, result.stderr
    output = one_line(result.stdout)
    assert "/dashboard/" in output
    assert f"gridledger node --dir {tmp_path / 'demo'} --login alice" in output
    assert "gridledger dashboard login -k bob" in output
    assert "--url http://127.0.0.1:8545" in output


def login_link_in(text: str, url: str) -> str:
    [link] = [word for word in text.split() if word.startswith(f"{url}/dashboard/#login=")]
    return link


def test_two_commands_open_the_dashboard_signed_in(
    tmp_path: Path, start_node: Callable[..., NodeProcess], browser: Browser
) -> None:
    """The README's steps: `gridledger node --login NAME` prints a link that signs the
    dashboard in; `gridledger dashboard login -k NAME` prints another member's."""
    directory = tmp_path / "community"
    write_community(directory)
    for name in ("operator", "carol"):
        write_key(directory / "keys", name, key(name))
    node = start_node(directory, "--login", "carol")
    page = new_page(browser)
    page.goto(login_link_in(node.logs(), node.url))
    expect(page.locator("#who")).to_contain_text("signed in as carol")
    expect(page.locator("#connection")).to_contain_text("live")
    expect(page.locator("#members tr", has_text="carol")).to_contain_text("(you)")
    page.context.close()

    login = ("dashboard", "login", "-k", "operator", "--dir", str(directory), "--url", node.url)
    done = run_cli(*login)
    assert done.returncode == 0, done.stderr
    page = new_page(browser)
    page.goto(login_link_in(done.stdout, node.url))
    expect(page.locator("#who")).to_contain_text("signed in as operator")
    carol = page.locator("#members tr", has_text="carol")
    expect(carol).to_contain_text("2.00 units")  # her balance, which the operator may read
    page.context.close()
