"""The day-ahead call auction: products cleared together, uniform prices, all-or-none."""

from __future__ import annotations

from collections import defaultdict

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.market import (
    DayAheadOrder,
    DuplicateOrder,
    InvalidOrder,
    Mechanism,
    PriceBounds,
    Side,
    clear_day_ahead,
    clear_product,
    trade_value_micro,
    uniform_clearing,
)

GATE = 10_000


def order(
    order_id: str,
    side: Side,
    energy_wh: int,
    price: int,
    period: int = 24,
    *,
    owner: str | None = None,
    time: int = 0,
    seq: int = 0,
    aon: bool = False,
) -> DayAheadOrder:
    return DayAheadOrder(
        order_id, owner or order_id, side, energy_wh, price, period, time, seq, aon
    )


def test_products_clear_apart_with_their_own_uniform_price() -> None:
    orders = [
        order("b1", Side.BUY, 1_000, 60, period=24, seq=0),
        order("s1", Side.SELL, 1_000, 40, period=24, seq=1),
        order("b2", Side.BUY, 2_000, 90, period=25, seq=2),
        order("s2", Side.SELL, 2_000, 70, period=25, seq=3),
        order("b3", Side.BUY, 500, 10, period=26, seq=4),  # nothing to meet
    ]
    result = clear_day_ahead(reversed(orders), GATE)
    assert [p.delivery_period for p in result.products] == [24, 25, 26]
    assert [p.price_micro_per_kwh for p in result.products] == [50, 80, None]
    assert [p.volume_wh for p in result.products] == [1_000, 2_000, 0]
    assert all(m.reason.mechanism is Mechanism.DAY_AHEAD for m in result.matches)
    assert result.products[2].filled_wh == {"b3": 0}


def test_all_or_none_marginal_order_is_rejected_and_the_product_cleared_again() -> None:
    """Divisible clearing would give the AON buy B2 600 of its 1000 Wh: it is taken out,
    and the later divisible buy B3 gets the energy instead."""
    orders = [
        order("B1", Side.BUY, 1_000, 80, time=1, seq=1),
        order("B2", Side.BUY, 1_000, 70, time=2, seq=2, aon=True),
        order("B3", Side.BUY, 1_000, 60, time=3, seq=3),
        order("S1", Side.SELL, 1_600, 50, time=1, seq=4),
    ]
    product = clear_product(orders, 24, GATE)
    assert product.rejected_all_or_none == ("B2",)
    assert product.filled_wh == {"B1": 1_000, "B2": 0, "B3": 600, "S1": 1_600}
    assert product.price_micro_per_kwh == 55  # (50 + 60) // 2 once B2 is out


def test_all_or_none_order_that_fits_is_filled_whole() -> None:
    orders = [
        order("B1", Side.BUY, 1_000, 80, seq=1, aon=True),
        order("S1", Side.SELL, 1_600, 50, seq=2),
    ]
    product = clear_product(orders, 24, GATE)
    assert product.filled_wh == {"B1": 1_000, "S1": 1_000}
    assert product.rejected_all_or_none == ()


def test_all_or_none_seller_too_big_for_demand_trades_nothing() -> None:
    orders = [
        order("B1", Side.BUY, 1_000, 80, seq=1),
        order("S1", Side.SELL, 5_000, 50, seq=2, aon=True),
    ]
    product = clear_product(orders, 24, GATE)
    assert product.matches == ()
    assert product.price_micro_per_kwh is None
    assert product.rejected_all_or_none == ("S1",)


def test_self_crossing_orders_of_one_owner_cancel_the_newer() -> None:
    orders = [
        order("a-buy", Side.BUY, 1_000, 80, owner="a", time=1, seq=1),
        order("a-sell", Side.SELL, 1_000, 50, owner="a", time=2, seq=2),
        order("b-sell", Side.SELL, 1_000, 60, owner="b", time=3, seq=3),
    ]
    product = clear_product(orders, 24, GATE)
    assert product.self_trade_cancelled == ("a-sell",)
    assert [(m.buyer, m.seller) for m in product.matches] == [("a", "b")]


def test_bounds_apply_per_product() -> None:
    orders = [
        order("b1", Side.BUY, 1_000, 900, period=24, seq=1),
        order("s1", Side.SELL, 1_000, 10, period=24, seq=2),
        order("b2", Side.BUY, 1_000, 900, period=25, seq=3),
        order("s2", Side.SELL, 1_000, 10, period=25, seq=4),
    ]
    bounds = {24: PriceBounds(100, 200), 25: PriceBounds(300, 500)}
    result = clear_day_ahead(orders, GATE, bounds)
    assert [p.price_micro_per_kwh for p in result.products] == [150, 400]


