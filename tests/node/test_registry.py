"""The regulator's registry of personal data: checks against the chain's digests, signed
submissions, and erasure that leaves no byte in any file."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridledger.contracts.membership import Member
from gridledger.crypto import keypair_from_name
from gridledger.crypto.disclosure import make_disclosure
from gridledger.ledger.transactions import SIGNING_DOMAIN
from gridledger.node.registry import (
    MAX_CLOCK_SKEW_MS,
    REGISTRY_FILE,
    SUBMISSION_DOMAIN,
    PersonalDataRegistry,
    RegistryRefusal,
    Submission,
    check_submission,
    sign_submission,
)
from tests.community import CHAIN_ID, application_of, key
from tests.files import files_holding

NOW_MS = 1_800_000_000_000
PERSONAL = ("Flat 3, 12 Grid Street", "household load")
"""The consumer registration's personal values (tests/community.py REGISTRATIONS)."""


FRANKS = {
    "customer_type": "resident",
    "basic_information": "Frank Other, 7 Wind Row",
    "credit_record": "fair",
    "purpose": "workshop",
}


def applicant(
    name: str = "erin", registration: dict[str, str] | None = None
) -> tuple[Member, list[str]]:
    """`name`'s pending member record (as the chain holds it) and its disclosures."""
    arguments, split = application_of(name, "consumer", registration)
    keys = key(name)
    member = Member(
        keys.address,
        keys.public_key,
        name,
        "consumer",
        "pending",
        arguments["registration"],
        arguments["registration_commitments"],
        [],
        1,
        "",
    )
    return member, split.encoded


def test_a_signed_submission_is_checked_and_opens_the_members_digests() -> None:
    member, disclosures = applicant()
    submission = sign_submission(key("erin"), CHAIN_ID, disclosures, NOW_MS)
    opened = check_submission(submission, CHAIN_ID, member, NOW_MS + 1000)
    assert sorted(opened) == ["basic_information", "credit_record", "purpose"]
    assert opened["basic_information"].value == PERSONAL[0]


def test_submissions_and_transactions_are_signed_under_different_domains() -> None:
    assert SUBMISSION_DOMAIN != SIGNING_DOMAIN
    assert not SUBMISSION_DOMAIN.startswith(SIGNING_DOMAIN)
    assert not SIGNING_DOMAIN.startswith(SUBMISSION_DOMAIN)


def refusal_of(submission: Submission, member: Member | None, now_ms: int = NOW_MS) -> str:
    with pytest.raises(RegistryRefusal) as refused:
        check_submission(submission, CHAIN_ID, member, now_ms)
    return refused.value.code


def test_a_submission_for_someone_elses_address_is_refused() -> None:
    member, disclosures = applicant()
    mallory = keypair_from_name("mallory", namespace="gridledger-tests")
    forged = sign_submission(mallory, CHAIN_ID, disclosures, NOW_MS)
    forged = Submission(member.address, forged.public_key, NOW_MS, disclosures, forged.signature)
    assert refusal_of(forged, member) == "not_your_address"


def test_a_bad_signature_another_chain_or_a_stale_timestamp_is_refused() -> None:
    member, disclosures = applicant()
    good = sign_submission(key("erin"), CHAIN_ID, disclosures, NOW_MS)
    flipped = ("0" if good.signature[0] != "0" else "1") + good.signature[1:]
    bad = Submission(good.address, good.public_key, NOW_MS, disclosures, flipped)
    assert refusal_of(bad, member) == "bad_signature"
    other_chain = sign_submission(key("erin"), "another-chain", disclosures, NOW_MS)
    assert refusal_of(other_chain, member) == "bad_signature"
    assert refusal_of(good, member, NOW_MS + MAX_CLOCK_SKEW_MS + 1) == "stale_submission"
    assert refusal_of(good, None) == "not_an_applicant"


@pytest.mark.parametrize(
    "change, code",
    [
        (lambda d: d[:-1], "disclosure_missing"),
        (lambda d: [*d, d[0]], "disclosure_repeated"),
        (
            lambda d: [*d[:-1], make_disclosure("purpose", "heat pump").encoded],
            "disclosure_mismatch",
        ),
        (
            lambda d: [*d, application_of("x", "consumer", {"notes": "n"})[1].encoded[0]],
            "disclosure_unknown_field",
        ),
        (lambda d: [*d[:-1], "bm90IGpzb24"], "disclosure_malformed"),
    ],
)
def test_disclosures_that_do_not_open_the_digests_are_refused_naming_the_case(
    change: object, code: str
) -> None:
    member, disclosures = applicant()
    assert callable(change)
    submission = sign_submission(key("erin"), CHAIN_ID, change(disclosures), NOW_MS)
    assert refusal_of(submission, member) == code


def test_approval_check_refuses_missing_and_mismatching_data(tmp_path: Path) -> None:
    registry = PersonalDataRegistry(tmp_path / REGISTRY_FILE)
    member, disclosures = applicant()
    with pytest.raises(RegistryRefusal) as missing:
        registry.check_member(member.address, member.registration_commitments)
    assert missing.value.code == "registration_missing"
    opened = check_submission(
        sign_submission(key("erin"), CHAIN_ID, disclosures, NOW_MS), CHAIN_ID, member, NOW_MS
    )
    registry.store(member.address, opened.values(), NOW_MS)
    assert sorted(registry.check_member(member.address, member.registration_commitments)) == [
        "basic_information",
        "credit_record",
        "purpose",
    ]
    # the chain's digest of one field differs from what the registry holds
    other_digest = application_of("erin", "consumer", {"purpose": "else"})[1].commitments
    changed = {**member.registration_commitments, "purpose": other_digest["purpose"]}
    with pytest.raises(RegistryRefusal) as mismatch:
        registry.check_member(member.address, changed)
    assert (mismatch.value.code, mismatch.value.values["field"]) == (
        "disclosure_mismatch",
        "purpose",
    )
    registry.close()


def test_erasure_leaves_the_personal_data_in_no_file(tmp_path: Path) -> None:
    registry = PersonalDataRegistry(tmp_path / REGISTRY_FILE)
    keep = PersonalDataRegistry(tmp_path / REGISTRY_FILE)  # the node's own connection, open
    erin, erin_disclosures = applicant("erin")
    frank, frank_disclosures = applicant("frank", FRANKS)
    for member, disclosures in ((erin, erin_disclosures), (frank, frank_disclosures)):
        submission = sign_submission(key(member.name), CHAIN_ID, disclosures, NOW_MS)
        opened = check_submission(submission, CHAIN_ID, member, NOW_MS)
        for _ in range(3):  # rewritten: old copies in the WAL and in free pages
            registry.store(member.address, opened.values(), NOW_MS)
    salts = [entry.salt for entry in registry.entries(erin.address)]
    needles = [*PERSONAL, *erin_disclosures, *salts]
    assert files_holding(tmp_path, needles), "the registry holds the data before the erasure"

    assert registry.erase(erin.address, NOW_MS + 5) == 3
    assert files_holding(tmp_path, needles) == {}
    assert registry.entries(erin.address) == []
    assert registry.erasures(erin.address) == [NOW_MS + 5]
    # the other member's data is untouched
    assert sorted(e.disclosure for e in keep.entries(frank.address)) == sorted(frank_disclosures)
    assert files_holding(tmp_path, ["7 Wind Row"]) == {"registry.sqlite": ["7 Wind Row"]}
    modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    assert REGISTRY_FILE in modes and set(modes.values()) == {0o600}  # and its -wal, -shm
    registry.close()
    keep.close()
