"""The genesis document: the chain id, the founding members and the parameters.

It is a JSON file that the founding members agree on. Block 0 commits to it:
its ``previous_hash`` is the SHA-256 of the canonical encoding of the
document, so two chains started from different documents can never be
confused.
"""

from __future__ import annotations

from typing import Any

import msgspec

from gridledger.crypto import InvalidPublicKey, sha256, validate_public_key
from gridledger.crypto.disclosure import FIELD_PATTERN, is_digest
from gridledger.ledger.encoding import MAX_INTEGER, check_no_floats, encode
from gridledger.ledger.errors import DecodingError, GenesisError
from gridledger.ledger.multisig import policy_problem

MAX_LIFETIME_DAYS = 36_500
"""The longest currency lifetime a community may choose (``parameters.tokens.lifetime_days``,
seed 004 §3.4): a hundred years; 0 switches expiry off."""

ROLES = ("consumer", "producer", "prosumer", "storage", "operator", "regulator")
"""The roles a member can hold (DESIGN.md, Market and settlement)."""

TECHNICAL_REGISTRATION_FIELDS = (
    "customer_type",
    "generation_type",
    "installed_capacity_w",
    "storage_capacity_wh",
)
"""Registration fields that describe the installation, not the person, and may be kept on
the chain in the clear (seed 003 Tables 1-2: the kind of customer, the kind and size of the
plant). Every other field (``basic_information``: name, address, identity number;
``credit_record``; ``purpose``; anything a community adds) is personal: the chain keeps
only its salted digest (`gridledger.crypto.disclosure`), the regulator's registry the value.
"""

MAX_REGISTRATION_FIELDS = 32
"""Most fields, plain and committed together, one registration may have."""


def check_registration_fields(
    registration: dict[str, Any], commitments: dict[str, str]
) -> tuple[str, str] | None:
    """The first (field, reason) that may not be on the chain as given; None if all may.

    Plain fields must be technical (`TECHNICAL_REGISTRATION_FIELDS`); committed fields
    need a field name and a 43-character base64url digest; no field is both.
    """
    for field in registration:
        if field not in TECHNICAL_REGISTRATION_FIELDS:
            return (
                f"registration.{field}",
                "is personal data and may not be on the chain: put its salted digest in "
                "registration_commitments and give the value to the regulator's registry",
            )
    for field, digest in commitments.items():
        where = f"registration_commitments.{field}"
        if not isinstance(field, str) or not FIELD_PATTERN.fullmatch(field):
            return where, "field names are lower-case words joined by _"
        if field in TECHNICAL_REGISTRATION_FIELDS:
            return where, "is a technical field: give it in registration, in the clear"
        if not is_digest(digest):
            return where, "must be a SHA-256 digest in base64url (43 characters)"
    if len(registration) + len(commitments) > MAX_REGISTRATION_FIELDS:
        return "registration", f"at most {MAX_REGISTRATION_FIELDS} fields in all"
    return None


