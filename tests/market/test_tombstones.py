"""Lazy deletion: tombstones never leak into views or matching, and never pile up.

The book removes an order by marking its entry dead (residual 0) and leaves it
in its price level, its owner's list and its expiry bucket (see
``gridledger.market.book`` and ``gridledger.market.ladder``). These tests run
random add / match / cancel / amend / expire sequences against a plain model of
the live orders, check each continuous match against a slow reference (the
live opposite orders sorted by priority) and every public view, plus the
structure's own bounds: a level holds at most ``2 * live + TOMBSTONE_SLACK + 1``
entries, and the append-only indexes are compacted.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.market import (
    MatchResult,
    Order,
    OrderBook,
    PriceLevel,
    Side,
    UnknownOrder,
    is_newer,
    match_continuous,
    new_order,
    priority_key,
    with_residual,
)
from gridledger.market.ladder import TOMBSTONE_SLACK, Ladder

from .helpers import PERIOD, buy, sell

OWNERS = ("ann", "bob", "cy")

Model = dict[str, Order]  # order id -> the live order with its residual now

add_strategy = st.tuples(
    st.just("add"),
    st.sampled_from(OWNERS),
    st.sampled_from(Side),
    st.integers(1, 30),  # energy_wh
    st.integers(0, 3),  # price step: few levels, so levels get long
    st.integers(1, 40),  # lifetime_s
)
ops_strategy = st.lists(
    st.one_of(
        add_strategy,
        add_strategy,  # twice as likely as the others
        st.tuples(st.just("cancel"), st.integers(0, 1_000)),
        st.tuples(st.just("amend"), st.integers(0, 1_000), st.integers(0, 3), st.integers(1, 9)),
        st.tuples(st.just("wait"), st.integers(0, 6)),
    ),
    min_size=20,
    max_size=80,
)
looks_strategy = st.lists(st.booleans(), min_size=80, max_size=80)
"""After which operations to check the views: reading the best order drops the
tombstones at the head, so matching must also be tried on a book nobody read."""


def price_of(side: Side, step: int) -> int:
    """Buys at 8-11, sells at 10-13 (micro/kWh): a book with depth that still crosses often."""
    return (8 if side is Side.BUY else 10) + step


def check_ladder(ladder: Ladder) -> None:
    """Levels: sorted unique keys, live counts right, tombstones bounded."""
    assert ladder.keys == sorted(set(ladder.keys))
    assert set(ladder.keys) == set(ladder.levels)
    for level in ladder.levels.values():
        live = sum(1 for e in level if e.residual)
        assert live == level.live >= 1
        assert len(level) <= 2 * live + TOMBSTONE_SLACK + 1


def check_book(book: OrderBook, model: Model) -> None:
    """Every public view of ``book`` shows exactly the live orders of ``model``."""
    assert len(book) == len(model)
    for order_id, order in model.items():
        assert order_id in book and book.get(order_id) == order
    for side in Side:
        expected = sorted((o for o in model.values() if o.side is side), key=priority_key)
        assert list(book.orders(side)) == expected
        assert book.best(side) == (expected[0] if expected else None)
        levels: dict[int, list[Order]] = defaultdict(list)
        for o in expected:
            levels[o.price_micro_per_kwh].append(o)
        assert book.depth(side) == tuple(
            PriceLevel(p, sum(o.residual_wh for o in os), len(os)) for p, os in levels.items()
        )
    bids = [o.price_micro_per_kwh for o in model.values() if o.side is Side.BUY]
    asks = [o.price_micro_per_kwh for o in model.values() if o.side is Side.SELL]
    assert book.best_bid() == (max(bids) if bids else None)
    assert book.best_ask() == (min(asks) if asks else None)
    assert book.owners() == tuple(sorted({o.owner for o in model.values()}))
    for owner in OWNERS:
        mine = [o for o in model.values() if o.owner == owner]
        ranked = sorted(mine, key=lambda o: (o.side is Side.SELL, priority_key(o)))
        assert list(book.orders_of(owner)) == ranked
    check_ladder(book._bids)
    check_ladder(book._asks)


def apply_result(model: Model, incoming: Order, result: MatchResult) -> None:
    """Update the model from what ``match_continuous`` reported."""
    for gone in (*result.expired, *result.cancelled):
        model.pop(gone.order_id, None)
    for m in result.matches:
        rest_id = m.sell_order_id if incoming.side is Side.BUY else m.buy_order_id
        left = model[rest_id].residual_wh - m.energy_wh
        assert left >= 0
        if left:
            model[rest_id] = with_residual(model[rest_id], left)
        else:
            del model[rest_id]
    if result.resting is not None:
        model[incoming.order_id] = result.resting


Fills = tuple[list[tuple[str, str, int, int]], list[str], int]


def reference_continuous(model: Model, incoming: Order, now: int) -> Fills:
    """Continuous matching without bounds, the slow and obvious way, on the live orders.

    Returns the trades (buy id, sell id, Wh, price), the ids cancelled by
    self-trade prevention and the incoming residual left to rest (Wh).
    """
    opposite = sorted(
        (o for o in model.values() if o.side is not incoming.side and o.expiry_s > now),
        key=priority_key,
    )
    trades: list[tuple[str, str, int, int]] = []
    cancelled: list[str] = []
    left = incoming.residual_wh
    for rest in opposite:
        bid, ask = (incoming, rest) if incoming.side is Side.BUY else (rest, incoming)
        if not left or bid.price_micro_per_kwh < ask.price_micro_per_kwh:
            break
        if rest.owner == incoming.owner:  # self-trade prevention: the newer order goes
            if is_newer(incoming, rest):
                cancelled.append(incoming.order_id)
                left = 0
                break
            cancelled.append(rest.order_id)
            continue
        energy = min(left, rest.residual_wh)
        trades.append((bid.order_id, ask.order_id, energy, rest.price_micro_per_kwh))
        left -= energy
    return trades, cancelled, left


def check_against_reference(expected: Fills, result: MatchResult) -> None:
    """The library's matches, self-trade cancels and remainder are the reference's."""
    trades, cancelled, left = expected
    assert [
        (m.buy_order_id, m.sell_order_id, m.energy_wh, m.price_micro_per_kwh)
        for m in result.matches
    ] == trades
    assert [o.order_id for o in result.cancelled] == cancelled
    assert (result.resting.residual_wh if result.resting else 0) == left


@settings(max_examples=300, deadline=None)
@given(ops=ops_strategy, looks=looks_strategy)
def test_random_operations_keep_every_view_equal_to_the_live_orders(
    ops: list[tuple[Any, ...]], looks: list[bool]
) -> None:
    book = OrderBook(PERIOD)
    model: Model = {}
    gone: list[str] = []
    now = 0
    for n, op in enumerate(ops):
        before = set(model)
        if op[0] == "add":
            _, owner, side, energy, step, life = op
            incoming = new_order(
                f"o{n}",
                owner,
                side,
                energy,
                price_of(side, step),
                order_time_s=now,
                expiry_s=now + life,
                delivery_period=PERIOD,
                sequence=book.next_sequence,
            )
            expected = reference_continuous(model, incoming, now)
            result = match_continuous(book, incoming, now)
            check_against_reference(expected, result)
            apply_result(model, incoming, result)
        elif op[0] == "cancel" and model:
            order_id = sorted(model)[op[1] % len(model)]
            assert book.cancel(order_id) == model.pop(order_id)
        elif op[0] == "amend" and model:
            order_id = sorted(model)[op[1] % len(model)]
            old = model[order_id]
            if old.expiry_s > now:
                filled = old.energy_wh - old.residual_wh
                energy = filled + op[3]
                price = price_of(old.side, op[2])
                amended = book.amend(
                    order_id, now_s=now, price_micro_per_kwh=price, energy_wh=energy
                )
                assert (amended.residual_wh, amended.order_time_s) == (energy - filled, now)
                model[order_id] = amended
        elif op[0] == "wait":
            now += op[1]
            expired = book.expire(now)
            assert {o.order_id for o in expired} == {
                i for i, o in model.items() if o.expiry_s <= now
            }
            for o in expired:
                assert model.pop(o.order_id) == o
        gone.extend(before - set(model))
        if looks[n]:
            check_book(book, model)
    check_book(book, model)
    for order_id in gone:
        if order_id not in model:
            assert order_id not in book
            with pytest.raises(UnknownOrder):
                book.cancel(order_id)


def test_a_level_behind_a_long_lived_head_stays_bounded() -> None:
    book = OrderBook(PERIOD)
    book.add(buy("head", 10, 50, seq=0))
    for i in range(1, 5_000):
        book.add(buy(f"b{i}", 5, 50, seq=i, owner="churn"))
        if i % 10:  # keep every tenth
            book.cancel(f"b{i}")
    level = book._bids.levels[50]
    assert level.live == 1 + 499
    assert len(level) <= 2 * level.live + TOMBSTONE_SLACK + 1
    assert book.depth(Side.BUY) == (PriceLevel(50, 10 + 499 * 5, 500),)
    result = match_continuous(book, sell("s", 20, 50, seq=6_000, time=1), now_s=1)
    assert [(m.buy_order_id, m.energy_wh) for m in result.matches] == [
        ("head", 10),
        ("b10", 5),
        ("b20", 5),
    ]
    assert book.best(Side.BUY) == book.get("b30")


def test_the_append_only_indexes_are_compacted_and_skip_dead_entries() -> None:
    book = OrderBook(PERIOD)
    for i in range(20_000):
        owner = f"m{i % 500}"
        book.add(buy(f"b{i}", 1, 40 + i % 5, seq=i, owner=owner, expiry=100 + i % 300))
        if i >= 10:
            book.cancel(f"b{i - 10}")
    assert len(book) == 10
    held_by_owner = sum(len(entries) for entries in book._owners.values())
    held_by_expiry = sum(len(entries) for entries in book._expiring.values())
    assert held_by_owner <= 3 * len(book) + 1_025
    assert held_by_expiry <= 3 * len(book) + 1_025
    assert len(book._expiry_times) == len(book._expiring)
    live_owners = sorted({f"m{i % 500}" for i in range(19_990, 20_000)})
    assert book.owners() == tuple(live_owners)
    assert book.orders_of("m0") == ()
    expired = book.expire(10_000)
    assert sorted(o.order_id for o in expired) == sorted(f"b{i}" for i in range(19_990, 20_000))
    assert len(book) == 0 and book.owners() == ()


def test_matching_skips_tombstones_at_the_head_of_the_best_level() -> None:
    book = OrderBook(PERIOD)
    for i in range(4):
        book.add(buy(f"b{i}", 10, 50, seq=i))
    book.cancel("b1")
    book.cancel("b2")
    book.cancel("b0")  # b1 and b2 are now tombstones at the head; nothing has read the book
    result = match_continuous(book, sell("s", 15, 50, time=1, seq=9), now_s=1)
    assert [(m.buy_order_id, m.energy_wh) for m in result.matches] == [("b3", 10)]
    assert result.resting is not None and result.resting.residual_wh == 5
    assert len(book) == 1 and book.best_bid() is None and book.best_ask() == 50
