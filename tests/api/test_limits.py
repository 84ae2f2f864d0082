"""Refused submissions are limited per client address and per sender (issue 16, defect 5):
over the allowance a refusal is answered 429 ``rate_limited`` with ``Retry-After``; accepted
submissions are never limited, and another sender or address keeps its own allowance."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from fastapi.testclient import TestClient

from gridledger.api.app import create_app
from gridledger.api.limits import RefusalLimiter, RefusalLimits, TokenBuckets
from gridledger.client import ClientError, EmbeddedClient
from gridledger.node import CutterConfig, Node
from tests.community import address, make_genesis, signed_raw


class Seconds:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def transfer(sender: str, nonce: int, to: str = "bob") -> bytes:
    args = {"to": address(to), "amount_micro": 1}
    return signed_raw(sender, nonce, "tokens", "transfer", args)


def replayed(sender: str, nonce: int) -> bytes:
    """A transfer `sender` may not send: its nonce is far ahead (refused at admission)."""
    return transfer(sender, 1_000 + nonce)


# -- the buckets ----------------------------------------------------------------------------------


def test_a_bucket_gives_its_burst_then_refills_at_its_rate() -> None:
    clock = Seconds()
    buckets = TokenBuckets(rate=2.0, burst=3, max_buckets=10, clock=clock)
    for _ in range(3):
        assert buckets.wait_s("a") == 0
        buckets.spend("a")
    assert buckets.wait_s("a") == pytest.approx(0.5)
    assert buckets.wait_s("b") == 0, "another key has its own bucket"
    clock.now += 0.5
    assert buckets.wait_s("a") == 0
    buckets.spend("a")
    assert buckets.wait_s("a") == pytest.approx(0.5)


def test_buckets_are_bounded_and_refilled_ones_are_dropped() -> None:
    clock = Seconds()
    buckets = TokenBuckets(rate=1.0, burst=2, max_buckets=10, clock=clock)
    for i in range(1000):
        buckets.spend(f"key-{i}")
        assert len(buckets) <= 10
    clock.now += 2  # every bucket has refilled: the next spend drops them
    buckets.spend("fresh")
    assert len(buckets) == 1


def test_a_rate_of_zero_is_no_limit() -> None:
    buckets = TokenBuckets(rate=0, burst=1, max_buckets=10)
    for _ in range(100):
        assert buckets.wait_s("a") == 0
        buckets.spend("a")
    assert len(buckets) == 0
    limiter = RefusalLimiter(RefusalLimits.off())
    assert all(limiter.refused("10.0.0.1", "gl1") is None for _ in range(1000))


@pytest.mark.parametrize(
    "changes",
    [{"address_per_second": -1}, {"sender_burst": 0}, {"max_buckets": 0}],
)
def test_nonsense_limits_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(changes))):
        RefusalLimits(**changes)


def test_the_limiter_names_the_empty_bucket_and_spends_nothing_then() -> None:
    clock = Seconds()
    limits = RefusalLimits(
        address_per_second=10, address_burst=5, sender_per_second=0.25, sender_burst=2
    )
    limiter = RefusalLimiter(limits, clock)
    assert limiter.refused("10.0.0.1", "gl-a") is None
    assert limiter.refused("10.0.0.1", "gl-a") is None
    limited = limiter.refused("10.0.0.1", "gl-a")
    assert limited is not None and (limited.kind, limited.who) == ("sender", "gl-a")
    assert limited.retry_after_s == 4  # a token every 4 s
    for _ in range(3):
        assert limiter.refused("10.0.0.1") is None  # the address still had 3 left
    limited = limiter.refused("10.0.0.1", "gl-b")
    assert limited is not None and (limited.kind, limited.retry_after_s) == ("address", 1)


# -- over HTTP ------------------------------------------------------------------------------------

TIGHT = RefusalLimits(
    address_per_second=0.01, address_burst=40, sender_per_second=0.01, sender_burst=5
)
"""Allowances that do not refill during a test: 40 refusals per address, 5 per sender."""


@pytest.fixture
def node() -> Iterator[Node]:
    opened = Node.in_memory(make_genesis(), cutter=CutterConfig(timeout_ms=5))
    yield opened
    opened.close()


@pytest.fixture
def http(node: Node) -> Iterator[TestClient]:
    with TestClient(create_app(node, refusal_limits=TIGHT), client=("10.0.0.1", 50000)) as client:
        yield client


def post(http: TestClient, raw: bytes, **params: Any) -> Any:
    return http.post("/v1/transactions", json={"transaction": raw.hex()}, params=params)


def assert_limited(response: Any, kind: str) -> None:
    assert response.status_code == 429, response.text
    assert int(response.headers["retry-after"]) >= 1
    body = response.json()
    assert (body["error"], body["limited"]) == ("rate_limited", kind), body
    assert body["retry_after_s"] == int(response.headers["retry-after"])


def test_a_burst_of_refusals_from_one_sender_is_limited(http: TestClient) -> None:
    answers = [post(http, replayed("carol", n)) for n in range(8)]
    assert [a.status_code for a in answers[:5]] == [409] * 5
    assert all(a.json()["error"] == "nonce_mismatch" for a in answers[:5])
    for answer in answers[5:]:
        assert_limited(answer, "sender")
    # another sender from the same address still gets its own answers
    other = post(http, replayed("dave", 0))
    assert (other.status_code, other.json()["error"]) == (409, "nonce_mismatch")
    # and the limited sender's good transactions go through
    assert post(http, transfer("carol", 0)).status_code == 202


def test_good_submissions_are_never_limited(http: TestClient, node: Node) -> None:
    for n in range(5):
        post(http, replayed("alice", n))
    assert_limited(post(http, replayed("alice", 9)), "sender")
    for n in range(60):
        assert post(http, transfer("alice", n)).status_code == 202
    batch = [transfer("alice", n).hex() for n in range(60, 300)]
    answer = http.post("/v1/transactions/batch", json={"transactions": batch})
    assert answer.status_code == 200 and answer.json()["accepted"] == 240


def test_a_burst_of_refusals_from_one_address_is_limited(node: Node, http: TestClient) -> None:
    for _ in range(40):  # malformed bodies, from no sender at all
        answer = http.post("/v1/transactions", content=b"{not json", headers=JSON)
        assert answer.status_code == 422
    assert_limited(http.post("/v1/transactions", content=b"{not json", headers=JSON), "address")
    assert_limited(post(http, replayed("bob", 0)), "address")
    assert post(http, transfer("bob", 0)).status_code == 202, "good ones still go through"
    answer = post(from_address(http, "10.0.0.2"), replayed("bob", 1))
    assert (answer.status_code, answer.json()["error"]) == (409, "nonce_mismatch")


def from_address(http: TestClient, host: str) -> TestClient:
    """A client of the same running app (its event loop) whose requests come from `host`."""
    other = TestClient(http.app, client=(host, 50000))
    other.portal = http.portal
    return other


JSON = {"content-type": "application/json"}


def test_a_batch_of_refusals_is_limited_item_by_item_and_as_a_whole(http: TestClient) -> None:
    raws = [replayed("carol", n).hex() for n in range(8)] + [transfer("carol", 0).hex()]
    answer = http.post("/v1/transactions/batch", json={"transactions": raws})
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [r["error"] for r in results[:5]] == ["nonce_mismatch"] * 5
    assert [r["error"] for r in results[5:8]] == ["rate_limited"] * 3
    assert results[8]["status"] == "pending"
    only_refused = [replayed("carol", n).hex() for n in range(10, 13)]
    whole = http.post("/v1/transactions/batch", json={"transactions": only_refused})
    assert_limited(whole, "sender")
    packed = msgspec.msgpack.encode([replayed("carol", 20)])
    answer = http.post(
        "/v1/transactions/batch", content=packed, headers={"content-type": "application/msgpack"}
    )
    assert_limited(answer, "sender")


def test_the_in_process_client_is_never_limited(node: Node) -> None:
    client = EmbeddedClient(node)
    for n in range(100):
        with pytest.raises(ClientError) as refused:
            client.submit(replayed("carol", n))
        assert (refused.value.status, refused.value.error) == (409, "nonce_mismatch")
