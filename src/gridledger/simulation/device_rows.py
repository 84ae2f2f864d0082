"""A run's raw device data, kept as the CSV text each period anchored on chain.

Each period the runner writes one record per household (generation, load, battery,
export and import, in Wh), anchors the SHA-256 of the records as CSV and keeps them for
``device_data.csv`` and the KPIs. Kept as one dict per record, a day of ten thousand
households held about half a gigabyte of them (960,000 dicts of ten fields); kept as the
period's CSV text, the exact bytes that were hashed, it is about 80 bytes a record, and
the file is the texts joined. What the KPIs need of them (generation and consumption per
period, the households) is summed as each period is added.
"""

from __future__ import annotations

import csv
import hashlib
import io
import operator
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from gridledger.agents.household import Metered

DEVICE_DATA_FIELDS = (
    "period",
    "member",
    "name",
    "generation_wh",
    "consumption_wh",
    "charged_wh",
    "discharged_wh",
    "state_of_charge_wh",
    "exported_wh",
    "imported_wh",
)

TEXT_FIELDS = frozenset({"member", "name"})
"""The fields that are not whole numbers."""

_DEVICE_FIELD_SET = frozenset(DEVICE_DATA_FIELDS)
_device_values = operator.itemgetter(*DEVICE_DATA_FIELDS)


def device_rows_csv(rows: Sequence[Mapping[str, int | str]], header: bool = True) -> str:
    """Device data as CSV text, columns in `DEVICE_DATA_FIELDS` order (``\\n`` line ends).

    Rows with exactly those keys (all the runner writes) go through a plain
    ``csv.writer``, a third cheaper than ``DictWriter`` and byte for byte the same;
    any other row shape keeps ``DictWriter``'s rules (missing keys empty, extra refused).
    """
    out = io.StringIO()
    if all(row.keys() == _DEVICE_FIELD_SET for row in rows):
        writer = csv.writer(out, lineterminator="\n")
        if header:
            writer.writerow(DEVICE_DATA_FIELDS)
        writer.writerows(map(_device_values, rows))
        return out.getvalue()
    dict_writer = csv.DictWriter(out, DEVICE_DATA_FIELDS, lineterminator="\n")
    if header:
        dict_writer.writeheader()
    dict_writer.writerows(rows)
    return out.getvalue()


def device_batch_digest(rows: Sequence[Mapping[str, int | str]]) -> str:
    """SHA-256 (hex) of a period's device data as CSV (the bytes anchored on chain)."""
    return text_digest(device_rows_csv(rows, header=False))


def text_digest(text: str) -> str:
    """SHA-256 (hex) of device-data CSV text (UTF-8)."""
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class DeviceBatch:
    """One period's device data: its records as CSV without the header, and their sums."""

    period: int
    text: str
    """The records as anchored: CSV, `DEVICE_DATA_FIELDS` order, ``\\n`` line ends."""
    records: int
    generation_wh: int
    consumption_wh: int


class DeviceRows:
    """Every period's device data in the order the periods ran (see the module docstring).

    Iterating gives the records back as rows (field name to value, whole numbers as
    ints), read from the text; the result files and the KPIs use the batches directly.
    """

    __slots__ = ("batches", "members")

    def __init__(self) -> None:
        self.batches: list[DeviceBatch] = []
        self.members: set[str] = set()
        """Every member that has a record."""

    def add(self, period: int, rows: Sequence[Mapping[str, int | str]]) -> str:
        """Keep a period's records; returns their digest (hex SHA-256, what is anchored)."""
        text = device_rows_csv(rows, header=False)
        self.batches.append(
            DeviceBatch(
                period,
                text,
                len(rows),
                sum(int(row["generation_wh"]) for row in rows),
                sum(int(row["consumption_wh"]) for row in rows),
            )
        )
        self.members.update(str(row["member"]) for row in rows)
        return text_digest(text)

    def __len__(self) -> int:
        return sum(batch.records for batch in self.batches)

    def __iter__(self) -> Iterator[dict[str, int | str]]:
        for batch in self.batches:
            for values in csv.reader(io.StringIO(batch.text)):
                yield {
                    name: value if name in TEXT_FIELDS or value == "" else int(value)
                    for name, value in zip(DEVICE_DATA_FIELDS, values, strict=True)
                }

    def csv(self) -> str:
        """``device_data.csv``: the header, then every period's records."""
        header = io.StringIO()
        csv.writer(header, lineterminator="\n").writerow(DEVICE_DATA_FIELDS)
        return header.getvalue() + "".join(batch.text for batch in self.batches)

    def period_totals(self) -> dict[int, tuple[int, int]]:
        """(generation, consumption) in Wh per period."""
        totals: dict[int, tuple[int, int]] = {}
        for batch in self.batches:
            generation, consumption = totals.get(batch.period, (0, 0))
            totals[batch.period] = (
                generation + batch.generation_wh,
                consumption + batch.consumption_wh,
            )
        return totals


def device_row(period: int, address: str, name: str, metered: Metered) -> dict[str, int | str]:
    return {
        "period": period,
        "member": address,
        "name": name,
        "generation_wh": metered.generation_wh,
        "consumption_wh": metered.consumption_wh,
        "charged_wh": metered.charged_wh,
        "discharged_wh": metered.discharged_wh,
        "state_of_charge_wh": metered.state_of_charge_wh,
        "exported_wh": metered.exported_wh,
        "imported_wh": metered.imported_wh,
    }
