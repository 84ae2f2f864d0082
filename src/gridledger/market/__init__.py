"""The pure market library: orders, the order book, and the matching mechanisms.

No I/O, no global settings, no floats: energy in Wh, prices in micro-units per
kWh, money in micro-units, times in integer seconds. See DESIGN.md, "Market
and settlement". The exception is `pricing`, seed 003's pricing game: an
off-chain solver in floats whose rounded result the pricing contract checks.
"""

from gridledger.market.auction import ClearingPoint, clear_call_auction, uniform_clearing
from gridledger.market.book import OrderBook, PriceLevel
from gridledger.market.day_ahead import (
    DayAheadOrder,
    DayAheadResult,
    ProductClearing,
    clear_day_ahead,
    clear_product,
)
from gridledger.market.errors import (
    DuplicateOrder,
    InvalidBounds,
    InvalidOrder,
    MarketError,
    PriceOutOfBounds,
    UnknownOrder,
    UnsupportedPriceRule,
)
from gridledger.market.levels import LevelStore, Resting
from gridledger.market.matching import (
    match_against_standing_offers,
    match_continuous,
    match_high_low,
    match_incoming,
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
from gridledger.market.pricing import (
    GameRule,
    InvalidPricingGame,
    PricingGame,
    PricingOutcome,
    Regime,
    Seller,
    best_response_load_wh,
    preference_for_load,
    solve_pricing_game,
)
from gridledger.market.sealed import SealedOpening, SealedOrder, proof_context, seal_order
from gridledger.market.trades import Match, MatchReason, MatchResult, Mechanism

__all__ = [
    "GRID",
    "PAIR_RULES",
    "REGULATOR",
    "RESERVED_OWNERS",
    "ClearingPoint",
    "DayAheadOrder",
    "DayAheadResult",
    "DuplicateOrder",
    "GameRule",
    "InvalidBounds",
    "InvalidOrder",
    "InvalidPricingGame",
    "LevelStore",
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
    "PricingGame",
    "PricingOutcome",
    "ProductClearing",
    "Regime",
    "Resting",
    "SealedOpening",
    "SealedOrder",
    "Seller",
    "Side",
    "UnknownOrder",
    "UnsupportedPriceRule",
    "best_response_load_wh",
    "clear_call_auction",
    "clear_day_ahead",
    "clear_product",
    "effective_ask",
    "effective_bid",
    "filled_wh",
    "is_newer",
    "match_against_standing_offers",
    "match_continuous",
    "match_high_low",
    "match_incoming",
    "new_order",
    "outranks",
    "pair_price",
    "preference_for_load",
    "priority_key",
    "proof_context",
    "require_within_bounds",
    "seal_order",
    "solve_pricing_game",
    "trade_value_micro",
    "uniform_clearing",
    "validate_order",
    "with_residual",
    "with_sequence",
]
