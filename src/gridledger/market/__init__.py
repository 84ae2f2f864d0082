"""The pure market library: orders, the order book, and the matching mechanisms.

No I/O, no global settings, no floats: energy in Wh, prices in micro-units per
kWh, money in micro-units, times in integer seconds. See DESIGN.md, "Market
and settlement".
"""

from gridledger.market.auction import ClearingPoint, clear_call_auction, uniform_clearing
from gridledger.market.book import OrderBook, PriceLevel
from gridledger.market.errors import (
    DuplicateOrder,
    InvalidBounds,
    InvalidOrder,
    MarketError,
    PriceOutOfBounds,
    UnknownOrder,
    UnsupportedPriceRule,
)
from gridledger.market.matching import (
    match_against_standing_offers,
    match_continuous,
    match_high_low,
)
from gridledger.market.orders import (
    GRID,
    REGULATOR,
    RESERVED_OWNERS,
    Order,
    Side,
    filled_wh,
    is_newer,
    new_order,
    outranks,
    priority_key,
    validate_order,
    with_residual,
    with_sequence,
)
from gridledger.market.prices import (
    PAIR_RULES,
    PriceBounds,
    PriceRule,
    effective_ask,
    effective_bid,
    pair_price,
    require_within_bounds,
    trade_value_micro,
)
from gridledger.market.trades import Match, MatchReason, MatchResult, Mechanism

__all__ = [
    "GRID",
    "PAIR_RULES",
    "REGULATOR",
    "RESERVED_OWNERS",
    "ClearingPoint",
    "DuplicateOrder",
    "InvalidBounds",
    "InvalidOrder",
    "MarketError",
    "Match",
    "MatchReason",
    "MatchResult",
    "Mechanism",
    "Order",
    "OrderBook",
    "PriceBounds",
    "PriceLevel",
    "PriceOutOfBounds",
    "PriceRule",
    "Side",
    "UnknownOrder",
    "UnsupportedPriceRule",
    "clear_call_auction",
    "effective_ask",
    "effective_bid",
    "filled_wh",
    "is_newer",
    "match_against_standing_offers",
    "match_continuous",
    "match_high_low",
    "new_order",
    "outranks",
    "pair_price",
    "priority_key",
    "require_within_bounds",
    "trade_value_micro",
    "uniform_clearing",
    "validate_order",
    "with_residual",
    "with_sequence",
]
