"""The `LevelStore` interface: what each method must do, on both books that implement it.

Continuous matching (`gridledger.market.match_incoming`) reaches the resting
orders only through `LevelStore`. Two books implement it: the library's
in-memory `OrderBook`, and the market contract's stored price levels
(`contracts.market_continuous.StoredLevels` over a `Session`: a queue of
sequences per price, in chunks, in ledger state). The first tests state the
interface's contract and run on both books; the property test feeds the same
arriving orders through `match_incoming` on both and requires the same result
(every match with its audit reason, cancellations, what rests) and the same
books after every order. The stored book runs each step as a transaction of
its own: a fresh `Session` reads what the last one wrote back to state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridledger.contracts import market_levels, market_state
from gridledger.contracts.market_continuous import StoredLevels
from gridledger.contracts.market_session import Session
from gridledger.contracts.market_state import (
    ESCROW,
    QUEUE_CHUNK,
    OrderStatus,
    StoredOrder,
    open_orders,
    trades_for_period,
)
from gridledger.contracts.tokens import balance_of
from gridledger.ledger import Context, Overlay
from gridledger.market import (
    LevelStore,
    Match,
    MatchReason,
    MatchResult,
    Mechanism,
    Order,
    OrderBook,
    PriceBounds,
    PriceRule,
    Side,
    match_incoming,
    new_order,
    trade_value_micro,
    with_residual,
)
from tests.community import (
    CHAIN_ID,
    GENESIS_TIME_MS,
    NEXT_PERIOD,
    Community,
    address,
    make_genesis,
    period_start_s,
)

P = NEXT_PERIOD
T0 = GENESIS_TIME_MS // 1000 + 10
PERIOD_END = period_start_s(P + 1)
TRADERS = ("ann", "ben", "cat", "dan")
BOUNDS = PriceBounds(770_000, 850_000)
"""The default parameters' feed-in price and cap: the stored book's session has these."""


def order(
    sequence: int, trader: int, side: Side, energy_wh: int, price: int, time_s: int = T0
) -> Order:
    """The order the contract would number `sequence` in period `P`."""
    return new_order(
        f"{P}-{sequence}",
        address(TRADERS[trader]),
        side,
        energy_wh,
        price,
        order_time_s=time_s,
        expiry_s=PERIOD_END,
        delivery_period=P,
        sequence=sequence,
    )


def match_of(buy: Order, sell: Order, energy_wh: int, price: int) -> Match:
    """A continuous match as the library records it."""
    return Match(
        buy.order_id,
        sell.order_id,
        buy.owner,
        sell.owner,
        energy_wh,
        price,
        trade_value_micro(energy_wh, price),
        P,
        T0,
        MatchReason(
            Mechanism.CONTINUOUS,
            PriceRule.RESTING,
            buy.price_micro_per_kwh,
            sell.price_micro_per_kwh,
            buy.order_time_s,
            sell.order_time_s,
            buy.sequence,
            sell.sequence,
            False,
        ),
    )


class MemoryBook:
    """The library's `OrderBook`, which is a `LevelStore` itself."""

    def __init__(self) -> None:
        self.book = OrderBook(P)

    @property
    def store(self) -> LevelStore[Any]:
        return self.book

    def place(self, resting: Order) -> None:
        """A resting order, already in the book."""
        self.book.rest(resting)

    def arrive(self, incoming: Order) -> None:
        """An arriving order is in no book until it rests."""

    def commit(self, now_s: int = T0) -> None:
        """Nothing to write back."""

    def resting(self, side: Side) -> list[tuple[str, int]]:
        """(order id, residual) on `side` in priority order."""
        return [(e.order.order_id, e.residual) for e in self.book.entries(side)]


