"""The order book: priority, cancel, amend, expiry, depth, owners and errors."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from gridledger.market import (
    DuplicateOrder,
    InvalidOrder,
    Order,
    OrderBook,
    PriceLevel,
    Side,
    UnknownOrder,
    new_order,
)

from .helpers import PERIOD, book_of, buy, sell


def ids(orders: Iterable[Order]) -> list[str]:
    return [o.order_id for o in orders]


def test_empty_book() -> None:
    book = OrderBook(PERIOD)
    assert len(book) == 0
    assert book.best_bid() is None and book.best_ask() is None
    assert book.best(Side.BUY) is None
    assert book.depth(Side.SELL) == ()
    assert list(book) == []
    assert book.expire(10**9) == ()


def test_price_time_priority_ties_by_time_then_sequence() -> None:
    book = book_of(
        buy("late", 100, 50, time=20, seq=1),
        buy("cheap", 100, 40, time=0, seq=0),
        buy("early", 100, 50, time=10, seq=7),
        buy("same_time_high_seq", 100, 50, time=20, seq=5),
        buy("rich", 100, 60, time=30, seq=9),
        sell("s_late", 100, 70, time=5, seq=3),
        sell("s_low", 100, 65, time=9, seq=4),
        sell("s_early", 100, 70, time=5, seq=2),
    )
    assert ids(book.orders(Side.BUY)) == ["rich", "early", "late", "same_time_high_seq", "cheap"]
    assert ids(book.orders(Side.SELL)) == ["s_low", "s_early", "s_late"]
    assert ids(book) == ids(book.orders(Side.BUY)) + ids(book.orders(Side.SELL))
    assert book.best_bid() == 60 and book.best_ask() == 65
    best = book.best(Side.SELL)
    assert best is not None and best.order_id == "s_low"


def test_an_order_issued_earlier_but_added_later_keeps_its_time_priority() -> None:
    book = book_of(buy("b2", 1, 50, time=10, seq=2), buy("b3", 1, 50, time=10, seq=3))
    book.add(buy("b1", 1, 50, time=5, seq=9))
    book.add(buy("b2a", 1, 50, time=10, seq=2))  # same time and sequence: after b2 (arrival)
    assert ids(book.orders(Side.BUY)) == ["b1", "b2", "b2a", "b3"]


def test_add_assigns_sequence_on_request() -> None:
    book = OrderBook(PERIOD)
    book.add(buy("a", 1, 50, seq=41))
    assert book.next_sequence == 42
    stored = book.add(buy("b", 1, 50), assign_sequence=True)
    assert stored.sequence == 42
    assert book.get("b").sequence == 42
    assert book.next_sequence == 43


def test_add_rejects_duplicates_wrong_period_and_invalid_orders() -> None:
    book = book_of(buy("a", 1, 50))
    with pytest.raises(DuplicateOrder) as dup:
        book.add(sell("a", 1, 60))
    assert dup.value.order_id == "a"
    other = new_order(
        "x", "x", Side.BUY, 1, 50, order_time_s=0, expiry_s=10, delivery_period=PERIOD + 1
    )
    with pytest.raises(InvalidOrder) as wrong:
        book.add(other)
    assert wrong.value.field == "delivery_period"
    with pytest.raises(InvalidOrder):
        OrderBook(-1)
    assert ids(book) == ["a"]


def test_cancel_returns_the_order_and_unknown_ids_raise() -> None:
    book = book_of(buy("a", 10, 50), buy("b", 10, 50), sell("s", 5, 70))
    cancelled = book.cancel("a")
    assert cancelled.order_id == "a" and cancelled.residual_wh == 10
    assert "a" not in book and len(book) == 2
    assert ids(book.orders(Side.BUY)) == ["b"]
    with pytest.raises(UnknownOrder) as info:
        book.cancel("a")
    assert info.value.order_id == "a"
    with pytest.raises(UnknownOrder):
        book.get("nope")
    book.cancel("b")
    assert book.best_bid() is None
    book.add(buy("a", 3, 50))  # an id may be reused once it has left the book
    assert book.get("a").energy_wh == 3


def test_cancel_in_the_middle_of_a_level_keeps_the_rest_in_order() -> None:
    book = book_of(*(buy(f"b{i}", 10, 50, seq=i) for i in range(5)))
    book.cancel("b0")
    book.cancel("b2")
    assert ids(book.orders(Side.BUY)) == ["b1", "b3", "b4"]
    assert book.depth(Side.BUY) == (PriceLevel(50, 30, 3),)


def test_amend_loses_time_priority() -> None:
    book = book_of(buy("first", 100, 50, time=1, seq=1), buy("second", 100, 50, time=2, seq=2))
    amended = book.amend("first", now_s=10, energy_wh=120)
    assert (amended.order_time_s, amended.sequence) == (10, 3)
    assert (amended.energy_wh, amended.residual_wh) == (120, 120)
    assert ids(book.orders(Side.BUY)) == ["second", "first"]
    # Even an amendment that keeps the price moves the order behind its level.
    book.amend("second", now_s=11, price_micro_per_kwh=50)
    assert ids(book.orders(Side.BUY)) == ["first", "second"]
    # A better price wins price priority, with the new time.
    book.amend("second", now_s=12, price_micro_per_kwh=55, sequence=77)
    assert ids(book.orders(Side.BUY)) == ["second", "first"]
    assert book.get("second").sequence == 77


def test_amend_keeps_what_was_filled_and_validates() -> None:
    from gridledger.market import match_high_low

    book = book_of(buy("b", 100, 50, time=1), sell("s", 40, 50, time=1))
    match_high_low(book, now_s=2)
    assert book.get("b").residual_wh == 60
    amended = book.amend("b", now_s=3, energy_wh=70)
    assert (amended.energy_wh, amended.residual_wh) == (70, 30)
    with pytest.raises(InvalidOrder) as too_small:
        book.amend("b", now_s=4, energy_wh=40)
    assert too_small.value.field == "energy_wh"
    with pytest.raises(InvalidOrder) as nothing:
        book.amend("b", now_s=4)
    assert nothing.value.field == "price_micro_per_kwh"
    with pytest.raises(InvalidOrder) as late:
        book.amend("b", now_s=book.get("b").expiry_s, price_micro_per_kwh=51)
    assert late.value.field == "expiry_s"
    with pytest.raises(InvalidOrder):
        book.amend("b", now_s=5, price_micro_per_kwh=-1)
    with pytest.raises(UnknownOrder):
        book.amend("zz", now_s=5, price_micro_per_kwh=1)
    assert book.get("b") == amended  # failed amendments changed nothing


def test_expire_removes_due_orders_in_expiry_order() -> None:
    book = book_of(
        buy("b_late", 10, 50, time=0, expiry=300, seq=1),
        sell("s_soon", 10, 70, time=0, expiry=100, seq=2),
        buy("b_soon", 10, 40, time=0, expiry=100, seq=3),
        sell("s_never", 10, 80, time=0, expiry=10_000, seq=4),
    )
    assert book.expire(99) == ()
    expired = book.expire(100)  # expiry_s <= now_s: gone at its expiry time
    assert ids(expired) == ["s_soon", "b_soon"]
    assert ids(book) == ["b_late", "s_never"]
    book.cancel("b_late")  # cancelled orders never come back as expired
    assert book.expire(5_000) == ()
    assert ids(book.expire(10_000)) == ["s_never"]
    assert len(book) == 0


def test_expire_after_amend_uses_the_live_order_only() -> None:
    book = book_of(buy("b", 10, 50, time=0, expiry=100))
    book.amend("b", now_s=50, price_micro_per_kwh=55)
    (gone,) = book.expire(100)
    assert gone.price_micro_per_kwh == 55


def test_depth_aggregates_residual_per_level_best_first() -> None:
    book = book_of(
        buy("b1", 10, 50),
        buy("b2", 15, 50, seq=1),
        buy("b3", 7, 45),
        sell("s1", 4, 60),
        sell("s2", 6, 65),
        sell("s3", 1, 60, seq=1),
    )
    assert book.depth(Side.BUY) == (PriceLevel(50, 25, 2), PriceLevel(45, 7, 1))
    assert book.depth(Side.SELL) == (PriceLevel(60, 5, 2), PriceLevel(65, 6, 1))


def test_orders_of_owner_buys_first_in_priority_order() -> None:
    book = book_of(
        sell("s1", 1, 70, owner="ann"),
        buy("b1", 1, 40, owner="ann"),
        buy("b2", 1, 45, owner="ann"),
        buy("x", 1, 50, owner="bob"),
    )
    assert ids(book.orders_of("ann")) == ["b2", "b1", "s1"]
    assert book.orders_of("nobody") == ()
    assert book.owners() == ("ann", "bob")
    book.cancel("x")
    assert book.owners() == ("ann",)


def test_many_cancels_keep_the_book_consistent() -> None:
    book = OrderBook(PERIOD)
    for i in range(3000):
        book.add(buy(f"b{i}", 1 + i % 7, 40 + i % 13, seq=i, expiry=10 + i))
    for i in range(0, 3000, 2):
        book.cancel(f"b{i}")
    remaining = book.orders(Side.BUY)
    assert len(remaining) == len(book) == 1500
    assert sum(level.residual_wh for level in book.depth(Side.BUY)) == sum(
        o.residual_wh for o in remaining
    )
    expired = book.expire(10 + 1500)
    assert all(o.expiry_s <= 1510 for o in expired)
    assert len(expired) == 750
    assert len(book) == 750


def test_the_mechanisms_use_only_the_books_public_methods() -> None:
    """Matching and the call auction reach the book through its public methods only."""
    import inspect

    from gridledger.market import auction, matching

    for module in (matching, auction):
        source = inspect.getsource(module)
        assert "book._" not in source, module.__name__
