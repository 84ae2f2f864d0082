"""The market contract end to end against the pure library, on random order sequences.

The contract keeps its book in per-price-level state keys; continuous orders are
matched by the library's `match_incoming` on those levels (`market_continuous`;
`test_market_levels.py` tests that interface on both books). Here the whole
contract runs - signed transactions, escrow, cancels, its expiry rule, the
clear - against the library's in-memory `OrderBook` fed the same orders,
cancels and block times: they must make the same trades, leave the same orders
open with the same residuals, show the same depth, and keep the escrow
invariant; the clear must leave no level, queue, price list or expiry index.
"""

from __future__ import annotations

from dataclasses import dataclass
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridledger.contracts import market_levels, market_state
from gridledger.contracts.market_state import (
    ESCROW,
    NAMESPACE,
    QUEUE_CHUNK,
    depth,
    open_orders,
    read_period,
    trades_for_period,
)
from gridledger.contracts.tokens import balance_of
from gridledger.ledger import ResultCode
from gridledger.market import (
    OrderBook,
    PriceBounds,
    PriceRule,
    Side,
    clear_call_auction,
    match_continuous,
    match_high_low,
    new_order,
    trade_value_micro,
)
from tests.community import (
    GENESIS_TIME_MS,
    NEXT_PERIOD,
    Community,
    address,
    gate_closure_s,
    make_genesis,
    order_args,
    period_start_s,
    run_at,
)

P = NEXT_PERIOD
T0 = GENESIS_TIME_MS // 1000 + 10
GATE = gate_closure_s(P)
PERIOD_END = period_start_s(P + 1)
TRADERS = ("ann", "ben", "cat", "dan")
BOUNDS = PriceBounds(770_000, 850_000)  # the default parameters' feed-in and cap


@dataclass(frozen=True)
class Place:
    trader: int
    side: str
    energy_wh: int
    price_micro_per_kwh: int
    lifetime_s: int
    """0: the default expiry (the period's end); else expires this long after placement."""
    wait_s: int


@dataclass(frozen=True)
class Cancel:
    pick: int
    """Which earlier order (modulo how many were placed)."""
    wait_s: int


places = st.builds(
    Place,
    trader=st.integers(0, len(TRADERS) - 1),
    side=st.sampled_from(["buy", "sell"]),
    energy_wh=st.integers(1, 400),
    # across both bounds, on a coarse grid so that levels hold several orders
    price_micro_per_kwh=st.integers(74, 88).map(lambda n: n * 10_000),
    lifetime_s=st.sampled_from([0, 0, 0, 5, 20, 60]),
    wait_s=st.integers(0, 15),
)
cancels = st.builds(Cancel, pick=st.integers(0, 1_000), wait_s=st.integers(0, 15))
operations = st.builds(
    lambda first, rest: [first, *rest],
    places,
    st.lists(st.one_of(places, places, places, cancels), min_size=8, max_size=39),
)


def community(mechanism: str = "continuous") -> Community:
    founders = {name: ("prosumer", 10**12) for name in TRADERS}
    founders["regulator"] = ("regulator", 0)
    return Community.create(
        make_genesis(founders=founders, meters={}, parameters={"market": {"mechanism": mechanism}})
    )


def escrow_is_backed(chain: Community) -> None:
    trades = trades_for_period(chain.state, P)
    held = sum(o.escrow_micro for o in open_orders(chain.state, P))
    assert balance_of(chain.state, ESCROW) == held + sum(t.value_micro for t in trades)


@pytest.mark.parametrize("chunk", [1, 3, QUEUE_CHUNK])
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(ops=operations)
def test_the_continuous_contract_trades_as_the_library_book(
    chunk: int, ops: list[Place | Cancel]
) -> None:
    """With chunks of 1 or 3 entries the queues cross chunk boundaries all the time."""
    with (
        patch.object(market_levels, "QUEUE_CHUNK", chunk),
        patch.object(market_state, "QUEUE_CHUNK", chunk),
    ):
        check_against_library(ops)