class StoredBook:
    """The contract's stored levels; each `commit` ends a transaction and begins the next."""

    def __init__(self) -> None:
        founders = {name: ("prosumer", 10**12) for name in TRADERS}
        founders["regulator"] = ("regulator", 0)
        self.chain = Community.create(make_genesis(founders=founders, meters={}))
        self.arriving = -1
        self._begin(T0)

    def _begin(self, now_s: int) -> None:
        self.overlay = Overlay(self.chain.state)
        height = self.chain.head.height + 1
        context = Context(self.overlay, CHAIN_ID, height, now_s * 1000, b"", b"")
        self.session = Session(context, P)
        self.levels = StoredLevels(self.session, self.arriving)

    @property
    def store(self) -> LevelStore[Any]:
        return self.levels

    def commit(self, now_s: int = T0) -> None:
        """Write the session back into the state; the next step reads it from there."""
        self.session.save()
        self.chain.state.apply_writes(self.overlay.writes)
        self._begin(now_s)

    def _record(self, new: Order) -> None:
        """Store `new` open, with its escrow, as `place_order` does before it matches."""
        session = self.session
        assert session.take_sequence() == new.sequence
        is_buy = new.side is Side.BUY
        price = min(new.price_micro_per_kwh, session.bounds.cap_price_micro_per_kwh)
        escrow = trade_value_micro(new.energy_wh, price) if is_buy else 0
        session.pay_in(new.owner, escrow, f"escrow {new.order_id}")
        session.add_order(
            StoredOrder(
                order_id=new.order_id,
                owner=new.owner,
                side=str(new.side),
                energy_wh=new.energy_wh,
                residual_wh=new.residual_wh,
                price_micro_per_kwh=new.price_micro_per_kwh,
                order_time_s=new.order_time_s,
                expiry_s=new.expiry_s,
                period=P,
                sequence=new.sequence,
                status=OrderStatus.OPEN,
                escrow_micro=escrow,
                escrow_price_micro_per_kwh=price if is_buy else 0,
                height=0,
                closed_at_s=0,
            )
        )

    def place(self, resting: Order) -> None:
        self._record(resting)
        self.levels.rest(resting)
        self.commit(resting.order_time_s)

    def arrive(self, incoming: Order) -> None:
        self._record(incoming)
        self.arriving = self.levels.arriving = incoming.sequence

    def close_cancelled(self, result: MatchResult) -> None:
        """What `match_on_arrival` does after matching: close an arriving order cancelled."""
        for cancelled in result.cancelled:
            if cancelled.sequence == self.arriving:
                self.session.close(self.arriving, OrderStatus.SELF_TRADE)

    def resting(self, side: Side) -> list[tuple[str, int]]:
        orders = (self.session.order(s) for s in self.session.sequences(str(side)))
        return [(o.order_id, o.residual_wh) for o in orders]


@pytest.fixture(params=[MemoryBook, StoredBook], ids=["memory", "stored"])
def book(request: pytest.FixtureRequest) -> MemoryBook | StoredBook:
    built: MemoryBook | StoredBook = request.param()
    return built


BUY, SELL = Side.BUY, Side.SELL


def test_an_empty_store_has_no_best_price(book: MemoryBook | StoredBook) -> None:
    assert book.store.best_price(BUY) is None
    assert book.store.best_price(SELL) is None


def test_the_best_price_is_the_highest_buy_and_the_lowest_sell(
    book: MemoryBook | StoredBook,
) -> None:
    for sequence, (side, price) in enumerate(
        [(BUY, 800_000), (SELL, 830_000), (BUY, 810_000), (SELL, 820_000), (BUY, 805_000)]
    ):
        book.place(order(sequence, sequence % 4, side, 100, price))
    assert book.store.best_price(BUY) == 810_000
    assert book.store.best_price(SELL) == 820_000


def test_the_head_is_first_in_time_at_its_price(book: MemoryBook | StoredBook) -> None:
    placed = [
        order(0, 0, BUY, 100, 800_000, T0),
        order(1, 1, BUY, 200, 800_000, T0),  # same time, higher sequence: second
        order(2, 2, BUY, 300, 810_000, T0 + 1),
    ]
    for resting in placed:
        book.place(resting)
    head = book.store.head(BUY, 800_000)
    assert head.order == placed[0] and head.residual == 100
    assert book.store.head(BUY, 810_000).order == placed[2]
    assert book.resting(BUY) == [(f"{P}-2", 300), (f"{P}-0", 100), (f"{P}-1", 200)]


