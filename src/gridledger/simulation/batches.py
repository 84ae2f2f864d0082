"""Device-data batches read back from their file and checked against the chain (seed 001 §4.3).

The raw device data of a period (one record per member: generation, consumption,
battery, export and import, in Wh) stays off chain in ``device_data.csv``; the
operator anchors the SHA-256 of the period's records on chain
(``metering.anchor_batch``, label ``device data, period P``, with the record
count). The hashed bytes are the period's records as CSV without the header, in
file order, ``\\n`` line ends (`gridledger.simulation.device_rows.device_batch_digest`).

What the chain allows to be proven, and so what `compare` can say:

- the batch as a whole: it hashes to the anchor, or it does not. The anchor is one
  hash over the whole batch, not a Merkle root over its records (making it one
  would change every anchoring transaction, and so the head hash of every shipped
  scenario), so the hash alone cannot say which record differs;
- per record, the meter's export and import: each member's meter signs its
  reading of the period and the chain keeps it (``metering.record_reading``), so a
  record whose ``exported_wh`` or ``imported_wh`` differs from its meter's is named
  with both values;
- per record, its energy balance: what the devices did explains what the meter saw
  (export - import = generation - consumption - charged + discharged), so a record
  altered in one device field no longer balances and is named;
- the number of records (in the anchor) and whose they are (the readings): a
  missing, extra or repeated record is named;
- the spelling: numbers are written in one way (no sign, no leading zeros), so a
  record whose figures are spelled otherwise is named.

A difference in a device field made to keep the balance (two fields changed
together), in the state of charge, or in the order of the records is detected by
the hash but cannot be located: `compare` says so instead of guessing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gridledger.client import Client
from gridledger.client.replies import BlockReply, PendingReply
from gridledger.crypto import InvalidProof, MerkleProof, verify_proof
from gridledger.ledger import BlockHeader, block_hash, decode_transaction
from gridledger.ledger.transactions import transaction_id
from gridledger.simulation.device_rows import DEVICE_DATA_FIELDS

ANCHOR_LABEL = "device data, period {period}"
INTEGER_FIELDS = tuple(f for f in DEVICE_DATA_FIELDS if f not in ("member", "name"))
_INTEGER = re.compile(r"^-?[0-9]+$")


class BatchFileError(Exception):
    """A batch file that cannot be checked: missing, not a batch file, or without the period."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


@dataclass(frozen=True)
class BatchRecord:
    """One record of a batch file, its fields as the file spells them."""

    line: int
    """Line number in the file (the header is line 1)."""
    values: tuple[str, ...]
    """In `DEVICE_DATA_FIELDS` order."""

    def get(self, name: str) -> str:
        return self.values[DEVICE_DATA_FIELDS.index(name)]

    def wh(self, name: str) -> int:
        return int(self.get(name))

    @property
    def member(self) -> str:
        return self.get("member")

    def describe(self) -> str:
        return f"the record at line {self.line} (member {self.member}, {self.get('name')})"


def read_batch(path: Path, period: int) -> list[BatchRecord]:
    """The records of `period` in the device-data file `path`, in file order."""
    try:
        with path.open(encoding="utf-8", newline="") as file:
            text = file.read()
    except FileNotFoundError as error:
        raise BatchFileError(path, "no such file") from error
    except (OSError, UnicodeDecodeError) as error:
        raise BatchFileError(path, f"cannot be read as a batch file ({error})") from error
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if header is None or tuple(header) != DEVICE_DATA_FIELDS:
        raise BatchFileError(
            path,
            "not a device-data batch file (its first line must be the header "
            f"{','.join(DEVICE_DATA_FIELDS)}, as in a simulation's device_data.csv)",
        )
    records: list[BatchRecord] = []
    periods: set[int] = set()
    for row in rows:
        line = rows.line_num
        if len(row) != len(DEVICE_DATA_FIELDS):
            raise BatchFileError(
                path,
                f"not a device-data batch file: line {line} has {len(row)} fields, "
                f"not {len(DEVICE_DATA_FIELDS)}",
            )
        record = BatchRecord(line, tuple(row))
        for name in INTEGER_FIELDS:
            if not _INTEGER.match(record.get(name)):
                raise BatchFileError(
                    path, f"line {line}: {name} is {record.get(name)!r}, not a whole number"
                )
        periods.add(record.wh("period"))
        if record.wh("period") == period:
            records.append(record)
    if not records:
        held = f"periods {min(periods)} to {max(periods)}" if periods else "no records"
        raise BatchFileError(path, f"has no records of period {period} (it holds {held})")
    return records


