"""The regulator's cap: follows recent prices, moves gently, stays in [feed-in, grid]."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridledger.agents.interfaces import PriceBand
from gridledger.agents.regulator import (
    CapProposal,
    CapRegulator,
    RegulatorParameters,
    change_market_arguments,
    propose_cap,
)
from gridledger.contracts.parameters import ChangeArgs

BAND = PriceBand(
    feed_in_micro_per_kwh=500_000, grid_micro_per_kwh=850_000, cap_micro_per_kwh=850_000
)
RULE = RegulatorParameters(window_periods=3, allowed_rise=0.10, max_step=0.05)


def test_a_calm_market_lowers_the_cap_by_at_most_one_step() -> None:
    # mean of the last 3 = (600,000 + 620,000 + 610,000) / 3 = 610,000; target × 1.1 = 671,000;
    # one step from 850,000 is at most 850,000 × 0.05 = 42,500 → 807,500
    proposal = propose_cap(RULE, 11, BAND, (900_000, 600_000, 620_000, 610_000))
    assert proposal == CapProposal(11, 807_500, 610_000)


def test_the_cap_reaches_the_target_when_it_is_within_a_step() -> None:
    # mean 760,000 × 1.1 = 836,000: within 42,500 of 850,000
    band = PriceBand(500_000, 850_000, 850_000)
    assert propose_cap(RULE, 5, band, (760_000,)) == CapProposal(5, 836_000, 760_000)


def test_the_cap_never_rises_above_the_grid_price() -> None:
    # mean 810,000 × 1.1 = 891,000 → clipped to the grid price 850,000 = the cap in force: keep
    assert propose_cap(RULE, 5, BAND, (800_000, 820_000, 810_000)) is None
    # from a cap of 820,000 it may rise one step, to 861,000, but no further than 850,000
    low_cap = PriceBand(500_000, 850_000, 820_000)
    assert propose_cap(RULE, 5, low_cap, (800_000, 820_000, 810_000)) == CapProposal(
        5, 850_000, 810_000
    )


def test_the_cap_never_falls_below_the_feed_in_price() -> None:
    band = PriceBand(800_000, 850_000, 820_000)
    # mean 500,000 × 1.1 = 550,000, one step down is 779,000, the floor is 800,000
    assert propose_cap(RULE, 5, band, (500_000,)) == CapProposal(5, 800_000, 500_000)


def test_small_changes_and_no_history_keep_the_cap() -> None:
    assert propose_cap(RULE, 5, BAND, ()) is None
    # 772,000 × 1.1 = 849,200: 800 below the cap, less than the 1,000 minimum change
    assert propose_cap(RULE, 5, BAND, (772_000,)) is None
    assert CapRegulator(RULE).propose(5, BAND, (772_000,)) is None


def test_change_market_arguments_are_what_the_parameters_contract_takes() -> None:
    arguments = change_market_arguments(CapProposal(12, 807_500, 610_000))
    assert arguments == {"from_period": 12, "parameters": {"cap_price_micro_per_kwh": 807_500}}
    decoded = msgspec.convert(arguments, ChangeArgs, strict=True)
    assert decoded.parameters == {"cap_price_micro_per_kwh": 807_500}


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError):
        RegulatorParameters(window_periods=0)
    with pytest.raises(ValueError):
        RegulatorParameters(max_step=0)
    with pytest.raises(ValueError):
        RegulatorParameters(min_change_micro_per_kwh=0)


@given(
    feed_in=st.integers(0, 900_000),
    spread=st.integers(0, 300_000),
    cap_offset=st.integers(0, 300_000),
    history=st.lists(st.integers(1, 2_000_000), max_size=30).map(tuple),
    step=st.floats(0.001, 1),
)
def test_a_proposal_is_always_a_valid_cap_within_one_step(
    feed_in: int, spread: int, cap_offset: int, history: tuple[int, ...], step: float
) -> None:
    grid = feed_in + spread
    band = PriceBand(feed_in, grid, min(grid, feed_in + cap_offset))
    rule = RegulatorParameters(24, 0.1, step, 1)
    proposal = propose_cap(rule, 3, band, history)
    if proposal is None:
        return
    assert isinstance(proposal.cap_micro_per_kwh, int)
    assert feed_in <= proposal.cap_micro_per_kwh <= grid
    assert abs(proposal.cap_micro_per_kwh - band.cap_micro_per_kwh) <= (
        band.cap_micro_per_kwh * step + 1
    )
