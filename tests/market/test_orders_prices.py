"""Orders, their validation, priority keys, price bounds and the value formula."""

from __future__ import annotations

import msgspec
import pytest

from gridledger.market import (
    GRID,
    REGULATOR,
    InvalidBounds,
    InvalidOrder,
    PriceBounds,
    PriceOutOfBounds,
    PriceRule,
    Side,
    UnsupportedPriceRule,
    effective_ask,
    effective_bid,
    filled_wh,
    is_newer,
    outranks,
    pair_price,
    priority_key,
    require_within_bounds,
    trade_value_micro,
    validate_order,
    with_residual,
    with_sequence,
)

from .helpers import buy, sell


def test_side_opposite() -> None:
    assert Side.BUY.opposite is Side.SELL
    assert Side.SELL.opposite is Side.BUY
    assert Side("buy") is Side.BUY


def test_new_order_starts_unfilled() -> None:
    order = buy("b1", 1500, 40_000)
    assert order.residual_wh == order.energy_wh == 1500
    assert filled_wh(with_residual(order, 500)) == 1000
    assert with_residual(order, 1500) is order
    assert with_sequence(order, 9).sequence == 9


@pytest.mark.parametrize(
    ("field", "value", "reason_part"),
    [
        ("order_id", "", "non-empty"),
        ("owner", "", "non-empty"),
        ("owner", REGULATOR, "reserved"),
        ("owner", GRID, "reserved"),
        ("side", "buy", "Side.BUY"),
        ("energy_wh", 0, "at least 1"),
        ("energy_wh", 1.5, "integer"),
        ("energy_wh", True, "integer"),
        ("residual_wh", 0, "at least 1"),
        ("residual_wh", 2000, "exceeds"),
        ("price_micro_per_kwh", -1, "at least 0"),
        ("price_micro_per_kwh", 10.0, "integer"),
        ("order_time_s", -5, "at least 0"),
        ("expiry_s", 100, "after the order time"),
        ("expiry_s", 99, "after the order time"),
        ("delivery_period", -1, "at least 0"),
        ("sequence", -1, "at least 0"),
    ],
)
def test_validate_order_names_the_bad_field(field: str, value: object, reason_part: str) -> None:
    good = buy("b1", 1000, 40_000, time=100)
    bad = msgspec.structs.replace(good, **{field: value})
    with pytest.raises(InvalidOrder) as info:
        validate_order(bad)
    assert info.value.field == field
    assert info.value.value == value
    assert reason_part in info.value.reason
    assert field in str(info.value)


def test_valid_order_passes() -> None:
    validate_order(sell("s1", 1, 0, time=0))


def test_priority_key_buys_descending_sells_ascending_then_time_then_sequence() -> None:
    high = buy("a", 1, 50)
    low = buy("b", 1, 40)
    early = buy("c", 1, 40, time=1, seq=9)
    late = buy("d", 1, 40, time=2, seq=1)
    same_time_lower_seq = buy("e", 1, 40, time=2, seq=0)
    assert outranks(high, low)
    assert outranks(early, late)
    assert outranks(same_time_lower_seq, late)
    assert priority_key(sell("s", 1, 30)) < priority_key(sell("t", 1, 31))
    assert is_newer(late, early)
    assert not is_newer(early, late)


def test_price_bounds_validate() -> None:
    bounds = PriceBounds(20_000, 300_000)
    assert bounds.cap_price_micro_per_kwh == 300_000
    with pytest.raises(InvalidBounds) as info:
        PriceBounds(300_001, 300_000)
    assert info.value.feed_in == 300_001 and info.value.cap == 300_000
    with pytest.raises(InvalidBounds):
        PriceBounds(-1, 5)
    with pytest.raises(InvalidBounds):
        PriceBounds(1.0, 5)  # type: ignore[arg-type]
    PriceBounds(7, 7)  # a single admissible price is allowed


def test_effective_limits_are_clamped_by_the_standing_offers() -> None:
    bounds = PriceBounds(20, 300)
    assert effective_bid(500, bounds) == 300
    assert effective_bid(100, bounds) == 100
    assert effective_ask(5, bounds) == 20
    assert effective_ask(100, bounds) == 100
    assert effective_bid(500, None) == 500
    assert effective_ask(5, None) == 5


def test_require_within_bounds() -> None:
    bounds = PriceBounds(20, 300)
    require_within_bounds(20, bounds)
    require_within_bounds(300, bounds)
    with pytest.raises(PriceOutOfBounds) as info:
        require_within_bounds(301, bounds)
    assert (info.value.price, info.value.floor, info.value.cap) == (301, 20, 300)
    assert "301" in str(info.value)


def test_trade_value_is_integer_and_rounds_down() -> None:
    assert trade_value_micro(1000, 45_000) == 45_000  # 1 kWh at 0.045 per kWh
    assert trade_value_micro(1, 999) == 0
    assert trade_value_micro(3, 1_001) == 3  # 3.003 rounds down
    assert isinstance(trade_value_micro(7, 13), int)


def test_pair_price_rules_and_midpoint_rounding() -> None:
    assert pair_price(101, 100, PriceRule.MIDPOINT) == 100  # 100.5 rounds down: buyer's favour
    assert pair_price(102, 100, PriceRule.MIDPOINT) == 101
    assert pair_price(102, 100, PriceRule.BID) == 102
    assert pair_price(102, 100, PriceRule.ASK) == 100
    with pytest.raises(UnsupportedPriceRule):
        pair_price(102, 100, PriceRule.UNIFORM)
