"""The market's reads: the current period, parameters, order books, orders, trades, offers and
posted prices per delivery period (views in `gridledger.node.market_views`).

Writes are signed transactions, never special routes: placing, cancelling, clearing,
settling and meter readings all go through ``POST /v1/transactions`` (see
`WRITING_TO_THE_MARKET`).
"""

from __future__ import annotations

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from gridledger.api.auth import audit, caller_of, member_reading_everyone
from gridledger.api.consistency import consistent_get
from gridledger.api.openapi import errors, ok, reply
from gridledger.api.parameters import PERIOD_PATH, address_query, order_id_path, unsigned_query
from gridledger.client.market_replies import (
    BookReply,
    DayAheadReply,
    MarketCurrentReply,
    OffersReply,
    OrderReply,
    OrdersReply,
    ParametersReply,
    PriceReply,
    TradesReply,
)
from gridledger.node import Node
from gridledger.node.access import (
    check_member,
    check_order,
    check_own,
    redact_day_ahead,
    redact_offers,
    redact_orders,
    redact_trades,
)
from gridledger.node.market_views import (
    MAX_DAY,
    book_view,
    current_view,
    day_ahead_view,
    offers_view,
    order_view,
    orders_view,
    parameters_view,
    price_view,
    trades_view,
)

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

PeriodQuery = unsigned_query("Delivery period (default: the current period)")
OwnerQuery = address_query("Only this owner's orders (an address)")


def described(view: object) -> str:
    """A view's documentation, followed by how to write to the market."""
    return (getattr(view, "__doc__", None) or "") + "\n\n" + WRITING_TO_THE_MARKET


def router(node: Node) -> APIRouter:
    routes = APIRouter(tags=["market"])
    read = consistent_get(routes, node)

    @read(
        "/v1/market/current",
        summary="The current delivery period and the next one open for orders",
        description=described(current_view),
        responses={**ok(MarketCurrentReply), **errors(403)},
    )
    async def market_current(request: Request) -> Response:
        check_member(caller_of(request))
        return reply(current_view(node))

    @read(
        "/v1/market/parameters",
        summary="Market parameters in force for a period, and the schedule of changes",
        responses={**ok(ParametersReply), **errors(400, 403)},
    )
    async def market_parameters(request: Request, period: int | None = PeriodQuery) -> Response:
        check_member(caller_of(request))
        return reply(parameters_view(node, period))

    @read(
        "/v1/market/periods/{period}/book",
        summary="Order book depth per price level, flags and time window of a period",
        description=described(book_view),
        responses={**ok(BookReply), **errors(400, 403)},
    )
    async def market_book(request: Request, period: int = PERIOD_PATH) -> Response:
        check_member(caller_of(request))
        return reply(book_view(node, period))

    @read(
        "/v1/market/periods/{period}/orders",
        summary="Orders of a period (optionally one owner's)",
        description=described(orders_view),
        responses={**ok(OrdersReply), **errors(400, 403)},
    )
    async def market_orders(
        request: Request, period: int = PERIOD_PATH, owner: str | None = OwnerQuery
    ) -> Response:
        caller = caller_of(request)
        if owner is not None:
            check_own(caller, owner, f"the orders of {owner}")
        else:
            check_member(caller)
        audit(request, owner or "*", f"orders of period {period}")
        return reply(redact_orders(caller, orders_view(node, period, owner)))

    @read(
        "/v1/market/orders/{order_id}",
        summary="One order by id",
        description=described(order_view),
        responses={**ok(OrderReply), **errors(400, 403, 404)},
    )
    async def market_order(request: Request, order_id: str = order_id_path()) -> Response:
        caller = caller_of(request)
        check_member(caller)
        found = check_order(caller, order_view(node, order_id))
        audit(request, found.owner, f"order {order_id}")
        return reply(found)

    @read(
        "/v1/market/periods/{period}/trades",
        summary="Trades of a period",
        responses={**ok(TradesReply), **errors(400, 403)},
    )
    async def market_trades(request: Request, period: int = PERIOD_PATH) -> Response:
        caller = member_reading_everyone(request, f"trades of period {period}")
        return reply(redact_trades(caller, trades_view(node, period)))

    @read(
        "/v1/market/periods/{period}/price",
        summary="The price the operator posted for a period (pricing contract, seed 003)",
        description=price_view.__doc__ or "",
        responses={**ok(PriceReply), **errors(400, 403, 404)},
    )
    async def market_price(request: Request, period: int = PERIOD_PATH) -> Response:
        check_member(caller_of(request))
        return reply(price_view(node, period))

    @read(
        "/v1/market/periods/{period}/offers",
        summary="Bilateral offers published for a period",
        description=described(offers_view),
        responses={**ok(OffersReply), **errors(400, 403)},
    )
    async def market_offers(request: Request, period: int = PERIOD_PATH) -> Response:
        caller = caller_of(request)
        check_member(caller)
        return reply(redact_offers(caller, offers_view(node, period)))

    @read(
        "/v1/market/day-ahead/{day}",
        summary="A delivery day's day-ahead auction: gate, products, result, orders",
        description=described(day_ahead_view),
        responses={**ok(DayAheadReply), **errors(400, 403)},
    )
    async def market_day_ahead(
        request: Request,
        day: int = Path(
            description=f"A delivery day (0 to {MAX_DAY})",
            json_schema_extra={"minimum": 0, "maximum": MAX_DAY},
        ),
    ) -> Response:
        caller = caller_of(request)
        check_member(caller)
        audit(request, "*", f"day-ahead orders of day {day}")
        return reply(redact_day_ahead(caller, day_ahead_view(node, day)))

    return routes
