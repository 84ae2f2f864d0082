"""Read-only views for the community dashboard: per-period market and energy figures,
today's overview, a member's open orders and statements, and a block header's canonical
bytes (so a browser can check a block hash and a Merkle proof itself), as reply Structs
(`gridledger.client.dashboard_replies`).

Amounts stay in the API's units: ``*_wh``, ``*_micro``, ``*_micro_per_kwh``; the page
converts them for display.
"""

from __future__ import annotations

from gridledger.client.dashboard_replies import (
    DayTotalsReply,
    HeaderBytesReply,
    MemberActivityReply,
    OpenOrderReply,
    OverviewMemberReply,
    OverviewReply,
    PeriodRowReply,
    PeriodsReply,
    PeriodStatementReply,
    PricesReply,
)
from gridledger.contracts import membership, tokens
from gridledger.contracts.market_state import (
    MEMBER_KINDS,
    orders_for_period,
    read_period,
    trades_for_period,
)
from gridledger.contracts.metering import read_reading
from gridledger.contracts.parameters import parameters_for, period_of
from gridledger.contracts.settlement import debt_of, read_settlement, read_statement
from gridledger.ledger import StateReader, block_hash
from gridledger.ledger.encoding import encode
from gridledger.node.core import Node
from gridledger.node.errors import InvalidQuery, NotFound
from gridledger.node.market_views import (
    chain_open_period,
    check_period,
    current_view,
    phase,
    window,
)
from gridledger.node.views import check_address, check_height

MAX_PERIODS = 168
"""At most a week of hourly periods in one answer."""

DAY_SECONDS = 86_400


def _period_row(state: StateReader, period: int, members: list[str], now_s: int) -> PeriodRowReply:
    """Market, metering and settlement figures of one delivery period."""
    parameters = parameters_for(state, period)
    times = window(parameters, period)
    trades = trades_for_period(state, period)
    # volumes and prices are the members' market; the standing offers trade at fixed prices
    among_members = [t for t in trades if t.kind in MEMBER_KINDS]
    traded_wh = sum(t.energy_wh for t in among_members)
    value_micro = sum(t.value_micro for t in among_members)
    prices = [t.price_micro_per_kwh for t in among_members]
    generation_wh = consumption_wh = readings = 0
    for member in members:
        reading = read_reading(state, period, member)
        if reading is not None:
            readings += 1
            generation_wh += reading.exported_wh
            consumption_wh += reading.imported_wh
    settled = read_settlement(state, period)
    book = read_period(state, period)
    return PeriodRowReply(
        period=period,
        start_s=times.start_s,
        end_s=times.end_s,
        phase=phase(times, now_s, settled is not None),
        mechanism=parameters.mechanism if book is None else book.mechanism,
        open_orders=0 if book is None else book.open_count,
        trades=len(trades),
        traded_wh=traded_wh,
        value_micro=value_micro,
        mean_price_micro_per_kwh=value_micro * 1000 // traded_wh if traded_wh else None,
        min_price_micro_per_kwh=min(prices, default=None),
        max_price_micro_per_kwh=max(prices, default=None),
        feed_in_price_micro_per_kwh=parameters.feed_in_price_micro_per_kwh,
        grid_price_micro_per_kwh=parameters.grid_price_micro_per_kwh,
        cap_price_micro_per_kwh=parameters.cap_price_micro_per_kwh,
        readings=readings,
        generation_wh=generation_wh,
        consumption_wh=consumption_wh,
        settled=settled is not None,
        grid_supplied_wh=None if settled is None else settled.grid_supplied_wh,
        grid_taken_wh=None if settled is None else settled.grid_taken_wh,
        penalties_micro=None if settled is None else settled.penalties_micro,
    )


def _genesis_period(node: Node) -> int:
    """The delivery period the chain started in: nothing happened before it."""
    return period_of(node.state, node.genesis.genesis_time_ms)


def periods_view(node: Node, to_period: int | None = None, count: int = 24) -> PeriodsReply:
    """Up to `count` consecutive periods ending at `to_period` (default: the period open for
    orders by the chain's own time, the head block's, so a chain far from the wall clock, a
    simulated community's, shows its own market), none before the genesis block's, oldest
    first: trades, prices, metered generation and consumption, and, once a period is
    settled, the energy exchanged with the grid."""
    if not 1 <= count <= MAX_PERIODS:
        raise InvalidQuery("count", count, f"must be 1 to {MAX_PERIODS}")
    state = node.state
    current = current_view(node)
    open_period = chain_open_period(node)
    last = open_period if to_period is None else check_period(to_period, "to_period")
    first = max(_genesis_period(node), last - count + 1)
    members = membership.roster(state)
    now_s = current.now_s
    rows = [_period_row(state, p, members, now_s) for p in range(first, last + 1)]
    return PeriodsReply(
        current_period=current.period, open_period=open_period, now_s=now_s, periods=rows
    )


