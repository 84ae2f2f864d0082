"""`Client`: everything a caller can ask a node, over HTTP (`HttpClient`) or in the same
process (`EmbeddedClient`), with the same typed replies.

Writes are signed transactions (`submit`, `submit_batch`; `Wallet` signs them); every
other method is a read. A refusal raises `ClientError` with the status, slug, message and
values the HTTP API answers with.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from gridledger.client.dashboard_replies import (
    HeaderBytesReply,
    MemberActivityReply,
    OverviewReply,
    PeriodsReply,
)
from gridledger.client.market_replies import (
    BookReply,
    MarketCurrentReply,
    MemberStatementReply,
    OffersReply,
    OrderReply,
    OrdersReply,
    ParametersReply,
    PriceReply,
    SettlementReply,
    StatementsReply,
    TradesReply,
)
from gridledger.client.replies import (
    AccountReply,
    AccountTransactionsReply,
    BatchReply,
    BlockReply,
    BlocksReply,
    ContractsReply,
    HeadReply,
    MemberReply,
    MembersReply,
    NetworkReply,
    PendingReply,
    TransactionReply,
)
from gridledger.ledger.genesis import Genesis


class Client(Protocol):
    # -- writes ----------------------------------------------------------------------------
    def submit(
        self, raw: bytes, wait: bool = False, timeout_ms: int = 10_000
    ) -> TransactionReply | PendingReply:
        """Submit one signed transaction; with `wait`, answer once it is committed."""
        ...

    def submit_batch(self, raws: Sequence[bytes]) -> BatchReply:
        """Submit many signed transactions; one admission per transaction, in order."""
        ...

    # -- the chain --------------------------------------------------------------------------
    def chain_id(self) -> str: ...
    def head(self) -> HeadReply: ...
    def genesis(self) -> Genesis: ...
    def transaction(self, transaction_id: str) -> TransactionReply | PendingReply: ...
    def block(self, height: int, transactions: bool = True) -> BlockReply: ...
    def blocks(self, limit: int = 20, before: int | None = None) -> BlocksReply: ...
    def contracts(self) -> ContractsReply: ...
    def network(self) -> NetworkReply: ...

    # -- members and accounts -----------------------------------------------------------------
    def member(self, address: str) -> MemberReply: ...
    def members(self) -> MembersReply: ...
    def account(self, address: str) -> AccountReply: ...
    def account_transactions(self, address: str, limit: int = 50) -> AccountTransactionsReply: ...

    # -- the market ---------------------------------------------------------------------------
    def market_current(self) -> MarketCurrentReply: ...
    def parameters(self, period: int | None = None) -> ParametersReply: ...
    def market_book(self, period: int) -> BookReply: ...
    def market_orders(self, period: int, owner: str | None = None) -> OrdersReply: ...
    def market_order(self, order_id: str) -> OrderReply: ...
    def market_trades(self, period: int) -> TradesReply: ...
    def market_offers(self, period: int) -> OffersReply: ...
    def market_price(self, period: int) -> PriceReply: ...

    # -- settlement ---------------------------------------------------------------------------
    def settlement(self, period: int) -> SettlementReply: ...
    def statements(self, period: int) -> StatementsReply: ...
    def statement(self, period: int, member: str) -> MemberStatementReply: ...

    # -- the dashboard's aggregates -----------------------------------------------------------
    def overview(self) -> OverviewReply: ...
    def periods(self, to_period: int | None = None, count: int = 24) -> PeriodsReply: ...
    def member_activity(self, address: str, count: int = 24) -> MemberActivityReply: ...
    def header_bytes(self, height: int) -> HeaderBytesReply: ...
