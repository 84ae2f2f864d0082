"""Replies of the market's, settlement's and dashboard's reads (see `replies` for the rules).

Times are seconds since the epoch; ``now_s`` is the head block's time (contracts see block
time only). A period's ``phase`` is one of open, gate_closed, delivery, metering,
settleable, settled.
"""

from __future__ import annotations

import msgspec

from gridledger.client.correction_replies import CorrectionReply
from gridledger.client.replies import FlagReply, Reply

# -- contract records, as stored -----------------------------------------------------------------


class MarketParametersReply(Reply):
    period_seconds: int
    gate_closure_seconds: int
    meter_window_seconds: int
    feed_in_price_micro_per_kwh: int
    grid_price_micro_per_kwh: int
    cap_price_micro_per_kwh: int
    breakdown_penalty_micro: int
    mechanism: str


class OrderReply(Reply):
    """An order (open or closed), with what of it has been filled."""

    order_id: str
    owner: str
    side: str
    energy_wh: int
    residual_wh: int
    price_micro_per_kwh: int
    order_time_s: int
    expiry_s: int
    period: int
    sequence: int
    status: str
    escrow_micro: int
    escrow_price_micro_per_kwh: int
    height: int
    closed_at_s: int
    filled_wh: int


class TradeReply(Reply):
    """A trade. ``kind``: ``order``, ``bilateral``, ``regulator`` (bought from the regulator's
    standing offer at the cap) or ``grid`` (sold to the grid's standing bid at the feed-in
    price); ``reason`` says why a standing offer traded (empty for members' trades)."""

    trade_id: str
    period: int
    kind: str
    buy_order_id: str
    sell_order_id: str
    buyer: str
    seller: str
    energy_wh: int
    price_micro_per_kwh: int
    value_micro: int
    matched_at_s: int
    height: int
    mechanism: str
    price_rule: str
    bid_price_micro_per_kwh: int
    ask_price_micro_per_kwh: int
    buy_order_time_s: int | None
    sell_order_time_s: int | None
    buy_sequence: int | None
    sell_sequence: int | None
    clamped: bool
    reason: str


class DepthLevelReply(Reply):
    price_micro_per_kwh: int
    residual_wh: int
    orders: int


class OfferReply(Reply):
    offer_id: str
    seller: str
    period: int
    energy_wh: int
    remaining_wh: int
    price_micro_per_kwh: int
    production_cost_micro_per_kwh: int
    expiry_s: int
    status: str
    height: int


class StatementReply(Reply):
    """A member's settlement statement of one period."""

    member: str
    period: int
    reading: str
    trades: int
    bought_wh: int
    sold_wh: int
    delivered_wh: int
    consumed_wh: int
    sold_delivered_wh: int
    shortfall_wh: int
    surplus_wh: int
    bought_consumed_wh: int
    unmet_wh: int
    excess_wh: int
    grid_bought_wh: int
    grid_sold_wh: int
    paid_trades_micro: int
    received_trades_micro: int
    grid_charge_micro: int
    grid_credit_micro: int
    penalised_micro: int
    paid_micro: int
    received_micro: int
    net_micro: int
    debt_added_micro: int
    debt_repaid_micro: int
    regulator_charge_micro: int
    """The part of ``grid_charge_micro`` paid to the regulator for unmet demand, at the cap."""


class SettlementSummaryReply(Reply):
    period: int
    height: int
    timestamp_ms: int
    settled_by: str
    members: list[str]
    trades: int
    traded_wh: int
    exported_wh: int
    imported_wh: int
    grid_supplied_wh: int
    grid_taken_wh: int
    escrow_paid_micro: int
    grid_received_micro: int
    grid_paid_micro: int
    penalties_micro: int
    debt_added_micro: int
    debt_repaid_micro: int
    grid_price_micro_per_kwh: int
    feed_in_price_micro_per_kwh: int
    breakdown_penalty_micro: int


# -- market reads ------------------------------------------------------------------------------


class WindowReply(Reply):
    """When a period starts and ends, when its gate closes and when its meter window ends."""

    start_s: int
    gate_closure_s: int
    end_s: int
    meter_window_end_s: int


class MarketCurrentReply(Reply):
    """The current period by the head block's time, and the next period open for orders
    (by the node's clock, which stamps the next block: where an order sent now goes)."""

    height: int
    timestamp_ms: int
    period: int
    period_seconds: int
    window: WindowReply
    now_s: int
    phase: str
    clock_ms: int
    open_period: int
    open_window: WindowReply
    chain_open_period: int
    """The first period open for orders by the head block's time: where the chain's own
    market is, far from ``open_period`` on a chain that stopped (a simulated community)."""
    latest_trades_period: int | None
    """The newest period with trades at or before ``open_period`` (looking back a week of
    periods), or else before ``chain_open_period``; None if neither week has one."""


