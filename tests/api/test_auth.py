"""Every read is authenticated and answered by role (issue 12), over a real served node.

One settled period: alice (prosumer) sold to carol (consumer) and her meter reported, so
alice has a statement, a reading and a balance that dave (consumer) must not read and the
regulator may, leaving a line in alice's access log. Signatures are RFC 9421 (forged,
expired and replayed ones are each refused with their own code); session tokens come from
a signed challenge or a one-time login code and stop at expiry and sign-out.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from gridledger.api.server import BackgroundServer
from gridledger.client import ClientError, HttpClient, Wallet
from gridledger.client.signing import RequestSigner, signed_headers
from gridledger.crypto import KeyPair
from gridledger.crypto.message_signatures import (
    request_components,
    serialize_signature_params,
    signature_base,
)
from gridledger.node import CutterConfig, Node, SQLiteStorage
from gridledger.node.access_log import FILE_NAME
from gridledger.node.authentication import Authenticator, login_message
from tests.api.test_market_api import Clock
from tests.community import (
    CHAIN_ID,
    GENESIS_TIME_MS,
    NEXT_PERIOD,
    REGISTRATIONS,
    address,
    application_of,
    gate_closure_s,
    key,
    make_genesis,
    meter_window_close_s,
    order_args,
    period_start_s,
    reading_args,
)

P = NEXT_PERIOD
WAIT_S = 30.0


@dataclass
class Served:
    url: str
    node: Node
    server: BackgroundServer
    directory: Path
    reading_tx: str
    """The id of alice's meter reading transaction."""

    def as_(self, name: str | KeyPair) -> httpx.Client:
        keys = key(name) if isinstance(name, str) else name
        return httpx.Client(base_url=self.url, timeout=WAIT_S, auth=RequestSigner(keys))

    def anonymous(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=WAIT_S)

    @property
    def authenticator(self) -> Authenticator:
        authenticator: Authenticator = self.server.app.state.gate.authenticator
        return authenticator


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("auth")
    clock = Clock(GENESIS_TIME_MS + 1_000)
    node = Node.create(
        SQLiteStorage(directory / "chain.sqlite"),
        make_genesis(),
        cutter=CutterConfig(timeout_ms=5),
        clock_ms=clock,
    )
    server = BackgroundServer(node)
    url = server.start()
    try:
        with HttpClient(url) as client:
            wallets: dict[str, Wallet] = {}

            def ok(name: str, contract: str, method: str, args: dict[str, Any]) -> str:
                if name not in wallets:
                    wallets[name] = Wallet(key(name), HttpClient(url, keys=key(name)))
                reply = wallets[name].call(contract, method, args, wait=True, timeout_ms=20_000)
                view = msgspec.to_builtins(reply)
                assert view["code"] == 0, view
                return str(view["id"])

            ok("alice", "market", "place_order", order_args("sell", 1000, 780_000, P))
            ok("carol", "market", "place_order", order_args("buy", 1000, 820_000, P))
            clock.at(gate_closure_s(P))
            ok("alice", "market", "clear", {"period": P})
            clock.at(period_start_s(P + 1) + 10)
            reading = ok(
                "alice-meter-1",
                "metering",
                "record_reading",
                reading_args("alice-meter-1", "alice", P, 1000, 0),
            )
            ok("operator", "settlement", "fund_grid", {"amount_micro": 5_000_000})
            clock.at(meter_window_close_s(P))
            ok("carol", "settlement", "settle", {"period": P})
            for wallet in wallets.values():
                wallet.client.close()  # type: ignore[attr-defined]
            assert client.head().height > 0
        yield Served(url, node, server, directory, reading)
    finally:
        server.stop()
        node.close()


