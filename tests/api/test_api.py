"""The node's HTTP and WebSocket API, served by `BackgroundServer` over a real SQLite chain.

One server per module: tests sign with a `Wallet`, which asks the node for the next nonce,
so they do not depend on one another's order.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from websockets.sync.client import connect

from gridledger.api.limits import RefusalLimits
from gridledger.api.server import BackgroundServer
from gridledger.client import HttpClient, Wallet
from gridledger.crypto import InvalidProof, MerkleProof, verify_proof
from gridledger.ledger import (
    MAX_ARGUMENT_DEPTH,
    MAX_TRANSACTION_BYTES,
    BlockHeader,
    Event,
    Receipt,
    ResultCode,
    block_hash,
    encode_receipt,
    transaction_id,
)
from gridledger.node import CutterConfig, Node, SQLiteStorage
from gridledger.node.mempool import Mempool
from tests.community import (
    CHAIN_ID,
    FOUNDERS,
    address,
    key,
    make_genesis,
    nested_raw,
    signed_raw,
)
from tests.signing import signed_client, signer, stream_headers

WAIT_S = 30.0
JSON = {"content-type": "application/json"}
OCTETS = {"content-type": "application/octet-stream"}
MSGPACK = {"content-type": "application/msgpack"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Node]]:
    path = tmp_path_factory.mktemp("api") / "chain.sqlite"
    node = Node.create(SQLiteStorage(path), make_genesis(), cutter=CutterConfig(timeout_ms=5))
    # the module refuses hundreds of submissions on purpose; tests/api/test_limits.py limits
    server = BackgroundServer(node, refusal_limits=RefusalLimits.off())
    url = server.start()
    try:
        yield url, node
    finally:
        server.stop()
        node.close()


@pytest.fixture
def url(served: tuple[str, Node]) -> str:
    return served[0]


@pytest.fixture
def http(url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, timeout=WAIT_S, auth=signer()) as client:
        yield client


@pytest.fixture
def client(url: str) -> Iterator[HttpClient]:
    with signed_client(url) as opened:
        yield opened


def wallet(client: HttpClient, name: str) -> Wallet:
    return Wallet(key(name), client)


def pay(sender: Wallet, to: str = "bob", amount: int = 10, **extra: Any) -> bytes:
    return sender.sign("tokens", "transfer", {"to": address(to), "amount_micro": amount, **extra})


def wait_committed(http: httpx.Client, tx_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        view = http.get(f"/v1/transactions/{tx_id}")
        if view.status_code == 200 and view.json()["status"] == "committed":
            return dict(view.json())
        time.sleep(0.02)
    raise AssertionError(f"{tx_id} was not committed within {WAIT_S} s")


def tx_id_hex(raw: bytes) -> str:
    return transaction_id(raw).hex()


def assert_error(response: httpx.Response, status: int, error: str, *mentions: str) -> None:
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert body["error"] == error, body
    assert isinstance(body["message"], str) and body["message"], body
    for text in mentions:
        assert text in body["message"], (text, body)


# -- submitting --------------------------------------------------------------------------------


def test_submit_hex_json_and_wait_returns_the_committed_receipt(
    http: httpx.Client, client: HttpClient
) -> None:
    alice = wallet(client, "alice")
    raw = pay(alice, amount=1234, memo="hour 7")
    response = http.post(
        "/v1/transactions", params={"wait": "true"}, json={"transaction": raw.hex()}
    )
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["status"] == "committed" and view["code"] == 0 and view["result"] == "ok"
    assert view["id"] == tx_id_hex(raw)
    assert view["height"] == view["block"]["height"] >= 1
    assert view["raw"] == raw.hex()
    assert view["transaction"]["sender"] == address("alice")
    assert view["transaction"]["args"] == {
        "to": address("bob"),
        "amount_micro": 1234,
        "memo": "hour 7",
    }
    [event] = view["events"]
    assert (event["contract"], event["name"]) == ("tokens", "transferred")
    assert event["attributes"]["amount_micro"] == 1234


def test_submit_octet_stream_with_and_without_wait(http: httpx.Client, client: HttpClient) -> None:
    bob = wallet(client, "bob")
    waited = http.post("/v1/transactions?wait=true", content=pay(bob, to="carol"), headers=OCTETS)
    assert waited.status_code == 200 and waited.json()["status"] == "committed", waited.text

    raw = pay(bob, to="carol")
    accepted = http.post("/v1/transactions", content=raw, headers=OCTETS)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json() == {"id": tx_id_hex(raw), "status": "pending"}
    assert wait_committed(http, tx_id_hex(raw))["code"] == 0


def test_batch_as_json_and_as_msgpack(http: httpx.Client, client: HttpClient) -> None:
    carol, dave = wallet(client, "carol"), wallet(client, "dave")
    as_json = [pay(carol, to="dave", amount=n + 1) for n in range(4)]
    forged = bytearray(pay(wallet(client, "alice")))
    forged[-3] ^= 0x04
    response = http.post(
        "/v1/transactions/batch",
        json={"transactions": [*(raw.hex() for raw in as_json), bytes(forged).hex()]},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (4, 1)
    assert [r["id"] for r in body["results"][:4]] == [tx_id_hex(raw) for raw in as_json]
    assert all(r["status"] == "pending" for r in body["results"][:4])
    assert body["results"][4]["status"] == "rejected"
    assert body["results"][4]["error"] == "bad_signature"

    as_msgpack = [pay(dave, to="carol", amount=n + 1) for n in range(4)]
    response = http.post(
        "/v1/transactions/batch", content=msgspec.msgpack.encode(as_msgpack), headers=MSGPACK
    )
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 4
    for raw in [*as_json, *as_msgpack]:
        assert wait_committed(http, tx_id_hex(raw))["code"] == 0

    # HttpClient.submit_batch speaks MessagePack
    outcome = client.submit_batch([pay(dave, to="alice")])
    assert outcome.accepted == 1
    wait_committed(http, outcome.results[0].id)


# -- reading -----------------------------------------------------------------------------------


def proof_of(view: dict[str, Any]) -> MerkleProof:
    return MerkleProof(view["index"], view["size"], tuple(bytes.fromhex(h) for h in view["path"]))


def header_of(view: dict[str, Any]) -> BlockHeader:
    fields = {name: view[name] for name in BlockHeader.__struct_fields__}
    for name in ("previous_hash", "transactions_root", "results_root", "state_hash"):
        fields[name] = bytes.fromhex(fields[name])
    return BlockHeader(**fields)


def receipt_of(view: dict[str, Any]) -> Receipt:
    events = [Event(e["contract"], e["name"], e["attributes"]) for e in view["events"]]
    return Receipt(
        bytes.fromhex(view["id"]), view["code"], view["message"], events, view["details"]
    )


def test_transaction_with_merkle_proofs_that_verify(
    http: httpx.Client, client: HttpClient, served: tuple[str, Node]
) -> None:
    alice, bob = wallet(client, "alice"), wallet(client, "bob")
    raws = [pay(alice, to="carol", amount=n + 1) for n in range(5)]
    raws.append(
        pay(bob, to="carol", amount=10**12)
    )  # refused by the contract: a receipt with a message
    assert client.submit_batch(raws).accepted == 6
    views = [wait_committed(http, tx_id_hex(raw)) for raw in raws]
    refused = views[-1]
    assert refused["result"] == refused["error"] == "insufficient_funds" and refused["message"]
    details = refused["details"]
    assert (details["address"], details["required_micro"]) == (address("bob"), 10**12)
    assert str(details["balance_micro"]) in refused["message"]
    assert views[0]["error"] is None and views[0]["details"] == {}

    for raw, view in zip(raws, views, strict=True):
        header = header_of(view["block"])
        assert block_hash(header).hex() == view["block"]["hash"]
        tx_id = bytes.fromhex(view["id"])
        proof = proof_of(view["proof"])
        assert proof.index == view["position"] and proof.size == header.transaction_count
        verify_proof(tx_id, proof, header.transactions_root)
        receipt = receipt_of(view)
        verify_proof(encode_receipt(receipt), proof_of(view["receipt_proof"]), header.results_root)
        assert receipt == served[1].storage.receipts(view["height"])[view["position"]]
        with pytest.raises(InvalidProof):
            verify_proof(bytes(32), proof, header.transactions_root)
        with pytest.raises(InvalidProof):
            verify_proof(tx_id, proof, header.results_root)
        assert bytes.fromhex(view["raw"]) == raw


def test_blocks_and_head(http: httpx.Client, client: HttpClient) -> None:
    reply = wallet(client, "carol").call("tokens", "transfer", {"to": address("alice")})
    committed = msgspec.to_builtins(reply)  # the reply is the served JSON
    # refused by the contract (amount_micro is required): still committed, marked
    assert committed["status"] == "committed" and committed["result"] == "invalid_arguments"
    height = committed["height"]

    block = http.get(f"/v1/blocks/{height}").json()
    assert block["header"] == committed["block"]
    [mine] = [tx for tx in block["transactions"] if tx["id"] == committed["id"]]
    assert mine["transaction"]["method"] == "transfer" and mine["code"] == committed["code"]
    assert "transactions" not in http.get(f"/v1/blocks/{height}?transactions=false").json()

    genesis_block = http.get("/v1/blocks/0").json()
    assert genesis_block["header"]["height"] == 0 and genesis_block["transactions"] == []

    head = http.get("/v1/head").json()
    assert head["chain_id"] == CHAIN_ID and head["height"] >= height
    assert head["hash"] == head["header"]["hash"]
    assert head["total_supply_micro"] == sum(balance for _, balance in FOUNDERS.values())

    recent = http.get("/v1/blocks", params={"limit": 3}).json()["blocks"]
    heights = [h["height"] for h in recent]
    assert heights == sorted(heights, reverse=True) and len(heights) == min(3, head["height"] + 1)
    older = http.get("/v1/blocks", params={"limit": 2, "before": 2}).json()["blocks"]
    assert [h["height"] for h in older] == [1, 0]

    assert http.get("/v1/genesis").json()["chain_id"] == CHAIN_ID
    contracts = http.get("/v1/contracts").json()
    assert "transfer" in contracts["tokens"] and "apply" in contracts["membership"]


def test_members_and_accounts(http: httpx.Client, client: HttpClient) -> None:
    members = {m["name"]: m for m in http.get("/v1/members").json()["members"]}
    assert {name: m["role"] for name, m in members.items()} == {
        name: role for name, (role, _) in FOUNDERS.items()
    }
    assert all(m["status"] == "active" for m in members.values())

    alice = http.get(f"/v1/members/{address('alice')}").json()
    assert alice["name"] == "alice" and alice["public_key"] == key("alice").public_key.hex()
    assert alice["meter_keys"] == [key("alice-meter-1").public_key.hex()]
    assert_error(http.get(f"/v1/members/{address('erin')}"), 404, "not_found", address("erin"))

    dave = wallet(client, "dave")
    before = http.get(f"/v1/accounts/{address('dave')}").json()
    receipt = dave.call("tokens", "transfer", {"to": address("alice"), "amount_micro": 77})
    after = http.get(f"/v1/accounts/{address('dave')}").json()
    assert after["balance_micro"] == before["balance_micro"] - 77
    assert after["nonce"] == before["nonce"] + 1
    latest = http.get(f"/v1/accounts/{address('dave')}/transactions?limit=1").json()
    assert latest["transactions"][0]["id"] == receipt.id
    assert latest["transactions"][0]["result"] == "ok"
    outsider = http.get(f"/v1/accounts/{address('erin')}").json()
    assert (outsider["balance_micro"], outsider["nonce"]) == (0, 0)


def test_websocket_stream_delivers_committed_blocks(url: str, client: HttpClient) -> None:
    ws_url = url.replace("http://", "ws://") + "/v1/stream"
    with connect(ws_url, additional_headers=stream_headers(ws_url), open_timeout=10) as stream:
        hello = json.loads(stream.recv(timeout=10))
        assert hello["type"] == "hello" and hello["chain_id"] == CHAIN_ID
        raw = pay(wallet(client, "bob"), to="dave", amount=5)
        client.submit(raw)
        deadline = time.monotonic() + WAIT_S
        while True:
            message = json.loads(stream.recv(timeout=max(0.1, deadline - time.monotonic())))
            assert message["type"] == "block"
            ids = [tx["id"] for tx in message["transactions"]]
            if tx_id_hex(raw) in ids:
                break
        [mine] = [tx for tx in message["transactions"] if tx["id"] == tx_id_hex(raw)]
        assert mine["sender"] == address("bob") and mine["result"] == "ok"
        assert mine["events"][0]["attributes"]["amount_micro"] == 5
        assert message["header"]["height"] > hello["height"]
        assert message["header"]["transaction_count"] == len(message["transactions"])


def test_openapi_document_lists_the_routes(http: httpx.Client) -> None:
    document = http.get("/openapi.json").json()
    paths = document["paths"]
    for path, method in [
        ("/v1/transactions", "post"),
        ("/v1/transactions/batch", "post"),
        ("/v1/transactions/{transaction_id}", "get"),
        ("/v1/head", "get"),
        ("/v1/blocks", "get"),
        ("/v1/blocks/{height}", "get"),
        ("/v1/members", "get"),
        ("/v1/members/{address}", "get"),
        ("/v1/accounts/{address}", "get"),
        ("/v1/accounts/{address}/transactions", "get"),
        ("/v1/contracts", "get"),
        ("/v1/genesis", "get"),
    ]:
        assert method in paths.get(path, {}), path
    submit_body = paths["/v1/transactions"]["post"]["requestBody"]["content"]
    assert {"application/json", "application/octet-stream"} <= submit_body.keys()
    assert (
        "application/msgpack" in paths["/v1/transactions/batch"]["post"]["requestBody"]["content"]
    )
    assert http.get("/docs").status_code == 200


# -- refusing bad input ------------------------------------------------------------------------


def test_bad_input_gets_a_4xx_naming_what_was_wrong(http: httpx.Client, client: HttpClient) -> None:
    alice = wallet(client, "alice")
    good = pay(alice)
    forged = bytearray(good)
    forged[-1] ^= 0x01
    post = "/v1/transactions"

    assert_error(http.post(post, json={"transaction": "zz"}), 400, "invalid_request", "transaction")
    assert_error(
        http.post(post, content=good.hex(), headers={"content-type": "text/plain"}),
        422,
        "invalid_request",
        "JSON",
    )
    assert_error(http.post(post, content=b'{"transaction": ', headers=JSON), 422, "invalid_request")
    assert_error(http.post(post, json={"tx": good.hex()}), 422, "invalid_request", "transaction")
    assert_error(http.post(post, content=b"\x93\x01", headers=OCTETS), 400, "malformed")
    assert_error(
        http.post(post, content=bytes(forged), headers=OCTETS),
        400,
        "bad_signature",
        address("alice"),
    )
    refused = http.post(post, content=bytes(forged), headers=OCTETS).json()
    assert refused["id"] == tx_id_hex(bytes(forged)) and refused["code"] == 6
    assert_error(
        http.post(post, content=signed_raw("erin", 0, "tokens", "transfer", {}), headers=OCTETS),
        403,
        "not_a_member",
        address("erin"),
    )
    other_chain = signed_raw("alice", 0, "tokens", "transfer", {}, chain_id="elsewhere")
    assert_error(
        http.post(post, content=other_chain, headers=OCTETS), 400, "wrong_chain", "elsewhere"
    )
    too_big = b"\x00" * (MAX_TRANSACTION_BYTES + 1)
    assert_error(http.post(post, content=too_big, headers=OCTETS), 413, "oversized")
    assert_error(http.post(post, content=b"\x00" * 200_000, headers=OCTETS), 413, "oversized")
    assert_error(
        http.post(post, params={"timeout_ms": 0}, json={"transaction": good.hex()}),
        422,
        "invalid_request",
        "timeout_ms",
    )

    # a replayed nonce, a duplicate and a nonce gap
    http.post(post, params={"wait": "true"}, content=good, headers=OCTETS).raise_for_status()
    assert_error(http.post(post, content=good, headers=OCTETS), 409, "duplicate")
    nonce = int(http.get(f"/v1/accounts/{address('alice')}").json()["nonce"])
    replay = signed_raw("alice", nonce - 1, "tokens", "transfer", {"to": address("bob")})
    assert_error(http.post(post, content=replay, headers=OCTETS), 409, "nonce_mismatch", "replay")
    gap = signed_raw("alice", nonce + 5, "tokens", "transfer", {"to": address("bob")})
    assert_error(http.post(post, content=gap, headers=OCTETS), 409, "nonce_mismatch")

    batch = "/v1/transactions/batch"
    assert_error(
        http.post(batch, json={"transactions": [good.hex(), "xyz"]}),
        400,
        "invalid_request",
        "transactions[1]",
    )
    assert_error(http.post(batch, content=b"[1, 2]", headers=JSON), 422, "invalid_request")
    assert_error(
        http.post(batch, content=msgspec.msgpack.encode([1, 2]), headers=MSGPACK),
        422,
        "invalid_request",
        "MessagePack",
    )
    assert_error(
        http.post(batch, content=msgspec.msgpack.encode([b""] * 10_001), headers=MSGPACK),
        413,
        "oversized",
        "10000",
    )

    assert_error(http.get("/v1/transactions/xyz"), 400, "invalid_request", "transaction_id")
    assert_error(http.get("/v1/transactions/abcd"), 400, "invalid_request", "64 hex")
    unknown = "ab" * 32
    assert_error(http.get(f"/v1/transactions/{unknown}"), 404, "not_found", unknown)
    assert_error(http.get("/v1/blocks/-1"), 400, "invalid_request", "height")
    assert_error(http.get("/v1/blocks/one"), 422, "invalid_request", "height")
    assert_error(http.get("/v1/blocks/100000"), 404, "not_found", "100000")
    assert_error(http.get("/v1/blocks?limit=0"), 422, "invalid_request", "limit")
    assert_error(http.get("/v1/members/alice"), 400, "invalid_address", "'alice'")
    assert_error(http.get("/v1/accounts/gl123"), 400, "invalid_address", "'gl123'")
    assert_error(
        http.get(f"/v1/accounts/{address('bob')}/transactions?limit=5000"),
        422,
        "invalid_request",
        "limit",
    )
    assert_error(http.get("/v1/nothing-here"), 404, "not_found")
    assert_error(http.delete("/v1/head"), 405, "method_not_allowed")


def malformed_requests(good: bytes) -> list[tuple[str, str, dict[str, Any]]]:
    """Requests a careless or hostile client might send; none may cause a 5xx."""
    rng = random.Random(20240601)
    requests: list[tuple[str, str, dict[str, Any]]] = []
    bodies: list[bytes] = [
        b"",
        b"{}",
        b"[]",
        b"null",
        b"\xff\xfe",
        b'{"transaction": null}',
        b'{"transaction": 12}',
        b'{"transaction": ["00"]}',
        b'{"transaction": "' + b"0" * 65 + b'"}',
        b'{"transactions": "00"}',
        b'{"transactions": [null]}',
        good[:-10],
        good + b"\x00",
        good[:5] + b"\xff" + good[6:],
    ]
    for _ in range(20):
        bodies.append(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))))
    for _ in range(20):
        changed = bytearray(good)
        changed[rng.randrange(len(changed))] ^= 1 << rng.randrange(7)  # keeps ASCII ASCII
        bodies.append(bytes(changed))
    for body in bodies:
        for content_type in ("application/json", "application/octet-stream", "application/msgpack"):
            headers = {"content-type": content_type}
            requests.append(("POST", "/v1/transactions", {"content": body, "headers": headers}))
            requests.append(
                ("POST", "/v1/transactions/batch", {"content": body, "headers": headers})
            )
    for path in [
        "/v1/transactions/" + "g" * 64,
        "/v1/transactions/%00%01",
        "/v1/transactions/" + "0" * 1000,
        "/v1/blocks/1e3",
        "/v1/blocks/-99999999999999999999",
        "/v1/blocks/0x10",
        "/v1/blocks?limit=abc",
        "/v1/blocks?before=-5",
        "/v1/blocks?before=99999999999999999999",
        "/v1/members/" + "gl" + "G" * 40,
        "/v1/members/%20",
        "/v1/accounts/" + "gl" + "0" * 39,
        "/v1/accounts/" + address("alice").upper(),
        "/v1/accounts/x/transactions?limit=1",
        "/v1/head?x=1",
        "/v1/stream",
    ]:
        requests.append(("GET", path, {}))
    for method in ("PUT", "PATCH", "DELETE"):
        requests.append((method, "/v1/transactions", {"content": good}))
    requests.append(("POST", "/v1/transactions?wait=yes&timeout_ms=-1", {"content": good}))
    return requests


def test_malformed_requests_never_get_a_5xx(url: str, client: HttpClient) -> None:
    good = pay(wallet(client, "carol"), to="alice", amount=1)
    requests = malformed_requests(good)
    assert len(requests) > 250
    failures = []
    http = httpx.Client(base_url=url, timeout=WAIT_S, auth=signer())
    for method, path, options in requests:
        try:
            response = http.request(method, path, **options)
        except httpx.TransportError as error:  # the server dropped the connection
            failures.append(f"{method} {path} {options.get('content', b'')[:40]!r}: {error!r}")
            http.close()
            http = httpx.Client(base_url=url, timeout=WAIT_S, auth=signer())
            continue
        if response.status_code >= 500:
            failures.append(f"{method} {path} {options.get('content', b'')[:40]!r}: 5xx")
            continue
        if response.status_code >= 400:
            body = response.json()
            if not (isinstance(body, dict) and body.get("error") and body.get("message")):
                failures.append(f"{method} {path}: body {body!r}")
    http.close()
    assert not failures, failures


def test_height_beyond_64_bits_is_refused_not_a_500(http: httpx.Client) -> None:
    response = http.get(f"/v1/blocks/{2**63}")
    assert 400 <= response.status_code < 500, response.status_code


def test_transaction_with_invalid_utf8_is_malformed_not_a_500(http: httpx.Client) -> None:
    raw = bytearray(signed_raw("alice", 0, "tokens", "transfer", {"to": address("bob")}))
    raw[raw.index(CHAIN_ID.encode())] = 0xFF
    response = http.post("/v1/transactions", content=bytes(raw), headers=OCTETS)
    assert_error(response, 400, "malformed")


def test_a_block_holding_a_deeply_nested_transaction_is_served(tmp_path: Path) -> None:
    """A block ordered by a log keeps the refused transaction; its views answer 200 (they
    used to recurse through the 950 levels and answer 500 on every call)."""
    node = Node.create(SQLiteStorage(tmp_path / "chain.sqlite"), make_genesis())
    blobs = [nested_raw("mallory", 950), nested_raw("mallory", 1_500)]
    committed = node.commit_ordered(blobs, node.head.timestamp_ms + 1_000, 1)
    server = BackgroundServer(node)
    try:
        with httpx.Client(base_url=server.start(), timeout=WAIT_S, auth=signer()) as http:
            block = http.get(f"/v1/blocks/{committed.block.header.height}")
            assert block.status_code == 200, block.text
            views = [http.get(f"/v1/transactions/{tx_id_hex(blob)}") for blob in blobs]
    finally:
        server.stop()
        node.close()
    assert [r.code for r in committed.receipts] == [ResultCode.TOO_DEEPLY_NESTED] * 2
    assert [view.status_code for view in views] == [200, 200]
    assert {view.json()["result"] for view in views} == {"too_deeply_nested"}


def test_deeply_nested_arguments_get_a_4xx_and_the_worker_pool_survives(
    http: httpx.Client, client: HttpClient, served: tuple[str, Node]
) -> None:
    """1,500 levels used to answer 500 (RecursionError); 950 levels were committed and then
    made their block answer 500; a batch of 40 shut the verify worker processes down."""
    _, node = served
    pool = node.verifier.start_processes_and_wait()
    paid = pay(wallet(client, "alice"))
    client.submit(paid)
    committed = wait_committed(http, tx_id_hex(paid))
    for depth in (1_500, 950):
        response = http.post(
            "/v1/transactions", content=nested_raw("mallory", depth), headers=OCTETS
        )
        assert_error(response, 400, "too_deeply_nested", f"nest {depth} levels")
        assert (response.json()["depth"], response.json()["limit"]) == (depth, MAX_ARGUMENT_DEPTH)
    blobs = [nested_raw(f"mallory{n}", 1_500 if n % 2 else 950) for n in range(40)]
    response = http.post(
        "/v1/transactions/batch", content=msgspec.msgpack.encode(blobs), headers=MSGPACK
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (0, 40)
    assert {result["error"] for result in body["results"]} == {"too_deeply_nested"}
    assert node.verifier.start_processes_and_wait() is pool  # the same pool, still serving
    for blob in [nested_raw("mallory", 1_500), nested_raw("mallory", 950), *blobs]:
        assert http.get(f"/v1/transactions/{tx_id_hex(blob)}").status_code == 404
    assert http.get(f"/v1/blocks/{committed['height']}").status_code == 200
    assert http.get(f"/v1/transactions/{tx_id_hex(paid)}").status_code == 200
    more = [pay(wallet(client, "bob"), to="carol", amount=1)]
    assert (
        http.post(
            "/v1/transactions/batch", content=msgspec.msgpack.encode(more), headers=MSGPACK
        ).json()["accepted"]
        == 1
    )


# -- a full mempool ----------------------------------------------------------------------------


def test_full_mempool_answers_429_with_retry_after(tmp_path: Path) -> None:
    node = Node.create(
        SQLiteStorage(tmp_path / "chain.sqlite"),
        make_genesis(),
        cutter=CutterConfig(timeout_ms=60_000),
        mempool=Mempool(max_transactions=2),
    )
    server = BackgroundServer(node)
    url = server.start()
    try:
        with httpx.Client(base_url=url, timeout=WAIT_S) as http:
            for nonce in range(2):
                raw = signed_raw("bob", nonce, "tokens", "transfer", {"to": address("dave")})
                assert http.post("/v1/transactions", content=raw, headers=OCTETS).status_code == 202
            raw = signed_raw("bob", 2, "tokens", "transfer", {"to": address("dave")})
            response = http.post("/v1/transactions", content=raw, headers=OCTETS)
            assert_error(response, 429, "mempool_full", "retry")
            assert response.headers["retry-after"] == "1"
            assert response.json()["limit"] == 2
    finally:
        server.stop()
        node.close()