class TradingWindowsReply(Reply):
    """Seed 001's negotiation and commit windows of a period, and seed 003's amend time."""

    negotiation_seconds: int
    commit_seconds: int
    amend_seconds: int
    """0: orders may be amended or withdrawn until gate closure."""
    negotiation_opens_s: int
    """Offers are published in [negotiation_opens_s, commit_opens_s)."""
    commit_opens_s: int
    """Agreements are signed in [commit_opens_s, gate closure)."""


class ScheduledParametersReply(Reply):
    from_period: int
    parameters: MarketParametersReply


class ParametersReply(Reply):
    """The market parameters in force for a period, and the schedule of changes."""

    period: int
    from_period: int
    parameters: MarketParametersReply
    window: WindowReply
    now_s: int
    phase: str
    schedule: list[ScheduledParametersReply]
    windows: TradingWindowsReply | None = None
    """Filled by every node that knows the trading windows."""


class BookReply(Reply):
    """Depth per limit price on both sides of a period's book, with its flags and times."""

    period: int
    mechanism: str
    mechanism_fixed: bool
    cleared: bool
    cleared_height: int | None
    settled: bool
    orders: int
    open_orders: int
    trades: int
    offers: int
    bids: list[DepthLevelReply]
    asks: list[DepthLevelReply]
    window: WindowReply
    now_s: int
    phase: str


class OrdersReply(Reply):
    period: int
    owner: str | None
    orders: list[OrderReply]


class TradesReply(Reply):
    period: int
    count: int
    traded_wh: int
    value_micro: int
    trades: list[TradeReply]


class OffersReply(Reply):
    period: int
    offers: list[OfferReply]


class SealedOrderReply(Reply):
    """What the chain shows of a sealed day-ahead order: its Pedersen commitments (hex) and
    the ranges its proofs showed; the price and energy themselves only once ``revealed``."""

    price_commitment: str
    energy_commitment: str
    price_low: int
    price_high: int
    max_energy_wh: int
    fee_micro: int
    revealed: bool


class DayAheadOrderReply(Reply):
    """A day-ahead order (open or closed): ``filled_wh`` is what the auction gave it.

    A sealed order (``sealed`` set) shows status ``sealed``, price 0 and its stated
    maximum as energy until its owner reveals it after the gate.
    """

    order_id: str
    owner: str
    side: str
    energy_wh: int
    price_micro_per_kwh: int
    period: int
    all_or_none: bool
    order_time_s: int
    sequence: int
    status: str
    filled_wh: int
    escrow_micro: int
    escrow_price_micro_per_kwh: int
    height: int
    closed_at_s: int
    sealed: SealedOrderReply | None = None


class DayAheadReply(Reply):
    """One delivery day's day-ahead auction: its gate, whether cleared, and its orders
    (a household sees its own only). ``offered`` is False where the community runs none."""

    day: int
    offered: bool
    gate_s: int | None
    now_s: int
    cleared: bool
    cleared_height: int | None
    trade_count: int
    traded_wh: int
    products: list[int]
    """The delivery periods of the day."""
    orders: list[DayAheadOrderReply]
    reveal_closes_s: int | None = None
    """With sealed orders: the end of the reveal window, when the day may be cleared."""


class PriceReply(Reply):
    """The price the operator posted for a period (pricing contract), with its time window."""

    period: int
    price_micro_per_kwh: int
    supply_wh: int
    demand_wh: int
    operator: str
    revision: int
    height: int
    timestamp_ms: int
    window: WindowReply
    now_s: int
    phase: str


# -- settlement reads ---------------------------------------------------------------------------


class SettlementReply(Reply):
    period: int
    settled: bool
    summary: SettlementSummaryReply | None
    window: WindowReply
    now_s: int
    phase: str


class StatementsReply(Reply, omit_defaults=True):
    period: int
    settled: bool
    statements: list[StatementReply]
    corrections: list[CorrectionReply] = msgspec.field(default_factory=list)
    """Corrections of the period's trades, recorded beside the statements (left out when
    there are none)."""


class MemberStatementReply(StatementReply, omit_defaults=True):
    """A statement with the member's debt to the grid now, and the corrections of its trades
    of the period (recorded beside the statement, which stays as settled)."""

    debt_now_micro: int
    corrections: list[CorrectionReply] = msgspec.field(default_factory=list)


class TradeCorrectionsReply(Reply):
    """A trade as it was recorded, its corrections in order, and its audit flags."""

    trade: TradeReply
    settled: bool
    corrections: list[CorrectionReply]
    net_refund_micro: int
    """The corrections' refunds added up (seller to buyer)."""
    flags: list[FlagReply]


__all__ = [
    "BookReply",
    "DepthLevelReply",
    "MarketCurrentReply",
    "MarketParametersReply",
    "MemberStatementReply",
    "OfferReply",
    "OffersReply",
    "OrderReply",
    "OrdersReply",
    "ParametersReply",
    "PriceReply",
    "ScheduledParametersReply",
    "SettlementReply",
    "SettlementSummaryReply",
    "StatementReply",
    "StatementsReply",
    "TradeCorrectionsReply",
    "TradeReply",
    "TradesReply",
    "TradingWindowsReply",
    "WindowReply",
]