def assert_error(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    body: dict[str, Any] = response.json()
    assert body["error"] == error, body
    assert body["message"]
    return body


def private_paths(s: Served) -> list[str]:
    alice = address("alice")
    return [
        "/v1/members",
        f"/v1/members/{alice}",
        f"/v1/accounts/{alice}",
        f"/v1/accounts/{alice}/transactions",
        f"/v1/transactions/{s.reading_tx}",
        "/v1/blocks/1",
        "/v1/blocks",
        f"/v1/market/periods/{P}/orders",
        f"/v1/market/periods/{P}/trades",
        f"/v1/market/periods/{P}/book",
        "/v1/market/day-ahead/19677",
        f"/v1/settlement/periods/{P}/statements",
        f"/v1/settlement/periods/{P}/statements/{alice}",
        "/v1/dashboard/overview",
        f"/v1/dashboard/members/{alice}",
        "/v1/genesis",
        "/v1/access-log",
        "/v1/governance/proposals",
        "/v1/governance/proposals/0",
        "/v1/currency/supply",
        f"/v1/certificates/{alice}",
        f"/v1/certificates/{alice}/report",
    ]


# -- anonymous ----------------------------------------------------------------------------------


def test_anonymous_reads_only_the_head(served: Served) -> None:
    with served.anonymous() as http:
        head = http.get("/v1/head")
        assert head.status_code == 200 and head.json()["height"] > 0
        for path in private_paths(served):
            response = http.get(path)
            assert_error(response, 401, "unauthenticated")
            assert "Signature" in response.headers["www-authenticate"]
        assert http.get("/openapi.json").status_code == 200
        assert http.get("/dashboard/").status_code == 200


def test_anonymous_stream_is_refused(served: Served) -> None:
    ws_url = served.url.replace("http://", "ws://") + "/v1/stream"
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url, open_timeout=WAIT_S)
    assert refused.value.response.status_code == 401


def test_an_outsider_reads_only_its_own_account(served: Served) -> None:
    with served.as_("mallory") as http:
        assert http.get(f"/v1/accounts/{address('mallory')}").json()["nonce"] == 0
        assert_error(http.get("/v1/members"), 403, "not_a_member")
        assert_error(http.get(f"/v1/accounts/{address('alice')}"), 403, "not_a_member")
        assert_error(http.get("/v1/governance/proposals"), 403, "not_a_member")


def test_an_applicant_reads_its_own_application_and_nothing_shared(served: Served) -> None:
    arguments, _ = application_of("frank", "prosumer", dict(REGISTRATIONS["prosumer"]))
    with HttpClient(served.url, keys=key("frank")) as client:
        applied = Wallet(key("frank"), client).call("membership", "apply", arguments)
        assert applied.status == "committed"
        assert client.member(address("frank")).status == "pending"  # its own application
        with pytest.raises(ClientError) as refused:
            client.market_current()
        assert (refused.value.status, refused.value.error) == (403, "not_a_member")
    with served.anonymous() as http:
        assert_error(_login(http, key("frank")), 403, "not_a_member")


# -- a household --------------------------------------------------------------------------------


def test_a_member_cannot_read_another_members_data(served: Served) -> None:
    alice = address("alice")
    with served.as_("dave") as http:
        for path, what in [
            (f"/v1/settlement/periods/{P}/statements/{alice}", "statement"),
            (f"/v1/accounts/{alice}", "balance"),
            (f"/v1/accounts/{alice}/transactions", "transactions"),
            (f"/v1/transactions/{served.reading_tx}", "transaction"),  # her meter reading
            (f"/v1/dashboard/members/{alice}", "activity"),
            (f"/v1/market/periods/{P}/orders?owner={alice}", "orders"),
            (f"/v1/market/orders/{P}-0", "order"),
        ]:
            body = assert_error(http.get(path), 403, "forbidden")
            assert what in body["message"] and body["what"]


def test_a_member_reads_itself_and_public_aggregates(served: Served) -> None:
    alice, carol = address("alice"), address("carol")
    with served.as_("carol") as http:
        assert http.get(f"/v1/accounts/{carol}").status_code == 200
        mine = http.get(f"/v1/settlement/periods/{P}/statements/{carol}").json()
        assert mine["member"] == carol
        statements = http.get(f"/v1/settlement/periods/{P}/statements").json()["statements"]
        assert [s["member"] for s in statements] == [carol]
        [trade] = http.get(f"/v1/market/periods/{P}/trades").json()["trades"]
        assert (trade["buyer"], trade["seller"]) == (carol, alice)  # her own: counterparty shown
        assert http.get(f"/v1/market/periods/{P}/book").status_code == 200
        assert http.get(f"/v1/settlement/periods/{P}").json()["settled"]
        members = {m["address"]: m for m in http.get("/v1/members").json()["members"]}
        assert members[alice]["role"] == "prosumer" and members[alice]["registration"] == {}
        overview = {m["address"]: m for m in http.get("/v1/dashboard/overview").json()["members"]}
        assert overview[alice]["balance_micro"] is None
        assert overview[carol]["balance_micro"] is not None
        assert http.get("/v1/dashboard/periods").status_code == 200
        governance = http.get("/v1/governance/proposals").json()
        assert governance["proposals"] == [] and governance["rules"]["quorum_percent"] == 50
        assert_error(http.get("/v1/governance/proposals/0"), 404, "not_found")
    with served.as_("dave") as http:
        [trade] = http.get(f"/v1/market/periods/{P}/trades").json()["trades"]
        assert (trade["buyer"], trade["seller"], trade["buy_order_id"]) == ("", "", "")
        assert trade["energy_wh"] == 1000
        assert http.get(f"/v1/market/periods/{P}/orders").json()["orders"] == []


