"""Running the `gridledger` command in process with typer's CliRunner.

Every error must be one clear line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from gridledger.cli import app
from gridledger.node.keystore import read_key
from tests.node.harness import one_line

runner = CliRunner()


def cli(*args: str, env: dict[str, str] | None = None) -> Result:
    result = runner.invoke(app, list(args), env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"gridledger {' '.join(args)} raised {result.exception!r}")
    return result


def ok(*args: str, env: dict[str, str] | None = None) -> str:
    result = cli(*args, env=env)
    assert result.exit_code == 0, (args, result.output)
    return result.stdout


def ok_json(*args: str, env: dict[str, str] | None = None) -> Any:
    return json.loads(ok(*args, env=env))


def fails(*args: str, code: int = 1, env: dict[str, str] | None = None) -> str:
    """Run a command that must fail cleanly; return its error output on one line."""
    result = cli(*args, env=env)
    assert result.exit_code == code, (args, result.exit_code, result.output)
    assert "Traceback" not in result.output
    return one_line(result.stderr)


def address_of_key(directory: Path, name: str) -> str:
    return read_key(directory / "keys" / f"{name}.key").address
