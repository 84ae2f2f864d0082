"""Sealing a day-ahead order (pure): honest orders verify under their own context only, the
openings open the commitments, a seed makes sealing repeat, values out of range are refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.crypto.privacy import (
    InvalidRangeProof,
    Opening,
    ValueOutOfRange,
    proof_length,
    verify_opening,
    verify_range,
)
from gridledger.market import proof_context, seal_order

OWNER, OTHER = "glaaaa", "glbbbb"
FEED_IN, CAP = 80_000, 320_000


@st.composite
def orders(draw: st.DrawFn) -> tuple[str, int, int, int, int]:
    maximum = draw(st.integers(2, 100_000))
    return (
        draw(st.sampled_from(["buy", "sell"])),
        draw(st.integers(0, 10**6)),
        draw(st.integers(FEED_IN, CAP)),
        draw(st.integers(1, maximum)),
        maximum,
    )


@settings(max_examples=15, deadline=None)
@given(orders())
def test_an_honest_sealed_order_verifies_and_opens(order: tuple[str, int, int, int, int]) -> None:
    side, period, price, energy, maximum = order
    sealed, opening = seal_order(OWNER, side, period, price, energy, maximum, FEED_IN, CAP)
    verify_range(
        sealed.price_commitment,
        sealed.price_proof,
        FEED_IN,
        CAP,
        context=proof_context(OWNER, side, period, "price"),
    )
    verify_range(
        sealed.energy_commitment,
        sealed.energy_proof,
        1,
        maximum,
        context=proof_context(OWNER, side, period, "energy"),
    )
    verify_opening(sealed.price_commitment, Opening(price, opening.price_blinding))
    verify_opening(sealed.energy_commitment, Opening(energy, opening.energy_blinding))
    assert len(sealed.price_proof) == proof_length(FEED_IN, CAP)


@settings(max_examples=10, deadline=None)
@given(orders(), st.sampled_from(["owner", "side", "period", "field"]))
def test_a_proof_does_not_verify_under_another_context(
    order: tuple[str, int, int, int, int], changed: str
) -> None:
    side, period, price, energy, maximum = order
    sealed, _ = seal_order(OWNER, side, period, price, energy, maximum, FEED_IN, CAP)
    owner, other_side, other_period, field = OWNER, side, period, "price"
    if changed == "owner":
        owner = OTHER
    elif changed == "side":
        other_side = "sell" if side == "buy" else "buy"
    elif changed == "period":
        other_period = period + 1
    else:
        field = "energy"
    with pytest.raises(InvalidRangeProof):
        verify_range(
            sealed.price_commitment,
            sealed.price_proof,
            FEED_IN,
            CAP,
            context=proof_context(owner, other_side, other_period, field),
        )


def test_a_seed_makes_sealing_repeat_and_no_seed_does_not() -> None:
    args = (OWNER, "buy", 7, 200_000, 900, 20_000, FEED_IN, CAP)
    assert seal_order(*args, seed=b"s") == seal_order(*args, seed=b"s")
    assert seal_order(*args, seed=b"s") != seal_order(*args, seed=b"t")
    assert seal_order(*args)[0] != seal_order(*args)[0]


@pytest.mark.parametrize(
    ("price", "energy", "maximum"),
    [
        (FEED_IN - 1, 900, 1_000),
        (CAP + 1, 900, 1_000),
        (200_000, 0, 1_000),
        (200_000, 1_001, 1_000),
    ],
)
def test_values_out_of_range_are_refused(price: int, energy: int, maximum: int) -> None:
    with pytest.raises(ValueOutOfRange):
        seal_order(OWNER, "buy", 7, price, energy, maximum, FEED_IN, CAP)


def test_the_reveal_arguments_name_the_order() -> None:
    _, opening = seal_order(OWNER, "sell", 7, 200_000, 900, 20_000, FEED_IN, CAP, seed=b"s")
    args = opening.reveal_args("da1-2")
    assert (args["order_id"], args["price_micro_per_kwh"], args["energy_wh"]) == (
        "da1-2",
        200_000,
        900,
    )
