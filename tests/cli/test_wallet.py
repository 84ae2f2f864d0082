"""`gridledger wallet ...` and the ring-signed commands, offline (the embedded node) and
against a served node (the HTTP API): a stealth payment found by its recipient's scan and
by nobody else's, spent with the one-time key; a secret vote with one ballot per member;
each refusal's code."""

from __future__ import annotations

import time
from pathlib import Path

from tests.cli.helpers import address_of_key, fails, ok, ok_json

MEMBERS = ("alice", "bob", "carol", "dave")


def register_all(where: list[str]) -> None:
    for name in MEMBERS:
        ok("wallet", "keys", "-k", name, *where)


def scan(name: str, where: list[str]) -> dict:  # type: ignore[type-arg]
    found: dict = ok_json("wallet", "scan", "--json", "-k", name, *where)  # type: ignore[type-arg]
    return found


def stealth_payment_round(directory: Path, where: list[str]) -> None:
    register_all(where)
    ok("wallet", "pay-stealth", "bob", "5000", "-k", "alice", *where)
    found = scan("bob", where)
    [output] = found["outputs"]
    assert (output["amount_micro"], output["kind"], found["received_micro"]) == (
        5000,
        "payment",
        5000,
    )
    assert address_of_key(directory, "bob") not in str(output)
    for other in ("alice", "carol", "dave"):
        assert scan(other, where)["outputs"] == []
    before = ok_json("show", "balance", "carol", "-k", "carol", *where)["balance_micro"]
    number = str(output["number"])
    ok("wallet", "spend", number, "2000", "--to", "carol", "-k", "bob", *where)
    after = ok_json("show", "balance", "carol", "-k", "carol", *where)["balance_micro"]
    assert after == before + 2000
    assert scan("bob", where)["balance_micro"] == 3000
    error = fails("wallet", "spend", number, "1", "--to", "carol", "-k", "carol", *where)
    assert f"output {number} is not yours" in error
    refused = fails("wallet", "spend", number, "9999", "--to", "carol", "-k", "bob", *where, code=2)
    assert "insufficient_funds" in refused
    unknown = fails("wallet", "pay-stealth", "regulator", "1", "-k", "alice", *where)
    assert "registered no privacy keys" in unknown


def secret_vote_round(where: list[str]) -> None:
    deadline_ms = time.time_ns() // 1_000_000 + 600_000  # far enough for a loaded machine
    ok(
        "gov", "propose", "motion", "--text", "a secret motion", "--secret",
        "--deadline-ms", str(deadline_ms), "-k", "alice", *where,
    )  # fmt: skip
    listed = ok_json("gov", "list", "--json", "-k", "alice", *where)
    proposal_id = str(listed["proposals"][-1]["proposal_id"])
    for voter, choice in (("alice", "yes"), ("bob", "yes"), ("carol", "no")):
        ok("gov", "vote", proposal_id, choice, "--secret", "-k", voter, *where)
    again = fails("gov", "vote", proposal_id, "no", "--secret", "-k", "alice", *where)
    assert "key_image_used" in again
    named = fails("gov", "vote", proposal_id, "yes", "-k", "dave", *where, code=2)
    assert "wrong_ballot_kind" in named
    small = ok("gov", "vote", proposal_id, "abstain", "--secret", "--ring-size", "2", "-k",
               "dave", *where)  # fmt: skip
    assert "committed" in small
    listed = ok_json("gov", "list", "--json", "-k", "alice", *where)
    proposal = listed["proposals"][-1]
    assert (proposal["yes"], proposal["no"], proposal["abstain"]) == (2, 1, 1)


def test_stealth_payments_and_a_secret_vote_offline(community: Path) -> None:
    where = ["--dir", str(community)]
    stealth_payment_round(community, where)
    secret_vote_round(where)


def test_stealth_payments_and_a_secret_vote_through_the_api(
    served: tuple[Path, str],
) -> None:
    directory, url = served
    where = ["--dir", str(directory), "--url", url]
    stealth_payment_round(directory, where)
    secret_vote_round(where)
