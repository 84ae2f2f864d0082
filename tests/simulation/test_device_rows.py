"""A run's device data kept as anchored CSV text: the same bytes, digests, file and sums."""

from __future__ import annotations

import pytest

from gridledger.simulation.device_rows import (
    DEVICE_DATA_FIELDS,
    DeviceRows,
    device_batch_digest,
    device_rows_csv,
)
from gridledger.simulation.kpis import device_totals
from gridledger.simulation.records import DeviceDataMismatch, check_device_batches


def row(
    period: int, member: str, name: str, generation: int, consumption: int
) -> dict[str, int | str]:
    values: dict[str, int | str] = dict.fromkeys(DEVICE_DATA_FIELDS, 0)
    values |= {"period": period, "member": member, "name": name}
    values |= {"generation_wh": generation, "consumption_wh": consumption}
    return values


def two_periods() -> tuple[DeviceRows, list[list[dict[str, int | str]]], list[str]]:
    batches = [
        [row(7, "gl1", "a", 5000, 1200), row(7, "gl2", 'b, "the" second', 0, 4000)],
        [row(8, "gl1", "a", 4800, 900), row(8, "gl3", "c", 10, 0)],
    ]
    device = DeviceRows()
    digests = [device.add(int(batch[0]["period"]), batch) for batch in batches]
    return device, batches, digests


def test_each_period_hashes_as_the_rows_did() -> None:
    _, batches, digests = two_periods()
    assert digests == [device_batch_digest(batch) for batch in batches]


def test_the_file_is_what_the_rows_write() -> None:
    device, batches, _ = two_periods()
    assert device.csv() == device_rows_csv([r for batch in batches for r in batch])


def test_iterating_gives_the_rows_back_with_numbers_as_numbers() -> None:
    device, batches, _ = two_periods()
    assert list(device) == [r for batch in batches for r in batch]
    assert len(device) == 4


def test_sums_and_households_are_those_of_the_rows() -> None:
    device, batches, _ = two_periods()
    rows = [r for batch in batches for r in batch]
    assert device_totals(device) == device_totals(rows) == ({7: (5000, 5200), 8: (4810, 900)}, 3)


def test_kept_text_is_checked_against_the_anchors() -> None:
    device, _, digests = two_periods()
    check_device_batches(device, {7: digests[0], 8: digests[1]})


def test_a_changed_anchor_or_a_missing_one_is_refused_with_its_period() -> None:
    device, _, digests = two_periods()
    with pytest.raises(DeviceDataMismatch, match="period 8"):
        check_device_batches(device, {7: digests[0], 8: digests[0]})
    with pytest.raises(DeviceDataMismatch, match="period 7") as refused:
        check_device_batches(device, {8: digests[1]})
    assert refused.value.anchored is None and refused.value.computed == digests[0]


def test_a_period_with_no_records_is_an_empty_file_body() -> None:
    device = DeviceRows()
    assert device.csv() == ",".join(DEVICE_DATA_FIELDS) + "\n"
    assert list(device) == [] and device_totals(device) == ({}, 0)