def test_a_member_verifies_any_block_but_sees_only_its_own_transactions(served: Served) -> None:
    with served.as_("alice") as http:
        reading = http.get(f"/v1/transactions/{served.reading_tx}").json()
        height = reading["height"]
        with served.as_("dave") as other:
            block = other.get(f"/v1/blocks/{height}").json()
        [withheld] = [t for t in block["transactions"] if t["id"] == served.reading_tx]
        assert withheld["transaction"] == {} and withheld["events"] == []
        assert block["header"]["transactions_root"] == reading["block"]["transactions_root"]
        assert http.get(f"/v1/dashboard/blocks/{height}/header").status_code == 200


# -- auditors and the access log ------------------------------------------------------------------


def test_the_regulator_reads_everything_and_the_read_is_logged(served: Served) -> None:
    alice = address("alice")
    with served.as_("regulator") as http:
        for path in [
            f"/v1/settlement/periods/{P}/statements/{alice}",
            f"/v1/accounts/{alice}",
            f"/v1/transactions/{served.reading_tx}",
        ]:
            assert http.get(path).status_code == 200, path
        [trade] = http.get(f"/v1/market/periods/{P}/trades").json()["trades"]
        assert trade["seller"] == alice
    with served.as_("alice") as http:
        log = http.get("/v1/access-log").json()
    assert log["household"] == alice
    mine = [
        (e["reader"], e["route"], e["resource"]) for e in log["entries"] if e["household"] == alice
    ]
    assert (
        address("regulator"),
        "GET /v1/settlement/periods/{period}/statements/{member}",
        f"statement of period {P}",
    ) in mine
    assert any(r == "GET /v1/accounts/{address}" for _, r, _ in mine)
    assert all(e["reader_role"] == "regulator" for e in log["entries"])
    with served.as_("dave") as http:  # dave's log holds no read of alice's data
        assert all(e["household"] != alice for e in http.get("/v1/access-log").json()["entries"])
    assert (served.directory / FILE_NAME).is_file()


# -- request signatures -------------------------------------------------------------------------


def _signed(keys: KeyPair, path: str, **overrides: Any) -> dict[str, str]:
    request = httpx.Request("GET", "http://node" + path)
    return {**signed_headers(keys, request), **overrides}


def test_forged_expired_and_replayed_signatures_are_refused(served: Served) -> None:
    path = f"/v1/accounts/{address('alice')}"
    with served.anonymous() as http:
        headers = _signed(key("alice"), path)
        assert http.get(path, headers=headers).status_code == 200
        assert_error(http.get(path, headers=headers), 401, "nonce_replayed")

        forged = _signed(key("mallory"), path)  # mallory signs, claims alice's key
        forged["signature-input"] = forged["signature-input"].replace(
            key("mallory").public_key.hex(), key("alice").public_key.hex()
        )
        assert_error(http.get(path, headers=forged), 401, "bad_request_signature")

        other_path = _signed(key("alice"), f"/v1/accounts/{address('bob')}")
        assert_error(http.get(path, headers=other_path), 401, "bad_request_signature")

        old = int(time.time()) - 3600
        params = serialize_signature_params(
            ("@method", "@path", "@query"),
            [
                ("created", old),
                ("keyid", key("alice").public_key.hex()),
                ("alg", "ed25519"),
                ("nonce", "an-old-nonce"),
            ],
        )
        base = signature_base(request_components("GET", path, "", None), params)
        import base64

        expired = {
            "signature-input": "sig1=" + params,
            "signature": "sig1=:" + base64.b64encode(key("alice").sign(base)).decode() + ":",
        }
        assert_error(http.get(path, headers=expired), 401, "signature_expired")


def test_a_small_clock_skew_is_tolerated(served: Served) -> None:
    authenticator = served.authenticator
    real = authenticator.clock_ms
    authenticator.clock_ms = lambda: real() + 30_000
    try:
        with served.as_("alice") as http:
            assert http.get(f"/v1/accounts/{address('alice')}").status_code == 200
    finally:
        authenticator.clock_ms = real