def _day_totals(node: Node, now_s: int) -> DayTotalsReply:
    """Totals over the last 24 hours of delivery periods, up to the one delivering now."""
    state = node.state
    period_seconds = parameters_for(state, 0).period_seconds
    last = now_s // period_seconds
    first = max(0, last - DAY_SECONDS // period_seconds + 1)
    traded_wh = value_micro = trades = consumption_wh = grid_supplied_wh = settled = 0
    for period in range(first, last + 1):
        for trade in trades_for_period(state, period):
            if trade.kind not in MEMBER_KINDS:  # the standing offers: not the members' market
                continue
            trades += 1
            traded_wh += trade.energy_wh
            value_micro += trade.value_micro
        summary = read_settlement(state, period)
        if summary is not None:
            settled += 1
            consumption_wh += summary.imported_wh
            grid_supplied_wh += summary.grid_supplied_wh
    sufficiency = None
    if consumption_wh:
        inside = max(0, consumption_wh - grid_supplied_wh)
        sufficiency = round(100 * inside / consumption_wh, 1)
    return DayTotalsReply(
        from_s=first * period_seconds,
        to_s=(last + 1) * period_seconds,
        first_period=first,
        last_period=last,
        trades=trades,
        traded_wh=traded_wh,
        value_micro=value_micro,
        mean_price_micro_per_kwh=value_micro * 1000 // traded_wh if traded_wh else None,
        settled_periods=settled,
        consumption_wh=consumption_wh,
        grid_supplied_wh=grid_supplied_wh,
        self_sufficiency_percent=sufficiency,
    )


def overview_view(node: Node) -> OverviewReply:
    """Members with role, status, balance and grid debt; today's trading (the 24 hours of
    periods up to the one the head block falls in) with the mean price against the feed-in,
    grid and cap prices; the share of today's settled consumption met inside the community
    (self-sufficiency)."""
    state = node.state
    head_ms = node.head.timestamp_ms
    now_s = head_ms // 1000
    members = []
    for address in membership.roster(state):
        member = membership.read_member(state, address)
        if member is None:  # pragma: no cover - the roster lists stored members only
            continue
        members.append(
            OverviewMemberReply(
                address=address,
                name=member.name,
                role=member.role,
                status=member.status,
                balance_micro=tokens.balance_of(state, address),
                debt_micro=debt_of(state, address),
                meters=len(member.meter_keys),
            )
        )
    parameters = parameters_for(state, period_of(state, head_ms))
    return OverviewReply(
        height=node.head.height,
        timestamp_ms=head_ms,
        total_supply_micro=tokens.total_supply(state),
        members=members,
        prices=PricesReply(
            feed_in_price_micro_per_kwh=parameters.feed_in_price_micro_per_kwh,
            grid_price_micro_per_kwh=parameters.grid_price_micro_per_kwh,
            cap_price_micro_per_kwh=parameters.cap_price_micro_per_kwh,
            mechanism=parameters.mechanism,
        ),
        today=_day_totals(node, now_s),
    )


def member_activity_view(node: Node, address: str, count: int = 24) -> MemberActivityReply:
    """A member's open orders and settlement statements over the `count` periods up to the
    one open for orders by the chain's own time (newest first)."""
    check_address(address, "address")
    if not 1 <= count <= MAX_PERIODS:
        raise InvalidQuery("count", count, f"must be 1 to {MAX_PERIODS}")
    state = node.state
    member = membership.read_member(state, address)
    if member is None:
        raise NotFound("member", address)
    last = chain_open_period(node)
    orders: list[OpenOrderReply] = []
    statements: list[PeriodStatementReply] = []
    for period in range(last, max(_genesis_period(node) - 1, last - count), -1):
        for order in orders_for_period(state, period):
            if order.owner == address and order.status == "open":
                orders.append(
                    OpenOrderReply(
                        order_id=order.order_id,
                        period=period,
                        side=order.side,
                        energy_wh=order.energy_wh,
                        residual_wh=order.residual_wh,
                        price_micro_per_kwh=order.price_micro_per_kwh,
                        status=order.status,
                    )
                )
        statement = read_statement(state, period, address)
        if statement is not None:
            statements.append(
                PeriodStatementReply(
                    period=period,
                    reading=statement.reading,
                    trades=statement.trades,
                    bought_wh=statement.bought_wh,
                    sold_wh=statement.sold_wh,
                    delivered_wh=statement.delivered_wh,
                    consumed_wh=statement.consumed_wh,
                    shortfall_wh=statement.shortfall_wh,
                    paid_micro=statement.paid_micro,
                    received_micro=statement.received_micro,
                    penalised_micro=statement.penalised_micro,
                    net_micro=statement.net_micro,
                )
            )
    return MemberActivityReply(
        address=address,
        name=member.name,
        role=member.role,
        status=member.status,
        balance_micro=tokens.balance_of(state, address),
        debt_micro=debt_of(state, address),
        open_orders=orders,
        statements=statements,
    )


def header_bytes_view(node: Node, height: int) -> HeaderBytesReply:
    """The canonical MessagePack bytes of a block header, hex-encoded, with the block hash
    (SHA-256 of those bytes): what a client needs to check a header and its roots itself."""
    block = node.storage.block(check_height(node, height))
    if block is None:  # pragma: no cover - storage holds every block up to the head
        raise NotFound("block", str(height))
    return HeaderBytesReply(
        height=height,
        hash=block_hash(block.header).hex(),
        header_hex=encode(block.header).hex(),
        encoding="msgpack array: version, chain_id, height, previous_hash, timestamp_ms, "
        "transaction_count, transactions_root, results_root, state_hash",
    )
