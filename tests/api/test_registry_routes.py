"""``POST /v1/registry/applications`` against a real node on a chain file: personal data
reaches the registry, never the chain files, and hostile submissions get specific 4xx."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from gridledger.api.server import BackgroundServer
from gridledger.client import HttpClient, Wallet
from gridledger.client.replies import TransactionReply
from gridledger.crypto import KeyPair, keypair_from_name
from gridledger.crypto.disclosure import make_disclosure
from gridledger.node import CutterConfig, Node, SQLiteStorage
from gridledger.node.registry import (
    MAX_SUBMISSION_BYTES,
    REGISTRY_FILE,
    PersonalDataRegistry,
    sign_submission,
)
from tests.community import CHAIN_ID, application_of, key, make_genesis
from tests.files import files_holding
from tests.signing import signer

REGISTRATION = {
    "generation_type": "solar",
    "installed_capacity_w": 4800,
    "basic_information": "Erin Example, 12 Mill Lane, ID 4471-0923",
    "credit_record": "no defaults since 2019",
}
PERSONAL = ["Erin Example", "12 Mill Lane", "4471-0923", "no defaults since 2019"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Node, Path]]:
    directory = tmp_path_factory.mktemp("registry")
    node = Node.create(
        SQLiteStorage(directory / "chain.sqlite"), make_genesis(), cutter=CutterConfig(timeout_ms=5)
    )
    server = BackgroundServer(node)
    url = server.start()
    try:
        yield url, node, directory
    finally:
        server.stop()
        node.close()


@pytest.fixture
def http(served: tuple[str, Node, Path]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served[0], timeout=30, auth=signer()) as client:
        yield client  # reads are signed (as the regulator); the submission needs no more


def applied(url: str, name: str, registration: dict[str, Any]) -> tuple[KeyPair, list[str]]:
    """`name` applies (digests on the chain); its key and disclosures."""
    arguments, split = application_of(name, "prosumer", registration)
    keys = keypair_from_name(name, namespace="gridledger-tests")
    with HttpClient(url) as client:
        receipt = Wallet(keys, client).call("membership", "apply", arguments)
    assert isinstance(receipt, TransactionReply) and receipt.code == 0, receipt
    return keys, split.encoded


def body(keys: KeyPair, disclosures: list[str], **changes: Any) -> dict[str, Any]:
    signed = msgspec.to_builtins(
        sign_submission(keys, CHAIN_ID, disclosures, time.time_ns() // 1_000_000)
    )
    return {**signed, **changes}


def test_the_personal_data_reaches_the_registry_and_never_the_chain_files(
    served: tuple[str, Node, Path], http: httpx.Client
) -> None:
    url, _, directory = served
    keys, disclosures = applied(url, "erin", REGISTRATION)
    answer = http.post("/v1/registry/applications", json=body(keys, disclosures))
    assert answer.status_code == 201, answer.text
    assert answer.json()["fields"] == ["basic_information", "credit_record"]
    chain_files = {"chain.sqlite", "chain.sqlite-wal", "chain.sqlite-shm"}
    assert (directory / "chain.sqlite-wal").stat().st_size > 0  # the open node's log is checked
    held = files_holding(directory, PERSONAL)
    assert not chain_files & set(held), held
    assert set(held) & {REGISTRY_FILE, REGISTRY_FILE + "-wal"}, "the registry holds it"
    member = http.get(f"/v1/members/{keys.address}").json()
    assert member["registration"] == {"generation_type": "solar", "installed_capacity_w": 4800}
    assert set(member["registration_commitments"]) == {"basic_information", "credit_record"}
    assert not any(text in json.dumps(member) for text in PERSONAL)
    assert not any(text in http.get("/v1/members").text for text in PERSONAL)
    registry = PersonalDataRegistry(directory / REGISTRY_FILE)
    try:
        commitments = member["registration_commitments"]
        opened = registry.check_member(keys.address, commitments)
        assert opened["basic_information"].value == REGISTRATION["basic_information"]
    finally:
        registry.close()


def refusal(answer: httpx.Response) -> tuple[int, str]:
    return answer.status_code, answer.json()["error"]


def test_a_bad_signature_is_401(served: tuple[str, Node, Path], http: httpx.Client) -> None:
    keys, disclosures = applied(served[0], "frank", {**REGISTRATION, "credit_record": "f"})
    good = body(keys, disclosures)
    bad = {
        **good,
        "signature": ("00" if good["signature"][:2] != "00" else "11") + good["signature"][2:],
    }
    assert refusal(http.post("/v1/registry/applications", json=bad)) == (401, "bad_signature")
    stale = msgspec.to_builtins(sign_submission(keys, CHAIN_ID, disclosures, 1_000))
    assert refusal(http.post("/v1/registry/applications", json=stale)) == (
        401,
        "stale_submission",
    )


def test_someone_elses_address_is_403(served: tuple[str, Node, Path], http: httpx.Client) -> None:
    keys, disclosures = applied(served[0], "mallory", {**REGISTRATION, "credit_record": "m"})
    signed = body(key("alice"), disclosures)
    answer = http.post("/v1/registry/applications", json={**signed, "address": keys.address})
    assert refusal(answer) == (403, "not_your_address")


def test_an_address_that_never_applied_is_404(http: httpx.Client) -> None:
    outsider = keypair_from_name("nobody", namespace="gridledger-tests")
    disclosure = make_disclosure("basic_information", "x").encoded
    answer = http.post("/v1/registry/applications", json=body(outsider, [disclosure]))
    assert refusal(answer) == (404, "not_an_applicant")


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda b: {**b, "comment": "hi"}, (422, "invalid_request")),
        (lambda b: {k: v for k, v in b.items() if k != "signature"}, (422, "invalid_request")),
        (lambda b: {**b, "disclosures": [[["deep"]]]}, (422, "invalid_request")),
        (lambda b: {**b, "disclosures": "x" * (MAX_SUBMISSION_BYTES + 1)}, (413, "oversized")),
        (lambda b: {**b, "disclosures": ["a"] * 40}, (413, "too_many_disclosures")),
        (lambda b: {**b, "public_key": "zz"}, (400, "invalid_request")),
    ],
)
def test_malformed_bodies_are_refused_with_specific_codes(
    http: httpx.Client, make: Any, expected: tuple[int, str]
) -> None:
    signed = body(key("alice"), [make_disclosure("basic_information", "x").encoded])
    answer = http.post("/v1/registry/applications", json=make(signed))
    assert refusal(answer) == expected


def test_deeply_nested_json_is_refused_not_crashed(http: httpx.Client) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    answer = http.post(
        "/v1/registry/applications",
        content=deep[: MAX_SUBMISSION_BYTES - 1],
        headers={"content-type": "application/json"},
    )
    assert refusal(answer) == (422, "invalid_request")


def test_disclosures_that_do_not_match_the_chain_are_refused_naming_the_field(
    served: tuple[str, Node, Path], http: httpx.Client
) -> None:
    keys, disclosures = applied(served[0], "carol-two", {**REGISTRATION, "credit_record": "c"})
    other = make_disclosure("credit_record", "excellent").encoded
    cases = {
        "disclosure_mismatch": [disclosures[0], other],
        "disclosure_missing": disclosures[:1],
        "disclosure_unknown_field": [*disclosures, make_disclosure("notes", "x").encoded],
    }
    for code, sent in cases.items():
        answer = http.post("/v1/registry/applications", json=body(keys, sent))
        assert refusal(answer) == (422, code), answer.text
        assert answer.json()["field"] in {"credit_record", "notes"}


def test_an_application_with_personal_data_in_the_clear_is_refused_before_any_block(
    served: tuple[str, Node, Path], http: httpx.Client
) -> None:
    url, _, directory = served
    keys = keypair_from_name("careless", namespace="gridledger-tests")
    careless = {"name": "careless", "role": "prosumer", "registration": REGISTRATION}
    with HttpClient(url) as client:
        raw = Wallet(keys, client).sign("membership", "apply", careless)
    answer = http.post("/v1/transactions", json={"transaction": raw.hex()})
    assert refusal(answer) == (422, "personal_data_on_chain")
    assert answer.json()["field"] == "basic_information"
    held = files_holding(directory, PERSONAL)
    assert not {"chain.sqlite", "chain.sqlite-wal", "chain.sqlite-shm"} & set(held), held
