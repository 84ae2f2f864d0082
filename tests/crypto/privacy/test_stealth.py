"""Dual-key stealth addresses with view tags."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridledger.crypto.privacy import (
    InvalidOutputIndex,
    NotOurOutput,
    StealthKeys,
    derive_output,
    generate_stealth_keys,
    one_time_secret,
    pay_to,
    public_key_of,
    scan,
)
from gridledger.crypto.privacy.group import hash_to_scalar

SLOW = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def keys_of(number: int) -> StealthKeys:
    label = number.to_bytes(4, "big")
    return StealthKeys(hash_to_scalar("test-view", label), hash_to_scalar("test-spend", label))


@SLOW
@given(
    st.lists(st.integers(0, 4), min_size=1, max_size=12),
    st.integers(0, 3),
)
def test_each_output_is_found_by_its_recipient_and_nobody_else(
    recipients: list[int], output_index: int
) -> None:
    members = [keys_of(i) for i in range(5)]
    outputs = [pay_to(members[r].address(), output_index) for r in recipients]
    for number, keys in enumerate(members):
        found = scan(outputs, keys.view_secret, keys.address().spend_public_key)
        expected = [o for o, r in zip(outputs, recipients, strict=True) if r == number]
        assert found == expected
        for output in found:
            assert public_key_of(one_time_secret(output, keys)) == output.one_time_public_key


def test_one_time_keys_are_unlinkable_to_the_address_and_to_each_other() -> None:
    keys = keys_of(0)
    address = keys.address()
    first, second = pay_to(address), pay_to(address)
    assert first.one_time_public_key != second.one_time_public_key
    assert first.one_time_public_key not in (address.view_public_key, address.spend_public_key)


def test_outputs_sharing_a_transaction_key_are_told_apart_by_index() -> None:
    keys = keys_of(1)
    outputs = [derive_output(keys.address(), 12345, i) for i in range(3)]
    assert len({o.one_time_public_key for o in outputs}) == 3
    assert scan(outputs, keys.view_secret, keys.address().spend_public_key) == outputs
    secrets = [one_time_secret(o, keys) for o in outputs]
    assert len(set(secrets)) == 3


def test_the_view_key_alone_scans_but_the_spend_key_is_needed_to_spend() -> None:
    keys = keys_of(2)
    output = pay_to(keys.address())
    # a view-only wallet: the view secret and the spend *public* key
    assert scan([output], keys.view_secret, keys.address().spend_public_key) == [output]
    wrong_spend = StealthKeys(keys.view_secret, keys_of(3).spend_secret)
    with pytest.raises(NotOurOutput):
        one_time_secret(output, wrong_spend)


def test_spending_someone_elses_output_is_refused() -> None:
    output = pay_to(keys_of(0).address())
    with pytest.raises(NotOurOutput) as caught:
        one_time_secret(output, keys_of(1))
    assert caught.value.one_time_key == output.one_time_public_key


def test_a_tampered_output_is_not_found() -> None:
    keys = keys_of(4)
    output = pay_to(keys.address())
    spend_public = keys.address().spend_public_key
    other_key = pay_to(keys.address()).one_time_public_key
    wrong_key = dataclasses.replace(output, one_time_public_key=other_key)
    wrong_index = dataclasses.replace(output, output_index=output.output_index + 1)
    wrong_tag = dataclasses.replace(output, view_tag=bytes([output.view_tag[0] ^ 1]))
    garbage_r = dataclasses.replace(output, transaction_public_key=b"\x02" + bytes(32))
    for tampered in (wrong_key, wrong_index, wrong_tag, garbage_r):
        assert scan([tampered], keys.view_secret, spend_public) == []


def test_fresh_keys_differ() -> None:
    assert generate_stealth_keys() != generate_stealth_keys()


def test_output_indexes_outside_32_bits_are_refused_and_skipped() -> None:
    keys = keys_of(0)
    for index in (-1, 2**32):
        with pytest.raises(InvalidOutputIndex) as caught:
            derive_output(keys.address(), 777, index)
        assert caught.value.output_index == index
    output = derive_output(keys.address(), 777, 0)
    spend_public = keys.address().spend_public_key
    odd = dataclasses.replace(output, output_index=2**32)
    assert scan([odd, output], keys.view_secret, spend_public) == [output]


def test_stealth_keys_derived_from_a_seed_are_reproducible_and_independent() -> None:
    from gridledger.crypto.privacy import WrongLength, derive_stealth_keys

    first = derive_stealth_keys(bytes(range(32)))
    assert first == derive_stealth_keys(bytes(range(32)))
    assert first.view_secret != first.spend_secret
    assert derive_stealth_keys(bytes(32)) != first
    with pytest.raises(WrongLength):
        derive_stealth_keys(bytes(31))
