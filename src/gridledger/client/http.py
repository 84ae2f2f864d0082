"""`HttpClient`: the `Client` over one or more peers' HTTP APIs, failing over between them.

Replies are decoded straight into their Structs (`msgspec.json.decode(..., type=...)`).
This module imports only httpx, msgspec, the ledger's and crypto's light modules and its
own package, so a program that only talks to a node starts fast (a test checks that no
node, API, contract, sqlite3 or numpy module is loaded).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import msgspec

from gridledger.client import correction_replies as corrections
from gridledger.client import currency_replies as currency
from gridledger.client import dashboard_replies as dashboard
from gridledger.client import governance_replies as governance
from gridledger.client import market_replies as market
from gridledger.client import privacy_replies as privacy
from gridledger.client import replies
from gridledger.client.errors import ClientError, NodeUnavailable
from gridledger.client.signing import RequestSigner
from gridledger.crypto.keys import KeyPair
from gridledger.ledger.genesis import Genesis

T = TypeVar("T")


class HttpClient:
    """A client of one or more peers' HTTP APIs; on a connection failure it tries the next.

    Given `keys`, it signs every read (RFC 9421, a fresh nonce per request), as the node
    requires of every read but the chain head; without, it can submit transactions and
    read the head only. `sign_with` sets the keys later (a `Wallet` passes its own).
    """

    def __init__(
        self, urls: str | Sequence[str], timeout_s: float = 30.0, keys: KeyPair | None = None
    ) -> None:
        self.urls = [u.rstrip("/") for u in ([urls] if isinstance(urls, str) else list(urls))]
        if not self.urls:
            raise ValueError("HttpClient needs at least one URL")
        self._current = 0
        self._http = httpx.Client(timeout=timeout_s)
        self._chain_id: str | None = None
        self.keys: KeyPair | None = None
        if keys is not None:
            self.sign_with(keys)

    def sign_with(self, keys: KeyPair) -> None:
        """Sign every request from now on with `keys`."""
        self.keys = keys
        self._http.auth = RequestSigner(keys)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs: Any) -> bytes:
        """Send a request to the current peer (or the next that answers); the reply's body.

        A 4xx or 5xx raises `ClientError` with the node's error body; no answer from any
        peer raises `NodeUnavailable`.
        """
        last_error = ""
        for attempt in range(len(self.urls)):
            url = self.urls[(self._current + attempt) % len(self.urls)]
            try:
                response = self._http.request(method, url + path, **kwargs)
            except httpx.TransportError as error:
                last_error = f"{type(error).__name__}: {error}"
                continue
            self._current = (self._current + attempt) % len(self.urls)
            if response.status_code >= 400:
                raise _refusal(response)
            return response.content
        raise NodeUnavailable(self.urls, last_error)

    def _get(self, path: str, reply: type[T], params: dict[str, Any] | None = None) -> T:
        return msgspec.json.decode(self.request("GET", path, params=params), type=reply)

    # -- writes ----------------------------------------------------------------------------

    def submit(
        self, raw: bytes, wait: bool = False, timeout_ms: int = 10_000
    ) -> replies.TransactionReply | replies.PendingReply:
        params = {"wait": "true" if wait else "false", "timeout_ms": str(timeout_ms)}
        body = self.request(
            "POST",
            "/v1/transactions",
            params=params,
            content=raw,
            headers={"content-type": "application/octet-stream"},
        )
        return msgspec.json.decode(body, type=replies.TransactionStatus)

    def submit_batch(self, raws: Sequence[bytes]) -> replies.BatchReply:
        body = self.request(
            "POST",
            "/v1/transactions/batch",
            content=msgspec.msgpack.encode(list(raws)),
            headers={"content-type": "application/msgpack"},
        )
        return msgspec.json.decode(body, type=replies.BatchReply)

    # -- the chain --------------------------------------------------------------------------

    def chain_id(self) -> str:
        if self._chain_id is None:
            self._chain_id = self.head().chain_id
        return self._chain_id

    def head(self) -> replies.HeadReply:
        return self._get("/v1/head", replies.HeadReply)

    def genesis(self) -> Genesis:
        return self._get("/v1/genesis", Genesis)

    def transaction(self, transaction_id: str) -> replies.TransactionReply | replies.PendingReply:
        body = self.request("GET", f"/v1/transactions/{quote(transaction_id, safe='')}")
        return msgspec.json.decode(body, type=replies.TransactionStatus)

    def block(self, height: int, transactions: bool = True) -> replies.BlockReply:
        params = {"transactions": "true" if transactions else "false"}
        return self._get(f"/v1/blocks/{height}", replies.BlockReply, params)

    def blocks(self, limit: int = 20, before: int | None = None) -> replies.BlocksReply:
        params: dict[str, Any] = {"limit": limit}
        if before is not None:
            params["before"] = before
        return self._get("/v1/blocks", replies.BlocksReply, params)

    def contracts(self) -> replies.ContractsReply:
        return self._get("/v1/contracts", replies.ContractsReply)

    def network(self) -> replies.NetworkReply:
        return self._get("/v1/network", replies.NetworkReply)

    # -- members and accounts -----------------------------------------------------------------

    def member(self, address: str) -> replies.MemberReply:
        return self._get(f"/v1/members/{quote(address, safe='')}", replies.MemberReply)

    def members(self) -> replies.MembersReply:
        return self._get("/v1/members", replies.MembersReply)

    def proposals(self) -> governance.ProposalsReply:
        return self._get("/v1/governance/proposals", governance.ProposalsReply)

    def proposal(self, proposal_id: int) -> governance.ProposalReply:
        return self._get(f"/v1/governance/proposals/{proposal_id}", governance.ProposalReply)

    def supply(self) -> currency.SupplyReply:
        return self._get("/v1/currency/supply", currency.SupplyReply)

    def certificates(self, address: str) -> currency.CertificatesReply:
        path = f"/v1/certificates/{quote(address, safe='')}"
        return self._get(path, currency.CertificatesReply)

    def certificate_report(self, address: str) -> currency.CertificateReportReply:
        path = f"/v1/certificates/{quote(address, safe='')}/report"
        return self._get(path, currency.CertificateReportReply)

    def stealth_outputs(self, start: int = 0, limit: int = 1_000) -> privacy.StealthOutputsReply:
        params = {"start": str(start), "limit": str(limit)}
        return self._get("/v1/privacy/outputs", privacy.StealthOutputsReply, params)

    def privacy_keys(self) -> privacy.PrivacyKeysReply:
        return self._get("/v1/privacy/keys", privacy.PrivacyKeysReply)

    def account(self, address: str) -> replies.AccountReply:
        return self._get(f"/v1/accounts/{quote(address, safe='')}", replies.AccountReply)

    def account_transactions(
        self, address: str, limit: int = 50
    ) -> replies.AccountTransactionsReply:
        path = f"/v1/accounts/{quote(address, safe='')}/transactions"
        return self._get(path, replies.AccountTransactionsReply, {"limit": limit})

    # -- the market ---------------------------------------------------------------------------

    def market_current(self) -> market.MarketCurrentReply:
        """The current period (by head time) and the next period open for orders."""
        return self._get("/v1/market/current", market.MarketCurrentReply)

    def parameters(self, period: int | None = None) -> market.ParametersReply:
        """Market parameters in force for `period` (default: the current period)."""
        params = {} if period is None else {"period": period}
        return self._get("/v1/market/parameters", market.ParametersReply, params)

    def market_book(self, period: int) -> market.BookReply:
        return self._get(f"/v1/market/periods/{period}/book", market.BookReply)

    def market_orders(self, period: int, owner: str | None = None) -> market.OrdersReply:
        params = {} if owner is None else {"owner": owner}
        return self._get(f"/v1/market/periods/{period}/orders", market.OrdersReply, params)

    def market_order(self, order_id: str) -> market.OrderReply:
        return self._get(f"/v1/market/orders/{quote(order_id, safe='')}", market.OrderReply)

    def market_trades(self, period: int) -> market.TradesReply:
        return self._get(f"/v1/market/periods/{period}/trades", market.TradesReply)

    def market_offers(self, period: int) -> market.OffersReply:
        return self._get(f"/v1/market/periods/{period}/offers", market.OffersReply)

    def market_day_ahead(self, day: int) -> market.DayAheadReply:
        return self._get(f"/v1/market/day-ahead/{day}", market.DayAheadReply)

    def market_price(self, period: int) -> market.PriceReply:
        """The price posted for `period` (pricing contract); `ClientError` 404 if none."""
        return self._get(f"/v1/market/periods/{period}/price", market.PriceReply)

    # -- settlement ---------------------------------------------------------------------------

    def settlement(self, period: int) -> market.SettlementReply:
        return self._get(f"/v1/settlement/periods/{period}", market.SettlementReply)

    def statements(self, period: int) -> market.StatementsReply:
        return self._get(f"/v1/settlement/periods/{period}/statements", market.StatementsReply)

    def statement(self, period: int, member: str) -> market.MemberStatementReply:
        path = f"/v1/settlement/periods/{period}/statements/{quote(member, safe='')}"
        return self._get(path, market.MemberStatementReply)

    # -- corrections and audit flags ----------------------------------------------------------

    def trade_corrections(self, trade_id: str) -> market.TradeCorrectionsReply:
        path = f"/v1/corrections/trades/{quote(trade_id, safe='')}"
        return self._get(path, market.TradeCorrectionsReply)

    def period_corrections(self, period: int) -> corrections.CorrectionsReply:
        return self._get(f"/v1/corrections/periods/{period}", corrections.CorrectionsReply)

    def audit_flags(self) -> corrections.FlagsReply:
        return self._get("/v1/corrections/flags", corrections.FlagsReply)

    # -- the dashboard's aggregates -----------------------------------------------------------

    def overview(self) -> dashboard.OverviewReply:
        return self._get("/v1/dashboard/overview", dashboard.OverviewReply)

    def periods(self, to_period: int | None = None, count: int = 24) -> dashboard.PeriodsReply:
        params: dict[str, Any] = {"count": count}
        if to_period is not None:
            params["to_period"] = to_period
        return self._get("/v1/dashboard/periods", dashboard.PeriodsReply, params)

    def member_activity(self, address: str, count: int = 24) -> dashboard.MemberActivityReply:
        path = f"/v1/dashboard/members/{quote(address, safe='')}"
        return self._get(path, dashboard.MemberActivityReply, {"count": count})

    def header_bytes(self, height: int) -> dashboard.HeaderBytesReply:
        return self._get(f"/v1/dashboard/blocks/{height}/header", dashboard.HeaderBytesReply)

    # -- authentication and the access log ------------------------------------------------

    def access_log(self, limit: int = 100, member: str | None = None) -> replies.AccessLogReply:
        """Reads of the signer's data by auditors (an auditor: every read, or `member`'s)."""
        params: dict[str, Any] = {"limit": limit}
        if member is not None:
            params["member"] = member
        return self._get("/v1/access-log", replies.AccessLogReply, params)

    def login_code(self) -> replies.LoginCodeReply:
        """A one-time login code for the signer (a link to the dashboard holds one)."""
        body = self.request("POST", "/v1/auth/login-codes")
        return msgspec.json.decode(body, type=replies.LoginCodeReply)

    def get(self, path: str, **params: Any) -> Any:
        """Any other GET of the API, by path, as plain JSON data."""
        return msgspec.json.decode(self.request("GET", path, params=params))


def _refusal(response: httpx.Response) -> ClientError:
    """The `ClientError` of a 4xx or 5xx answer, from its error body when it has one."""
    try:
        body = msgspec.json.decode(response.content) if response.content else {}
    except msgspec.DecodeError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    return ClientError(
        response.status_code,
        str(body.get("error", "error")),
        str(body.get("message", response.text)),
        body or None,
    )
