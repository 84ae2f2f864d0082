"""The clients: `HttpClient` (with fail-over), `EmbeddedClient` (same replies, in process),
`Wallet`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gridledger.api.server import BackgroundServer
from gridledger.client import (
    ClientError,
    EmbeddedClient,
    HttpClient,
    NodeUnavailable,
    Wallet,
    wait_until,
)
from gridledger.client.replies import PendingReply, TransactionReply
from gridledger.node import CutterConfig, Node
from tests.community import GENESIS_TIME_MS, address, key, make_genesis, signed_raw
from tests.node.harness import free_port
from tests.signing import signed_client

WAIT_S = 30.0


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    node = Node.in_memory(make_genesis(), cutter=CutterConfig(timeout_ms=5))
    server = BackgroundServer(node)
    try:
        yield server.start()
    finally:
        server.stop()
        node.close()


def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


def test_fails_over_to_the_next_peer(url: str) -> None:
    with HttpClient([dead_url(), url]) as client:
        assert client.head().height >= 0
        assert client.chain_id() == make_genesis().chain_id
        assert client.urls[client._current] == url


def test_no_peer_answering_is_node_unavailable() -> None:
    urls = [dead_url(), dead_url()]
    with HttpClient(urls, timeout_s=5) as client, pytest.raises(NodeUnavailable) as error:
        client.head()
    assert error.value.status == 0 and error.value.error == "unavailable"
    assert all(u in str(error.value) for u in urls)
    with pytest.raises(ValueError):
        HttpClient([])


def test_refusals_are_client_errors_with_the_body(url: str) -> None:
    with signed_client(url) as client:
        raw = signed_raw("erin", 0, "tokens", "transfer", {"to": address("bob")})
        with pytest.raises(ClientError) as refused:
            client.submit(raw)
        assert refused.value.status == 403 and refused.value.error == "not_a_member"
        assert refused.value.body["code"] == 12 and refused.value.body["id"]
        with pytest.raises(ClientError) as missing:
            client.transaction("00" * 32)
        assert missing.value.status == 404


def test_base_url_with_a_trailing_slash(url: str) -> None:
    with signed_client(url + "/") as client:
        assert client.head().height >= 0


def test_wallet_pipelines_nonces_and_resyncs_after_a_refusal(url: str) -> None:
    with signed_client(url) as client:
        carol = Wallet(key("carol"), client)
        raws = [
            carol.sign("tokens", "transfer", {"to": address("dave"), "amount_micro": n + 1})
            for n in range(5)
        ]
        batch = client.submit_batch(raws)
        assert batch.accepted == 5
        last = batch.results[-1].id
        assert wait_until(lambda: isinstance(client.transaction(last), TransactionReply), WAIT_S)
        with pytest.raises(ClientError) as refused:
            carol.call("tokens", "no_such_method")
        assert refused.value.error == "unknown_method"
        # the refused call did not use its nonce; the wallet asks the node again
        done = carol.call("tokens", "transfer", {"to": address("dave"), "amount_micro": 9})
        assert isinstance(done, TransactionReply) and done.code == 0
        assert done.transaction["nonce"] == 5


def test_wallet_refusal_while_its_transactions_are_pending() -> None:
    node = Node.in_memory(make_genesis())
    try:
        wallet = Wallet(key("alice"), EmbeddedClient(node))
        for amount in (1, 2):
            wallet.call("tokens", "transfer", {"to": address("bob"), "amount_micro": amount}, False)
        with pytest.raises(ClientError):
            wallet.call("tokens", "no_such_method", wait=False)
        pending = wallet.call(
            "tokens", "transfer", {"to": address("bob"), "amount_micro": 3}, False
        )
        assert isinstance(pending, PendingReply)
    finally:
        node.close()


def test_local_client_answers_like_the_http_client(url: str) -> None:
    """An `EmbeddedClient` over an identical node gives the same replies for the same questions."""
    node = Node.in_memory(make_genesis())
    local = EmbeddedClient(node)
    with signed_client(url) as remote:
        assert local.chain_id() == remote.chain_id()
        assert local.members() == remote.members()
        assert local.member(address("alice")) == remote.member(address("alice"))
        assert local.block(0) == remote.block(0)
        assert type(local.head()) is type(remote.head())
        assert local.account(address("erin")) == remote.account(address("erin"))
        for client in (local, remote):
            with pytest.raises(ClientError) as missing:
                client.member(address("erin"))
            assert missing.value.status == 404
            with pytest.raises(ClientError) as no_block:
                client.block(10_000)
            assert no_block.value.status == 404

    wallet = Wallet(key("bob"), local)
    pending = wallet.call("tokens", "transfer", {"to": address("alice"), "amount_micro": 3}, False)
    assert isinstance(pending, PendingReply) and local.transaction(pending.id) == pending
    assert local.commit(GENESIS_TIME_MS + 1_000) == [1]
    committed = local.transaction(pending.id)
    assert isinstance(committed, TransactionReply) and committed.height == 1
    with pytest.raises(ClientError) as refused:
        local.submit(signed_raw("bob", 0, "tokens", "transfer", {}))
    assert (refused.value.status, refused.value.error) == (409, "nonce_mismatch")
    with pytest.raises(TypeError):
        EmbeddedClient(object())  # type: ignore[arg-type]
    node.close()


def test_embedded_refusals_carry_what_the_api_answers(url: str) -> None:
    """A node view's refusal reaches both clients with the same status, slug and values."""
    node = Node.in_memory(make_genesis())
    local = EmbeddedClient(node)
    try:
        with signed_client(url) as remote:
            asks = [
                lambda c: c.market_book(-1),
                lambda c: c.market_orders(1, "nobody"),
                lambda c: c.market_order("x" * 65),
                lambda c: c.market_price(10**6),
                lambda c: c.statement(10**6, address("alice")),
                lambda c: c.member(address("erin")),
                lambda c: c.block(-1),
                lambda c: c.periods(count=0),
            ]
            for ask in asks:
                with pytest.raises(ClientError) as over_http:
                    ask(remote)
                with pytest.raises(ClientError) as in_process:
                    ask(local)
                http_error, local_error = over_http.value, in_process.value
                assert (local_error.status, local_error.error) == (
                    http_error.status,
                    http_error.error,
                )
                assert local_error.body == http_error.body
                assert 400 <= local_error.status < 500
    finally:
        node.close()