def _params(alg: str, keyid: str) -> str:
    return serialize_signature_params(
        ("@method", "@path", "@query"),
        [("created", int(time.time())), ("keyid", keyid), ("alg", alg), ("nonce", "nonce-1234")],
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"signature-input": "sig1=" + "(" * 20_000, "signature": "sig1=:AAAA:"},
        {"signature-input": "garbage", "signature": "sig1=:AAAA:"},
        {"signature-input": 'sig1=("@method"', "signature": "sig1=:AAAA:"},
        {
            "signature-input": "sig1=" + _params("rsa-pss-sha512", "00" * 32),
            "signature": "sig1=:AAAA:",
        },
        {"signature-input": "sig1=" + _params("ed25519", "zz" * 32), "signature": "sig1=:AAAA:"},
        {"signature-input": "sig1=" + _params("ed25519", "ab"), "signature": "sig1=:AAAA:"},
        {"signature-input": "sig1=" + _params("ed25519", "00" * 32), "signature": "sig1=:AAAA:"},
        {"signature-input": 'sig1=("@method");created=1', "signature": "sig1=:AAAA:"},
        {"signature-input": "sig1=()", "signature": "x"},
        {"authorization": "Basic abc"},
        {"authorization": "Bearer " + "x" * 5000},
    ],
)
def test_hostile_authentication_headers_are_4xx(served: Served, headers: dict[str, str]) -> None:
    with served.anonymous() as http:
        response = http.get(f"/v1/accounts/{address('alice')}", headers=headers)
    assert 400 <= response.status_code < 500, response.text
    if response.status_code == 401:
        assert response.json()["error"] in (
            "bad_request_signature",
            "unauthenticated",
            "session_expired",
        )


def test_a_wrong_algorithm_is_refused_even_when_signed(served: Served) -> None:
    path = f"/v1/accounts/{address('alice')}"
    params = _params("ecdsa-p256-sha256", key("alice").public_key.hex())
    base = signature_base(request_components("GET", path, "", None), params)
    import base64

    headers = {
        "signature-input": "sig1=" + params,
        "signature": "sig1=:" + base64.b64encode(key("alice").sign(base)).decode() + ":",
    }
    with served.anonymous() as http:
        body = assert_error(http.get(path, headers=headers), 401, "bad_request_signature")
    assert "alg" in body["message"]


def test_a_signed_body_must_match_its_digest(served: Served) -> None:
    with served.as_("alice") as http:
        assert http.post("/v1/auth/login-codes", content=b"{}").status_code == 200
        request = http.build_request("POST", "/v1/auth/login-codes", content=b"{}")
        headers = signed_headers(key("alice"), request)
    with served.anonymous() as http:
        response = http.post("/v1/auth/login-codes", content=b"{} ", headers=headers)
        assert_error(response, 401, "bad_request_signature")


# -- session tokens -----------------------------------------------------------------------------


def _login(http: httpx.Client, keys: KeyPair, challenge: str | None = None) -> httpx.Response:
    if challenge is None:
        challenge = http.post("/v1/auth/challenge").json()["challenge"]
    signature = keys.sign(login_message(CHAIN_ID, challenge)).hex()
    body = {"public_key": keys.public_key.hex(), "challenge": challenge, "signature": signature}
    return http.post("/v1/auth/session", json=body)


def test_a_session_from_a_signed_challenge(served: Served) -> None:
    with served.anonymous() as http:
        reply = http.post("/v1/auth/challenge").json()
        assert len(reply["challenge"]) == 64 and reply["expires_at_ms"] > time.time() * 1000
        session = _login(http, key("carol"), reply["challenge"]).json()
        assert (session["address"], session["role"]) == (address("carol"), "consumer")
        bearer = {"authorization": f"Bearer {session['token']}"}
        assert http.get(f"/v1/accounts/{address('carol')}", headers=bearer).status_code == 200
        assert_error(http.get(f"/v1/accounts/{address('alice')}", headers=bearer), 403, "forbidden")
        # the challenge was used
        assert_error(_login(http, key("carol"), reply["challenge"]), 401, "bad_challenge")
        # signed by another key than the one named
        challenge = http.post("/v1/auth/challenge").json()["challenge"]
        signature = key("dave").sign(login_message(CHAIN_ID, challenge)).hex()
        wrong = {
            "public_key": key("carol").public_key.hex(),
            "challenge": challenge,
            "signature": signature,
        }
        assert_error(http.post("/v1/auth/session", json=wrong), 401, "bad_login_signature")
        assert_error(_login(http, key("mallory")), 403, "not_a_member")
        # sign out: the token stops working
        assert http.delete("/v1/auth/session", headers=bearer).status_code == 204
        assert_error(
            http.get(f"/v1/accounts/{address('carol')}", headers=bearer), 401, "session_expired"
        )
        assert_error(
            http.get("/v1/members", headers={"authorization": "Bearer nonsense"}),
            401,
            "session_expired",
        )