def test_a_partial_fill_keeps_the_order_at_the_head(book: MemoryBook | StoredBook) -> None:
    first, second = order(0, 0, SELL, 300, 820_000), order(1, 1, SELL, 200, 820_000)
    book.place(first)
    book.place(second)
    incoming = order(2, 2, BUY, 1_000, 830_000)
    book.arrive(incoming)
    book.store.fill(book.store.head(SELL, 820_000), match_of(incoming, first, 100, 820_000))
    book.commit()
    head = book.store.head(SELL, 820_000)
    assert head.order.order_id == first.order_id and head.residual == 200
    assert book.store.best_price(SELL) == 820_000
    assert book.resting(SELL) == [(first.order_id, 200), (second.order_id, 200)]


def test_a_filled_order_leaves_and_an_emptied_level_moves_the_best_price(
    book: MemoryBook | StoredBook,
) -> None:
    first, second = order(0, 0, SELL, 300, 820_000), order(1, 1, SELL, 200, 825_000)
    book.place(first)
    book.place(second)
    incoming = order(2, 2, BUY, 1_000, 830_000)
    book.arrive(incoming)
    book.store.fill(book.store.head(SELL, 820_000), match_of(incoming, first, 300, 820_000))
    assert book.store.best_price(SELL) == 825_000
    assert book.store.head(SELL, 825_000).order.order_id == second.order_id
    book.store.fill(book.store.head(SELL, 825_000), match_of(incoming, second, 200, 825_000))
    assert book.store.best_price(SELL) is None
    book.commit()
    assert book.store.best_price(SELL) is None
    assert book.resting(SELL) == []


def test_the_next_order_in_time_becomes_the_head_when_the_first_leaves(
    book: MemoryBook | StoredBook,
) -> None:
    first, second = order(0, 0, BUY, 100, 810_000), order(1, 1, BUY, 100, 810_000)
    book.place(first)
    book.place(second)
    incoming = order(2, 2, SELL, 500, 800_000)
    book.arrive(incoming)
    book.store.fill(book.store.head(BUY, 810_000), match_of(first, incoming, 100, 810_000))
    book.commit()
    assert book.store.head(BUY, 810_000).order.order_id == second.order_id
    assert book.store.best_price(BUY) == 810_000


def test_remove_takes_the_order_out_whatever_is_left(book: MemoryBook | StoredBook) -> None:
    placed = [
        order(0, 0, BUY, 100, 810_000),
        order(1, 1, BUY, 100, 810_000),
        order(2, 2, BUY, 100, 800_000),
    ]
    for resting in placed:
        book.place(resting)
    book.store.remove(book.store.head(BUY, 810_000))
    book.commit()
    assert book.store.head(BUY, 810_000).order.order_id == placed[1].order_id
    book.store.remove(book.store.head(BUY, 810_000))
    assert book.store.best_price(BUY) == 800_000
    book.commit()
    assert book.resting(BUY) == [(placed[2].order_id, 100)]


def test_rest_joins_the_back_of_its_level_and_may_become_the_best_price(
    book: MemoryBook | StoredBook,
) -> None:
    for sequence in range(2):
        book.place(order(sequence, sequence, SELL, 100, 820_000))
    assert book.store.best_price(SELL) == 820_000
    book.place(order(2, 2, SELL, 100, 820_000, T0 + 1))
    book.place(order(3, 3, SELL, 100, 815_000, T0 + 2))
    assert book.store.best_price(SELL) == 815_000
    assert [order_id for order_id, _ in book.resting(SELL)] == [f"{P}-{n}" for n in (3, 0, 1, 2)]


def test_an_arriving_order_rests_with_what_is_left_of_it(book: MemoryBook | StoredBook) -> None:
    resting = order(0, 0, SELL, 100, 820_000)
    book.place(resting)
    incoming = order(1, 1, BUY, 300, 820_000)
    book.arrive(incoming)
    book.store.fill(book.store.head(SELL, 820_000), match_of(incoming, resting, 100, 820_000))
    book.store.rest(with_residual(incoming, 200))
    book.commit()
    assert book.store.best_price(SELL) is None
    assert book.store.best_price(BUY) == 820_000
    assert book.store.head(BUY, 820_000).residual == 200
    assert book.resting(BUY) == [(incoming.order_id, 200)]


