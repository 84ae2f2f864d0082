"""`gridledger tx build|cosign|show|submit` and `gridledger audit ...`: a 2-of-3 issue
signed offline, a correction signed by buyer, seller and regulator through a served node,
shown beside the statements; bad files and bad calls refused with clear errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from gridledger.api.server import BackgroundServer
from gridledger.cli.main import app
from tests.api.test_market_api import Clock
from tests.cli.helpers import address_of_key, fails, ok, ok_json
from tests.cli.test_market import P, served  # noqa: F401 - the fixture
from tests.community import address, gate_closure_s, meter_window_close_s, period_start_s

runner = CliRunner()


def test_an_issue_needs_two_of_the_three_keys(community: Path) -> None:
    at = ("--dir", str(community))
    bob = address_of_key(community, "bob")
    mint = community / "mint.json"
    args = json.dumps({"to": bob, "amount_micro": 5_000_000})
    out = ok(
        "tx",
        "build",
        "tokens",
        "mint",
        "--as",
        "issuer",
        "--args",
        args,
        "-k",
        "operator",
        "--out",
        str(mint),
        *at,
    )
    assert "1 signature(s)" in out.replace("\n", " ")
    assert "too_few_signatures" in fails("tx", "submit", str(mint), *at)
    assert "already signed" in fails("tx", "cosign", str(mint), "-k", "operator", *at)
    ok("tx", "cosign", str(mint), "-k", "alice", *at)  # alice is the demo's treasurer
    shown = ok_json("tx", "show", str(mint))
    assert shown["method"] == "mint" and len(shown["signers"]) == 2
    before = ok_json("show", "balance", "bob", *at)["balance_micro"]
    assert "committed in block" in ok("tx", "submit", str(mint), *at)
    assert ok_json("show", "balance", "bob", *at)["balance_micro"] == before + 5_000_000
    # the same file again is the same transaction: refused as a duplicate
    assert "duplicate" in fails("tx", "submit", str(mint), *at)
    # the operator alone, as before policies, is refused
    alone = fails("submit", "tokens", "mint", "-k", "operator", "--args", args, *at, code=2)
    assert "not_authorised" in alone and "only policy 'issuer'" in alone


def test_bad_transaction_files_are_refused(community: Path, tmp_path: Path) -> None:
    at = ("--dir", str(community))
    cases = {
        "not json": "not JSON",
        "[1, 2]": "must be a JSON object",
        '{"format": "other/v9", "transaction": "00"}': "format is 'other/v9'",
        '{"format": "gridledger-transaction/v1", "transaction": 5}': "must be the hex",
        '{"format": "gridledger-transaction/v1", "transaction": "zz"}': "not hexadecimal",
        '{"format": "gridledger-transaction/v1", "transaction": "9300"}': "does not decode",
    }
    for index, (text, reason) in enumerate(cases.items()):
        path = tmp_path / f"bad-{index}.json"
        path.write_text(text)
        assert reason in fails("tx", "show", str(path)), text
        assert reason in fails("tx", "cosign", str(path), "-k", "alice", *at), text
    assert "cannot read" in fails("tx", "show", str(tmp_path / "missing.json"))
    both = fails(
        "tx",
        "build",
        "tokens",
        "mint",
        "--as",
        "issuer",
        "--from",
        "alice",
        "--out",
        str(tmp_path / "x.json"),
        *at,
    )
    assert "exactly one of --as" in both
    assert "exactly one of --as" in fails(
        "tx", "build", "tokens", "mint", "--out", str(tmp_path / "x.json"), *at
    )
    treasury = tmp_path / "treasury.json"
    ok(
        "tx",
        "build",
        "tokens",
        "mint",
        "--as",
        "treasury",
        "-k",
        "operator",
        "--out",
        str(treasury),
        *at,
    )
    ok("tx", "cosign", str(treasury), "-k", "regulator", *at)
    assert "unknown_policy" in fails("tx", "submit", str(treasury), *at)
    assert "already exists" in fails(
        "tx", "build", "tokens", "mint", "--as", "issuer", "--out", str(treasury), *at
    )


def test_a_correction_by_consent_through_a_node(
    served: tuple[Path, str, Clock, BackgroundServer],  # noqa: F811
) -> None:
    directory, url, clock, server = served
    at = ("--dir", str(directory), "--url", url)
    ro = (*at, "-k", "regulator")
    ok("market", "sell", "-k", "alice", "--energy-wh", "1000", "--price", "780000", *at)
    ok("market", "buy", "-k", "carol", "--energy-wh", "600", "--price", "820000", *at)
    clock.at(gate_closure_s(P))
    ok("market", "clear", str(P), "-k", "bob", *at)
    trade_id = f"{P}-t0"
    file = directory / "correction.json"
    # before the period is settled, a correction with every signature is refused
    early = ("--refund-micro", "1", "--reason", "too early", "-k", "carol", "--out", str(file))
    ok("audit", "correct", trade_id, *early, *at)
    ok("tx", "cosign", str(file), "-k", "alice", "--dir", str(directory))
    ok("tx", "cosign", str(file), "-k", "regulator", "--dir", str(directory))
    assert "trade_not_settled" in fails("tx", "submit", str(file), *at, code=2)
    clock.at(period_start_s(P + 1) + 60)
    reading = ("--meter-key", "alice-meter-1", "--member", "alice", "--exported-wh", "550")
    ok("market", "reading", *reading, "--imported-wh", "0", *at)
    clock.at(meter_window_close_s(P))
    runner.invoke(
        app,
        [
            "submit",
            "settlement",
            "fund_grid",
            "-k",
            "operator",
            *at,
            "--arg",
            "amount_micro=500000",
        ],
    )
    ok("market", "settle", str(P), "-k", "carol", *at)
    file.unlink(missing_ok=True)

    # carol builds it and signs; without alice and the regulator it is refused
    ok(
        "audit",
        "correct",
        trade_id,
        "--refund-micro",
        "60000",
        "--energy-wh",
        "550",
        "--reason",
        "alice delivered 550 Wh",
        "-k",
        "carol",
        "--out",
        str(file),
        *at,
    )
    assert "consent_missing" in fails("tx", "submit", str(file), *at, code=2)
    file.unlink()
    ok(
        "audit",
        "correct",
        trade_id,
        "--refund-micro",
        "60000",
        "--energy-wh",
        "550",
        "--reason",
        "alice delivered 550 Wh",
        "-k",
        "carol",
        "--out",
        str(file),
        *at,
    )
    ok("tx", "cosign", str(file), "-k", "alice", "--dir", str(directory))
    ok("tx", "cosign", str(file), "-k", "regulator", "--dir", str(directory))
    assert "committed in block" in ok("tx", "submit", str(file), *at)

    view = ok_json("audit", "trade", trade_id, *ro)
    assert view["trade"]["energy_wh"] == 600  # the trade stands as recorded
    assert [c["refund_micro"] for c in view["corrections"]] == [60_000]
    assert view["net_refund_micro"] == 60_000
    statement = json.loads(ok("market", "statement", str(P), "alice", *ro, "--json"))
    assert statement["sold_wh"] == 600 and statement["corrections"][0]["energy_wh"] == 550
    table = ok("market", "statement", str(P), *ro)
    words = " ".join(table.split())
    assert "corrections, recorded beside" in words and f"{P}-t0" in words and "60,000" in words
    # dave, no party, reads none of it
    assert "forbidden" in fails("audit", "trade", trade_id, *at, "-k", "dave")
    assert ok_json("audit", "corrections", str(P), *at, "-k", "dave")["corrections"] == []
    assert len(ok_json("audit", "corrections", str(P), *at, "-k", "alice")["corrections"]) == 1

    # the regulator flags; the operator may not
    ok("audit", "flag", "trade", trade_id, "--reason", "price audit", "-k", "regulator", *at)
    assert "not_authorised" in fails(
        "audit", "flag", "trade", trade_id, "--reason", "x", "-k", "operator", *at, code=2
    )
    assert "expected one of" in fails(
        "audit", "flag", "block", "7", "--reason", "x", "-k", "regulator", *at
    )
    flags = ok_json("audit", "flags", *ro)["flags"]
    assert [(f["subject"], f["reason"]) for f in flags] == [(trade_id, "price audit")]
    assert ok_json("audit", "flags", *at, "-k", "carol")["flags"] == flags  # carol's own trade
    assert ok_json("audit", "flags", *at, "-k", "dave")["flags"] == []
    assert address("regulator") == flags[0]["flagged_by"]

    # offline (the embedded client), the same answers straight from the chain file
    online = [
        ok_json("audit", *what, *ro)
        for what in (["trade", trade_id], ["corrections", str(P)], ["flags"])
    ]
    server.stop()
    offline = [
        ok_json("audit", *what, "--dir", str(directory))
        for what in (["trade", trade_id], ["corrections", str(P)], ["flags"])
    ]
    assert offline == online
