"""The `gridledger` command: init, keys, submit, show, verify, node and demo.

Most commands run in process with typer's CliRunner; `gridledger node` and the README's
`gridledger demo` run as real subprocesses. Every error must be one clear line on stderr
and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from gridledger.cli import app
from gridledger.keystore import DEMO_MEMBERS, read_key
from tests.node.harness import NodeProcess, free_port, one_line, run_cli

runner = CliRunner()


def cli(*args: str) -> Result:
    result = runner.invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"gridledger {' '.join(args)} raised {result.exception!r}")
    return result


def ok(*args: str) -> str:
    result = cli(*args)
    assert result.exit_code == 0, (args, result.output)
    return result.stdout


def ok_json(*args: str) -> Any:
    return json.loads(ok(*args))


def fails(*args: str, code: int = 1) -> str:
    """Run a command that must fail cleanly; return its error output on one line."""
    result = cli(*args)
    assert result.exit_code == code, (args, result.exit_code, result.output)
    assert "Traceback" not in result.output
    return one_line(result.stderr)


def address_of_key(directory: Path, name: str) -> str:
    return read_key(directory / "keys" / f"{name}.key").address


@pytest.fixture
def community(tmp_path: Path) -> Path:
    directory = tmp_path / "community"
    ok("init", "--dir", str(directory), "--chain-id", "cli-test")
    return directory


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A community made by `gridledger init`, served by a `gridledger node` subprocess."""
    directory = tmp_path_factory.mktemp("served") / "community"
    ok("init", "--dir", str(directory), "--chain-id", "cli-served")
    with NodeProcess(directory, ["--block-timeout-ms", "5"]) as node:
        node.start()
        yield directory, node.url


# -- init and keys -----------------------------------------------------------------------------


def test_init_writes_genesis_keys_and_chain(tmp_path: Path) -> None:
    directory = tmp_path / "new"
    output = one_line(ok("init", "--dir", str(directory), "--chain-id", "cli-test"))
    assert "community cli-test written to" in output and "gridledger node --dir" in output
    genesis = json.loads((directory / "genesis.json").read_text())
    assert genesis["chain_id"] == "cli-test"
    assert [m["name"] for m in genesis["members"]] == [name for name, _, _ in DEMO_MEMBERS]
    assert (directory / "chain.sqlite").exists()
    for member in genesis["members"]:
        path = directory / "keys" / f"{member['name']}.key"
        assert read_key(path).public_key.hex() == member["public_key"]
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, (
            "a key file is readable by its owner only"
        )
    assert "already exists" in fails("init", "--dir", str(directory))


def test_keys_new_list_show(community: Path) -> None:
    directory = str(community)
    output = one_line(ok("keys", "new", "erin", "--dir", directory))
    erin = read_key(community / "keys" / "erin.key")
    assert erin.address in output and erin.public_key.hex() in output
    assert "refusing to overwrite" in fails("keys", "new", "erin", "--dir", directory)

    listing = ok("keys", "list", "--dir", directory)
    for name in ("alice", "bob-meter", "erin", "regulator"):
        assert name in listing

    shown = ok_json("keys", "show", "erin", "--dir", directory)
    assert shown == {"name": "erin", "address": erin.address, "public_key": erin.public_key.hex()}
    assert erin.seed.hex() not in ok("keys", "show", "erin", "--dir", directory)
    by_path = ok_json("keys", "show", str(community / "keys" / "erin.key"), "--dir", directory)
    assert by_path["address"] == erin.address
    assert "no such key file" in fails("keys", "show", "nobody", "--dir", directory)

    (community / "keys" / "broken.key").write_text("{not json")
    assert "broken" in ok("keys", "list", "--dir", directory)  # listed, marked, no crash
    assert "not a gridledger key file" in fails("keys", "show", "broken", "--dir", directory)


# -- offline: straight from the chain file -----------------------------------------------------


def test_submit_and_show_offline(community: Path) -> None:
    directory = str(community)
    bob = address_of_key(community, "bob")
    view = ok_json(
        *("submit", "tokens", "transfer", "-k", "alice", "--dir", directory, "--url", ""),
        *("--arg", f"to={bob}", "--arg", "amount_micro=1500000", "--arg", "memo=hour 3"),
    )
    assert view["status"] == "committed" and view["code"] == 0 and view["height"] == 1
    assert view["transaction"]["args"] == {"to": bob, "amount_micro": 1500000, "memo": "hour 3"}

    head = ok_json("show", "head", "--dir", directory)
    assert head["height"] == 1 and head["chain_id"] == "cli-test"
    block = ok_json("show", "block", "1", "--dir", directory)
    assert [tx["id"] for tx in block["transactions"]] == [view["id"]]
    assert ok_json("show", "tx", view["id"], "--dir", directory)["height"] == 1
    assert ok_json("show", "member", "alice", "--dir", directory)["role"] == "prosumer"
    assert ok_json("show", "member", bob, "--dir", directory)["name"] == "bob"
    assert ok_json("show", "balance", "bob", "--dir", directory) == {
        "address": bob,
        "balance_micro": 51_500_000,
        "nonce": 0,
    }
    members = ok("show", "members", "--dir", directory)
    for name, role, _ in DEMO_MEMBERS:
        assert name in members and role in members

    # --args takes every argument as one JSON object
    refused = cli(
        *("submit", "tokens", "transfer", "-k", "dave", "--dir", directory, "--url", ""),
        *("--args", json.dumps({"to": bob, "amount_micro": 10**12})),
    )
    assert refused.exit_code == 2, "committed but refused by the contract"
    assert json.loads(refused.stdout)["result"] == "insufficient_funds"

    verified = one_line(ok("verify", "--dir", directory))
    assert "chain is sound: 3 blocks, 2 transactions" in verified