def test_an_expired_token_and_an_expired_challenge(served: Served) -> None:
    authenticator = served.authenticator
    real = authenticator.clock_ms
    with served.anonymous() as http:
        token = _login(http, key("carol")).json()["token"]
        challenge = http.post("/v1/auth/challenge").json()["challenge"]
        authenticator.clock_ms = lambda: real() + 16 * 60 * 1000
        try:
            response = http.get(
                f"/v1/accounts/{address('carol')}", headers={"authorization": f"Bearer {token}"}
            )
            assert_error(response, 401, "session_expired")
            authenticator.clock_ms = lambda: real() + 61 * 1000
            assert_error(_login(http, key("carol"), challenge), 401, "bad_challenge")
        finally:
            authenticator.clock_ms = real


def test_a_one_time_login_code(served: Served) -> None:
    with served.as_("bob") as http:
        code = http.post("/v1/auth/login-codes").json()
    assert len(code["login_code"]) >= 20
    with served.anonymous() as http:
        session = http.post("/v1/auth/session", json={"login_code": code["login_code"]}).json()
        assert session["address"] == address("bob") and session["role"] == "prosumer"
        again = http.post("/v1/auth/session", json={"login_code": code["login_code"]})
        assert_error(again, 401, "bad_login_code")
        assert_error(http.post("/v1/auth/login-codes"), 401, "unauthenticated")
        assert_error(http.post("/v1/auth/session", json={}), 400, "invalid_request")


def test_the_stream_is_filtered_per_subscriber(served: Served) -> None:
    ws_url = served.url.replace("http://", "ws://") + "/v1/stream"
    with served.anonymous() as http:
        dave = _login(http, key("dave")).json()["token"]
        regulator = _login(http, key("regulator")).json()["token"]
    with (
        connect(f"{ws_url}?token={dave}", open_timeout=WAIT_S) as household,
        connect(f"{ws_url}?token={regulator}", open_timeout=WAIT_S) as auditor,
    ):
        assert msgspec.json.decode(household.recv(timeout=WAIT_S))["type"] == "hello"
        assert msgspec.json.decode(auditor.recv(timeout=WAIT_S))["type"] == "hello"
        with HttpClient(served.url, keys=key("alice")) as client:
            Wallet(key("alice"), client).call(
                "tokens", "transfer", {"to": address("bob"), "amount_micro": 5}, wait=True
            )
        full = msgspec.json.decode(auditor.recv(timeout=WAIT_S))
        seen = msgspec.json.decode(household.recv(timeout=WAIT_S))
    assert full["header"] == seen["header"]
    [whole] = full["transactions"]
    [reduced] = seen["transactions"]
    assert whole["sender"] == address("alice") and whole["events"]
    assert reduced == {"id": whole["id"], "code": 0, "result": "ok"}


def test_a_signed_stream_upgrade(served: Served) -> None:
    ws_url = served.url.replace("http://", "ws://") + "/v1/stream"
    headers = _signed(key("carol"), "/v1/stream")
    with connect(ws_url, additional_headers=headers, open_timeout=WAIT_S) as stream:
        assert msgspec.json.decode(stream.recv(timeout=WAIT_S))["type"] == "hello"
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url, additional_headers=_signed(key("mallory"), "/v1/stream"))
    assert refused.value.response.status_code == 403


def test_the_http_client_signs_and_explains_a_missing_key(served: Served) -> None:
    with HttpClient(served.url) as anonymous:
        assert anonymous.head().height > 0
        with pytest.raises(ClientError) as refused:
            anonymous.members()
        assert refused.value.status == 401
    with HttpClient(served.url, keys=key("alice")) as client:
        assert client.account(address("alice")).balance_micro > 0
        with pytest.raises(ClientError) as forbidden:
            client.account(address("bob"))
        assert forbidden.value.status == 403 and forbidden.value.error == "forbidden"


def test_public_reads_serve_anonymous_callers_as_auditors(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    node = Node.create(SQLiteStorage(tmp_path / "chain.sqlite"), make_genesis())
    with caplog.at_level("WARNING", logger="gridledger.api"):
        server = BackgroundServer(node, public_reads=True)
    assert any("--public-reads" in r.message for r in caplog.records)
    url = server.start()
    try:
        with httpx.Client(base_url=url) as http:
            members = http.get("/v1/members").json()["members"]
            assert any(m["registration"] for m in members) or members
            alice = address("alice")
            assert http.get(f"/v1/accounts/{alice}").status_code == 200
            log = http.get("/v1/access-log", params={"member": alice}).json()
            assert log["entries"][0]["reader"] == "anonymous"
    finally:
        server.stop()
        node.close()
