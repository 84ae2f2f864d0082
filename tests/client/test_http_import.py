"""Importing the HTTP client loads no node, API or contract code, no sqlite3 and no numpy:
a program that only talks to a node starts fast."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("sqlite3", "numpy", "gridledger.node", "gridledger.api", "gridledger.contracts")


def loaded_after(statement: str) -> list[str]:
    code = (
        "import json, sys\n"
        f"{statement}\n"
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return list(json.loads(result.stdout))


def test_the_http_client_loads_nothing_heavy() -> None:
    assert loaded_after("import gridledger.client.http") == []


def test_the_client_package_loads_nothing_heavy() -> None:
    assert loaded_after("from gridledger.client import Client, HttpClient, Wallet") == []


def test_the_embedded_client_does_load_the_node() -> None:
    """The check above can fail: the embedded client brings the node with it."""
    loaded = loaded_after("from gridledger.client import EmbeddedClient")
    assert "gridledger.node" in loaded and "gridledger.api" not in loaded
