"""Replies of the community dashboard's reads (see `replies` for the rules)."""

from __future__ import annotations

from gridledger.client.replies import Reply


class PeriodRowReply(Reply):
    """Market, metering and settlement figures of one delivery period.

    ``trades`` counts every trade, the standing offers' included (kinds ``regulator`` and
    ``grid``); ``traded_wh``, ``value_micro`` and the prices are the trades between members.
    """

    period: int
    start_s: int
    end_s: int
    phase: str
    mechanism: str
    open_orders: int
    trades: int
    traded_wh: int
    value_micro: int
    mean_price_micro_per_kwh: int | None
    min_price_micro_per_kwh: int | None
    max_price_micro_per_kwh: int | None
    feed_in_price_micro_per_kwh: int
    grid_price_micro_per_kwh: int
    cap_price_micro_per_kwh: int
    readings: int
    generation_wh: int
    consumption_wh: int
    settled: bool
    grid_supplied_wh: int | None
    grid_taken_wh: int | None
    penalties_micro: int | None


class PeriodsReply(Reply):
    """Periods by the chain's own time: ``now_s`` is the head block's timestamp,
    ``current_period`` the period it falls in, ``open_period`` the first open for orders at
    it (on a live chain, the one open now)."""

    current_period: int
    open_period: int
    now_s: int
    periods: list[PeriodRowReply]


class OverviewMemberReply(Reply):
    address: str
    name: str
    role: str
    status: str
    balance_micro: int | None
    """None: another member's, withheld from a household (`node.access`)."""
    debt_micro: int | None
    meters: int


class PricesReply(Reply):
    feed_in_price_micro_per_kwh: int
    grid_price_micro_per_kwh: int
    cap_price_micro_per_kwh: int
    mechanism: str


class DayTotalsReply(Reply):
    """Totals over the last 24 hours of delivery periods, up to the one delivering now.

    Trades, energy, value and price are the trades between members (not with a standing
    offer).
    """

    from_s: int
    to_s: int
    first_period: int
    last_period: int
    trades: int
    traded_wh: int
    value_micro: int
    mean_price_micro_per_kwh: int | None
    settled_periods: int
    consumption_wh: int
    grid_supplied_wh: int
    self_sufficiency_percent: float | None


class OverviewReply(Reply):
    height: int
    timestamp_ms: int
    total_supply_micro: int
    members: list[OverviewMemberReply]
    prices: PricesReply
    today: DayTotalsReply


class OpenOrderReply(Reply):
    order_id: str
    period: int
    side: str
    energy_wh: int
    residual_wh: int
    price_micro_per_kwh: int
    status: str


class PeriodStatementReply(Reply):
    period: int
    reading: str
    trades: int
    bought_wh: int
    sold_wh: int
    delivered_wh: int
    consumed_wh: int
    shortfall_wh: int
    paid_micro: int
    received_micro: int
    penalised_micro: int
    net_micro: int


class MemberActivityReply(Reply):
    """A member's open orders and settlement statements over recent periods (newest first)."""

    address: str
    name: str
    role: str
    status: str
    balance_micro: int
    debt_micro: int
    open_orders: list[OpenOrderReply]
    statements: list[PeriodStatementReply]


class HeaderBytesReply(Reply):
    """A block header's canonical bytes (hex) and its hash (SHA-256 of those bytes)."""

    height: int
    hash: str
    header_hex: str
    encoding: str


__all__ = [
    "DayTotalsReply",
    "HeaderBytesReply",
    "MemberActivityReply",
    "OpenOrderReply",
    "OverviewMemberReply",
    "OverviewReply",
    "PeriodRowReply",
    "PeriodStatementReply",
    "PeriodsReply",
    "PricesReply",
]
