"""The one way agents, the CLI and tests talk to a node.

`HttpClient` talks to a node's API over HTTP and fails over between several
peers; `LocalClient` talks to a `Node` in the same process, with the same
interface and the same JSON shapes, for embedded simulations and tests. A
`Wallet` holds a member's keys, tracks its nonce and signs its calls.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import httpx
import msgspec

from gridledger.crypto import KeyPair
from gridledger.ledger import (
    BlockHeader,
    TransactionError,
    encode_transaction,
    make_transaction,
)
from gridledger.node.errors import MempoolFull


class ClientError(Exception):
    """The node refused a request; `status`, `error` and `body` say how."""

    def __init__(self, status: int, error: str, message: str, body: dict[str, Any] | None = None):
        self.status = status
        self.error = error
        self.body = body or {}
        super().__init__(f"{error} ({status}): {message}")


@dataclass(frozen=True)
class StoredBlock:
    """A committed block as stored: its header, raw transactions and their result codes."""

    header: BlockHeader
    transactions: list[bytes]
    codes: list[int]
    """Result code of each transaction, in block order (0: ok)."""


class NodeUnavailable(ClientError):
    def __init__(self, urls: Sequence[str], reason: str) -> None:
        super().__init__(0, "unavailable", f"no node answered at {', '.join(urls)}: {reason}")


class Client(Protocol):
    def chain_id(self) -> str: ...
    def head(self) -> dict[str, Any]: ...
    def account(self, address: str) -> dict[str, Any]: ...
    def submit(
        self, raw: bytes, wait: bool = False, timeout_ms: int = 10_000
    ) -> dict[str, Any]: ...
    def submit_batch(self, raws: Sequence[bytes]) -> dict[str, Any]: ...
    def transaction(self, transaction_id: str) -> dict[str, Any]: ...
    def block(self, height: int, transactions: bool = True) -> dict[str, Any]: ...
    def member(self, address: str) -> dict[str, Any]: ...
    def members(self) -> list[dict[str, Any]]: ...


class HttpClient:
    """A client of one or more peers' HTTP APIs; on a connection failure it tries the next."""

    def __init__(self, urls: str | Sequence[str], timeout_s: float = 30.0) -> None:
        self.urls = [u.rstrip("/") for u in ([urls] if isinstance(urls, str) else list(urls))]
        if not self.urls:
            raise ValueError("HttpClient needs at least one URL")
        self._current = 0
        self._http = httpx.Client(timeout=timeout_s)
        self._chain_id: str | None = None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        last_error = ""
        for attempt in range(len(self.urls)):
            url = self.urls[(self._current + attempt) % len(self.urls)]
            try:
                response = self._http.request(method, url + path, **kwargs)
            except httpx.TransportError as error:
                last_error = f"{type(error).__name__}: {error}"
                continue
            self._current = (self._current + attempt) % len(self.urls)
            body = response.json() if response.content else {}
            if response.status_code >= 400:
                raise ClientError(
                    response.status_code,
                    body.get("error", "error"),
                    body.get("message", response.text),
                    body,
                )
            return body
        raise NodeUnavailable(self.urls, last_error)

    def chain_id(self) -> str:
        if self._chain_id is None:
            self._chain_id = str(self.head()["chain_id"])
        return self._chain_id

    def head(self) -> dict[str, Any]:
        return self._request("GET", "/v1/head")

    def account(self, address: str) -> dict[str, Any]:
        return self._request("GET", f"/v1/accounts/{address}")

    def submit(self, raw: bytes, wait: bool = False, timeout_ms: int = 10_000) -> dict[str, Any]:
        params = {"wait": "true" if wait else "false", "timeout_ms": str(timeout_ms)}
        return self._request(
            "POST",
            "/v1/transactions",
            params=params,
            content=raw,
            headers={"content-type": "application/octet-stream"},
        )

    def submit_batch(self, raws: Sequence[bytes]) -> dict[str, Any]:
        return self._request(
            "POST",
            "/v1/transactions/batch",
            content=msgspec.msgpack.encode(list(raws)),
            headers={"content-type": "application/msgpack"},
        )

    def transaction(self, transaction_id: str) -> dict[str, Any]:
        return self._request("GET", f"/v1/transactions/{transaction_id}")

    def block(self, height: int, transactions: bool = True) -> dict[str, Any]:
        flag = "true" if transactions else "false"
        return self._request("GET", f"/v1/blocks/{height}?transactions={flag}")

    def member(self, address: str) -> dict[str, Any]:
        return self._request("GET", f"/v1/members/{address}")

    def members(self) -> list[dict[str, Any]]:
        return list(self._request("GET", "/v1/members")["members"])

    # -- market and settlement (reads; writes are signed calls through `Wallet`) --------------

    def market_current(self) -> dict[str, Any]:
        """The current period (by head time) and the next period open for orders."""
        return self._request("GET", "/v1/market/current")

    def parameters(self, period: int | None = None) -> dict[str, Any]:
        """Market parameters in force for `period` (default: the current period)."""
        params = {} if period is None else {"period": period}
        return self._request("GET", "/v1/market/parameters", params=params)

    def market_book(self, period: int) -> dict[str, Any]:
        return self._request("GET", f"/v1/market/periods/{period}/book")

    def market_orders(self, period: int, owner: str | None = None) -> dict[str, Any]:
        params = {} if owner is None else {"owner": owner}
        return self._request("GET", f"/v1/market/periods/{period}/orders", params=params)

    def market_order(self, order_id: str) -> dict[str, Any]:
        return self._request("GET", f"/v1/market/orders/{quote(order_id, safe='')}")

    def market_trades(self, period: int) -> dict[str, Any]:
        return self._request("GET", f"/v1/market/periods/{period}/trades")

    def market_offers(self, period: int) -> dict[str, Any]:
        return self._request("GET", f"/v1/market/periods/{period}/offers")

    def market_price(self, period: int) -> dict[str, Any]:
        """The price posted for `period` (pricing contract); `ClientError` 404 if none."""
        return self._request("GET", f"/v1/market/periods/{period}/price")

    def settlement(self, period: int) -> dict[str, Any]:
        return self._request("GET", f"/v1/settlement/periods/{period}")

    def statements(self, period: int) -> dict[str, Any]:
        return self._request("GET", f"/v1/settlement/periods/{period}/statements")

    def statement(self, period: int, member: str) -> dict[str, Any]:
        path = f"/v1/settlement/periods/{period}/statements/{quote(member, safe='')}"
        return self._request("GET", path)

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        """Any other GET of the API, by path."""
        return self._request("GET", path, params=params)