def check_against_library(ops: list[Place | Cancel]) -> None:
    chain = community()
    book = OrderBook(P)
    expected: list[tuple[str, str, int, int, bool]] = []
    placed: list[tuple[str, str]] = []
    """(order id, owner's name) of every order placed."""
    now = T0
    for op in ops:
        now += op.wait_s
        if isinstance(op, Cancel):
            if not placed:
                continue
            order_id, owner = placed[op.pick % len(placed)]
            run_at(chain, now, owner, "market", "cancel_order", {"order_id": order_id})
            book.expire(now)
            if order_id in book:
                book.cancel(order_id)
            continue
        expiry = now + op.lifetime_s if op.lifetime_s else 0
        name = TRADERS[op.trader]
        receipt = run_at(
            chain,
            now,
            name,
            "market",
            "place_order",
            order_args(op.side, op.energy_wh, op.price_micro_per_kwh, P, expiry_s=expiry),
        )
        assert receipt.code == ResultCode.OK, receipt.message
        sequence = len(placed)
        order_id = f"{P}-{sequence}"
        placed.append((order_id, name))
        incoming = new_order(
            order_id,
            address(name),
            Side(op.side),
            op.energy_wh,
            op.price_micro_per_kwh,
            order_time_s=now,
            expiry_s=expiry or PERIOD_END,
            delivery_period=P,
            sequence=sequence,
        )
        result = match_continuous(book, incoming, now, bounds=BOUNDS)
        expected += [
            (m.buy_order_id, m.sell_order_id, m.energy_wh, m.price_micro_per_kwh, m.reason.clamped)
            for m in result.matches
        ]
    trades = trades_for_period(chain.state, P)
    assert [
        (t.buy_order_id, t.sell_order_id, t.energy_wh, t.price_micro_per_kwh, t.clamped)
        for t in trades
    ] == expected
    assert all(
        t.value_micro == trade_value_micro(t.energy_wh, t.price_micro_per_kwh) for t in trades
    )
    # Orders the library expired may still be open in the contract until the next
    # transaction touches the book (the contract's expiry rule): compare after expiry.
    still_open = {o.order_id: o.residual_wh for o in open_orders(chain.state, P)}
    live = {o.order_id: o.residual_wh for o in book}
    assert live.items() <= still_open.items()
    assert all(o.expiry_s <= now for o in open_orders(chain.state, P) if o.order_id not in live)
    if still_open == live:
        levels = depth(chain.state, P)
        for side, shown in ((Side.BUY, levels.bids), (Side.SELL, levels.asks)):
            assert [(lv.price_micro_per_kwh, lv.residual_wh, lv.orders) for lv in shown] == [
                (lv.price_micro_per_kwh, lv.residual_wh, lv.orders) for lv in book.depth(side)
            ]
    escrow_is_backed(chain)
    meta = read_period(chain.state, P)
    assert meta is not None and meta.open_count == len(still_open)
    # the clear closes everything and leaves no level, price list or expiry index behind
    assert run_at(chain, GATE, "ann", "market", "clear", {"period": P}).ok
    assert open_orders(chain.state, P) == []
    for prefix in ("level/", "queue/", "prices/", "expiring/"):
        assert chain.state.keys_with_prefix(NAMESPACE, prefix) == []
    assert balance_of(chain.state, ESCROW) == sum(
        t.value_micro for t in trades_for_period(chain.state, P)
    )


@pytest.mark.parametrize("mechanism", ["high_low", "call_auction"])
@pytest.mark.parametrize("chunk", [1, QUEUE_CHUNK])
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(ops=operations)
def test_the_clear_matches_the_open_orders_as_the_library_does(
    mechanism: str, chunk: int, ops: list[Place | Cancel]
) -> None:
    """High-low and the call auction: orders rest at placement, the clear matches them all."""
    with (
        patch.object(market_levels, "QUEUE_CHUNK", chunk),
        patch.object(market_state, "QUEUE_CHUNK", chunk),
    ):
        chain = community(mechanism)
        book = OrderBook(P)
        placed: list[tuple[str, str]] = []
        now = T0
        for op in ops:
            now += op.wait_s
            if isinstance(op, Cancel):
                if placed:
                    order_id, owner = placed[op.pick % len(placed)]
                    run_at(chain, now, owner, "market", "cancel_order", {"order_id": order_id})
                    book.expire(now)
                    if order_id in book:
                        book.cancel(order_id)
                continue
            expiry = now + op.lifetime_s if op.lifetime_s else 0
            name = TRADERS[op.trader]
            args = order_args(op.side, op.energy_wh, op.price_micro_per_kwh, P, expiry_s=expiry)
            receipt = run_at(chain, now, name, "market", "place_order", args)
            assert receipt.code == ResultCode.OK, receipt.message
            order_id = f"{P}-{len(placed)}"
            book.expire(now)
            book.add(
                new_order(
                    order_id,
                    address(name),
                    Side(op.side),
                    op.energy_wh,
                    op.price_micro_per_kwh,
                    order_time_s=now,
                    expiry_s=expiry or PERIOD_END,
                    delivery_period=P,
                    sequence=len(placed),
                )
            )
            placed.append((order_id, name))
        assert trades_for_period(chain.state, P) == []  # nothing trades before the clear
        assert run_at(chain, GATE, "ann", "market", "clear", {"period": P}).ok
        if mechanism == "high_low":
            result = match_high_low(book, GATE, rule=PriceRule.MIDPOINT, bounds=BOUNDS)
        else:
            result = clear_call_auction(book, GATE, bounds=BOUNDS)
        assert [
            (t.buy_order_id, t.sell_order_id, t.energy_wh, t.price_micro_per_kwh)
            for t in trades_for_period(chain.state, P)
        ] == [
            (m.buy_order_id, m.sell_order_id, m.energy_wh, m.price_micro_per_kwh)
            for m in result.matches
        ]
        assert open_orders(chain.state, P) == []
        assert balance_of(chain.state, ESCROW) == sum(
            t.value_micro for t in trades_for_period(chain.state, P)
        )