def batch_digest(records: list[BatchRecord]) -> str:
    """SHA-256 (hex) of the records as the anchor hashed them: CSV, no header, ``\\n`` ends.

    The fields are written back as the file spells them, so any change of a character
    in a field changes the digest.
    """
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(record.values for record in records)
    return hashlib.sha256(out.getvalue().encode()).hexdigest()


# -- what the chain holds ---------------------------------------------------------------------


@dataclass(frozen=True)
class Anchor:
    sha256: str
    record_count: int
    transaction_id: str
    height: int


@dataclass(frozen=True)
class Reading:
    member: str
    exported_wh: int
    imported_wh: int
    transaction_id: str
    height: int


@dataclass
class PeriodEvidence:
    """The anchors and signed meter readings of one period, as committed on chain."""

    period: int
    anchors: list[Anchor] = field(default_factory=list)
    readings: dict[str, Reading] = field(default_factory=dict)
    """By member, in the order they were committed."""
    first_height: int = 0
    last_height: int = 0
    """The blocks searched."""

    def note_block(self, block: BlockReply) -> None:
        """Pick this period's anchors and readings out of a block (accepted calls only)."""
        height = block.header.height
        label = ANCHOR_LABEL.format(period=self.period)
        for entry in block.transactions or []:
            if entry.code != 0:
                continue
            for event in entry.events:
                if event.contract != "metering":
                    continue
                attributes = event.attributes
                if event.name == "anchored" and attributes.get("label") == label:
                    args: dict[str, Any] = entry.transaction.get("args", {})
                    self.anchors.append(
                        Anchor(
                            str(attributes["sha256"]),
                            int(args.get("record_count", 0)),
                            entry.id,
                            height,
                        )
                    )
                elif event.name == "reading" and attributes.get("period") == self.period:
                    member = str(attributes["member"])
                    self.readings[member] = Reading(
                        member,
                        int(attributes["exported_wh"]),
                        int(attributes["imported_wh"]),
                        entry.id,
                        height,
                    )


# -- the comparison ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    period: int
    records: int
    computed_sha256: str
    anchor: Anchor | None
    """The anchor the batch matches, else the (first) anchor of the period."""
    matches: bool
    difference: str | None
    """The first record found to differ, and how; or why none can be named."""
    disagreements: list[str]
    """Records that differ from the chain's readings even though the batch matches its anchor
    (then the anchored batch itself disagrees with the meters)."""


def record_difference(record: BatchRecord, evidence: PeriodEvidence) -> str | None:
    """How `record` contradicts what the chain holds for it, or None."""
    for name in INTEGER_FIELDS:
        spelled = record.get(name)
        if str(int(spelled)) != spelled:
            return (
                f"{record.describe()}: {name} is spelled {spelled!r}, which is not how the "
                f"batch was written ({int(spelled)})"
            )
    reading = evidence.readings.get(record.member)
    if reading is not None:
        for name in ("exported_wh", "imported_wh"):
            value = record.wh(name)
            signed = getattr(reading, name)
            if value != signed:
                return (
                    f"{record.describe()}: {name} is {value} in the file, its meter signed "
                    f"{signed} on chain (transaction {reading.transaction_id}, "
                    f"block {reading.height})"
                )
    explained = (
        record.wh("generation_wh")
        - record.wh("consumption_wh")
        - record.wh("charged_wh")
        + record.wh("discharged_wh")
    )
    metered = record.wh("exported_wh") - record.wh("imported_wh")
    if explained != metered:
        return (
            f"{record.describe()}: its energy does not balance (generation - consumption "
            f"- charged + discharged = {explained} Wh, but export - import = {metered} Wh), "
            "so one of its device fields was altered"
        )
    return None


def _first_difference(records: list[BatchRecord], evidence: PeriodEvidence, anchor: Anchor) -> str:
    seen: set[str] = set()
    for record in records:
        if record.member in seen:
            return f"{record.describe()} repeats a member already in the batch"
        seen.add(record.member)
        found = record_difference(record, evidence)
        if found is not None:
            return found
    missing = [m for m in evidence.readings if m not in seen]
    if len(records) < anchor.record_count and missing:
        return (
            f"the batch has {len(records)} records, the anchor counted {anchor.record_count}: "
            f"the record of member {missing[0]} (whose meter reading is on chain) is missing"
        )
    if len(records) != anchor.record_count:
        extra = [r for r in records if r.member not in evidence.readings]
        named = f"; {extra[0].describe()} has no meter reading on chain" if extra else ""
        return (
            f"the batch has {len(records)} records, the anchor counted {anchor.record_count}{named}"
        )
    return (
        "every record agrees with what the chain holds of it (its meter's signed export "
        "and import, its energy balance), so the difference is in a device field changed "
        "together with another, a state of charge, or the order of the records; the anchor "
        "is one SHA-256 over the whole batch and cannot locate it"
    )