class GenesisMember(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str
    """A label the member chooses (its key name, say), shown to every member; not its
    legal name, which is personal data (``basic_information``, committed)."""
    role: str
    public_key: str
    """Hex of the member's 32-byte Ed25519 public key."""
    balance_micro: int = 0
    """Opening balance in micro-units of the community currency."""
    meter_keys: list[str] = []
    """Hex public keys of the member's smart meters."""
    registration: dict[str, Any] = {}
    """Technical registration fields only, in the clear (`TECHNICAL_REGISTRATION_FIELDS`)."""
    registration_commitments: dict[str, str] = {}
    """Digest of each personal registration field (`gridledger.crypto.disclosure`)."""


class Genesis(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    chain_id: str
    genesis_time_ms: int
    members: list[GenesisMember]
    parameters: dict[str, Any] = {}
    """Contract parameters by contract name (``{"market": {...}}``), integers only."""


def genesis_hash(genesis: Genesis) -> bytes:
    """SHA-256 of the canonical encoding of the genesis document."""
    return sha256(encode(genesis))


def load_genesis(text: str | bytes) -> Genesis:
    """Parse and validate a genesis document given as JSON."""
    try:
        genesis = msgspec.json.decode(text, type=Genesis)
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise GenesisError("(document)", str(error)) from error
    validate_genesis(genesis)
    return genesis


def dump_genesis(genesis: Genesis) -> bytes:
    """Pretty JSON for a genesis document."""
    return msgspec.json.format(msgspec.json.encode(genesis), indent=2)


def validate_genesis(genesis: Genesis) -> None:
    """Raise `GenesisError` naming the first field that is wrong."""
    if not genesis.chain_id or len(genesis.chain_id) > 64:
        raise GenesisError("chain_id", "must be 1 to 64 characters")
    if genesis.genesis_time_ms < 0:
        raise GenesisError("genesis_time_ms", "must not be negative")
    if not genesis.members:
        raise GenesisError("members", "a community needs at least one member")
    seen_keys: set[bytes] = set()
    total_micro = 0
    seen_names: set[str] = set()
    for index, member in enumerate(genesis.members):
        where = f"members[{index}]"
        if member.role not in ROLES:
            raise GenesisError(f"{where}.role", f"{member.role!r} is not one of {', '.join(ROLES)}")
        for field_name, key_hex in [("public_key", member.public_key)] + [
            (f"meter_keys[{i}]", k) for i, k in enumerate(member.meter_keys)
        ]:
            try:
                key = bytes.fromhex(key_hex)
                validate_public_key(key)
            except ValueError as error:
                raise GenesisError(f"{where}.{field_name}", "not hexadecimal") from error
            except InvalidPublicKey as error:
                raise GenesisError(f"{where}.{field_name}", error.reason) from error
            if key in seen_keys:
                raise GenesisError(f"{where}.{field_name}", "key used twice")
            seen_keys.add(key)
        if member.name in seen_names:
            raise GenesisError(f"{where}.name", f"name {member.name!r} used twice")
        seen_names.add(member.name)
        if not 0 <= member.balance_micro <= MAX_INTEGER:
            raise GenesisError(f"{where}.balance_micro", f"must be in [0, {MAX_INTEGER}]")
        total_micro += member.balance_micro
        if total_micro > MAX_INTEGER:
            raise GenesisError(f"{where}.balance_micro", "opening balances exceed 64 bits in all")
        try:
            check_no_floats(member.registration, "registration")
        except DecodingError as error:
            raise GenesisError(f"{where}.registration", error.reason) from error
        refused = check_registration_fields(member.registration, member.registration_commitments)
        if refused is not None:
            raise GenesisError(f"{where}.{refused[0]}", refused[1])
    if not any(member.role == "regulator" for member in genesis.members):
        raise GenesisError("members", "the community needs a regulator")
    try:
        check_no_floats(genesis.parameters, "parameters")
    except DecodingError as error:
        raise GenesisError("parameters", error.reason) from error
    for section, value in genesis.parameters.items():
        if not isinstance(value, dict):
            raise GenesisError(f"parameters.{section}", "must be a map of parameter names")
    roles = genesis.parameters.get("tokens", {}).get("issuer_roles", ["operator"])
    if not isinstance(roles, list) or not roles or any(role not in ROLES for role in roles):
        raise GenesisError(
            "parameters.tokens.issuer_roles", f"must be a list of roles from {', '.join(ROLES)}"
        )
    lifetime = genesis.parameters.get("tokens", {}).get("lifetime_days", 0)
    if type(lifetime) is not int or not 0 <= lifetime <= MAX_LIFETIME_DAYS:
        raise GenesisError(
            "parameters.tokens.lifetime_days",
            f"must be a whole number of days in [0, {MAX_LIFETIME_DAYS}] (0: units never expire)",
        )
    certificates = genesis.parameters.get("certificates", {}).get("enabled", False)
    if not isinstance(certificates, bool):
        raise GenesisError("parameters.certificates.enabled", "must be true or false")
    check_policies(genesis.parameters.get("policies", {}))


def check_policies(section: dict[str, Any]) -> None:
    """Raise `GenesisError` naming the first policy of ``parameters.policies`` that is unusable.

    Each is ``{"threshold": M, "keys": [hex Ed25519 keys]}`` (`multisig.policy_problem`).
    """
    for name, spec in sorted(section.items()):
        where = f"parameters.policies.{name}"
        if not isinstance(spec, dict) or set(spec) != {"threshold", "keys"}:
            raise GenesisError(where, "must be a map of exactly threshold and keys")
        threshold, keys_hex = spec["threshold"], spec["keys"]
        if not isinstance(threshold, int) or isinstance(threshold, bool):
            raise GenesisError(f"{where}.threshold", "must be an integer")
        if not isinstance(keys_hex, list) or not all(isinstance(k, str) for k in keys_hex):
            raise GenesisError(f"{where}.keys", "must be a list of hex public keys")
        try:
            keys = [bytes.fromhex(k) for k in keys_hex]
        except ValueError as error:
            raise GenesisError(f"{where}.keys", "not hexadecimal") from error
        problem = policy_problem(name, threshold, keys)
        if problem is not None:
            raise GenesisError(where, problem[1])
