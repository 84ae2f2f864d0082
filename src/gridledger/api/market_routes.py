"""The market's and settlement's read API: parameters, order books, orders, trades, offers,
posted prices, settlement summaries and members' statements per delivery period.

Every view is a plain function of a `Node` returning JSON-ready data, used by the HTTP
routes installed by `install_market_routes` and by `gridledger.client.LocalClient`, so both
answer with the same shapes. Bad input raises `ApiError` (a 4xx naming the field); a record
that does not exist raises it with 404.

Writes are signed transactions, never special routes: placing, cancelling, clearing,
settling and meter readings all go through ``POST /v1/transactions`` (see
`WRITING_TO_THE_MARKET`).

Times are seconds since the epoch. ``now_s`` is the head block's timestamp: contracts see
block time only, so a period's phase is what the next transaction would see at the earliest.
"""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi import FastAPI, Query

from gridledger.api.consistency import consistent_get
from gridledger.api.errors import ApiError
from gridledger.contracts.market_bilateral import offers_for_period
from gridledger.contracts.market_state import (
    depth,
    orders_for_period,
    read_order,
    read_period,
    trades_for_period,
)
from gridledger.contracts.parameters import MarketParameters, parameters_for, period_of, schedule
from gridledger.contracts.pricing import posted_price
from gridledger.contracts.settlement import (
    debt_of,
    read_settlement,
    read_statement,
    statements_for_period,
)
from gridledger.crypto import is_address
from gridledger.ledger import StateReader
from gridledger.ledger.encoding import MAX_INTEGER
from gridledger.node import Node

MAX_ORDER_ID_LENGTH = 64

WRITING_TO_THE_MARKET = """
Writes are signed transactions submitted through `POST /v1/transactions` (canonical bytes,
hex in JSON or raw octets), never special routes:

- place an order: contract `market`, method `place_order`, args `{side: "buy"|"sell",
  energy_wh, price_micro_per_kwh, period, expiry_s (0 = end of the period)}`; a buy escrows
  its maximum cost; refused at or after the period's gate closure;
- cancel an order: `market` / `cancel_order` `{order_id}` (the owner, before gate closure);
- clear a period's book: `market` / `clear` `{period}` (any active member, after gate closure);
- publish an offer (bilateral path): `market` / `publish_offer` `{energy_wh,
  price_micro_per_kwh, period, production_cost_micro_per_kwh, expiry_s}`;
- a meter reading: `metering` / `record_reading` `{member, period, exported_wh, imported_wh,
  meter_key, signature}` (signed by the meter over `metering.reading_message`), within the
  period's meter window;
- settle a period: `settlement` / `settle` `{period}` (any active member, after the meter
  window closes).

`gridledger market buy|sell|cancel|clear|settle|reading` builds and signs these.
""".strip()


# -- input checks ------------------------------------------------------------------------------


def check_period(period: int, field: str = "period") -> int:
    """A delivery period is an integer in [0, 2**63 - 1] (what the ledger can encode)."""
    if period < 0:
        raise ApiError(400, "invalid_request", f"{field}: {period} is negative", field=field)
    if period > MAX_INTEGER:
        raise ApiError(
            400,
            "invalid_request",
            f"{field}: {period} does not fit in 64 bits (at most {MAX_INTEGER})",
            field=field,
        )
    return period


def check_address(text: str, field: str) -> str:
    if not is_address(text):
        raise ApiError(
            400,
            "invalid_address",
            f"{field}: {text!r} is not an address (gl + 40 hex digits)",
            field=field,
        )
    return text


def check_order_id(order_id: str) -> str:
    if not 0 < len(order_id) <= MAX_ORDER_ID_LENGTH:
        raise ApiError(
            400,
            "invalid_request",
            f"order_id: must be 1 to {MAX_ORDER_ID_LENGTH} characters",
            field="order_id",
        )
    return order_id


# -- time --------------------------------------------------------------------------------------


