"""The community's rules for votes: quorum, majority, longest vote and the founding phase.

They come from the genesis document (``parameters.governance``) and are stored
by the parameters contract under ``parameters/governance``. A chain whose
genesis has no ``governance`` section stores nothing (its state, and so its
head hash, is what it was before votes existed) and is in its founding phase
for ever: the regulator admits applicants directly, as it always did, and the
members may also admit by vote. A genesis that names the section ends the
founding phase at ``founding_until_ms`` (block time; 0, the default, means no
founding phase): from then on only the members' vote admits (seed 001 §4.1).

Units: percent as integers, milliseconds of block time.
"""

from __future__ import annotations

from typing import Any

import msgspec

from gridledger.contracts.governance_errors import InvalidGovernanceParameter
from gridledger.ledger import GenesisError, StateReader, decode

NAMESPACE = "parameters"
KEY = "governance"

FOUNDING_FOREVER_MS = 2**63 - 1
"""``founding_until_ms`` of a chain whose genesis names no governance section."""


class GovernanceParameters(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    quorum_percent: int = 50
    """Ballots cast (abstentions included) must reach this share of the electorate."""
    majority_percent: int = 50
    """Yes must be strictly more than this share of the yes and no ballots."""
    max_voting_ms: int = 30 * 86_400_000
    """The longest a proposal may stay open (block time, ms)."""
    founding_until_ms: int = 0
    """Until this block time the regulator may admit alone (0: no founding phase)."""


def check_governance(parameters: GovernanceParameters) -> None:
    """Raise `InvalidGovernanceParameter` naming the first field out of its range."""
    if not 0 <= parameters.quorum_percent <= 100:
        raise InvalidGovernanceParameter("quorum_percent", "must be in [0, 100]")
    if not 0 <= parameters.majority_percent < 100:
        raise InvalidGovernanceParameter("majority_percent", "must be in [0, 100)")
    if parameters.max_voting_ms <= 0:
        raise InvalidGovernanceParameter("max_voting_ms", "must be positive")
    if parameters.founding_until_ms < 0:
        raise InvalidGovernanceParameter("founding_until_ms", "must not be negative")


def parse_governance(raw: dict[str, Any]) -> GovernanceParameters:
    """The genesis section as `GovernanceParameters`, or `GenesisError` naming the field."""
    try:
        parameters = msgspec.convert(raw, GovernanceParameters, strict=True)
        check_governance(parameters)
    except (msgspec.ValidationError, InvalidGovernanceParameter) as error:
        raise GenesisError("parameters.governance", str(error)) from error
    return parameters


def governance_parameters(state: StateReader) -> GovernanceParameters:
    """The rules in force; a chain without a governance section is founding for ever."""
    raw = state.get(NAMESPACE, KEY)
    if raw is None:
        return GovernanceParameters(founding_until_ms=FOUNDING_FOREVER_MS)
    return decode(raw, GovernanceParameters)


def in_founding_phase(state: StateReader, timestamp_ms: int) -> bool:
    """True while the regulator may admit applicants alone."""
    return timestamp_ms < governance_parameters(state).founding_until_ms


def electorate_reached_quorum(ballots: int, electorate: int, quorum_percent: int) -> bool:
    """Whether `ballots` of `electorate` reach the quorum (integers, no rounding)."""
    return ballots * 100 >= quorum_percent * electorate


def majority_for(yes: int, no: int, majority_percent: int) -> bool:
    """Whether yes is strictly more than `majority_percent` of yes and no."""
    return yes > 0 and yes * 100 > majority_percent * (yes + no)


__all__ = [
    "FOUNDING_FOREVER_MS",
    "GovernanceParameters",
    "check_governance",
    "electorate_reached_quorum",
    "governance_parameters",
    "in_founding_phase",
    "majority_for",
    "parse_governance",
]
