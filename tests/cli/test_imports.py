"""What `gridledger` loads before it runs a command: `gridledger --help`, and a command
that talks to a node over HTTP, need neither the node nor the contracts, the simulation,
numpy, nats, the HTTP stack or the PKI. Each command imports those where it uses them."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import gridledger
from gridledger.cli import simulate
from tests.cli.helpers import ok

HEAVY = (
    "gridledger.node.core",
    "gridledger.contracts.default",
    "gridledger.simulation",
    "numpy",
    "nats",
    "httpx",
    "uvicorn",
    "fastapi",
    "cryptography.x509",
)
"""Modules (with their submodules) that `import gridledger.cli` must not load."""

COMMANDS = (
    "init", "node", "submit", "verify", "simulate", "demo", "bench", "archive", "keys",
    "show", "dashboard", "market", "member", "gov", "tx", "audit", "wallet",
    "certificates", "data", "network", "chain",
)  # fmt: skip
"""The commands and command groups of `gridledger --help`, in its order."""


def modules_loaded_by(statement: str) -> list[str]:
    """The modules a fresh interpreter holds after `statement`, with this checkout's
    `gridledger` first on its path (not another one installed in the environment)."""
    source = str(Path(gridledger.__file__).resolve().parents[1])
    path = os.pathsep.join([source, *filter(None, [os.environ.get("PYTHONPATH")])])
    result = subprocess.run(
        [sys.executable, "-c", f"{statement}; import sys; print(sorted(sys.modules))"],
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        check=True,
    )
    loaded: list[str] = ast.literal_eval(result.stdout.strip().splitlines()[-1])
    return loaded


def test_importing_the_cli_loads_no_heavy_module() -> None:
    loaded = modules_loaded_by("import gridledger.cli")
    assert "gridledger.cli.main" in loaded, "the subprocess did not import the CLI"
    heavy = sorted(m for m in loaded if any(m == h or m.startswith(f"{h}.") for h in HEAVY))
    assert not heavy, f"`import gridledger.cli` loads {heavy}; import them inside the command"


def test_the_help_lists_every_command() -> None:
    """A command's name starts its row of the Commands panel (a wrapped description's
    following rows start with spaces)."""
    rows = ok("--help", env={"COLUMNS": "200"}).splitlines()
    listed = [found.group(1) for row in rows if (found := re.match(r"│ ([a-z][a-z-]*) {2,}", row))]
    assert tuple(listed) == COMMANDS


def test_simulate_names_the_scenarios_the_simulation_ships() -> None:
    """`gridledger simulate`'s help names them without importing the simulation."""
    from gridledger.simulation import shipped_scenarios

    assert simulate.shipped_scenarios() == shipped_scenarios()
    assert simulate.shipped_scenarios(), "no shipped scenario found"
