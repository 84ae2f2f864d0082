"""A registration split into what the chain may hold and what only the regulator sees.

An applicant (the CLI, the demo, a simulation, a test) starts from its whole
registration, e.g. ``{"generation_type": "solar", "installed_capacity_w": 4800,
"basic_information": "Erin, 12 Mill Lane", "credit_record": "none"}``. The
technical fields (`TECHNICAL_REGISTRATION_FIELDS`) go on the chain in the
clear; each personal field becomes a disclosure (RFC 9901 §4.2.1), whose
digest goes on the chain and whose text goes to the regulator's registry.
Pure: no I/O, and randomness only for fresh salts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gridledger.crypto.disclosure import (
    Disclosure,
    DisclosureError,
    Value,
    check_value,
    make_disclosures,
)
from gridledger.ledger import TECHNICAL_REGISTRATION_FIELDS

MAX_TEXT = 512
"""Longest text value of a registration field, in characters."""


@dataclass(frozen=True)
class SplitRegistration:
    technical: dict[str, Any]
    """Fields the chain keeps in the clear."""
    disclosures: list[Disclosure]
    """One per personal field, sorted by field: the text goes to the registry only."""

    @property
    def commitments(self) -> dict[str, str]:
        """The digest of each personal field: what the chain keeps of it."""
        return {d.field: d.digest for d in self.disclosures}

    @property
    def encoded(self) -> list[str]:
        """The disclosure strings, as sent to the registry."""
        return [d.encoded for d in self.disclosures]


def is_personal(field: str) -> bool:
    """Every field that is not listed as technical is personal."""
    return field not in TECHNICAL_REGISTRATION_FIELDS


def check_personal_value(field: str, value: object) -> Value:
    """A personal value as the registry accepts it: text up to `MAX_TEXT`, or an integer."""
    checked = check_value(field, value)
    if isinstance(checked, str) and len(checked) > MAX_TEXT:
        raise DisclosureError(field, f"is over {MAX_TEXT} characters")
    return checked


def split_registration(
    registration: Mapping[str, Value], salts: Mapping[str, str] | None = None
) -> SplitRegistration:
    """Technical fields in the clear, personal ones as disclosures (fresh salts unless given)."""
    personal = {f: check_personal_value(f, v) for f, v in registration.items() if is_personal(f)}
    technical = {f: v for f, v in registration.items() if not is_personal(f)}
    chosen = None if salts is None else {f: salts[f] for f in personal}
    return SplitRegistration(technical, make_disclosures(personal, chosen))


def application(
    name: str, role: str, registration: Mapping[str, Value], salts: Mapping[str, str] | None = None
) -> tuple[dict[str, Any], SplitRegistration]:
    """The arguments of ``membership.apply`` and the split registration behind them."""
    split = split_registration(registration, salts)
    arguments = {
        "name": name,
        "role": role,
        "registration": split.technical,
        "registration_commitments": split.commitments,
    }
    return arguments, split
