"""The metering contract: readings signed by a meter bound to the member, inside the meter
window, one per member and period."""

from __future__ import annotations

import pytest

from gridledger.contracts.metering import read_reading
from gridledger.ledger import ResultCode
from tests.community import (
    GENESIS_TIME_MS,
    NEXT_PERIOD,
    Community,
    address,
    key,
    meter_key_hex,
    meter_window_close_s,
    period_start_s,
    reading_args,
    run_at,
    signed_raw,
)

P = NEXT_PERIOD
OPENS = period_start_s(P + 1)
CLOSES = meter_window_close_s(P)


@pytest.fixture
def community() -> Community:
    return Community.create()  # alice-meter-1 is bound to alice at genesis


def test_a_reading_from_the_members_meter_inside_the_window_is_recorded(
    community: Community,
) -> None:
    receipt = run_at(
        community,
        OPENS,
        "carol",  # relayed by another member: the meter's signature is what counts
        "metering",
        "record_reading",
        reading_args("alice-meter-1", "alice", P, 1500, 200),
    )
    assert receipt.ok, receipt.message
    reading = read_reading(community.state, P, address("alice"))
    assert reading is not None
    assert (reading.exported_wh, reading.imported_wh) == (1500, 200)
    assert reading.meter_key == meter_key_hex("alice-meter-1")


def test_a_meter_may_send_its_own_reading(community: Community) -> None:
    args = reading_args("alice-meter-1", "alice", P, 10, 20)
    raw = signed_raw(key("alice-meter-1"), 0, "metering", "record_reading", args)
    _, execution = community.commit([raw], OPENS * 1000)
    assert execution.receipts[0].ok, execution.receipts[0].message


def test_a_reading_signed_by_a_meter_not_bound_to_the_member_is_rejected(
    community: Community,
) -> None:
    # bob-meter-1 is bound to nobody
    args = reading_args("bob-meter-1", "alice", P, 1500, 200)
    receipt = run_at(community, OPENS, "alice", "metering", "record_reading", args)
    assert receipt.code == ResultCode.METER_MISMATCH
    assert "not bound to any member" in receipt.message
    assert receipt.details["bound_to"] == ""
    # alice's meter vouching for bob
    args = reading_args("alice-meter-1", "bob", P, 1500, 200)
    receipt = run_at(community, OPENS + 1, "bob", "metering", "record_reading", args)
    assert receipt.code == ResultCode.METER_MISMATCH
    assert f"bound to {address('alice')}, not to {address('bob')}" in receipt.message
    assert read_reading(community.state, P, address("bob")) is None


def test_a_reading_with_a_forged_signature_is_rejected(community: Community) -> None:
    args = reading_args("alice-meter-1", "alice", P, 1500, 200)
    args["exported_wh"] = 9999  # the meter signed 1500
    receipt = run_at(community, OPENS, "alice", "metering", "record_reading", args)
    assert (
        receipt.code == ResultCode.INVALID_READING_SIGNATURE
        and "does not verify" in receipt.message
    )


def test_readings_outside_the_window_are_rejected(community: Community) -> None:
    args = reading_args("alice-meter-1", "alice", P, 1500, 200)
    receipt = run_at(community, OPENS - 1, "alice", "metering", "record_reading", args)
    assert receipt.code == ResultCode.METER_WINDOW_CLOSED
    assert f"from {OPENS} s to {CLOSES} s; now is {OPENS - 1} s" in receipt.message
    assert receipt.details == {
        "period": P,
        "opens_s": OPENS,
        "closes_s": CLOSES,
        "now_s": OPENS - 1,
    }
    receipt = run_at(community, CLOSES, "alice", "metering", "record_reading", args)
    assert receipt.code == ResultCode.METER_WINDOW_CLOSED
    assert f"now is {CLOSES} s" in receipt.message
    assert read_reading(community.state, P, address("alice")) is None
    assert GENESIS_TIME_MS // 1000 < OPENS


def test_a_second_reading_is_rejected(community: Community) -> None:
    first = reading_args("alice-meter-1", "alice", P, 1500, 200)
    assert run_at(community, OPENS, "alice", "metering", "record_reading", first).ok
    second = reading_args("alice-meter-1", "alice", P, 2500, 0)
    receipt = run_at(community, OPENS + 1, "alice", "metering", "record_reading", second)
    assert receipt.code == ResultCode.READING_EXISTS and "cannot be replaced" in receipt.message
    reading = read_reading(community.state, P, address("alice"))
    assert reading is not None and reading.exported_wh == 1500


def test_an_outsider_cannot_relay_a_reading(community: Community) -> None:
    args = reading_args("alice-meter-1", "alice", P, 1, 1)
    receipt = run_at(community, OPENS, "erin", "metering", "record_reading", args)
    assert receipt.code == ResultCode.NOT_A_MEMBER
