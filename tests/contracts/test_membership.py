"""The membership contract: applications (seed 003 Tables 1–2), the regulator's decisions,
exits, meter binding, and that only active members transact."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from gridledger.contracts.membership import (
    APPLICABLE_ROLES,
    MAX_REGISTRATION_FIELDS,
    MAX_TEXT,
    REQUIRED_REGISTRATION,
    member_of_meter,
    read_member,
    roster,
)
from gridledger.ledger import ResultCode, encode, read_nonce, validate_transaction
from tests.community import (
    CHAIN_ID,
    FOUNDERS,
    REGISTRATIONS,
    Community,
    address,
    application_of,
    key,
    make_genesis,
    meter_key_hex,
)

SMALL_ORDER_KEY_HEX = "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"


@pytest.fixture
def community() -> Community:
    return Community.create()


def apply_args(name: str, role: str, registration: dict[str, Any]) -> dict[str, Any]:
    return application_of(name, role, registration)[0]


# --- founders ---------------------------------------------------------------------------------


def test_founders_are_active_with_their_roles_and_the_roster_is_sorted(
    community: Community,
) -> None:
    for name, (role, _) in FOUNDERS.items():
        member = community.member(name)
        assert member is not None
        assert (member.name, member.role, member.status) == (name, role, "active")
        assert member.public_key == key(name).public_key
        assert member.address == address(name)
        assert member.since_height == 0
    listed = roster(community.state)
    assert listed == sorted(address(name) for name in FOUNDERS)


def test_genesis_meters_are_bound_to_their_founder(community: Community) -> None:
    meter = meter_key_hex("alice-meter-1")
    assert member_of_meter(community.state, meter) == address("alice")
    alice = community.member("alice")
    assert alice is not None and alice.meter_keys == [meter]


# --- applying (seed 003 Tables 1–2) -----------------------------------------------------------


@pytest.mark.parametrize("role", APPLICABLE_ROLES)
def test_a_household_applies_with_its_role_and_registration(
    community: Community, role: str
) -> None:
    receipt = community.apply_as("erin", role)
    assert receipt.ok, receipt.message
    member = community.member("erin")
    assert member is not None
    assert (member.role, member.status, member.name) == (role, "pending", "erin")
    _, split = application_of("erin", role)
    assert member.registration == split.technical
    assert member.registration_commitments == split.commitments
    assert set(split.commitments) == {"basic_information", "credit_record"} | (
        {"purpose"} if role == "consumer" else set()
    )
    assert "basic_information" not in member.registration
    assert member.since_height == community.head.height
    assert address("erin") in roster(community.state)
    assert roster(community.state) == sorted(roster(community.state))
    [event] = receipt.events
    assert (event.contract, event.name) == ("membership", "applied")
    assert event.attributes == {"address": address("erin"), "role": role, "name": "erin"}


def test_required_registration_follows_seed_003_tables() -> None:
    # Table 1 (buyers): customer type, basic information, credit record, purpose
    assert set(REQUIRED_REGISTRATION["consumer"]) == {
        "customer_type",
        "basic_information",
        "credit_record",
        "purpose",
    }
    # Table 2 (sellers): generation type, basic information, installed capacity, credit record
    for seller in ("producer", "prosumer"):
        assert set(REQUIRED_REGISTRATION[seller]) == {
            "generation_type",
            "basic_information",
            "installed_capacity_w",
            "credit_record",
        }
    assert "operator" not in APPLICABLE_ROLES and "regulator" not in APPLICABLE_ROLES


MISSING_FIELD_CASES = [
    (role, field) for role, fields in REQUIRED_REGISTRATION.items() for field in fields
]


@pytest.mark.parametrize("role, field", MISSING_FIELD_CASES)
def test_an_application_missing_a_required_field_is_refused_naming_it(
    community: Community, role: str, field: str
) -> None:
    registration = {k: v for k, v in REGISTRATIONS[role].items() if k != field}
    receipt = community.apply_as("erin", role, registration)
    assert receipt.code == ResultCode.REGISTRATION_INCOMPLETE
    assert field in receipt.message and role in receipt.message
    assert receipt.details == {"role": role, "missing": field}
    assert community.member("erin") is None
    assert community.nonce("erin") == 1  # the refusal consumed the nonce


@pytest.mark.parametrize(
    "role, registration_change, fragment",
    [
        ("prosumer", {"installed_capacity_w": 0}, "installed_capacity_w must be a positive"),
        ("producer", {"installed_capacity_w": -5}, "installed_capacity_w must be a positive"),
        ("prosumer", {"installed_capacity_w": "5 kW"}, "installed_capacity_w must be a positive"),
        ("storage", {"storage_capacity_wh": 0}, "storage_capacity_wh must be a positive"),
        ("consumer", {"customer_type": ["a", "list"]}, "customer_type must be text or an"),
        ("producer", {"generation_type": True}, "generation_type must be text or an integer"),
        ("consumer", {"customer_type": "x" * (MAX_TEXT + 1)}, f"over {MAX_TEXT} characters"),
    ],
)
def test_bad_registration_values_are_refused(
    community: Community, role: str, registration_change: dict[str, Any], fragment: str
) -> None:
    registration = {**REGISTRATIONS[role], **registration_change}
    receipt = community.apply_as("erin", role, registration)
    assert receipt.code == ResultCode.INVALID_REGISTRATION_FIELD
    assert fragment in receipt.message
    assert receipt.details["field"] == next(iter(registration_change))
    assert community.member("erin") is None


def test_a_registration_with_too_many_fields_is_refused(community: Community) -> None:
    registration_change = {f"extra_{i}": i for i in range(MAX_REGISTRATION_FIELDS)}
    registration = {**REGISTRATIONS["consumer"], **registration_change}
    receipt = community.apply_as("erin", "consumer", registration)
    assert receipt.code == ResultCode.REGISTRATION_TOO_LARGE
    assert f"at most {MAX_REGISTRATION_FIELDS}" in receipt.message
    assert receipt.details == {
        "fields": len(registration),
        "maximum_fields": MAX_REGISTRATION_FIELDS,
    }
    assert community.member("erin") is None


def test_longest_text_and_most_fields_are_accepted(community: Community) -> None:
    registration = {**REGISTRATIONS["consumer"], "purpose": "x" * MAX_TEXT}
    registration.update(
        {f"extra_{i}": i for i in range(MAX_REGISTRATION_FIELDS - len(registration))}
    )
    assert len(registration) == MAX_REGISTRATION_FIELDS
    receipt = community.apply_as("erin", "consumer", registration)
    assert receipt.ok, receipt.message


@pytest.mark.parametrize("field", ["basic_information", "credit_record", "purpose", "notes"])
def test_personal_data_in_the_clear_is_refused_and_stays_out_of_state(
    community: Community, field: str
) -> None:
    arguments = apply_args("erin", "consumer", REGISTRATIONS["consumer"])
    arguments["registration"] = {**arguments["registration"], field: "Flat 3, 12 Grid Street"}
    receipt = community.run("erin", "membership", "apply", arguments)
    assert receipt.code == ResultCode.PERSONAL_DATA_ON_CHAIN
    assert f"registration.{field} is personal data" in receipt.message
    assert receipt.details == {"field": field}
    assert community.member("erin") is None
    assert not any(b"12 Grid Street" in value for _, value in community.state.items())


@pytest.mark.parametrize(
    "commitments, field, fragment",
    [
        ({"basic_information": "too-short"}, "basic_information", "must be a SHA-256 digest"),
        ({"basic_information": "+" * 43}, "basic_information", "must be a SHA-256 digest"),
        ({"Basic Information": "A" * 43}, "Basic Information", "lower-case words"),
        ({"installed_capacity_w": "A" * 43}, "installed_capacity_w", "is a technical field"),
    ],
)
def test_malformed_commitments_are_refused_naming_the_field(
    community: Community, commitments: dict[str, str], field: str, fragment: str
) -> None:
    arguments = apply_args("erin", "consumer", REGISTRATIONS["consumer"])
    arguments["registration_commitments"] = {**arguments["registration_commitments"], **commitments}
    receipt = community.run("erin", "membership", "apply", arguments)
    assert receipt.code == ResultCode.INVALID_COMMITMENT
    assert fragment in receipt.message
    assert receipt.details["field"] == field
    assert community.member("erin") is None


@pytest.mark.parametrize("role", ["operator", "regulator", "landlord", ""])
def test_roles_that_cannot_be_applied_for_are_refused(community: Community, role: str) -> None:
    receipt = community.run(
        "erin", "membership", "apply", apply_args("erin", role, REGISTRATIONS["consumer"])
    )
    assert receipt.code == ResultCode.ROLE_NOT_APPLICABLE
    assert repr(role) in receipt.message
    assert community.member("erin") is None


@pytest.mark.parametrize("name", ["", "x" * 101])
def test_names_must_be_1_to_100_characters(community: Community, name: str) -> None:
    receipt = community.run(
        "erin", "membership", "apply", apply_args(name, "consumer", REGISTRATIONS["consumer"])
    )
    assert receipt.code == ResultCode.TEXT_LENGTH_OUT_OF_RANGE
    assert "1 to 100" in receipt.message


def test_an_applicant_cannot_apply_twice_while_pending(community: Community) -> None:
    assert community.apply_as("erin", "consumer").ok
    receipt = community.apply_as("erin", "prosumer")
    assert receipt.code == ResultCode.APPLICATION_PENDING
    assert "already has an application pending" in receipt.message
    member = community.member("erin")
    assert member is not None and member.role == "consumer"


def test_an_active_member_cannot_apply_again(community: Community) -> None:
    receipt = community.apply_as("alice", "consumer")
    assert receipt.code == ResultCode.APPLICATION_EXISTS
    assert "already active" in receipt.message
    alice = community.member("alice")
    assert alice is not None and alice.role == "prosumer"


# --- the regulator decides --------------------------------------------------------------------


def test_the_regulator_approves_a_pending_applicant(community: Community) -> None:
    assert community.apply_as("erin", "storage").ok
    receipt = community.run("regulator", "membership", "approve", {"address": address("erin")})
    assert receipt.ok, receipt.message
    member = community.member("erin")
    assert member is not None
    assert member.status == "active"
    assert member.since_height == community.head.height
    [event] = receipt.events
    assert event.name == "active"
    assert event.attributes["address"] == address("erin")
    assert event.attributes["by"] == address("regulator")
    # now a member: erin can transact
    transfer = community.run(
        "erin", "tokens", "transfer", {"to": address("bob"), "amount_micro": 1}
    )
    assert transfer.code == ResultCode.INSUFFICIENT_FUNDS  # reached the contract: a member


@pytest.mark.parametrize("decider", ["operator", "alice", "carol"])
@pytest.mark.parametrize("method", ["approve", "reject", "revoke"])
def test_only_the_regulator_decides(community: Community, decider: str, method: str) -> None:
    assert community.apply_as("erin", "consumer").ok
    target = address("erin") if method != "revoke" else address("dave")
    before = dict(community.state.items())
    receipt = community.run(decider, "membership", method, {"address": target, "reason": "why"})
    assert receipt.code == ResultCode.NOT_AUTHORISED
    assert address(decider) in receipt.message
    assert FOUNDERS[decider][0] in receipt.message
    changed = {k for k, v in community.state.items() if before.get(k) != v}
    assert changed == {("ledger", f"nonce/{address(decider)}")}


def test_an_outsider_cannot_decide(community: Community) -> None:
    assert community.apply_as("erin", "consumer").ok
    receipt = community.run("frank", "membership", "approve", {"address": address("erin")})
    assert receipt.code == ResultCode.NOT_A_MEMBER
    erin = community.member("erin")
    assert erin is not None and erin.status == "pending"


def test_the_regulator_rejects_with_a_reason(community: Community) -> None:
    assert community.apply_as("erin", "consumer").ok
    no_reason = community.run("regulator", "membership", "reject", {"address": address("erin")})
    assert no_reason.code == ResultCode.REASON_REQUIRED
    assert "needs a reason" in no_reason.message
    receipt = community.run(
        "regulator", "membership", "reject", {"address": address("erin"), "reason": "bad credit"}
    )
    assert receipt.ok, receipt.message
    member = community.member("erin")
    assert member is not None
    assert (member.status, member.reason) == ("rejected", "bad credit")
    # a rejected applicant cannot transact but may apply again
    assert (
        community.run("erin", "tokens", "transfer", {"to": address("bob"), "amount_micro": 1}).code
        == ResultCode.NOT_A_MEMBER
    )
    assert community.apply_as("erin", "consumer").ok


@pytest.mark.parametrize(
    "target, fragment, expected",
    [
        ("not-an-address", "is not an address", ResultCode.INVALID_ADDRESS),
        (address("frank"), "has not applied", ResultCode.UNKNOWN_APPLICANT),
        (address("alice"), "is active, not pending", ResultCode.MEMBER_STATUS_MISMATCH),
    ],
)
def test_approve_needs_a_pending_applicant(
    community: Community, target: str, fragment: str, expected: ResultCode
) -> None:
    receipt = community.run("regulator", "membership", "approve", {"address": target})
    assert receipt.code == expected
    assert fragment in receipt.message


def test_the_regulator_revokes_an_active_member(community: Community) -> None:
    no_reason = community.run("regulator", "membership", "revoke", {"address": address("dave")})
    assert no_reason.code == ResultCode.REASON_REQUIRED and "needs a reason" in no_reason.message
    receipt = community.run(
        "regulator", "membership", "revoke", {"address": address("dave"), "reason": "meter fraud"}
    )
    assert receipt.ok, receipt.message
    dave = community.member("dave")
    assert dave is not None and (dave.status, dave.reason) == ("revoked", "meter fraud")
    refused = community.run("dave", "tokens", "transfer", {"to": address("bob"), "amount_micro": 1})
    assert refused.code == ResultCode.NOT_A_MEMBER
    assert "revoked" in refused.message
    # a revoked member cannot come back by applying again
    again = community.apply_as("dave", "consumer")
    assert again.code == ResultCode.APPLICATION_EXISTS and "already revoked" in again.message
    # and cannot be paid
    payment = community.run(
        "carol", "tokens", "transfer", {"to": address("dave"), "amount_micro": 1}
    )
    assert payment.code == ResultCode.MEMBER_NOT_ACTIVE and "revoked" in payment.message


def test_the_regulator_cannot_revoke_itself(community: Community) -> None:
    receipt = community.run(
        "regulator", "membership", "revoke", {"address": address("regulator"), "reason": "x"}
    )
    assert receipt.code == ResultCode.SELF_REVOCATION
    assert "cannot revoke itself" in receipt.message
    regulator = community.member("regulator")
    assert regulator is not None and regulator.status == "active"


def test_revoking_a_pending_applicant_is_refused(community: Community) -> None:
    assert community.apply_as("erin", "consumer").ok
    receipt = community.run(
        "regulator", "membership", "revoke", {"address": address("erin"), "reason": "x"}
    )
    assert receipt.code == ResultCode.MEMBER_STATUS_MISMATCH
    assert "pending, not active" in receipt.message


# --- exit -------------------------------------------------------------------------------------


def test_a_member_exits_and_can_no_longer_transact(community: Community) -> None:
    receipt = community.run("carol", "membership", "exit", {"reason": "moving"})
    assert receipt.ok, receipt.message
    carol = community.member("carol")
    assert carol is not None and (carol.status, carol.reason) == ("exited", "moving")
    again = community.run("carol", "membership", "exit", {})
    assert again.code == ResultCode.NOT_A_MEMBER
    assert "exited" in again.message
    # an exited member may apply to come back
    assert community.apply_as("carol", "consumer").ok


def test_the_last_regulator_cannot_exit(community: Community) -> None:
    receipt = community.run("regulator", "membership", "exit", {})
    assert receipt.code == ResultCode.LAST_REGULATOR
    assert "last regulator" in receipt.message
    regulator = community.member("regulator")
    assert regulator is not None and regulator.status == "active"


def test_a_regulator_may_exit_while_another_is_active() -> None:
    founders = {**FOUNDERS, "regulator2": ("regulator", 0)}
    community = Community.create(make_genesis(founders=founders))
    assert community.run("regulator", "membership", "exit", {}).ok
    receipt = community.run("regulator2", "membership", "exit", {})
    assert receipt.code == ResultCode.LAST_REGULATOR
    assert "last regulator" in receipt.message


def test_a_revoked_regulator_does_not_count_as_another_regulator() -> None:
    founders = {**FOUNDERS, "regulator2": ("regulator", 0)}
    community = Community.create(make_genesis(founders=founders))
    revoke = community.run(
        "regulator", "membership", "revoke", {"address": address("regulator2"), "reason": "x"}
    )
    assert revoke.ok, revoke.message
    receipt = community.run("regulator", "membership", "exit", {})
    assert receipt.code == ResultCode.LAST_REGULATOR


# --- meters -----------------------------------------------------------------------------------


@pytest.mark.parametrize("installer", ["operator", "regulator"])
def test_the_operator_or_regulator_binds_a_meter(community: Community, installer: str) -> None:
    meter = meter_key_hex("carol-meter")
    receipt = community.run(
        installer, "membership", "bind_meter", {"member": address("carol"), "meter_key": meter}
    )
    assert receipt.ok, receipt.message
    assert member_of_meter(community.state, meter) == address("carol")
    carol = community.member("carol")
    assert carol is not None and carol.meter_keys == [meter]
    [event] = receipt.events
    assert event.name == "meter_bound"
    assert event.attributes == {"member": address("carol"), "meter_key": meter}


def test_meter_keys_are_stored_in_lower_case(community: Community) -> None:
    meter = meter_key_hex("carol-meter")
    receipt = community.run(
        "operator",
        "membership",
        "bind_meter",
        {"member": address("carol"), "meter_key": meter.upper()},
    )
    assert receipt.ok, receipt.message
    assert member_of_meter(community.state, meter) == address("carol")
    again = community.run(
        "operator", "membership", "bind_meter", {"member": address("dave"), "meter_key": meter}
    )
    assert again.code == ResultCode.METER_ALREADY_BOUND


@pytest.mark.parametrize("installer", ["alice", "carol"])
def test_members_cannot_bind_meters(community: Community, installer: str) -> None:
    meter = meter_key_hex("carol-meter")
    receipt = community.run(
        installer, "membership", "bind_meter", {"member": address(installer), "meter_key": meter}
    )
    assert receipt.code == ResultCode.NOT_AUTHORISED
    assert member_of_meter(community.state, meter) is None


@pytest.mark.parametrize(
    "meter_key, fragment",
    [
        (SMALL_ORDER_KEY_HEX, "small order"),
        ("00" * 32, "small order"),
        ("ab" * 31, "length 31"),
        ("not hex at all", "not hex"),
    ],
)
def test_unusable_meter_keys_are_refused(
    community: Community, meter_key: str, fragment: str
) -> None:
    before = dict(community.state.items())
    receipt = community.run(
        "operator", "membership", "bind_meter", {"member": address("carol"), "meter_key": meter_key}
    )
    assert receipt.code == ResultCode.INVALID_METER_KEY
    assert fragment in receipt.message
    after = dict(community.state.items())
    assert {k for k in after if before.get(k) != after[k]} == {
        ("ledger", f"nonce/{address('operator')}")
    }


@pytest.mark.parametrize("second_owner", ["carol", "dave"])
def test_a_meter_key_cannot_be_bound_twice(community: Community, second_owner: str) -> None:
    meter = meter_key_hex("carol-meter")
    first = community.run(
        "operator", "membership", "bind_meter", {"member": address("carol"), "meter_key": meter}
    )
    assert first.ok
    receipt = community.run(
        "operator",
        "membership",
        "bind_meter",
        {"member": address(second_owner), "meter_key": meter},
    )
    assert receipt.code == ResultCode.METER_ALREADY_BOUND
    assert meter in receipt.message and address("carol") in receipt.message
    assert member_of_meter(community.state, meter) == address("carol")
    owner = community.member(second_owner)
    assert owner is not None
    assert owner.meter_keys == ([meter] if second_owner == "carol" else [])


def test_a_genesis_meter_cannot_be_bound_again(community: Community) -> None:
    receipt = community.run(
        "operator",
        "membership",
        "bind_meter",
        {"member": address("bob"), "meter_key": meter_key_hex("alice-meter-1")},
    )
    assert receipt.code == ResultCode.METER_ALREADY_BOUND
    assert address("alice") in receipt.message


def test_unbinding_frees_a_meter_for_another_member(community: Community) -> None:
    meter = meter_key_hex("alice-meter-1")
    receipt = community.run("regulator", "membership", "unbind_meter", {"meter_key": meter})
    assert receipt.ok, receipt.message
    assert member_of_meter(community.state, meter) is None
    alice = community.member("alice")
    assert alice is not None and alice.meter_keys == []
    [event] = receipt.events
    assert event.attributes == {"member": address("alice"), "meter_key": meter}
    rebound = community.run(
        "operator", "membership", "bind_meter", {"member": address("bob"), "meter_key": meter}
    )
    assert rebound.ok, rebound.message
    assert member_of_meter(community.state, meter) == address("bob")


def test_unbinding_an_unknown_meter_is_refused(community: Community) -> None:
    meter = meter_key_hex("nobody's meter")
    receipt = community.run("operator", "membership", "unbind_meter", {"meter_key": meter})
    assert receipt.code == ResultCode.METER_NOT_BOUND
    assert "not bound" in receipt.message


def test_members_cannot_unbind_meters(community: Community) -> None:
    meter = meter_key_hex("alice-meter-1")
    receipt = community.run("alice", "membership", "unbind_meter", {"meter_key": meter})
    assert receipt.code == ResultCode.NOT_AUTHORISED
    assert member_of_meter(community.state, meter) == address("alice")


def test_a_meter_cannot_be_bound_to_a_member_who_is_not_active(community: Community) -> None:
    assert community.apply_as("erin", "prosumer").ok
    meter = meter_key_hex("erin-meter")
    receipt = community.run(
        "operator", "membership", "bind_meter", {"member": address("erin"), "meter_key": meter}
    )
    assert receipt.code == ResultCode.MEMBER_NOT_ACTIVE
    assert address("erin") in receipt.message and "pending" in receipt.message
    assert receipt.details == {"address": address("erin"), "member_status": "pending"}
    assert member_of_meter(community.state, meter) is None


def test_a_refused_meter_binding_cannot_be_replayed_later(community: Community) -> None:
    assert community.apply_as("erin", "prosumer").ok
    meter = meter_key_hex("erin-meter")
    bind = community.tx(
        "operator", "membership", "bind_meter", {"member": address("erin"), "meter_key": meter}
    )
    _, refused = community.commit([bind])
    assert refused.receipts[0].code == ResultCode.MEMBER_NOT_ACTIVE
    assert community.run("regulator", "membership", "approve", {"address": address("erin")}).ok
    _, replayed = community.commit([bind])  # anyone holding the old bytes can resubmit them
    assert replayed.receipts[0].code == ResultCode.NONCE_MISMATCH
    assert member_of_meter(community.state, meter) is None


def test_a_genesis_meter_in_upper_case_cannot_be_bound_twice() -> None:
    genesis = make_genesis()
    alice_index = next(i for i, m in enumerate(genesis.members) if m.name == "alice")
    members = list(genesis.members)
    meter = meter_key_hex("alice-meter-1")
    members[alice_index] = msgspec.structs.replace(members[alice_index], meter_keys=[meter.upper()])
    community = Community.create(msgspec.structs.replace(genesis, members=members))
    receipt = community.run(
        "operator", "membership", "bind_meter", {"member": address("bob"), "meter_key": meter}
    )
    assert receipt.code == ResultCode.METER_ALREADY_BOUND


# --- only active members transact -------------------------------------------------------------


def test_anyone_may_apply_but_only_members_call_anything_else(community: Community) -> None:
    raw = community.tx("frank", "membership", "exit", {})
    validate_transaction(raw, CHAIN_ID)
    _, execution = community.commit([raw])
    assert execution.receipts[0].code == ResultCode.NOT_A_MEMBER
    assert read_nonce(community.state, address("frank")) == 0
    assert community.apply_as("frank", "consumer").ok
    assert read_nonce(community.state, address("frank")) == 1
    assert community.state.get("ledger", f"nonce/{address('frank')}") == encode(1)


def test_a_pending_member_is_named_with_its_status(community: Community) -> None:
    assert community.apply_as("erin", "consumer").ok
    receipt = community.run("erin", "membership", "exit", {})
    assert receipt.code == ResultCode.NOT_A_MEMBER
    assert address("erin") in receipt.message and "pending" in receipt.message
    member = read_member(community.state, address("erin"))
    assert member is not None and member.status == "pending"
