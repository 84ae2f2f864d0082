"""`EmbeddedClient`: the `Client` over a node in this process, for simulations, the CLI's
offline commands and tests. It is the one place outside `node/` that builds a `Node`, and
it hands out the one writer of a community's files (`write_community`, `founding_genesis`,
`Founder`).

Replies are the same Structs the HTTP API serves, handed over directly (no JSON). A
refusal raises `ClientError` with the status, slug, message and values the API would
answer with (`node.refusals`). Submissions wait in the mempool until `commit` cuts blocks
(or ``submit(..., wait=True)`` does); a simulation passes its own clock, so a run is
reproducible.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from gridledger.client import correction_replies as corrections
from gridledger.client import currency_replies as currency
from gridledger.client import dashboard_replies as dashboard
from gridledger.client import governance_replies as governance
from gridledger.client import market_replies as market
from gridledger.client import privacy_replies as privacy
from gridledger.client import replies
from gridledger.client.errors import ClientError
from gridledger.ledger import BlockHeader, Genesis, TransactionError
from gridledger.node import (
    Admission,
    CutterConfig,
    Node,
    NodeError,
    correction_views,
    currency_views,
    dashboard_views,
    governance_views,
    market_views,
    privacy_views,
    views,
)

# A community's files (genesis, key files, registry) are where an in-process node starts
# from: simulations write them through this module, the one door from outside to `node/`.
from gridledger.node.community import Founder, founding_genesis, write_community
from gridledger.node.refusals import (
    node_error_body,
    transaction_error_body,
    transaction_error_status,
)

__all__ = ["EmbeddedClient", "Founder", "StoredBlock", "founding_genesis", "write_community"]

T = TypeVar("T")


@dataclass(frozen=True)
class StoredBlock:
    """A committed block as stored: its header, raw transactions and their result codes."""

    header: BlockHeader
    transactions: list[bytes]
    codes: list[int]
    """Result code of each transaction, in block order (0: ok)."""


class EmbeddedClient:
    """The client interface over a `Node` in this process."""

    def __init__(self, node: Node) -> None:
        if not isinstance(node, Node):
            raise TypeError("EmbeddedClient needs a gridledger.node.Node")
        self.node = node

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: str | Path,
        genesis: Genesis | None = None,
        hold_lock: bool = True,
        max_block_transactions: int | None = None,
        **options: Any,
    ) -> EmbeddedClient:
        """A node on the SQLite chain at `path`, created from `genesis` if it is empty.

        With `hold_lock` the node holds the chain's writer lock until `close`; a
        short-lived reader passes False and only checks that no node holds it.
        `max_block_transactions` caps the blocks `commit` cuts; `options` go to the
        `Node` (``cutter``, ``clock_ms``). Raises the node's `NodeError`
        (`StorageError`) when the chain cannot be used.
        """
        if max_block_transactions is not None:
            options["cutter"] = CutterConfig(max_transactions=max_block_transactions)
        return cls(Node.open_path(path, genesis, hold_lock=hold_lock, **options))

    @classmethod
    def in_memory(cls, genesis: Genesis, **options: Any) -> EmbeddedClient:
        """A node on a new chain held in memory (tests, throw-away runs); `options` go to
        the `Node` (``cutter``, ``clock_ms``)."""
        return cls(Node.in_memory(genesis, **options))

    def close(self) -> None:
        """Close the node: its storage, its worker processes and its writer lock."""
        self.node.close()

    def __enter__(self) -> EmbeddedClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _read(self, view: Callable[..., T], *args: Any) -> T:
        """Run a node view under the state lock; a refusal becomes a `ClientError`."""
        try:
            with self.node.state_lock:
                return view(self.node, *args)
        except NodeError as error:
            body = node_error_body(error)
            raise ClientError(error.status, error.error, str(error), body) from error

    # -- writes ----------------------------------------------------------------------------

    def submit(
        self, raw: bytes, wait: bool = False, timeout_ms: int = 10_000
    ) -> replies.TransactionReply | replies.PendingReply:
        """Admit one transaction; with `wait`, cut blocks at once and return it committed."""
        admission = self.node.submit_many([raw])[0]
        if admission.error is not None:
            body = {**transaction_error_body(admission.error), "id": admission.transaction_id.hex()}
            status = transaction_error_status(admission.error)
            raise ClientError(status, body["error"], str(admission.error), body)
        if wait:
            self.commit()
            return self.transaction(admission.transaction_id.hex())
        return replies.PendingReply(id=admission.transaction_id.hex())

    def submit_batch(self, raws: Sequence[bytes]) -> replies.BatchReply:
        return self._batch_reply(self.node.submit_many(list(raws)))

    def submit_and_commit(
        self, raws: Sequence[bytes], timestamp_ms: int | None = None
    ) -> replies.BatchReply:
        """`submit_batch(raws)` then `commit(timestamp_ms)`, pipelined: the stateless checks
        (signatures) of the next block's transactions run in the verifier while this
        thread executes the block before them.

        The blocks are those of `submit_batch` followed by `commit`: the transactions are
        admitted in order, a block's worth at a time, and a block is cut only once every
        transaction it could take is admitted (at least the cutter's limit past what
        earlier blocks took), so each cut takes the oldest pending ones, as it would from
        the whole batch. After a refusal the rest is admitted before anything more is cut.
        (A transaction's admission may see the state after earlier blocks of the batch
        rather than before them; the simulation submits none that depend on each other.)
        """
        size = self.node.cutter.max_transactions
        chunks = [list(raws[i : i + size]) for i in range(0, len(raws), size)]
        if len(chunks) <= 1:
            reply = self.submit_batch(raws)
            self.commit(timestamp_ms)
            return reply
        admissions: list[Admission] = []
        taken = -len(self.node.mempool)  # transactions pending before this batch go first
        refused = False
        with ThreadPoolExecutor(1, thread_name_prefix="admit") as admitting:
            pending = deque(admitting.submit(self.node.submit_many, c) for c in chunks[:2])
            following = iter(chunks[2:])
            while pending or taken < len(admissions):
                while pending and (refused or len(admissions) < taken + size):
                    admitted = pending.popleft().result()
                    admissions.extend(admitted)
                    refused = refused or any(a.error is not None for a in admitted)
                    chunk = next(following, None)
                    if chunk is not None:
                        pending.append(admitting.submit(self.node.submit_many, chunk))
                if refused:
                    break
                committed = self.node.cut_block(timestamp_ms)
                if committed is None:
                    break
                taken += len(committed.block.transactions)
        self.commit(timestamp_ms)  # what is left (after a refusal: everything admitted)
        return self._batch_reply(admissions)

    def _batch_reply(self, admissions: Sequence[Admission]) -> replies.BatchReply:
        results = []
        for admission in admissions:
            tx_id = admission.transaction_id.hex()
            error = admission.error
            if error is None:
                results.append(replies.AdmissionReply(id=tx_id, status="pending"))
                continue
            code = error.code if isinstance(error, TransactionError) else None
            slug = error.code.slug if isinstance(error, TransactionError) else error.error
            results.append(
                replies.AdmissionReply(
                    id=tx_id,
                    status="rejected",
                    error=slug,
                    code=None if code is None else int(code),
                    message=str(error),
                )
            )
        accepted = sum(1 for r in results if r.status == "pending")
        rejected = len(results) - accepted
        return replies.BatchReply(accepted=accepted, rejected=rejected, results=results)

    def commit(self, timestamp_ms: int | None = None) -> list[int]:
        """Cut blocks until the mempool is empty (stamped `timestamp_ms`, default the node's
        clock); return their heights."""
        heights: list[int] = []
        while True:
            committed = self.node.cut_block(timestamp_ms)
            if committed is None:
                return heights
            heights.append(committed.block.header.height)

    def stored_blocks(self, first_height: int = 1) -> Iterator[StoredBlock]:
        """Committed blocks from ``first_height`` on, in height order, as the node stores them.

        In-process only (no view, nothing decoded but the block): the header, each
        transaction's raw bytes and its result code. Reading a whole chain back this way
        costs a fraction of `block` per height (simulation results walk every block).
        """
        storage = self.node.storage
        index = getattr(storage, "transaction_index", None)
        for block in storage.blocks():
            height = block.header.height
            if height < first_height:
                continue
            if index is not None:
                codes = [code for _, _, code in index(height)]
            else:
                codes = [receipt.code for receipt in storage.receipts(height)]
            yield StoredBlock(block.header, list(block.transactions), codes)

    # -- the chain --------------------------------------------------------------------------

    def chain_id(self) -> str:
        return self.node.chain_id

    def head(self) -> replies.HeadReply:
        return self._read(views.head_view)

    def genesis(self) -> Genesis:
        return self.node.genesis

    def transaction(self, transaction_id: str) -> replies.TransactionReply | replies.PendingReply:
        return self._read(views.transaction_view, transaction_id)

    def block(self, height: int, transactions: bool = True) -> replies.BlockReply:
        return self._read(views.block_view, height, transactions)

    def blocks(self, limit: int = 20, before: int | None = None) -> replies.BlocksReply:
        return self._read(views.blocks_view, limit, before)

    def contracts(self) -> replies.ContractsReply:
        return self._read(views.contracts_view)

    def network(self) -> replies.NetworkReply:
        return self._read(views.solo_network_view)

    # -- members and accounts -----------------------------------------------------------------

    def member(self, address: str) -> replies.MemberReply:
        return self._read(views.member_view, address)

    def members(self) -> replies.MembersReply:
        return self._read(views.members_view)

    def proposals(self) -> governance.ProposalsReply:
        return self._read(governance_views.proposals_view)

    def proposal(self, proposal_id: int) -> governance.ProposalReply:
        return self._read(governance_views.proposal_view, proposal_id)

    def supply(self) -> currency.SupplyReply:
        return self._read(currency_views.supply_view)

    def certificates(self, address: str) -> currency.CertificatesReply:
        return self._read(currency_views.certificates_view, address)

    def certificate_report(self, address: str) -> currency.CertificateReportReply:
        return self._read(currency_views.certificate_report_view, address)

    def stealth_outputs(self, start: int = 0, limit: int = 1_000) -> privacy.StealthOutputsReply:
        return self._read(privacy_views.stealth_outputs_view, start, limit)

    def privacy_keys(self) -> privacy.PrivacyKeysReply:
        return self._read(privacy_views.privacy_keys_view)

    def account(self, address: str) -> replies.AccountReply:
        return self._read(views.account_view, address)

    def account_transactions(
        self, address: str, limit: int = 50
    ) -> replies.AccountTransactionsReply:
        return self._read(views.account_transactions_view, address, limit)

    # -- the market ---------------------------------------------------------------------------

    def market_current(self) -> market.MarketCurrentReply:
        return self._read(market_views.current_view)

    def parameters(self, period: int | None = None) -> market.ParametersReply:
        return self._read(market_views.parameters_view, period)

    def market_book(self, period: int) -> market.BookReply:
        return self._read(market_views.book_view, period)

    def market_orders(self, period: int, owner: str | None = None) -> market.OrdersReply:
        return self._read(market_views.orders_view, period, owner)

    def market_order(self, order_id: str) -> market.OrderReply:
        return self._read(market_views.order_view, order_id)

    def market_trades(self, period: int) -> market.TradesReply:
        return self._read(market_views.trades_view, period)

    def market_offers(self, period: int) -> market.OffersReply:
        return self._read(market_views.offers_view, period)

    def market_day_ahead(self, day: int) -> market.DayAheadReply:
        return self._read(market_views.day_ahead_view, day)

    def market_price(self, period: int) -> market.PriceReply:
        return self._read(market_views.price_view, period)

    # -- settlement ---------------------------------------------------------------------------

    def settlement(self, period: int) -> market.SettlementReply:
        return self._read(market_views.settlement_view, period)

    def statements(self, period: int) -> market.StatementsReply:
        return self._read(market_views.statements_view, period)

    def statement(self, period: int, member: str) -> market.MemberStatementReply:
        return self._read(market_views.statement_view, period, member)

    # -- corrections and audit flags ----------------------------------------------------------

    def trade_corrections(self, trade_id: str) -> market.TradeCorrectionsReply:
        return self._read(correction_views.trade_corrections_view, trade_id)

    def period_corrections(self, period: int) -> corrections.CorrectionsReply:
        return self._read(correction_views.period_corrections_view, period)

    def audit_flags(self) -> corrections.FlagsReply:
        return self._read(correction_views.flags_view)

    # -- the dashboard's aggregates -----------------------------------------------------------

    def overview(self) -> dashboard.OverviewReply:
        return self._read(dashboard_views.overview_view)

    def periods(self, to_period: int | None = None, count: int = 24) -> dashboard.PeriodsReply:
        return self._read(dashboard_views.periods_view, to_period, count)

    def member_activity(self, address: str, count: int = 24) -> dashboard.MemberActivityReply:
        return self._read(dashboard_views.member_activity_view, address, count)

    def header_bytes(self, height: int) -> dashboard.HeaderBytesReply:
        return self._read(dashboard_views.header_bytes_view, height)
