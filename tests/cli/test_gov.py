"""`gridledger gov ...`: an applicant admitted by the members' vote, a refusal's code, the
regulator's veto, and the list of proposals."""

from __future__ import annotations

import time
from pathlib import Path

from tests.cli.helpers import fails, ok, ok_json
from tests.cli.test_member import apply_grace

VOTE_MS = 3_000


def propose_grace(community: Path) -> int:
    """Propose admitting grace, open for `VOTE_MS`; return the deadline (block time, ms)."""
    deadline_ms = time.time_ns() // 1_000_000 + VOTE_MS
    ok(
        "gov", "propose", "admission", "--subject", "grace", "--text", "welcome grace",
        "--deadline-ms", str(deadline_ms), "-k", "alice", "--dir", str(community),
    )  # fmt: skip
    return deadline_ms


def wait_until(deadline_ms: int) -> None:
    time.sleep(max(0, deadline_ms - time.time_ns() // 1_000_000) / 1000 + 0.05)


def test_an_applicant_is_admitted_by_the_members_vote(community: Path) -> None:
    address = apply_grace(community)
    deadline_ms = propose_grace(community)
    for voter in ("alice", "bob", "carol"):
        ok("gov", "vote", "0", "yes", "-k", voter, "--dir", str(community))
    error = fails("gov", "vote", "0", "no", "-k", "bob", "--dir", str(community), code=2)
    assert "already_voted" in error
    early = fails("gov", "tally", "0", "-k", "dave", "--dir", str(community), code=2)
    assert "tally_before_deadline" in early
    wait_until(deadline_ms)
    out = ok("gov", "tally", "0", "-k", "dave", "--dir", str(community))
    assert "proposal 0: passed (3 yes, 0 no, 0 abstain of 6)" in out
    assert ok_json("show", "member", address, "--dir", str(community))["status"] == "active"
    listed = ok_json("gov", "list", "--json", "--dir", str(community))
    [proposal] = listed["proposals"]
    assert proposal["status"] == "passed" and proposal["tally"]["yes"] == 3
    assert listed["rules"]["founding_phase"] is True
    assert "admission" in ok("gov", "list", "--dir", str(community))


def test_the_regulator_vetoes_an_admission_with_a_reason(community: Path) -> None:
    address = apply_grace(community)
    propose_grace(community)
    ok(
        "gov", "veto", "0", "--reason", "identity not verified",
        "-k", "regulator", "--dir", str(community),
    )  # fmt: skip
    member = ok_json("show", "member", address, "--dir", str(community))
    assert (member["status"], member["reason"]) == ("rejected", "vetoed: identity not verified")
    error = fails("gov", "vote", "0", "yes", "-k", "alice", "--dir", str(community), code=2)
    assert "voting_closed" in error
