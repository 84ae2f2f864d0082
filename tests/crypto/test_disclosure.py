"""SD-JWT disclosures (RFC 9901 §4.2.1, §4.2.3): the RFC's example, round trips and tampering."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.crypto.disclosure import (
    DIGEST_LENGTH,
    SALT_BYTES,
    DisclosureError,
    base64url,
    derived_salt,
    disclosure_digest,
    from_base64url,
    is_digest,
    make_disclosure,
    new_salt,
    open_commitments,
    parse_disclosure,
)

RFC_DISCLOSURE = "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0"
RFC_DIGEST = "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0"
"""RFC 9901 §4.2.1's disclosure of family_name = "Möbius" and its SHA-256 digest (§4.2.3)."""

fields = st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)
values = st.one_of(st.text(max_size=200), st.integers(min_value=-(2**63), max_value=2**63 - 1))
salts = st.binary(min_size=SALT_BYTES, max_size=32).map(base64url)


def test_the_rfc_example_disclosure_and_digest_are_reproduced() -> None:
    made = make_disclosure("family_name", "Möbius", salt="_26bc4LT-ac6q2KI6cBW5es")
    assert made.encoded == RFC_DISCLOSURE
    assert made.digest == RFC_DIGEST
    assert disclosure_digest(RFC_DISCLOSURE) == RFC_DIGEST
    parsed = parse_disclosure(RFC_DISCLOSURE)
    assert (parsed.salt, parsed.field, parsed.value) == (
        "_26bc4LT-ac6q2KI6cBW5es",
        "family_name",
        "Möbius",
    )


def test_fresh_salts_are_128_bits_and_differ() -> None:
    first, second = new_salt(), new_salt()
    assert len(from_base64url(first)) == SALT_BYTES and first != second
    one = make_disclosure("basic_information", "Erin, 12 Mill Lane")
    two = make_disclosure("basic_information", "Erin, 12 Mill Lane")
    assert one.digest != two.digest  # the same value does not give the same digest


def test_derived_salts_are_reproducible_and_per_field() -> None:
    assert derived_salt(b"seed", "a") == derived_salt(b"seed", "a")
    assert derived_salt(b"seed", "a") != derived_salt(b"seed", "b")
    assert derived_salt(b"seed", "a") != derived_salt(b"other", "a")
    assert len(from_base64url(derived_salt(b"seed", "a"))) == SALT_BYTES


@settings(deadline=None)  # pure; a loaded machine must not fail it on time
@given(field=fields, value=values, salt=salts)
def test_a_disclosure_round_trips_and_opens_its_commitment(
    field: str, value: str | int, salt: str
) -> None:
    made = make_disclosure(field, value, salt)
    assert is_digest(made.digest) and len(made.digest) == DIGEST_LENGTH
    assert parse_disclosure(made.encoded) == made
    opened = open_commitments({field: made.digest}, [made.encoded])
    assert opened[field].value == value


@given(field=fields, value=values, salt=salts, other=values)
def test_another_value_does_not_open_the_commitment(
    field: str, value: str | int, salt: str, other: str | int
) -> None:
    made = make_disclosure(field, value, salt)
    forged = make_disclosure(field, other, salt)
    if forged.encoded == made.encoded:
        return
    with pytest.raises(DisclosureError, match="does not match"):
        open_commitments({field: made.digest}, [forged.encoded])


@given(value=values, salt=salts, position=st.integers(min_value=0))
def test_a_changed_character_of_the_disclosure_is_caught(
    value: str | int, salt: str, position: int
) -> None:
    made = make_disclosure("credit_record", value, salt)
    index = position % len(made.encoded)
    replacement = "A" if made.encoded[index] != "A" else "B"
    tampered = made.encoded[:index] + replacement + made.encoded[index + 1 :]
    with pytest.raises(DisclosureError):
        open_commitments({"credit_record": made.digest}, [tampered])


def test_missing_unknown_and_repeated_disclosures_are_named() -> None:
    a = make_disclosure("basic_information", "4 Grid Street")
    b = make_disclosure("credit_record", "good")
    commitments = {"basic_information": a.digest, "credit_record": b.digest}
    with pytest.raises(DisclosureError, match="not disclosed") as missing:
        open_commitments(commitments, [a.encoded])
    assert missing.value.field == "credit_record"
    with pytest.raises(DisclosureError, match="no commitment") as unknown:
        open_commitments({"basic_information": a.digest}, [a.encoded, b.encoded])
    assert unknown.value.field == "credit_record"
    with pytest.raises(DisclosureError, match="twice"):
        open_commitments(commitments, [a.encoded, a.encoded, b.encoded])


@pytest.mark.parametrize(
    "payload, fragment",
    [
        (["salt"], "JSON array"),
        ({"salt": 1}, "JSON array"),
        ([base64url(bytes(16)), "Bad Field", "x"], "lower-case"),
        ([base64url(bytes(8)), "field", "x"], "at least 16 bytes"),
        ([base64url(bytes(16)), "field", 1.5], "text or an integer"),
        ([base64url(bytes(16)), "field", True], "text or an integer"),
        ([base64url(bytes(16)), "field", {"nested": "map"}], "text or an integer"),
    ],
)
def test_malformed_disclosures_are_refused(payload: object, fragment: str) -> None:
    encoded = base64url(json.dumps(payload).encode())
    with pytest.raises(DisclosureError, match=fragment):
        parse_disclosure(encoded)


@pytest.mark.parametrize("text", ["not base64!", "YQ=", "A" * 5000, "wyJ"])
def test_non_disclosures_are_refused(text: str) -> None:
    with pytest.raises(DisclosureError):
        parse_disclosure(text)
