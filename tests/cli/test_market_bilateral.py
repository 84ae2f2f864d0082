"""`gridledger market offer|offers|accept|agreements|amend|withdraw`: seed 001's bilateral
workflow and seed 003's amend and withdraw, against a served node on the test's clock."""

from __future__ import annotations

from pathlib import Path

from gridledger.api.server import BackgroundServer
from tests.api.test_market_api import Clock
from tests.cli import test_market
from tests.cli.test_market import fails, ok, ok_json
from tests.community import NEXT_PERIOD, address, gate_closure_s

P = NEXT_PERIOD
COMMIT = gate_closure_s(P) - 300
Served = tuple[Path, str, Clock, BackgroundServer]
served = test_market.served
"""The node on the test's clock over a test community (`tests.cli.test_market`)."""


def test_offer_accept_and_agreements(served: Served) -> None:
    directory, url, clock, _ = served
    at = ("--dir", str(directory), "--url", url)
    published = ok("offer", "-k", "alice", "--energy-wh", "1000", "--price", "820000",
                   "--cost", "780000", *at)  # fmt: skip
    assert f"offer {P}-o0 published for period {P}" in published
    offers = ok_json("offers", "-k", "carol", *at)
    assert [(o["offer_id"], o["remaining_wh"]) for o in offers["offers"]] == [(f"{P}-o0", 1000)]
    table = ok("offers", str(P), "-k", "regulator", *at)
    assert "alice" in table and "820,000" in table and "780,000" in table
    assert "negotiation from" in table and "commit from" in table

    deal = ("--energy-wh", "400", "--price", "800000", "--agreement-id", "a1")
    # still negotiating: the chain refuses agreements until the commit window opens
    early = fails("accept", f"{P}-o0", "-k", "carol", *deal, "--seller-key", "alice", *at, code=2)
    assert "refused (commit_window_not_open)" in early
    assert "give the seller's consent" in fails("accept", f"{P}-o0", "-k", "carol", *deal, *at)

    clock.at(COMMIT)
    # the seller signs elsewhere and hands the buyer its consent
    signature = ok_json("accept", f"{P}-o0", "-k", "alice", *deal, "--sign-for", "carol", *at)
    assert signature["buyer"] == address("carol")
    accepted = ok("accept", f"{P}-o0", "-k", "carol", *deal,
                  "--seller-signature", signature["seller_signature"], *at)  # fmt: skip
    assert "agreement a1" in accepted and "400 Wh at 800,000" in accepted
    # below the seller's production cost: refused
    cheap = ("--energy-wh", "100", "--price", "779999", "--agreement-id", "a2")
    refused = fails("accept", f"{P}-o0", "-k", "dave", *cheap, "--seller-key", "alice", *at,
                    code=2)  # fmt: skip
    assert "refused (price_out_of_range)" in refused
    listed = ok_json("agreements", str(P), "-k", "carol", *at)
    [agreement] = listed["agreements"]
    assert (agreement["buyer"], agreement["energy_wh"]) == (address("carol"), 400)
    assert COMMIT <= agreement["matched_at_s"] < gate_closure_s(P)
    assert "a1" in ok("agreements", str(P), "-k", "regulator", *at)

    clock.at(gate_closure_s(P))
    late = ("--energy-wh", "100", "--price", "800000", "--agreement-id", "a3")
    closed = fails("accept", f"{P}-o0", "-k", "carol", *late, "--seller-key", "alice", *at,
                   code=2)  # fmt: skip
    assert "refused (commit_window_closed)" in closed


def test_amend_and_withdraw(served: Served) -> None:
    directory, url, _, _ = served
    at = ("--dir", str(directory), "--url", url)
    ok("buy", "-k", "carol", "--energy-wh", "600", "--price", "820000", *at)
    amended = ok("amend", f"{P}-0", "-k", "carol", "--energy-wh", "500", "--price", "810000", *at)
    assert f"now order {P}-1" in amended and "500 Wh at 810,000" in amended
    again = ok_json("amend", f"{P}-1", "-k", "carol", "--energy-wh", "400", "--price", "810000",
                    *at)  # fmt: skip
    assert again["order"]["order_id"] == f"{P}-2" and again["order"]["escrow_micro"] == 324_000
    # another member's order: the node does not even show it to dave
    other = fails("amend", f"{P}-2", "-k", "dave", "--energy-wh", "1", "--price", "1", *at)
    assert "another member's" in other
    withdrawn = ok_json("withdraw", f"{P}-2", "-k", "carol", *at)
    assert withdrawn["order"]["status"] == "cancelled"
    ok("offer", "-k", "alice", "--energy-wh", "100", "--price", "800000", *at)
    assert ok_json("withdraw", f"{P}-o0", "-k", "alice", *at)["code"] == 0
    assert [o["status"] for o in ok_json("offers", str(P), "-k", "alice", *at)["offers"]] == [
        "withdrawn"
    ]