def test_the_order_book_rests_an_order_issued_earlier_ahead_of_later_ones() -> None:
    """Only the in-memory book meets orders out of time order (the contract's arrive in it)."""
    book = MemoryBook()
    book.place(order(0, 0, BUY, 100, 800_000, T0 + 5))
    book.place(order(1, 1, BUY, 100, 800_000, T0))
    assert book.store.head(BUY, 800_000).order.order_id == f"{P}-1"


def test_a_stored_fill_records_the_trade_and_fills_both_orders() -> None:
    """The stored book keeps accounts: the fill is where the contract records a match."""
    book = StoredBook()
    resting = order(0, 0, BUY, 300, 840_000)
    book.place(resting)
    incoming = order(1, 1, SELL, 100, 800_000)
    book.arrive(incoming)
    match = match_of(resting, incoming, 100, 840_000)
    book.store.fill(book.store.head(BUY, 840_000), match)
    book.commit()
    [trade] = trades_for_period(book.chain.state, P)
    assert (trade.buy_order_id, trade.sell_order_id, trade.energy_wh, trade.value_micro) == (
        resting.order_id,
        incoming.order_id,
        100,
        match.value_micro,
    )
    stored = {o.order_id: o for o in market_state.orders_for_period(book.chain.state, P)}
    assert stored[incoming.order_id].status == OrderStatus.FILLED
    assert stored[resting.order_id].residual_wh == 200
    assert stored[resting.order_id].escrow_micro == trade_value_micro(200, 840_000)
    assert balance_of(book.chain.state, ESCROW) == stored[resting.order_id].escrow_micro + (
        trade.value_micro
    )


@dataclass(frozen=True)
class Arrival:
    trader: int
    side: Side
    energy_wh: int
    price_micro_per_kwh: int
    wait_s: int


arrivals = st.lists(
    st.builds(
        Arrival,
        trader=st.integers(0, len(TRADERS) - 1),
        side=st.sampled_from([BUY, SELL]),
        energy_wh=st.integers(1, 400),
        # across both bounds, on a coarse grid so that levels hold several orders
        price_micro_per_kwh=st.integers(74, 88).map(lambda n: n * 10_000),
        wait_s=st.integers(0, 15),
    ),
    min_size=8,
    max_size=40,
)


@pytest.mark.parametrize("chunk", [1, 3, QUEUE_CHUNK])
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(arriving=arrivals)
def test_both_books_match_every_arriving_order_alike(chunk: int, arriving: list[Arrival]) -> None:
    """With queue chunks of 1 or 3 entries the stored levels cross chunk boundaries often."""
    with (
        patch.object(market_levels, "QUEUE_CHUNK", chunk),
        patch.object(market_state, "QUEUE_CHUNK", chunk),
    ):
        memory, stored = MemoryBook(), StoredBook()
        assert stored.session.bounds == BOUNDS
        now = T0
        for sequence, arrival in enumerate(arriving):
            now += arrival.wait_s
            stored.commit(now)
            incoming = order(
                sequence,
                arrival.trader,
                arrival.side,
                arrival.energy_wh,
                arrival.price_micro_per_kwh,
                now,
            )
            memory.arrive(incoming)
            stored.arrive(incoming)
            expected = match_incoming(memory.store, incoming, now, BOUNDS)
            assert match_incoming(stored.store, incoming, now, BOUNDS) == expected
            stored.close_cancelled(expected)
            stored.commit(now)
            for side in (BUY, SELL):
                assert stored.store.best_price(side) == memory.store.best_price(side)
                assert stored.resting(side) == memory.resting(side)
        # the stored book kept its accounts: escrow backs every open buy and every trade
        held = sum(o.escrow_micro for o in open_orders(stored.chain.state, P))
        traded = sum(t.value_micro for t in trades_for_period(stored.chain.state, P))
        assert balance_of(stored.chain.state, ESCROW) == held + traded
