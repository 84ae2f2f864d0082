"""The pricing contract: the market operator posts each period's microgrid price.

Seed 003 prices a period with a game between sellers and buyers (§3.2.2). The
game is solved off chain, in floats (`gridledger.market.pricing`, run by the
operator's agent in `gridledger.agents.pricing_agent`); its result enters the
chain here as a signed transaction whose constraints this contract checks in
integers (DESIGN.md, "Determinism").

``post_price(period, price_micro_per_kwh, supply_wh, demand_wh)``
    The operator only (role ``operator``). ``supply_wh`` is the sellers'
    forecast surplus and ``demand_wh`` the buyers' forecast demand the price
    was computed from; both must be positive (with nothing on one side there
    is nothing to price) and at most `MAX_PERIOD_ENERGY_WH`. The price must lie
    strictly between the feed-in and the grid price in force for the period
    (eq. 8, ``p_s < p < p_b``; `parameters.parameters_for`).

    A price may be posted, and replaced, until the period's gate closure
    (``gate_closure_seconds`` before it starts): forecasts improve as delivery
    approaches, so the operator may refine it, and every posting stays in the
    chain's history with its revision number; from gate closure on the price
    is firm and refused. Periods starting more than `HORIZON_SECONDS` ahead are
    refused, as orders are.

Why the contract checks no more of the rule: the price the game gives is not a
function of the declared totals alone (it depends on each seller's preference
and on rationing when the sellers' adjusted supply exceeds demand), and no
bound tighter than eq. 8 holds for every instance: with a fixed supply it would
be ``p_s + (p_b − p_s) · D / (D + S)``, but in seed 003's period 7 rationing
puts it about 90 micro/kWh below that. What the contract can and does check is
that the price is one the game can produce: strictly inside the band, for a
period with supply and demand, posted in time by the operator.

State (namespace ``pricing``): ``price/<period>`` → `PostedPrice`.
"""

from __future__ import annotations

import msgspec

from gridledger.contracts.errors import ContractError
from gridledger.contracts.membership import require_role
from gridledger.contracts.parameters import parameters_for
from gridledger.contracts.registry import Contract
from gridledger.ledger import Context, ResultCode, StateReader, decode

NAMESPACE = "pricing"
contract = Contract(NAMESPACE)

MAX_PERIOD_ENERGY_WH = 1_000_000_000
"""Sanity bound on a period's declared supply or demand: 1 GWh is no microgrid."""
HORIZON_SECONDS = 7 * 86_400
"""A price may be posted at most a week before its period starts (as orders)."""
POSTING_ROLES = ("operator",)


class PricingError(ContractError):
    """Base of the pricing contract's refusals."""


class PriceOutsideBand(PricingError):
    """The price is not strictly between the feed-in and the grid price (eq. 8)."""

    code = ResultCode.PRICE_OUTSIDE_BAND

    def __init__(self, price: int, feed_in: int, grid: int) -> None:
        self.price, self.feed_in, self.grid = price, feed_in, grid
        super().__init__(
            f"price {price} micro/kWh must lie strictly between the feed-in price "
            f"{feed_in} and the grid price {grid} micro/kWh"
        )


class NothingToPrice(PricingError):
    """Declared supply or demand is not positive, or beyond the sanity bound."""

    code = ResultCode.NOTHING_TO_PRICE

    def __init__(self, supply_wh: int, demand_wh: int) -> None:
        self.supply_wh, self.demand_wh = supply_wh, demand_wh
        super().__init__(
            f"supply {supply_wh} Wh and demand {demand_wh} Wh must both be in "
            f"(0, {MAX_PERIOD_ENERGY_WH}]: a period needs sellers and buyers to be priced"
        )


