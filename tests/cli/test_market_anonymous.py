"""`gridledger market offer --anonymous` and `accept --seller`: an offer published over a
ring of sellers, its seller named only when it agrees with a buyer, against a served node on
the test's clock; a false claim and a second anonymous offer in the period are refused."""

from __future__ import annotations

from pathlib import Path

from gridledger.api.server import BackgroundServer
from tests.api.test_market_api import Clock
from tests.cli import helpers, test_market
from tests.cli.test_market import fails, ok, ok_json
from tests.community import NEXT_PERIOD, address, gate_closure_s

P = NEXT_PERIOD
COMMIT = gate_closure_s(P) - 300
Served = tuple[Path, str, Clock, BackgroundServer]
served = test_market.served


def test_an_anonymous_offer_is_agreed_with_its_seller_revealed(served: Served) -> None:
    directory, url, clock, _ = served
    at = ("--dir", str(directory), "--url", url)
    for name in ("alice", "bob", "carol"):
        helpers.ok("wallet", "keys", "-k", name, *at)
    terms = ("--energy-wh", "1000", "--price", "820000", "--cost", "780000")
    published = ok("offer", "--anonymous", "-k", "alice", *terms, *at)
    assert f"offer {P}-o0 published" in published
    again = fails("offer", "--anonymous", "-k", "alice", *terms, *at)
    assert "key_image_used" in again
    [offer] = ok_json("offers", str(P), "-k", "regulator", *at)["offers"]
    assert offer["seller"] == ""  # not even an auditor learns it before an agreement

    clock.at(COMMIT)
    deal = ("--energy-wh", "400", "--price", "800000", "--agreement-id", "a1")
    consent = ok_json("accept", f"{P}-o0", "-k", "alice", *deal, "--sign-for", "carol", *at)
    claim = ("--seller-signature", consent["seller_signature"])
    proof = ("--seller-proof", consent["seller_proof"])
    false = fails("accept", f"{P}-o0", "-k", "carol", *deal, *claim, *proof,
                  "--seller", "bob", *at, code=2)  # fmt: skip
    assert "invalid_seller_proof" in false
    missing = fails("accept", f"{P}-o0", "-k", "carol", *deal, *claim,
                    "--seller", "alice", *at)  # fmt: skip
    assert "needs the seller's proof" in missing
    accepted = ok("accept", f"{P}-o0", "-k", "carol", *deal, *claim, *proof,
                  "--seller", "alice", *at)  # fmt: skip
    assert "agreement a1" in accepted
    [agreement] = ok_json("agreements", str(P), "-k", "carol", *at)["agreements"]
    assert agreement["seller"] == address("alice")
    refused = fails("withdraw", f"{P}-o0", "--anonymous", "-k", "bob", *at)
    assert "not_offer_owner" in refused
    ok("withdraw", f"{P}-o0", "--anonymous", "-k", "alice", *at)
    [offer] = ok_json("offers", str(P), "-k", "regulator", *at)["offers"]
    assert (offer["status"], offer["seller"]) == ("withdrawn", "")