def test_bad_orders_are_named() -> None:
    with pytest.raises(InvalidOrder, match="order_time_s"):
        clear_product([order("b", Side.BUY, 1, 1, time=GATE + 1)], 24, GATE)
    with pytest.raises(InvalidOrder, match="delivery_period"):
        clear_product([order("b", Side.BUY, 1, 1, period=25)], 24, GATE)
    with pytest.raises(InvalidOrder, match="energy_wh"):
        clear_product([order("b", Side.BUY, 0, 1)], 24, GATE)
    with pytest.raises(InvalidOrder, match="all_or_none"):
        clear_product([DayAheadOrder("b", "b", Side.BUY, 1, 1, 24, 0, 0, 1)], 24, GATE)  # type: ignore[arg-type]
    with pytest.raises(DuplicateOrder):
        clear_product([order("b", Side.BUY, 1, 1), order("b", Side.SELL, 1, 1)], 24, GATE)


# -- properties --------------------------------------------------------------------------------

order_lists = st.lists(
    st.tuples(
        st.sampled_from([Side.BUY, Side.SELL]),
        st.integers(1, 3_000),
        st.integers(1, 200),
        st.integers(24, 26),
        st.integers(0, 5),  # owner
        st.integers(0, 50),  # time
        st.booleans(),
    ),
    max_size=30,
)


def build(raw: list[tuple[Side, int, int, int, int, int, bool]]) -> list[DayAheadOrder]:
    return [
        DayAheadOrder(f"o{i}", f"m{owner}", side, energy, price, period, time, i, aon)
        for i, (side, energy, price, period, owner, time, aon) in enumerate(raw)
    ]


@settings(max_examples=200, deadline=None)
@given(order_lists, st.booleans())
def test_clearing_respects_limits_aon_energy_and_money(raw, bounded) -> None:
    orders = build(raw)
    by_id = {o.order_id: o for o in orders}
    bounds = PriceBounds(20, 180) if bounded else None
    result = clear_day_ahead(orders, GATE, bounds)
    filled: dict[str, int] = defaultdict(int)
    for product in result.products:
        prices = {m.price_micro_per_kwh for m in product.matches}
        assert len(prices) <= 1  # one uniform price per product
        for match in product.matches:
            buy, sell = by_id[match.buy_order_id], by_id[match.sell_order_id]
            assert buy.side is Side.BUY and sell.side is Side.SELL
            assert buy.delivery_period == sell.delivery_period == product.delivery_period
            assert buy.owner != sell.owner  # no self-trade
            limit = (
                min(buy.price_micro_per_kwh, bounds.cap_price_micro_per_kwh)
                if bounds
                else buy.price_micro_per_kwh
            )
            floor = (
                max(sell.price_micro_per_kwh, bounds.feed_in_price_micro_per_kwh)
                if bounds
                else sell.price_micro_per_kwh
            )
            assert floor <= match.price_micro_per_kwh <= limit
            assert match.value_micro == trade_value_micro(
                match.energy_wh, match.price_micro_per_kwh
            )
            filled[buy.order_id] += match.energy_wh
            filled[sell.order_id] += match.energy_wh
        for order_id, energy in product.filled_wh.items():
            assert energy == filled[order_id]
        bought = sum(e for i, e in product.filled_wh.items() if by_id[i].side is Side.BUY)
        sold = sum(e for i, e in product.filled_wh.items() if by_id[i].side is Side.SELL)
        assert bought == sold == product.volume_wh
    for o in orders:
        assert filled[o.order_id] <= o.energy_wh
        if o.all_or_none:
            assert filled[o.order_id] in (0, o.energy_wh)


@settings(max_examples=100, deadline=None)
@given(order_lists)
def test_clearing_is_deterministic_and_independent_of_input_order(raw) -> None:
    orders = build(raw)
    assert clear_day_ahead(orders, GATE) == clear_day_ahead(list(reversed(orders)), GATE)


@settings(max_examples=100, deadline=None)
@given(order_lists)
def test_without_all_or_none_each_product_reaches_the_most_volume(raw) -> None:
    """With divisible orders of distinct owners, each product trades the volume that
    maximises min(demand, supply), as `uniform_clearing` finds it."""
    orders = [msgspec.structs.replace(o, owner=o.order_id, all_or_none=False) for o in build(raw)]
    result = clear_day_ahead(orders, GATE)
    for product in result.products:
        mine = [o for o in orders if o.delivery_period == product.delivery_period]
        point = uniform_clearing(
            [(o.price_micro_per_kwh, o.energy_wh) for o in mine if o.side is Side.BUY],
            [(o.price_micro_per_kwh, o.energy_wh) for o in mine if o.side is Side.SELL],
        )
        assert product.volume_wh == (0 if point is None else point.volume_wh)
        assert product.rejected_all_or_none == ()