def market_keys_written(chain: Community, seconds: int, name: str, *order: object) -> set[str]:
    """The market keys one order's block writes (committing it)."""
    raw = chain.tx(name, "market", "place_order", order_args(*order))  # type: ignore[arg-type]
    _, execution = chain.commit([raw], timestamp_ms=seconds * 1000)
    assert execution.receipts[0].ok, execution.receipts[0].message
    return {key for namespace, key in execution.writes if namespace == NAMESPACE}


def test_an_order_writes_only_what_it_touches_whatever_the_book_holds() -> None:
    chain = community()
    now = T0
    for n in range(60):  # 30 buys and 30 sells over 5 levels each, none crossing
        side, price = (
            ("buy", 800_000 - (n % 10) * 1_000) if n % 2 else ("sell", 820_000 + (n % 10) * 1_000)
        )
        now += 1
        assert run_at(
            chain, now, TRADERS[n % 4], "market", "place_order", order_args(side, 100, price, P)
        ).ok
    p = f"{P:012d}"
    # a buy joining an existing level: the period record, the order, its level and the
    # chunk of the level's queue it goes to
    written = market_keys_written(chain, now + 1, "ann", "buy", 50, 799_000, P)
    assert written == {
        f"period/{p}",
        f"order/{P}-60",
        f"level/{p}/buy/000000799000",
        f"queue/{p}/buy/000000799000/000000000",
    }
    # a buy that opens a level also writes the side's price list
    written = market_keys_written(chain, now + 2, "ann", "buy", 50, 810_000, P)
    assert written == {
        f"period/{p}",
        f"order/{P}-61",
        f"level/{p}/buy/000000810000",
        f"queue/{p}/buy/000000810000/000000000",
        f"prices/{p}/buy",
    }
    # a sell that takes the best bid level (810_000: ann's 50 Wh) and part of the first
    # order of the next (799_000: the order placed first, P-1) touches just those: the
    # emptied 810_000 level goes (with its queue and its price); the 799_000 level keeps
    # its queue, so it is not rewritten
    written = market_keys_written(chain, now + 3, "cat", "sell", 120, 790_000, P)
    assert written == {
        f"period/{p}",
        f"order/{P}-62",
        f"order/{P}-61",
        f"order/{P}-1",
        f"level/{p}/buy/000000810000",
        f"queue/{p}/buy/000000810000/000000000",
        f"prices/{p}/buy",
        f"trade/{p}/000000",
        f"trade/{p}/000001",
    }


def test_the_remembered_parameter_schedule_gives_what_parameters_for_gives() -> None:
    from gridledger.contracts.market_session import parameters_in_force
    from gridledger.contracts.parameters import parameters_for

    chain = community()
    assert parameters_in_force(chain.state, P) == parameters_for(chain.state, P)
    for n, cap in enumerate((800_000, 900_000)):
        change = {"from_period": P + n, "parameters": {"cap_price_micro_per_kwh": cap}}
        assert run_at(chain, T0 + n, "regulator", "parameters", "change_market", change).ok
        for period in range(P - 2, P + 4):
            assert parameters_in_force(chain.state, period) == parameters_for(chain.state, period)
    assert parameters_in_force(chain.state, P + 1).cap_price_micro_per_kwh == 900_000
