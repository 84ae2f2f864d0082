"""`gridledger member ...`: apply with personal data off the chain, approve only what
matches, erase it from every file, export what the community holds."""

from __future__ import annotations

import json
from pathlib import Path

from gridledger.crypto.disclosure import make_disclosure
from gridledger.node.registry import REGISTRY_FILE, PersonalDataRegistry
from tests.cli.helpers import address_of_key, fails, ok, ok_json
from tests.files import files_holding

PERSONAL = ["Grace Hopper", "3 Loom Yard", "GB-991-220", "two late payments"]
CHAIN_FILES = ("chain.sqlite", "chain.sqlite-wal", "chain.sqlite-shm")


def apply_grace(community: Path) -> str:
    ok("keys", "new", "grace", "--dir", str(community))
    ok(
        "member", "apply", "-k", "grace", "--role", "consumer",
        "--field", "customer_type=resident",
        "--field", "basic_information=Grace Hopper, 3 Loom Yard, GB-991-220",
        "--field", "credit_record=two late payments",
        "--field", "purpose=household load",
        "--dir", str(community),
    )  # fmt: skip
    return address_of_key(community, "grace")


def test_apply_keeps_personal_data_out_of_the_chain_and_in_the_registry(community: Path) -> None:
    address = apply_grace(community)
    held = files_holding(community, PERSONAL)
    assert not set(CHAIN_FILES) & set(held), held
    assert set(held) & {REGISTRY_FILE, REGISTRY_FILE + "-wal"}
    member = ok_json("show", "member", address, "--dir", str(community))
    assert member["registration"] == {"customer_type": "resident"}
    assert sorted(member["registration_commitments"]) == [
        "basic_information",
        "credit_record",
        "purpose",
    ]


def test_approval_refuses_registry_data_that_does_not_match_the_chain(community: Path) -> None:
    address = apply_grace(community)
    registry = PersonalDataRegistry(community / REGISTRY_FILE)
    honest = registry.entries(address)
    forged = make_disclosure("credit_record", "spotless")
    kept = [make_disclosure(e.field, e.value, e.salt) for e in honest if e.field != "credit_record"]
    registry.store(address, [*kept, forged], 1)
    registry.close()
    error = fails("member", "approve", "grace", "-k", "regulator", "--dir", str(community))
    assert "not approved" in error and "credit_record" in error and "does not match" in error
    member = ok_json("show", "member", address, "--dir", str(community))
    assert member["status"] == "pending"


def test_approval_refuses_an_applicant_whose_data_never_reached_the_registry(
    community: Path,
) -> None:
    ok("keys", "new", "heidi", "--dir", str(community))
    ok(
        "submit", "membership", "apply", "-k", "heidi", "--dir", str(community),
        "--args", json.dumps({
            "name": "heidi", "role": "storage",
            "registration": {"storage_capacity_wh": 9000},
            "registration_commitments": {
                "basic_information": make_disclosure("basic_information", "h").digest,
                "credit_record": make_disclosure("credit_record", "c").digest,
            },
        }),
    )  # fmt: skip
    PersonalDataRegistry(community / REGISTRY_FILE).close()
    error = fails("member", "approve", "heidi", "-k", "regulator", "--dir", str(community))
    assert "not approved" in error and "holds no personal data" in error


def test_approve_then_erase_leaves_no_byte_and_verify_stays_sound(community: Path) -> None:
    address = apply_grace(community)
    registry = PersonalDataRegistry(community / REGISTRY_FILE)
    secrets = [*PERSONAL, *(e.salt for e in registry.entries(address))]
    registry.close()
    out = ok("member", "approve", "grace", "-k", "regulator", "--dir", str(community))
    assert "match" in out
    exported = json.loads(ok("member", "export", "grace", "--dir", str(community)))
    assert exported["member"]["status"] == "active"
    values = {f["field"]: f["value"] for f in exported["registry"]["fields"]}
    assert values["credit_record"] == "two late payments"
    assert files_holding(community, secrets)

    ok("member", "erase", "grace", "--dir", str(community))
    assert files_holding(community, secrets) == {}
    assert "sound" in ok("verify", "--dir", str(community))
    exported = json.loads(ok("member", "export", "grace", "--dir", str(community)))
    assert exported["registry"]["fields"] == [] and len(exported["registry"]["erased_ms"]) == 1
    assert exported["member"]["registration_commitments"]  # the digests stay, revealing nothing


def test_personal_commands_need_the_regulators_registry(tmp_path: Path, community: Path) -> None:
    error = fails("member", "erase", "alice", "--dir", str(community))
    assert "registry.sqlite not found" in error and "regulator" in error


def test_the_same_flow_against_a_running_node(served: tuple[Path, str]) -> None:
    directory, url = served
    ok("keys", "new", "ivan", "--dir", str(directory))
    ok(
        "member", "apply", "-k", "ivan", "--role", "storage", "--url", url,
        "--field", "storage_capacity_wh=13500",
        "--field", "basic_information=Ivan Petrov, 8 Dock Road",
        "--field", "credit_record=thin file",
        "--dir", str(directory),
    )  # fmt: skip
    secrets = ["Ivan Petrov", "8 Dock Road", "thin file"]
    held = files_holding(directory, secrets)
    assert held and not set(CHAIN_FILES) & set(held), held
    ok("member", "approve", "ivan", "-k", "regulator", "--url", url, "--dir", str(directory))
    ok("member", "erase", "ivan", "--dir", str(directory))  # while the node has the file open
    assert files_holding(directory, secrets) == {}
    member = ok_json(
        "show", "member", "ivan", "--url", url, "--dir", str(directory), "-k", "regulator"
    )
    assert (member["status"], member["registration"]) == (
        "active",
        {"storage_capacity_wh": 13500},
    )