class LocalClient:
    """The client interface over a `Node` in this process.

    Submissions wait in the mempool until a block is cut: by `commit`, or by
    ``submit(..., wait=True)``, which cuts a block at once. Simulations pass
    their own clock to the node, so a run is reproducible.
    """

    def __init__(self, node: Any) -> None:
        from gridledger.node import Node

        if not isinstance(node, Node):
            raise TypeError("LocalClient needs a gridledger.node.Node")
        self.node = node

    def chain_id(self) -> str:
        return str(self.node.chain_id)

    def head(self) -> dict[str, Any]:
        from gridledger.api.views import header_view
        from gridledger.node import queries

        return {**queries.head_summary(self.node), "header": header_view(self.node.head)}

    def account(self, address: str) -> dict[str, Any]:
        from gridledger.node import queries

        return {
            "address": address,
            "balance_micro": queries.balance(self.node, address),
            "nonce": queries.nonce(self.node, address),
        }

    def _refuse(self, error: TransactionError | MempoolFull, tx_id: bytes) -> ClientError:
        from gridledger.api.errors import transaction_error_body, transaction_error_status

        body = {**transaction_error_body(error), "id": tx_id.hex()}
        return ClientError(transaction_error_status(error), body["error"], str(error), body)

    def submit(self, raw: bytes, wait: bool = False, timeout_ms: int = 10_000) -> dict[str, Any]:
        admission = self.node.submit_many([raw])[0]
        if admission.error is not None:
            raise self._refuse(admission.error, admission.transaction_id)
        if wait:
            self.commit()
            return self.transaction(admission.transaction_id.hex())
        return {"id": admission.transaction_id.hex(), "status": "pending"}

    def submit_batch(self, raws: Sequence[bytes]) -> dict[str, Any]:
        from gridledger.api.errors import transaction_error_body

        results = []
        for admission in self.node.submit_many(list(raws)):
            if admission.error is None:
                results.append({"id": admission.transaction_id.hex(), "status": "pending"})
            else:
                results.append(
                    {
                        **transaction_error_body(admission.error),
                        "status": "rejected",
                        "id": admission.transaction_id.hex(),
                    }
                )
        accepted = sum(1 for r in results if r["status"] == "pending")
        return {"accepted": accepted, "rejected": len(results) - accepted, "results": results}

    def commit(self, timestamp_ms: int | None = None) -> list[int]:
        """Cut blocks until the mempool is empty; return their heights."""
        heights: list[int] = []
        while True:
            committed = self.node.cut_block(timestamp_ms)
            if committed is None:
                return heights
            heights.append(committed.block.header.height)

    def transaction(self, transaction_id: str) -> dict[str, Any]:
        from gridledger.api.views import transaction_view
        from gridledger.node import NotFound, queries

        tx_id = bytes.fromhex(transaction_id)
        if self.node.mempool.contains(tx_id):
            return {"id": transaction_id, "status": "pending"}
        try:
            return transaction_view(queries.find_transaction(self.node, tx_id))
        except NotFound as error:
            raise ClientError(404, "not_found", str(error)) from error

    def block(self, height: int, transactions: bool = True) -> dict[str, Any]:
        from gridledger.api.views import block_view
        from gridledger.node import NotFound, queries

        try:
            block = queries.get_block(self.node, height)
        except NotFound as error:
            raise ClientError(404, "not_found", str(error)) from error
        return block_view(block, self.node.storage.receipts(height), transactions)

    def stored_blocks(self, first_height: int = 1) -> Iterator[StoredBlock]:
        """Committed blocks from ``first_height`` on, in height order, as the node stores them.

        In-process only (no JSON view, nothing decoded but the block): the header, each
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

    def member(self, address: str) -> dict[str, Any]:
        from gridledger.api.views import member_view
        from gridledger.node import NotFound, queries

        try:
            return member_view(queries.member(self.node, address))
        except NotFound as error:
            raise ClientError(404, "not_found", str(error)) from error

    def members(self) -> list[dict[str, Any]]:
        from gridledger.api.views import member_view
        from gridledger.node import queries

        return [member_view(m) for m in queries.members(self.node)]

    # -- market and settlement (the same views as the HTTP API) -------------------------------

    def _view(self, name: str, *args: Any) -> dict[str, Any]:
        from gridledger.api import market_routes
        from gridledger.api.errors import ApiError

        try:
            return dict(getattr(market_routes, name)(self.node, *args))
        except ApiError as error:
            body = {"error": error.error, "message": error.message, **error.values}
            raise ClientError(error.status, error.error, error.message, body) from error

    def market_current(self) -> dict[str, Any]:
        return self._view("current_view")

    def parameters(self, period: int | None = None) -> dict[str, Any]:
        return self._view("parameters_view", period)

    def market_book(self, period: int) -> dict[str, Any]:
        return self._view("book_view", period)

    def market_orders(self, period: int, owner: str | None = None) -> dict[str, Any]:
        return self._view("orders_view", period, owner)

    def market_order(self, order_id: str) -> dict[str, Any]:
        return self._view("order_view", order_id)

    def market_trades(self, period: int) -> dict[str, Any]:
        return self._view("trades_view", period)

    def market_offers(self, period: int) -> dict[str, Any]:
        return self._view("offers_view", period)

    def market_price(self, period: int) -> dict[str, Any]:
        """The price posted for `period` (pricing contract); `ClientError` 404 if none."""
        return self._view("price_view", period)

    def settlement(self, period: int) -> dict[str, Any]:
        return self._view("settlement_view", period)

    def statements(self, period: int) -> dict[str, Any]:
        return self._view("statements_view", period)

    def statement(self, period: int, member: str) -> dict[str, Any]:
        return self._view("statement_view", period, member)


class Wallet:
    """A member's keys bound to a client: signs calls with the right nonce."""

    def __init__(self, keys: KeyPair, client: Client) -> None:
        self.keys = keys
        self.client = client
        self._nonce: int | None = None

    @property
    def address(self) -> str:
        return self.keys.address

    def sign(self, contract: str, method: str, args: dict[str, Any] | None = None) -> bytes:
        """Sign a call with the next nonce (and count it as used)."""
        if self._nonce is None:
            self._nonce = int(self.client.account(self.address)["nonce"])
        raw = encode_transaction(
            make_transaction(self.keys, self.client.chain_id(), self._nonce, contract, method, args)
        )
        self._nonce += 1
        return raw

    def resync(self) -> None:
        """Forget the local nonce; the next call asks the node."""
        self._nonce = None

    def call(
        self,
        contract: str,
        method: str,
        args: dict[str, Any] | None = None,
        wait: bool = True,
        timeout_ms: int = 10_000,
    ) -> dict[str, Any]:
        """Sign and submit a call; with `wait`, return its committed receipt view."""
        raw = self.sign(contract, method, args)
        used = self._nonce
        try:
            return self.client.submit(raw, wait=wait, timeout_ms=timeout_ms)
        except ClientError as error:
            expected = error.body.get("expected")
            if error.error == "nonce_mismatch" and isinstance(expected, int):
                self._nonce = expected  # the node says which nonce it waits for
            elif used is not None and self._nonce == used:
                self._nonce = used - 1  # a refused transaction did not use its nonce
            else:
                self.resync()
            raise


def wait_until(predicate: Any, timeout_s: float, interval_s: float = 0.05) -> bool:
    """Poll `predicate` until it is true or `timeout_s` passes; return whether it became true."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return bool(predicate())
