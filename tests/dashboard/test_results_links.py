"""Symbolic links in the results folder never serve a file outside it (issue 16, defect 4):
the listing skips a run whose folder or ``kpis.json`` resolves outside, and a direct request
for it, or for one of its files that links outside, is a 404 saying why."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gridledger.api.app import create_app
from gridledger.client.signing import RequestSigner
from gridledger.node import MemoryStorage, Node
from tests.community import key, make_genesis

SECRET = "-----BEGIN PRIVATE KEY----- not for the dashboard"


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    """A results folder with one honest run and links to a folder outside holding a key."""
    outside = tmp_path / "outside"
    (outside / "run").mkdir(parents=True)
    (outside / "node.key").write_text(SECRET)
    (outside / "run" / "kpis.json").write_text(json.dumps({"leaked": SECRET}))
    (outside / "run" / "report.html").write_text(SECRET)
    results = tmp_path / "results"
    honest = results / "honest"
    honest.mkdir(parents=True)
    (honest / "kpis.json").write_text(json.dumps({"scenario": "honest"}))
    (honest / "report.html").write_text("<html></html>")
    (honest / "key.txt").symlink_to(outside / "node.key")
    (honest / "plots").symlink_to(outside / "run", target_is_directory=True)
    kpi_link = results / "kpi-link"
    kpi_link.mkdir()
    (kpi_link / "kpis.json").symlink_to(outside / "node.key")
    (results / "folder-link").symlink_to(outside / "run", target_is_directory=True)
    inner = results / "inner-link"
    inner.mkdir()
    (inner / "kpis.json").symlink_to(honest / "kpis.json")
    (results / "dangling").mkdir()
    (results / "dangling" / "kpis.json").symlink_to(tmp_path / "gone.json")
    return results, outside


@pytest.fixture
def http(layout: tuple[Path, Path]) -> Iterator[TestClient]:
    """A node's whole API over `layout`'s results, read by a member (signed requests)."""
    app = create_app(Node.create(MemoryStorage(), make_genesis()), close_node=True)
    app.state.results_dir = layout[0]
    with TestClient(app) as client:
        client.auth = RequestSigner(key("carol"))
        yield client


def test_the_listing_skips_runs_that_link_outside(http: TestClient) -> None:
    response = http.get("/v1/results")
    assert response.status_code == 200
    assert SECRET not in response.text
    assert [run["name"] for run in response.json()["runs"]] == ["honest", "inner-link"]


@pytest.mark.parametrize("run", ["kpi-link", "folder-link", "dangling"])
def test_a_run_that_links_outside_is_a_404(http: TestClient, run: str) -> None:
    response = http.get(f"/v1/results/{run}")
    assert response.status_code == 404, response.text
    assert SECRET not in response.text
    body = response.json()
    assert body["error"] == "not_found" and run in body["message"]
    files = http.get(f"/v1/results/{run}/files/report.html")
    assert files.status_code == 404 and SECRET not in files.text


def test_files_of_a_run_that_link_outside_are_neither_listed_nor_served(
    http: TestClient,
) -> None:
    run = http.get("/v1/results/honest").json()
    assert run["files"] == ["kpis.json", "report.html"]
    for path in ("key.txt", "plots/report.html", "plots/kpis.json"):
        response = http.get(f"/v1/results/honest/files/{path}")
        assert response.status_code == 404, (path, response.text)
        assert SECRET not in response.text
        assert "outside" in response.json()["message"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v1/results/..", 404),
        ("/v1/results/%2E%2E", 400),
        ("/v1/results/..%2Foutside%2Frun", 404),
        ("/v1/results/%2Ftmp", 404),
        ("/v1/results/honest/files/..%2F..%2Foutside%2Fnode.key", 400),
        ("/v1/results/honest/files/%2Fetc%2Fpasswd", 400),
        ("/v1/results/honest/files/plots%2F..%2Fkpis.json", 400),
    ],
)
def test_dots_and_absolute_paths_are_refused(http: TestClient, path: str, status: int) -> None:
    response = http.get(path)
    assert response.status_code == status, (path, response.text)
    assert SECRET not in response.text