def compare(records: list[BatchRecord], evidence: PeriodEvidence) -> Verdict:
    """Check `records` against the period's anchor; name the first record that differs."""
    computed = batch_digest(records)
    matching = [a for a in evidence.anchors if a.sha256 == computed]
    if matching:
        disagreements = [d for r in records if (d := record_difference(r, evidence)) is not None]
        return Verdict(
            evidence.period, len(records), computed, matching[0], True, None, disagreements
        )
    anchor = evidence.anchors[0] if evidence.anchors else None
    if anchor is None:
        return Verdict(evidence.period, len(records), computed, None, False, None, [])
    difference = _first_difference(records, evidence, anchor)
    return Verdict(evidence.period, len(records), computed, anchor, False, difference, [])


# -- reading the chain ------------------------------------------------------------------------


class AnchorNotProven(Exception):
    """The node's answer about an anchor does not prove it (its transaction, proof or header)."""

    def __init__(self, transaction_id: str, reason: str) -> None:
        self.transaction_id = transaction_id
        self.reason = reason
        super().__init__(f"anchor transaction {transaction_id}: {reason}")


def _first_height_at(client: Client, time_ms: int, head: int) -> int:
    """The lowest height whose block is stamped at `time_ms` or later (head + 1 if none)."""
    low, high = 1, head + 1
    while low < high:
        middle = (low + high) // 2
        if client.block(middle, transactions=False).header.timestamp_ms < time_ms:
            low = middle + 1
        else:
            high = middle
    return low


def period_evidence(client: Client, period: int) -> PeriodEvidence:
    """The anchors and meter readings of `period`, from the blocks stamped after it began.

    Readings are accepted only in the meter window after the period, and the data of a
    period exists only once it has begun, so the search starts at the period's first
    block and ends at the head, or at the end of the meter window once an anchor is found.
    """
    parameters = client.parameters(period).parameters
    period_seconds = parameters.period_seconds
    window_end_ms = ((period + 1) * period_seconds + parameters.meter_window_seconds) * 1000
    head = client.head().height
    evidence = PeriodEvidence(period)
    height = evidence.first_height = _first_height_at(client, period * period_seconds * 1000, head)
    while height <= head:
        block = client.block(height)
        evidence.note_block(block)
        evidence.last_height = height
        if evidence.anchors and block.header.timestamp_ms >= window_end_ms:
            break
        height += 1
    return evidence


def prove_anchor(client: Client, anchor: Anchor) -> str:
    """Check, without taking the node's word, that `anchor` is committed: its transaction
    hashes to its id and anchors that digest, its Merkle proof (RFC 6962) leads to the
    block header's transactions root, and the header hashes to the block hash. Returns
    that block hash (hex), which `gridledger verify` or any other peer can confirm."""
    view = client.transaction(anchor.transaction_id)
    if isinstance(view, PendingReply):
        raise AnchorNotProven(anchor.transaction_id, "is not committed")
    raw = bytes.fromhex(view.raw)
    if transaction_id(raw).hex() != anchor.transaction_id:
        raise AnchorNotProven(anchor.transaction_id, "its bytes do not hash to its id")
    args = decode_transaction(raw).transaction.args
    if str(args.get("sha256", "")).lower() != anchor.sha256:
        raise AnchorNotProven(anchor.transaction_id, "it does not anchor that digest")
    shown = view.block
    header = BlockHeader(
        version=shown.version,
        chain_id=shown.chain_id,
        height=shown.height,
        previous_hash=bytes.fromhex(shown.previous_hash),
        timestamp_ms=shown.timestamp_ms,
        transaction_count=shown.transaction_count,
        transactions_root=bytes.fromhex(shown.transactions_root),
        results_root=bytes.fromhex(shown.results_root),
        state_hash=bytes.fromhex(shown.state_hash),
    )
    if block_hash(header).hex() != shown.hash:
        raise AnchorNotProven(anchor.transaction_id, "its block header does not hash to its hash")
    proof = MerkleProof(
        index=view.proof.index,
        size=view.proof.size,
        path=tuple(bytes.fromhex(h) for h in view.proof.path),
    )
    try:
        verify_proof(transaction_id(raw), proof, header.transactions_root)
    except InvalidProof as error:
        raise AnchorNotProven(anchor.transaction_id, error.reason) from error
    return shown.hash