def test_offline_errors_are_clear(community: Path, tmp_path: Path) -> None:
    directory = str(community)
    assert "not a hex transaction id" in fails("show", "tx", "xyz", "--dir", directory)
    assert "no transaction" in fails("show", "tx", "ab" * 32, "--dir", directory)
    assert "no block 42" in fails("show", "block", "42", "--dir", directory)
    assert "neither an address nor a key name" in fails("show", "member", "zed", "--dir", directory)
    assert "neither an address nor a key name" in fails(
        "show", "balance", "zed", "--dir", directory
    )
    outsider = "gl" + "0" * 40
    assert f"no member {outsider}" in fails("show", "member", outsider, "--dir", directory)
    missing = str(tmp_path / "nowhere")
    assert "gridledger init" in fails("show", "head", "--dir", missing)
    assert "gridledger init" in fails("node", "--dir", missing)
    assert "not found" in fails("verify", "--dir", missing)

    submit = ("submit", "tokens", "transfer", "--dir", directory, "--url", "")
    assert "no such key file" in fails(*submit, "-k", "nobody")
    assert "--args is not JSON" in fails(*submit, "-k", "alice", "--args", "{to:")
    assert "must be a JSON object" in fails(*submit, "-k", "alice", "--args", "[1]")
    assert "must look like name=value" in fails(*submit, "-k", "alice", "--arg", "amount")
    assert "unknown_method" in fails(
        "submit", "tokens", "nope", "-k", "alice", "--dir", directory, "--url", ""
    )
    assert "Missing option" in fails("submit", "tokens", "transfer", "--dir", directory, code=2)


# -- against a running node --------------------------------------------------------------------


def test_submit_and_show_against_a_node(served: tuple[Path, str]) -> None:
    directory, url = served
    where = ("--dir", str(directory), "--url", url)
    carol = address_of_key(directory, "carol")
    view = ok_json(
        "submit", "tokens", "transfer", "-k", "bob", *where, "--arg", f"to={carol}",
        "--arg", "amount_micro=2500",
    )  # fmt: skip
    assert view["status"] == "committed" and view["code"] == 0

    shown = ok_json("show", "tx", view["id"], *where)
    assert shown["height"] == view["height"] and shown["proof"]["size"] >= 1
    block = ok_json("show", "block", str(view["height"]), *where)
    assert view["id"] in [tx["id"] for tx in block["transactions"]]
    head = ok_json("show", "head", *where)
    assert head["chain_id"] == "cli-served" and head["height"] >= view["height"]
    assert ok_json("show", "member", "carol", *where)["address"] == carol
    balance = ok_json("show", "balance", "carol", *where)
    assert balance["address"] == carol and balance["balance_micro"] >= 20_002_500
    assert "storage" in ok("show", "members", *where)

    pending = ok_json(
        "submit", "tokens", "transfer", "-k", "dave", *where, "--arg", f"to={carol}",
        "--arg", "amount_micro=1", "--no-wait",
    )  # fmt: skip
    assert pending["status"] == "pending"

    assert "unknown_method (400)" in fails("submit", "tokens", "nope", "-k", "bob", *where)
    assert "no block 99999" in fails("show", "block", "99999", *where)
    assert "not_found (404)" in fails("show", "tx", "cd" * 32, *where)


def test_node_subprocess_errors_and_verify(served: tuple[Path, str]) -> None:
    directory, _ = served
    result = run_cli("verify", "--dir", str(directory))  # concurrently with the running node
    assert result.returncode == 0 and "chain is sound" in one_line(result.stdout), result.stderr
    empty = directory.parent / "empty"
    empty.mkdir()
    result = run_cli("node", "--dir", str(empty), "--port", str(free_port()))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "genesis.json not found" in one_line(result.stderr)


@pytest.mark.parametrize("command", [["head"], ["members"], ["balance", "gl" + "1" * 40]])
def test_unreachable_node_is_a_clear_error(command: list[str]) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    assert "no node answered" in fails("show", *command, "--url", dead)


# -- the README's demo -------------------------------------------------------------------------


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