def window(parameters: MarketParameters, period: int) -> dict[str, int]:
    """When `period` starts and ends, when its gate closes and when its meter window ends."""
    start = period * parameters.period_seconds
    end = start + parameters.period_seconds
    return {
        "start_s": start,
        "gate_closure_s": start - parameters.gate_closure_seconds,
        "end_s": end,
        "meter_window_end_s": end + parameters.meter_window_seconds,
    }


def phase(times: dict[str, int], now_s: int, settled: bool) -> str:
    """Where `now_s` falls in a period's life: open, gate_closed, delivery, metering,
    settleable or settled."""
    if settled:
        return "settled"
    if now_s < times["gate_closure_s"]:
        return "open"
    if now_s < times["start_s"]:
        return "gate_closed"
    if now_s < times["end_s"]:
        return "delivery"
    if now_s < times["meter_window_end_s"]:
        return "metering"
    return "settleable"


def _now_s(node: Node) -> int:
    return node.head.timestamp_ms // 1000


def _timing(state: StateReader, period: int, now_s: int, settled: bool) -> dict[str, Any]:
    times = window(parameters_for(state, period), period)
    return {"window": times, "now_s": now_s, "phase": phase(times, now_s, settled)}


def next_open_period(state: StateReader, now_s: int) -> int:
    """The first period that still accepts orders at `now_s` (its gate closure is later)."""
    period = period_of(state, now_s * 1000) + 1
    while window(parameters_for(state, period), period)["gate_closure_s"] <= now_s:
        period += 1
    return period


def _is_settled(state: StateReader, period: int) -> bool:
    return read_settlement(state, period) is not None


def _plain(value: msgspec.Struct) -> dict[str, Any]:
    return msgspec.to_builtins(msgspec.structs.asdict(value))  # type: ignore[no-any-return]


# -- views -------------------------------------------------------------------------------------


