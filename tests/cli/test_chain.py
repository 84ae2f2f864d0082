"""`gridledger submit`, `gridledger show ...` and `gridledger verify`, offline on the chain
file of --dir and against a running `gridledger node` (a subprocess) with --url."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gridledger.node.community import DEMO_MEMBERS
from tests.cli.helpers import address_of_key, cli, fails, ok, ok_json
from tests.node.harness import free_port, one_line, run_cli

# -- offline: straight from the chain file -----------------------------------------------------


def test_submit_and_show_offline(community: Path) -> None:
    directory = str(community)
    bob = address_of_key(community, "bob")
    view = ok_json(
        *("submit", "tokens", "transfer", "-k", "alice", "--dir", directory),
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
        *("submit", "tokens", "transfer", "-k", "dave", "--dir", directory),
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

    submit = ("submit", "tokens", "transfer", "--dir", directory)
    assert "no such key file" in fails(*submit, "-k", "nobody")
    assert "--args is not JSON" in fails(*submit, "-k", "alice", "--args", "{to:")
    assert "must be a JSON object" in fails(*submit, "-k", "alice", "--args", "[1]")
    assert "must look like name=value" in fails(*submit, "-k", "alice", "--arg", "amount")
    assert "unknown_method" in fails("submit", "tokens", "nope", "-k", "alice", "--dir", directory)
    assert "Missing option" in fails("submit", "tokens", "transfer", "--dir", directory, code=2)


# -- against a running node --------------------------------------------------------------------


def test_submit_and_show_against_a_node(served: tuple[Path, str]) -> None:
    directory, url = served
    where = ("--dir", str(directory), "--url", url)
    read = (*where, "-k", "regulator")  # reads are signed; writes sign with their -k
    carol = address_of_key(directory, "carol")
    view = ok_json(
        "submit", "tokens", "transfer", "-k", "bob", *where, "--arg", f"to={carol}",
        "--arg", "amount_micro=2500",
    )  # fmt: skip
    assert view["status"] == "committed" and view["code"] == 0

    shown = ok_json("show", "tx", view["id"], *read)
    assert shown["height"] == view["height"] and shown["proof"]["size"] >= 1
    block = ok_json("show", "block", str(view["height"]), *read)
    assert view["id"] in [tx["id"] for tx in block["transactions"]]
    head = ok_json("show", "head", *read)
    assert head["chain_id"] == "cli-served" and head["height"] >= view["height"]
    assert ok_json("show", "member", "carol", *read)["address"] == carol
    balance = ok_json("show", "balance", "carol", *read)
    assert balance["address"] == carol and balance["balance_micro"] >= 20_002_500
    assert "storage" in ok("show", "members", *read)

    pending = ok_json(
        "submit", "tokens", "transfer", "-k", "dave", *where, "--arg", f"to={carol}",
        "--arg", "amount_micro=1", "--no-wait",
    )  # fmt: skip
    assert pending["status"] == "pending"

    assert "unknown_method (400)" in fails("submit", "tokens", "nope", "-k", "bob", *where)
    assert "no block 99999" in fails("show", "block", "99999", *read)
    assert "not_found (404)" in fails("show", "tx", "cd" * 32, *read)


def test_verify_reads_the_chain_while_its_node_runs(served: tuple[Path, str]) -> None:
    directory, _ = served
    result = run_cli("verify", "--dir", str(directory))
    assert result.returncode == 0 and "chain is sound" in one_line(result.stdout), result.stderr


@pytest.mark.parametrize("command", [["head"], ["members"], ["balance", "gl" + "1" * 40]])
def test_unreachable_node_is_a_clear_error(command: list[str]) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    assert "no node answered" in fails("show", *command, "--url", dead)


def test_reads_need_a_key_and_are_answered_by_role(served: tuple[Path, str]) -> None:
    directory, url = served
    where = ("--dir", str(directory), "--url", url)
    refused = fails("show", "members", *where)
    assert "401" in refused and "sign the request with -k NAME" in refused
    assert ok_json("show", "head", *where)["chain_id"] == "cli-served"  # the head is public
    assert ok_json("show", "balance", "carol", *where, "-k", "carol")["balance_micro"] > 0
    assert "forbidden" in fails("show", "balance", "carol", *where, "-k", "dave")
    assert ok_json("show", "balance", "carol", *where, "-k", "regulator")["balance_micro"] > 0
    log = ok_json("show", "access-log", *where, "-k", "carol", "--json")
    readers = {(e["reader_role"], e["resource"]) for e in log["entries"]}
    assert ("regulator", "account") in readers
    assert "regulator" in ok("show", "access-log", "--dir", str(directory), "-k", "carol")


def test_dashboard_login_prints_a_one_time_link(served: tuple[Path, str]) -> None:
    directory, url = served
    line = one_line(ok("dashboard", "login", "-k", "bob", "--dir", str(directory), "--url", url))
    assert line.startswith(f"{url}/dashboard/#login=")
    code = line.split("#login=", 1)[1]
    import httpx

    session = httpx.post(f"{url}/v1/auth/session", json={"login_code": code}).json()
    assert session["role"] == "consumer" and session["token"]
    again = httpx.post(f"{url}/v1/auth/session", json={"login_code": code})
    assert again.status_code == 401
    assert "needs the node's --url" in fails("dashboard", "login", "-k", "bob", "--url", "")