class PostingClosed(PricingError):
    """The period's gate has closed (or it starts beyond the horizon)."""

    code = ResultCode.POSTING_CLOSED

    def __init__(self, period: int, opens_s: int, closes_s: int, now_s: int) -> None:
        self.period, self.opens_s, self.closes_s, self.now_s = period, opens_s, closes_s, now_s
        super().__init__(
            f"the price of period {period} may be posted from {opens_s} s until its gate "
            f"closure at {closes_s} s; now is {now_s} s"
        )


class PostedPrice(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    period: int
    price_micro_per_kwh: int
    supply_wh: int
    """The sellers' forecast surplus the price was computed from."""
    demand_wh: int
    """The buyers' forecast demand the price was computed from."""
    operator: str
    revision: int
    """0 for the first posting of the period, +1 for each replacement."""
    height: int
    timestamp_ms: int


class PostPriceArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    period: int
    price_micro_per_kwh: int
    supply_wh: int
    demand_wh: int


def price_key(period: int) -> str:
    return f"price/{period:012d}"


def posted_price(state: StateReader, period: int) -> PostedPrice | None:
    """The price posted for `period` (its latest revision), if any."""
    raw = state.get(NAMESPACE, price_key(period))
    return None if raw is None else decode(raw, PostedPrice)


def posting_window(state: StateReader, period: int) -> tuple[int, int]:
    """[opens, closes) in seconds: from the horizon until the period's gate closure."""
    parameters = parameters_for(state, period)
    start_s = period * parameters.period_seconds
    return start_s - HORIZON_SECONDS, start_s - parameters.gate_closure_seconds


def check_price(price: int, feed_in: int, grid: int) -> None:
    """Eq. 8 in integers: ``feed_in < price < grid``, else `PriceOutsideBand`."""
    if not feed_in < price < grid:
        raise PriceOutsideBand(price, feed_in, grid)


def check_volumes(supply_wh: int, demand_wh: int) -> None:
    """Both sides present and sane, else `NothingToPrice`."""
    if not (0 < supply_wh <= MAX_PERIOD_ENERGY_WH and 0 < demand_wh <= MAX_PERIOD_ENERGY_WH):
        raise NothingToPrice(supply_wh, demand_wh)


@contract.method(PostPriceArgs)
def post_price(context: Context, args: PostPriceArgs) -> None:
    """The operator posts (or, before gate closure, replaces) a period's microgrid price."""
    require_role(context, POSTING_ROLES, "post the period price")
    now_s = context.timestamp_ms // 1000
    opens_s, closes_s = posting_window(context.overlay, max(args.period, 0))
    if args.period < 0 or not opens_s <= now_s < closes_s:
        raise PostingClosed(args.period, opens_s, closes_s, now_s)
    check_volumes(args.supply_wh, args.demand_wh)
    parameters = parameters_for(context.overlay, args.period)
    check_price(
        args.price_micro_per_kwh,
        parameters.feed_in_price_micro_per_kwh,
        parameters.grid_price_micro_per_kwh,
    )
    previous = posted_price(context.overlay, args.period)
    revision = 0 if previous is None else previous.revision + 1
    context.write(
        NAMESPACE,
        price_key(args.period),
        PostedPrice(
            args.period,
            args.price_micro_per_kwh,
            args.supply_wh,
            args.demand_wh,
            context.sender,
            revision,
            context.height,
            context.timestamp_ms,
        ),
    )
    context.emit(
        NAMESPACE,
        "price_posted",
        period=args.period,
        price_micro_per_kwh=args.price_micro_per_kwh,
        supply_wh=args.supply_wh,
        demand_wh=args.demand_wh,
        revision=revision,
    )


__all__ = [
    "HORIZON_SECONDS",
    "MAX_PERIOD_ENERGY_WH",
    "NAMESPACE",
    "NothingToPrice",
    "PostPriceArgs",
    "PostedPrice",
    "PostingClosed",
    "PriceOutsideBand",
    "PricingError",
    "check_price",
    "check_volumes",
    "contract",
    "post_price",
    "posted_price",
    "posting_window",
]
