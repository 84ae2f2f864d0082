"""Admission keeps out of every block what a key that is no member sends (issue 16, defect 5).

A key that is no active member has nothing written but a well-formed application, one
pending at a time, or the reading of the meter it is bound as; everything else is refused
before the mempool, so it costs the node no block space and changes no state. Active
members' transactions go through as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gridledger.contracts.errors import TextLengthOutOfRange
from gridledger.contracts.membership_errors import (
    ApplicationExists,
    ApplicationPending,
    PersonalDataOnChain,
    RegistrationIncomplete,
    RoleNotApplicable,
)
from gridledger.crypto import keypair_from_name
from gridledger.ledger import InvalidArguments, NotAMember, ResultCode, TransactionError
from gridledger.node import Node
from tests.community import (
    GENESIS_TIME_MS,
    NEXT_PERIOD,
    address,
    application_of,
    make_genesis,
    meter_key_hex,
    order_args,
    period_start_s,
    reading_args,
    signed_raw,
)

T1 = GENESIS_TIME_MS + 1_000
IN_WINDOW_MS = (period_start_s(NEXT_PERIOD + 1) + 10) * 1000
"""A time inside the meter window of `NEXT_PERIOD`."""


@pytest.fixture
def node() -> Iterator[Node]:
    opened = Node.in_memory(make_genesis())
    yield opened
    opened.close()


def refused(node: Node, raw: bytes) -> TransactionError:
    """Submit `raw`, expecting a refusal at admission that leaves the mempool as it was."""
    before = len(node.mempool)
    [admission] = node.submit_many([raw])
    assert isinstance(admission.error, TransactionError), admission
    assert len(node.mempool) == before
    return admission.error


def application(
    who: str, base_role: str = "consumer", changes: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A complete application of `who` for `base_role`, with `changes` to its arguments."""
    arguments, _ = application_of(who, base_role)
    return {**arguments, **(changes or {})}


MEMBER_CALLS = [
    ("tokens", "transfer", {"to": address("bob"), "amount_micro": 1}),
    ("market", "place_order", order_args("sell", 1000, 800_000, NEXT_PERIOD)),
    ("market", "cancel_order", {"order_id": "1-0"}),
    ("membership", "approve", {"address": address("erin")}),
    ("membership", "exit", {}),
    ("metering", "anchor_batch", {"sha256": "00" * 32, "label": "x"}),
    ("settlement", "settle", {"period": NEXT_PERIOD}),
]


@pytest.mark.parametrize(("contract", "method", "args"), MEMBER_CALLS)
def test_a_non_member_call_is_refused_before_the_mempool(
    node: Node, contract: str, method: str, args: dict[str, Any]
) -> None:
    error = refused(node, signed_raw("mallory", 0, contract, method, args))
    assert isinstance(error, NotAMember) and error.status == "unknown"
    assert node.cut_block(T1) is None, "nothing to write"


def test_fresh_keys_write_nothing_however_many(node: Node) -> None:
    raws = [
        signed_raw(keypair_from_name(f"fresh-{i}", "admission"), 0, *MEMBER_CALLS[i % 7])
        for i in range(50)
    ]
    admissions = node.submit_many(raws)
    assert all(isinstance(a.error, NotAMember) for a in admissions)
    assert len(node.mempool) == 0 and node.cut_block(T1) is None
    assert node.head.height == 0


def test_an_applicant_has_one_application_pending_at_a_time(node: Node) -> None:
    node.submit(signed_raw("erin", 0, "membership", "apply", application("erin")))
    # admitted and not yet in a block: a second one (next nonce) is refused
    second = refused(node, signed_raw("erin", 1, "membership", "apply", application("erin")))
    assert isinstance(second, ApplicationPending) and second.code == ResultCode.APPLICATION_PENDING
    committed = node.cut_block(T1)
    assert committed is not None and committed.receipts[0].ok
    # pending on the chain: still refused, and a non-member's other calls too
    third = refused(node, signed_raw("erin", 1, "membership", "apply", application("erin")))
    assert isinstance(third, ApplicationPending)
    transfer = signed_raw("erin", 1, *MEMBER_CALLS[0])
    assert isinstance(refused(node, transfer), NotAMember)
    # once the regulator decides, a rejected key may apply again
    node.submit(
        signed_raw(
            "regulator", 0, "membership", "reject", {"address": address("erin"), "reason": "no"}
        )
    )
    assert node.cut_block(T1 + 1) is not None
    node.submit(signed_raw("erin", 1, "membership", "apply", application("erin", "prosumer")))
    again = node.cut_block(T1 + 2)
    assert again is not None and again.receipts[0].ok


