"""Fixtures of the dashboard's tests: a real node with a community trading on it, one per
module, and one headless Chromium per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.dashboard.browser import WAIT_MS, chromium
from tests.dashboard.scenario import LiveCommunity, start_community, write_results

expect.set_options(timeout=WAIT_MS)
"""A generous bound for what the page shows to appear (not a timing threshold)."""


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_results(tmp_path_factory.mktemp("results"))


@pytest.fixture(scope="module")
def community(
    tmp_path_factory: pytest.TempPathFactory, results_dir: Path
) -> Iterator[LiveCommunity]:
    live = start_community(tmp_path_factory.mktemp("community"), results_dir)
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched
