"""Pedersen commitments: openings, refusals, and the homomorphism."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.crypto.privacy import (
    CURVE_ORDER,
    Opening,
    OpeningMismatch,
    PrivacyError,
    commit,
    decode_point,
    verify_opening,
)
from gridledger.crypto.privacy.group import add

values = st.integers(0, 2**64 - 1)
blindings = st.integers(1, CURVE_ORDER - 1)

# no per-example deadline: the machine is shared and the timings vary
NO_DEADLINE = settings(deadline=None)


@NO_DEADLINE
@given(values, blindings)
def test_a_commitment_opens_to_its_value(value: int, blinding: int) -> None:
    commitment, opening = commit(value, blinding)
    assert opening == Opening(value, blinding)
    verify_opening(commitment, opening)


@NO_DEADLINE
@given(values, blindings, st.integers(1, 2**64))
def test_a_reveal_with_another_value_is_refused(value: int, blinding: int, delta: int) -> None:
    commitment, _ = commit(value, blinding)
    with pytest.raises(OpeningMismatch) as caught:
        verify_opening(commitment, Opening(value + delta, blinding))
    assert caught.value.value == value + delta
    assert caught.value.commitment == commitment


@NO_DEADLINE
@given(values, blindings, blindings)
def test_a_reveal_with_another_blinding_is_refused(value: int, blinding: int, other: int) -> None:
    if other == blinding:
        return
    commitment, _ = commit(value, blinding)
    with pytest.raises(OpeningMismatch):
        verify_opening(commitment, Opening(value, other))


def test_a_reveal_with_a_blinding_out_of_range_is_refused() -> None:
    commitment, opening = commit(5)
    with pytest.raises(OpeningMismatch):
        verify_opening(commitment, Opening(5, 0))
    with pytest.raises(OpeningMismatch):
        verify_opening(commitment, Opening(5, opening.blinding + CURVE_ORDER))


@NO_DEADLINE
@given(values, st.data())
def test_flipping_any_byte_of_a_commitment_fails(value: int, data: st.DataObject) -> None:
    commitment, opening = commit(value)
    position = data.draw(st.integers(0, len(commitment) - 1))
    mask = data.draw(st.integers(1, 255))
    tampered = bytearray(commitment)
    tampered[position] ^= mask
    with pytest.raises(PrivacyError):
        verify_opening(bytes(tampered), opening)


def test_commitments_are_hiding_with_fresh_blindings() -> None:
    assert commit(42)[0] != commit(42)[0]


@NO_DEADLINE
@given(values, blindings, values, blindings)
def test_commitments_add_up(a: int, r: int, b: int, s: int) -> None:
    if (r + s) % CURVE_ORDER == 0:
        return
    total = add(decode_point(commit(a, r)[0]), decode_point(commit(b, s)[0]))
    assert total == decode_point(commit(a + b, (r + s) % CURVE_ORDER)[0])
