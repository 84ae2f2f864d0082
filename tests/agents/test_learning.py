"""The shared adjustment rule of seed 000 eqs. 3–5, branch by branch."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridledger.agents.learning import (
    ProfitMemory,
    classify_change,
    record_profit,
    step_value,
    success_probability,
)


def test_changes_beyond_xi_rise_or_fall_and_within_are_flat() -> None:
    assert classify_change(1_500.0, 1_000.0, 400.0) == "rise"  # +500 > 400
    assert classify_change(500.0, 1_000.0, 400.0) == "fall"  # -500 < -400
    assert classify_change(1_400.0, 1_000.0, 400.0) == "flat"  # |+400| <= 400
    assert classify_change(600.0, 1_000.0, 400.0) == "flat"  # |-400| <= 400
    assert classify_change(9_999.0, None, 400.0) == "flat"  # first period: no change


def test_record_profit_adds_to_the_success_or_decline_sum() -> None:
    memory = ProfitMemory(previous_profit_micro=1_000.0, success_micro=300.0, decline_micro=50.0)
    rose, trend = record_profit(memory, 2_000.0, 100.0)
    assert trend == "rise"
    assert rose == ProfitMemory(2_000.0, 300.0 + 2_000.0, 50.0)  # ε_s += ε^t
    fell, trend = record_profit(memory, 200.0, 100.0)
    assert trend == "fall"
    assert fell == ProfitMemory(200.0, 300.0, 50.0 + 200.0)  # ε_d += ε^t
    flat, trend = record_profit(memory, 1_050.0, 100.0)
    assert trend == "flat"
    assert flat == ProfitMemory(1_050.0, 300.0, 50.0)  # sums unchanged


def test_success_probability_is_the_share_of_success() -> None:
    # pol_s = ε_s / (ε_s + ε_d) = 300 / (300 + 100) = 0.75
    assert success_probability(ProfitMemory(None, 300.0, 100.0)) == pytest.approx(0.75)
    assert success_probability(ProfitMemory()) == 0.5  # 0 / 0: no evidence
    assert success_probability(ProfitMemory(None, -10.0, -5.0)) == 0.5  # denominator <= 0
    assert success_probability(ProfitMemory(None, 300.0, -100.0)) == 1.0  # 1.5 clipped


def test_step_value_follows_each_branch() -> None:
    assert step_value(100.0, 10.0, "rise", 0.9, 0.5) == 110.0  # x + Δ
    assert step_value(100.0, 10.0, "fall", 0.1, 0.5) == 90.0  # x - Δ
    assert step_value(100.0, 10.0, "flat", 0.3, 0.5) == pytest.approx(103.0)  # D < pol: x + Δ·D
    assert step_value(100.0, 10.0, "flat", 0.7, 0.5) == pytest.approx(93.0)  # D >= pol: x - Δ·D


@given(
    value=st.floats(-1e9, 1e9),
    step=st.floats(0, 1e6),
    draw=st.floats(0, 1, exclude_max=True),
    up=st.floats(0, 1),
    trend=st.sampled_from(["rise", "fall", "flat"]),
)
def test_a_step_never_moves_further_than_delta(
    value: float, step: float, draw: float, up: float, trend: str
) -> None:
    moved = step_value(value, step, trend, draw, up)  # type: ignore[arg-type]
    assert abs(moved - value) <= step * (1 + 1e-9) + 1e-6