def current_view(node: Node) -> dict[str, Any]:
    """The current period by the head block's time, and the next period open for orders.

    ``clock_ms`` is the node's clock, which stamps the next block it cuts (never before the
    head); ``open_period`` is the first period still open for orders by that clock.
    """
    state = node.state
    head_ms = node.head.timestamp_ms
    now_s = head_ms // 1000
    period = period_of(state, head_ms)
    clock_ms = max(node.clock_ms(), head_ms)
    open_period = next_open_period(state, clock_ms // 1000)
    return {
        "height": node.head.height,
        "timestamp_ms": head_ms,
        "period": period,
        "period_seconds": parameters_for(state, period).period_seconds,
        **_timing(state, period, now_s, _is_settled(state, period)),
        "clock_ms": clock_ms,
        "open_period": open_period,
        "open_window": window(parameters_for(state, open_period), open_period),
    }


def parameters_view(node: Node, period: int | None = None) -> dict[str, Any]:
    """The market parameters in force for `period` (default: the current period)."""
    state = node.state
    if period is None:
        period = period_of(state, node.head.timestamp_ms)
    check_period(period)
    entries = schedule(state)
    from_period = max((e.from_period for e in entries if e.from_period <= period), default=0)
    return {
        "period": period,
        "from_period": from_period,
        "parameters": _plain(parameters_for(state, period)),
        **_timing(state, period, _now_s(node), _is_settled(state, period)),
        "schedule": [
            {"from_period": e.from_period, "parameters": _plain(e.parameters)} for e in entries
        ],
    }


def book_view(node: Node, period: int) -> dict[str, Any]:
    """Depth per limit price on both sides of `period`'s book, with its flags and times.

    Bids are best (highest) first, asks best (lowest) first. Orders past their expiry
    show until a transaction touches the book (the market contract's expiry rule).
    """
    check_period(period)
    state = node.state
    meta = read_period(state, period)
    levels = depth(state, period)
    settled = meta is not None and meta.settled
    return {
        "period": period,
        "mechanism": parameters_for(state, period).mechanism if meta is None else meta.mechanism,
        "mechanism_fixed": meta is not None,
        "cleared": meta is not None and meta.cleared,
        "cleared_height": meta.cleared_height if meta is not None and meta.cleared else None,
        "settled": settled,
        "orders": 0 if meta is None else meta.next_sequence,
        "open_orders": 0 if meta is None else meta.open_count,
        "trades": 0 if meta is None else meta.trade_count,
        "offers": 0 if meta is None else meta.offer_count,
        "bids": [_plain(level) for level in levels.bids],
        "asks": [_plain(level) for level in levels.asks],
        **_timing(state, period, _now_s(node), settled),
    }


def _order(order: msgspec.Struct) -> dict[str, Any]:
    view = _plain(order)
    view["filled_wh"] = view["energy_wh"] - view["residual_wh"]
    return view


def orders_view(node: Node, period: int, owner: str | None = None) -> dict[str, Any]:
    """Every order of `period` in insertion sequence (open and closed), or one owner's."""
    check_period(period)
    if owner is not None:
        check_address(owner, "owner")
    orders = orders_for_period(node.state, period)
    if owner is not None:
        orders = [o for o in orders if o.owner == owner]
    return {"period": period, "owner": owner, "orders": [_order(o) for o in orders]}


def order_view(node: Node, order_id: str) -> dict[str, Any]:
    """One order by id (``"<period>-<sequence>"``)."""
    found = read_order(node.state, check_order_id(order_id))
    if found is None:
        raise ApiError(404, "not_found", f"no order {order_id!r}", kind="order")
    return _order(found)


def trades_view(node: Node, period: int) -> dict[str, Any]:
    """Every trade of `period` (book and bilateral) in the order made, with totals."""
    check_period(period)
    trades = trades_for_period(node.state, period)
    return {
        "period": period,
        "count": len(trades),
        "traded_wh": sum(t.energy_wh for t in trades),
        "value_micro": sum(t.value_micro for t in trades),
        "trades": [_plain(t) for t in trades],
    }


def offers_view(node: Node, period: int) -> dict[str, Any]:
    """The bilateral offers published for `period`, in publication order."""
    check_period(period)
    return {"period": period, "offers": [_plain(o) for o in offers_for_period(node.state, period)]}


def settlement_view(node: Node, period: int) -> dict[str, Any]:
    """Whether `period` is settled and, if so, its summary (energy and money totals)."""
    check_period(period)
    state = node.state
    found = read_settlement(state, period)
    return {
        "period": period,
        "settled": found is not None,
        "summary": None if found is None else _plain(found),
        **_timing(state, period, _now_s(node), found is not None),
    }


def statements_view(node: Node, period: int) -> dict[str, Any]:
    """Every member's statement of a settled period (empty while it is not settled)."""
    check_period(period)
    state = node.state
    return {
        "period": period,
        "settled": _is_settled(state, period),
        "statements": [_plain(s) for s in statements_for_period(state, period)],
    }


def statement_view(node: Node, period: int, member: str) -> dict[str, Any]:
    """One member's statement of a settled period: bought, sold, delivered, paid, received,
    penalised; with the member's debt to the grid now (``debt_now_micro``)."""
    check_period(period)
    check_address(member, "member")
    state = node.state
    found = read_statement(state, period, member)
    if found is None:
        if not _is_settled(state, period):
            times = window(parameters_for(state, period), period)
            raise ApiError(
                404,
                "not_settled",
                f"period {period} is not settled (it can be from {times['meter_window_end_s']} s)",
                period=period,
            )
        raise ApiError(
            404,
            "not_found",
            f"member {member} has no statement for period {period} (no trade, no reading)",
            kind="statement",
        )
    return {**_plain(found), "debt_now_micro": debt_of(state, member)}


def price_view(node: Node, period: int) -> dict[str, Any]:
    """The microgrid price the operator posted for `period` with the ``pricing`` contract
    (seed 003; its latest revision), with the period's time window; 404 if none is posted.

    ``supply_wh`` and ``demand_wh`` are the forecast totals the price was computed from;
    ``revision`` counts replacements (0: the first posting); ``height`` and
    ``timestamp_ms`` say which block posted it. The price is firm from gate closure on.
    """
    check_period(period)
    state = node.state
    found = posted_price(state, period)
    if found is None:
        raise ApiError(
            404,
            "not_found",
            f"no price is posted for period {period} (the operator posts one with "
            "pricing.post_price, seed 003)",
            kind="price",
            period=period,
        )
    return {
        **_plain(found),
        **_timing(state, period, _now_s(node), _is_settled(state, period)),
    }


# -- routes ------------------------------------------------------------------------------------

PeriodQuery = Query(None, description="Delivery period (default: the current period)")
OwnerQuery = Query(None, description="Only this owner's orders (an address)")


def install_market_routes(app: FastAPI, node: Node) -> None:
    """Add the market's and settlement's GET routes to `app` (tags market, settlement)."""
    read = consistent_get(app, node)

    @read(
        "/v1/market/current",
        tags=["market"],
        summary="The current delivery period and the next one open for orders",
        description=(current_view.__doc__ or "") + "\n\n" + WRITING_TO_THE_MARKET,
    )
    async def market_current() -> dict[str, Any]:
        return current_view(node)

    @read(
        "/v1/market/parameters",
        tags=["market"],
        summary="Market parameters in force for a period, and the schedule of changes",
    )
    async def market_parameters(period: int | None = PeriodQuery) -> dict[str, Any]:
        return parameters_view(node, period)

    @read(
        "/v1/market/periods/{period}/book",
        tags=["market"],
        summary="Order book depth per price level, flags and time window of a period",
        description=(book_view.__doc__ or "") + "\n\n" + WRITING_TO_THE_MARKET,
    )
    async def market_book(period: int) -> dict[str, Any]:
        return book_view(node, period)

    @read(
        "/v1/market/periods/{period}/orders",
        tags=["market"],
        summary="Orders of a period (optionally one owner's)",
        description=(orders_view.__doc__ or "") + "\n\n" + WRITING_TO_THE_MARKET,
    )
    async def market_orders(period: int, owner: str | None = OwnerQuery) -> dict[str, Any]:
        return orders_view(node, period, owner)

    @read(
        "/v1/market/orders/{order_id}",
        tags=["market"],
        summary="One order by id",
        description=(order_view.__doc__ or "") + "\n\n" + WRITING_TO_THE_MARKET,
    )
    async def market_order(order_id: str) -> dict[str, Any]:
        return order_view(node, order_id)

    @read(
        "/v1/market/periods/{period}/trades",
        tags=["market"],
        summary="Trades of a period",
    )
    async def market_trades(period: int) -> dict[str, Any]:
        return trades_view(node, period)

    @read(
        "/v1/market/periods/{period}/price",
        tags=["market"],
        summary="The price the operator posted for a period (pricing contract, seed 003)",
        description=price_view.__doc__ or "",
    )
    async def market_price(period: int) -> dict[str, Any]:
        return price_view(node, period)

    @read(
        "/v1/market/periods/{period}/offers",
        tags=["market"],
        summary="Bilateral offers published for a period",
        description=(offers_view.__doc__ or "") + "\n\n" + WRITING_TO_THE_MARKET,
    )
    async def market_offers(period: int) -> dict[str, Any]:
        return offers_view(node, period)

    @read(
        "/v1/settlement/periods/{period}",
        tags=["settlement"],
        summary="Settlement summary of a period",
        description=(settlement_view.__doc__ or "") + "\n\n" + WRITING_TO_THE_MARKET,
    )
    async def settlement_summary(period: int) -> dict[str, Any]:
        return settlement_view(node, period)

    @read(
        "/v1/settlement/periods/{period}/statements",
        tags=["settlement"],
        summary="Every member's settlement statement of a period",
    )
    async def settlement_statements(period: int) -> dict[str, Any]:
        return statements_view(node, period)

    @read(
        "/v1/settlement/periods/{period}/statements/{member}",
        tags=["settlement"],
        summary="One member's settlement statement of a period",
        description=statement_view.__doc__ or "",
    )
    async def settlement_statement(period: int, member: str) -> dict[str, Any]:
        return statement_view(node, period, member)
