"""The regulator's registry of personal data: off the chain, checkable, erasable.

The chain holds, per personal registration field, only the digest of an SD-JWT
disclosure (`gridledger.crypto.disclosure`). The disclosures themselves (salt,
field, value) are sent by the applicant, signed with its own key, to the
regulator's node, which keeps them here: an SQLite file beside the chain
(``registry.sqlite``), opened with ``PRAGMA secure_delete=ON`` so that deleted
rows are overwritten with zeros.

`PersonalDataRegistry.erase` (GDPR art. 17) deletes a member's rows and then
scrubs the file: a TRUNCATE checkpoint empties the write-ahead log (which still
holds the old page images), ``VACUUM`` rewrites the database without free pages,
and a second checkpoint empties the log the vacuum wrote; temporary files stay
in memory (``temp_store=MEMORY``). Afterwards no file of the directory holds the
bytes, and the chain, its hashes and ``gridledger verify`` are untouched: only
digests were ever on it.

A submission is signed over `SUBMISSION_DOMAIN` followed by the canonical
encoding of ``[chain_id, address, timestamp_ms, disclosures]``: the domain
differs from a transaction's, so a signed submission can never be replayed as a
transaction (nor a transaction as a submission), and the chain id keeps it to one
community.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from gridledger.contracts.membership import Member
from gridledger.contracts.registration import check_personal_value
from gridledger.crypto import KeyPair, address_of, is_valid_signature, validate_public_key
from gridledger.crypto.disclosure import Disclosure, DisclosureError, open_commitments
from gridledger.crypto.errors import InvalidPublicKey
from gridledger.ledger import MAX_REGISTRATION_FIELDS, encode
from gridledger.node.errors import NodeError

REGISTRY_FILE = "registry.sqlite"
SUBMISSION_DOMAIN = b"gridledger/registry-submission/v1\x00"
MAX_SUBMISSION_BYTES = 64 * 1024
"""Largest submission body accepted, in bytes."""
MAX_CLOCK_SKEW_MS = 5 * 60_000
"""How far a submission's timestamp may be from the node's clock."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS disclosures (
    address TEXT NOT NULL,
    field TEXT NOT NULL,
    salt TEXT NOT NULL,
    value TEXT NOT NULL,
    disclosure TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    PRIMARY KEY (address, field)
);
CREATE TABLE IF NOT EXISTS erasures (
    address TEXT NOT NULL,
    fields INTEGER NOT NULL,
    erased_ms INTEGER NOT NULL
);
"""
"""``value`` is the JSON of the value (text or integer); ``disclosure`` the string as sent,
whose digest the chain holds. ``erasures`` records that (not what) was erased."""


class RegistryRefusal(NodeError):
    """A submission or a check the registry refuses: an HTTP status, a code and the values
    (`http_status` and `code` vary by case, unlike a `NodeError`'s class-wide ones)."""

    status = 422
    error = "registry_refused"

    def __init__(self, http_status: int, code: str, message: str, **values: Any) -> None:
        self.http_status, self.code, self._values = http_status, code, values
        super().__init__(message)

    @property
    def values(self) -> dict[str, Any]:
        return dict(self._values)


class Submission(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What an applicant sends the regulator's node: its disclosures, signed by its key."""

    address: str
    public_key: str
    """Hex of the applicant's Ed25519 public key; `address` must be its address."""
    timestamp_ms: int
    disclosures: list[str]
    signature: str
    """Hex of the Ed25519 signature over `submission_bytes`."""


@dataclass(frozen=True)
class Entry:
    """One stored disclosure."""

    field: str
    salt: str
    value: str | int
    disclosure: str
    received_ms: int


def submission_bytes(
    chain_id: str, address: str, timestamp_ms: int, disclosures: list[str]
) -> bytes:
    return SUBMISSION_DOMAIN + encode([chain_id, address, timestamp_ms, disclosures])


def sign_submission(
    keys: KeyPair, chain_id: str, disclosures: list[str], timestamp_ms: int
) -> Submission:
    signed = submission_bytes(chain_id, keys.address, timestamp_ms, disclosures)
    return Submission(
        keys.address, keys.public_key.hex(), timestamp_ms, disclosures, keys.sign(signed).hex()
    )


def _refuse_disclosure(error: DisclosureError) -> RegistryRefusal:
    return RegistryRefusal(422, f"disclosure_{error.kind}", str(error), field=error.field)


def open_member_commitments(
    commitments: Mapping[str, str], disclosures: Iterable[str]
) -> dict[str, Disclosure]:
    """A member's personal fields (its on-chain `commitments`) opened by `disclosures`;
    `RegistryRefusal` (422, naming the field) if one is missing, unknown, repeated,
    malformed, too long or does not match."""
    try:
        opened = open_commitments(commitments, disclosures)
        for disclosure in opened.values():
            check_personal_value(disclosure.field, disclosure.value)
    except DisclosureError as error:
        raise _refuse_disclosure(error) from error
    return opened


def check_submission(
    submission: Submission, chain_id: str, member: Member | None, now_ms: int
) -> dict[str, Disclosure]:
    """Check a submission against its signature, the clock and the member's commitments
    (`member`: the sender's record on the chain, None if it never applied)."""
    if len(submission.disclosures) > MAX_REGISTRATION_FIELDS:
        raise RegistryRefusal(
            413,
            "too_many_disclosures",
            f"at most {MAX_REGISTRATION_FIELDS} disclosures, got {len(submission.disclosures)}",
            limit=MAX_REGISTRATION_FIELDS,
        )
    try:
        public_key = bytes.fromhex(submission.public_key)
        signature = bytes.fromhex(submission.signature)
        validate_public_key(public_key)
    except (ValueError, InvalidPublicKey) as error:
        raise RegistryRefusal(
            400, "invalid_request", f"public_key or signature: {error}"
        ) from error
    if address_of(public_key) != submission.address:
        raise RegistryRefusal(
            403,
            "not_your_address",
            f"the key {submission.public_key} is not the key of {submission.address}: "
            "an applicant sends only its own data",
            address=submission.address,
        )
    signed = submission_bytes(
        chain_id, submission.address, submission.timestamp_ms, submission.disclosures
    )
    if not is_valid_signature(public_key, signed, signature):
        raise RegistryRefusal(401, "bad_signature", "the submission's signature does not verify")
    if abs(submission.timestamp_ms - now_ms) > MAX_CLOCK_SKEW_MS:
        raise RegistryRefusal(
            401,
            "stale_submission",
            f"timestamp {submission.timestamp_ms} is more than {MAX_CLOCK_SKEW_MS} ms "
            f"from the node's clock ({now_ms})",
        )
    if member is None:
        raise RegistryRefusal(
            404,
            "not_an_applicant",
            f"{submission.address} has not applied: submit membership.apply first",
            address=submission.address,
        )
    return open_member_commitments(member.registration_commitments, submission.disclosures)


class PersonalDataRegistry:
    """Disclosures by applicant address, in one SQLite file (or in memory)."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        if self.path != ":memory:" and not Path(self.path).exists():
            # personal data: readable by the node's user only (SQLite gives its -wal and -shm
            # files the database file's mode)
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA secure_delete=ON")
        self._db.execute("PRAGMA temp_store=MEMORY")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    @classmethod
    def beside(cls, chain_path: str | Path | None) -> PersonalDataRegistry:
        """The registry in the directory of the chain file at `chain_path` (memory if None)."""
        if chain_path is None or str(chain_path) == ":memory:":
            return cls()
        return cls(Path(chain_path).with_name(REGISTRY_FILE))

    def close(self) -> None:
        self._db.close()

    def store(self, address: str, disclosures: Iterable[Disclosure], received_ms: int) -> None:
        """Keep `disclosures` as `address`'s data, replacing what it sent before."""
        rows = [
            (address, d.field, d.salt, json.dumps(d.value), d.encoded, received_ms)
            for d in disclosures
        ]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("DELETE FROM disclosures WHERE address = ?", (address,))
                self._db.executemany("INSERT INTO disclosures VALUES (?, ?, ?, ?, ?, ?)", rows)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def entries(self, address: str) -> list[Entry]:
        """`address`'s stored disclosures, by field."""
        with self._lock:
            rows = self._db.execute(
                "SELECT field, salt, value, disclosure, received_ms FROM disclosures "
                "WHERE address = ? ORDER BY field",
                (address,),
            ).fetchall()
        return [Entry(f, s, json.loads(v), d, r) for f, s, v, d, r in rows]

    def addresses(self) -> list[str]:
        with self._lock:
            rows = self._db.execute("SELECT DISTINCT address FROM disclosures ORDER BY address")
            return [row[0] for row in rows.fetchall()]

    def erasures(self, address: str) -> list[int]:
        """When `address`'s data was erased (ms), oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT erased_ms FROM erasures WHERE address = ? ORDER BY erased_ms", (address,)
            )
            return [row[0] for row in rows.fetchall()]

    def check_member(self, address: str, commitments: Mapping[str, str]) -> dict[str, Disclosure]:
        """`address`'s stored disclosures opened against its on-chain digests (for approval).

        `RegistryRefusal` if the registry holds nothing for it (``registration_missing``)
        or what it holds does not open every digest (``disclosure_*``, naming the field).
        """
        entries = self.entries(address)
        if commitments and not entries:
            raise RegistryRefusal(
                409,
                "registration_missing",
                f"the registry holds no personal data of {address}: the applicant must send "
                "its disclosures (POST /v1/registry/applications) first",
                address=address,
            )
        return open_member_commitments(commitments, [e.disclosure for e in entries])

    def erase(self, address: str, erased_ms: int) -> int:
        """Delete `address`'s personal data and scrub the file; the number of fields erased."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            erased = self._db.execute(
                "DELETE FROM disclosures WHERE address = ?", (address,)
            ).rowcount
            self._db.execute("INSERT INTO erasures VALUES (?, ?, ?)", (address, erased, erased_ms))
            self._db.execute("COMMIT")
            self._scrub()
        return int(erased)

    def _scrub(self) -> None:
        """Leave no deleted byte in the database, its WAL or its free pages."""
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._db.execute("VACUUM")
        busy, _, _ = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            raise RegistryRefusal(
                409,
                "registry_busy",
                f"{self.path}: another connection holds the write-ahead log; the rows are "
                "deleted and overwritten, but the log could not be emptied: retry the erase",
            )