def test_a_batch_holds_one_application_per_key(node: Node) -> None:
    raws = [signed_raw("erin", n, "membership", "apply", application("erin")) for n in range(5)]
    admissions = node.submit_many(raws)
    assert admissions[0].error is None
    assert all(isinstance(a.error, ApplicationPending) for a in admissions[1:])
    assert len(node.mempool) == 1


def test_members_and_revoked_members_cannot_apply(node: Node) -> None:
    error = refused(node, signed_raw("alice", 0, "membership", "apply", application("alice")))
    assert isinstance(error, ApplicationExists) and error.member_status == "active"
    revoke = {"address": address("dave"), "reason": "fraud"}
    node.submit(signed_raw("regulator", 0, "membership", "revoke", revoke))
    assert node.cut_block(T1) is not None
    error = refused(node, signed_raw("dave", 0, "membership", "apply", application("dave")))
    assert isinstance(error, ApplicationExists) and error.member_status == "revoked"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"role": "regulator"}, RoleNotApplicable),
        ({"role": "overlord"}, RoleNotApplicable),
        ({"name": ""}, TextLengthOutOfRange),
        ({"name": "x" * 101}, TextLengthOutOfRange),
        ({"registration_commitments": {}}, RegistrationIncomplete),
        ({"registration": {"basic_information": "Flat 3"}}, PersonalDataOnChain),
        ({"favourite_colour": "red"}, InvalidArguments),
        ({"name": 7}, InvalidArguments),
    ],
)
def test_an_application_the_contract_would_refuse_is_refused_at_admission(
    node: Node, changes: dict[str, Any], expected: type[TransactionError]
) -> None:
    raw = signed_raw("erin", 0, "membership", "apply", application("erin", changes=changes))
    error = refused(node, raw)
    assert isinstance(error, expected), error
    assert node.cut_block(T1) is None


def reading(sender: str, meter: str = "alice-meter-1", member: str = "alice") -> bytes:
    return signed_raw(
        sender, 0, "metering", "record_reading", reading_args(meter, member, NEXT_PERIOD, 900, 0)
    )


def test_a_bound_meter_sends_its_own_reading(node: Node) -> None:
    node.submit(reading("alice-meter-1"))
    committed = node.cut_block(IN_WINDOW_MS)
    assert committed is not None and committed.receipts[0].ok, committed.receipts[0].message


def test_a_member_relays_a_meter_reading(node: Node) -> None:
    node.submit(reading("bob"))
    committed = node.cut_block(IN_WINDOW_MS)
    assert committed is not None and committed.receipts[0].ok, committed.receipts[0].message


@pytest.mark.parametrize(
    ("sender", "meter", "why"),
    [
        ("rogue-meter", "rogue-meter", "an unbound key, as its own meter"),
        ("rogue-meter", "alice-meter-1", "an unbound key relaying a bound meter's reading"),
        ("mallory", "alice-meter-1", "a non-member relaying"),
    ],
)
def test_a_reading_from_an_unbound_key_or_a_non_member_is_refused(
    node: Node, sender: str, meter: str, why: str
) -> None:
    error = refused(node, reading(sender, meter))
    assert isinstance(error, NotAMember), why
    assert "only a bound meter or an active member" in str(error)
    assert meter_key_hex(meter)  # the meter names a real key either way


def test_a_bound_meter_may_send_nothing_but_readings(node: Node) -> None:
    for call in MEMBER_CALLS:
        assert isinstance(refused(node, signed_raw("alice-meter-1", 0, *call)), NotAMember)


OPERATOR = {"role": "operator"}


def test_ordering_admission_refuses_non_members_too(node: Node) -> None:
    raws = [
        signed_raw("mallory", 0, *MEMBER_CALLS[0]),
        signed_raw(
            "erin", 0, "membership", "apply", application("erin", changes={"role": "operator"})
        ),
        signed_raw("erin", 0, "membership", "apply", application("erin")),
        signed_raw("alice", 0, *MEMBER_CALLS[0]),
    ]
    errors = [a.error for a in node.check_for_ordering(raws)]
    assert isinstance(errors[0], NotAMember)
    assert isinstance(errors[1], RoleNotApplicable)
    assert errors[2:] == [None, None]
