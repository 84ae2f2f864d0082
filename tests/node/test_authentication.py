"""`Authenticator` and the read policy of `node.access`, without a server: time windows,
nonces, single-use challenges and codes, bounded stores, and what each role may read."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.client.market_replies import TradeReply
from gridledger.client.signing import signed_headers
from gridledger.node import Node
from gridledger.node import authentication as auth
from gridledger.node.access import (
    AUDITOR,
    NOBODY,
    Caller,
    Forbidden,
    NotAMember,
    caller_of_key,
    check_own,
    check_transaction,
    redact_trade,
    stream_transactions,
)
from gridledger.node.authentication import Authenticator, TooManySignatures, Unauthenticated
from tests.community import address, key, make_genesis, meter_key_hex

NOW_MS = 1_800_000_000_000


class Clock:
    def __init__(self) -> None:
        self.ms = NOW_MS

    def __call__(self) -> int:
        return self.ms


def signed(path: str = "/v1/members", query: str = "", body: bytes = b"", method: str = "GET"):  # type: ignore[no-untyped-def]
    url = "http://node" + path + ("?" + query if query else "")
    request = httpx.Request(method, url, content=body)
    return signed_headers(key("alice"), request)


def verify(authenticator: Authenticator, headers: dict[str, str], **overrides: object) -> bytes:
    values: dict[str, object] = {
        "method": "GET",
        "path": "/v1/members",
        "query": "",
        "signature_input": headers["signature-input"],
        "signature": headers["signature"],
        "digest": headers.get("content-digest"),
        "body": None,
        **overrides,
    }
    return authenticator.verify_request(**values)  # type: ignore[arg-type]


def code_of(call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(Unauthenticated) as refused:
        call()
    return refused.value.code


def test_a_signature_verifies_once_within_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("time.time", lambda: NOW_MS / 1000)
    clock = Clock()
    authenticator = Authenticator("c", clock)
    headers = signed()
    assert verify(authenticator, headers) == key("alice").public_key
    assert code_of(lambda: verify(authenticator, headers)) == "nonce_replayed"
    late = signed()
    clock.ms += (auth.WINDOW_S + 1) * 1000
    assert code_of(lambda: verify(authenticator, late)) == "signature_expired"
    clock.ms -= 2 * (auth.WINDOW_S + 1) * 1000
    assert code_of(lambda: verify(authenticator, signed())) == "signature_expired"


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=1, max_size=64), st.integers(min_value=0), st.integers(1, 255))
def test_a_flipped_body_byte_fails_its_digest(body: bytes, position: int, flip: int) -> None:
    authenticator = Authenticator("c")
    headers = signed("/v1/auth/login-codes", body=body, method="POST")
    changed = bytearray(body)
    changed[position % len(body)] ^= flip
    overrides = {"method": "POST", "path": "/v1/auth/login-codes"}
    refused = code_of(lambda: verify(authenticator, headers, body=bytes(changed), **overrides))
    assert refused == "bad_request_signature"
    assert verify(authenticator, headers, body=body, **overrides) == key("alice").public_key


def test_the_nonce_store_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "MAX_NONCES", 3)
    authenticator = Authenticator("c")
    for _ in range(3):
        verify(authenticator, signed())
    with pytest.raises(TooManySignatures):
        verify(authenticator, signed())


def test_challenges_codes_and_sessions_are_single_use_and_expire() -> None:
    clock = Clock()
    authenticator = Authenticator("chain", clock)
    challenge, expires = authenticator.challenge()
    assert len(challenge) == 64 and expires == NOW_MS + auth.CHALLENGE_S * 1000
    signature = key("bob").sign(auth.login_message("chain", challenge)).hex()
    public = key("bob").public_key.hex()
    session = authenticator.session_from_challenge(public, challenge, signature)
    assert session.public_key == key("bob").public_key
    assert (
        code_of(lambda: authenticator.session_from_challenge(public, challenge, signature))
        == "bad_challenge"
    )
    assert authenticator.session(session.token) == session
    code, _ = authenticator.login_code(key("carol").public_key)
    assert authenticator.session_from_code(code).public_key == key("carol").public_key
    assert code_of(lambda: authenticator.session_from_code(code)) == "bad_login_code"
    authenticator.end_session(session.token)
    assert code_of(lambda: authenticator.session(session.token)) == "session_expired"
    other = authenticator._open_session(key("dave").public_key, clock.ms)
    clock.ms += auth.SESSION_S * 1000
    assert code_of(lambda: authenticator.session(other.token)) == "session_expired"
    stale, _ = authenticator.challenge()
    clock.ms += auth.CHALLENGE_S * 1000
    late = key("bob").sign(auth.login_message("chain", stale)).hex()
    assert code_of(lambda: authenticator.session_from_challenge(public, stale, late)) == (
        "bad_challenge"
    )
    with_bad_hex = authenticator.challenge()[0]
    assert (
        code_of(lambda: authenticator.session_from_challenge("zz", with_bad_hex, "00"))
        == "bad_login_signature"
    )


def test_the_stores_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    authenticator = Authenticator("c")
    authenticator._challenges.limit = 5
    for _ in range(50):
        authenticator.challenge()
    assert len(authenticator._challenges.entries) == 5
    monkeypatch.setattr(auth, "KEY_CACHE", 8)
    for i in range(20):
        keys = key(f"member-{i}")
        assert authenticator.public_key(keys.public_key.hex()) == keys.public_key
    assert len(authenticator._keys) == 8


# -- the policy ---------------------------------------------------------------------------------


def test_roles_come_from_the_membership_contract_and_the_peers() -> None:
    node = Node.in_memory(make_genesis())
    try:
        state = node.state
        assert caller_of_key(state, key("alice").public_key, frozenset()).role == "prosumer"
        assert caller_of_key(state, key("regulator").public_key, frozenset()).is_auditor
        assert caller_of_key(state, key("mallory").public_key, frozenset()).role == "outsider"
        peer = caller_of_key(
            state, key("mallory").public_key, frozenset({key("mallory").public_key})
        )
        assert peer.role == "peer" and peer.is_auditor
        meter = caller_of_key(state, bytes.fromhex(meter_key_hex("alice-meter-1")), frozenset())
        assert meter.address == address("alice") and meter.is_self(key("alice-meter-1").address)
    finally:
        node.close()


def test_what_a_household_may_read() -> None:
    alice = Caller(address("alice"), "prosumer")
    check_own(alice, address("alice"), "x")
    check_own(AUDITOR, address("alice"), "x")
    with pytest.raises(Forbidden):
        check_own(alice, address("bob"), "the balance")
    with pytest.raises(NotAMember):
        check_own(Caller(address("mallory"), "outsider"), address("bob"), "x")
    with pytest.raises(NotAMember):
        check_own(NOBODY, address("bob"), "x")
    reading = {"sender": key("alice-meter-1").address, "args": {"member": address("alice")}}
    assert address("alice") in check_transaction(alice, reading, "t")
    with pytest.raises(Forbidden):
        check_transaction(Caller(address("bob"), "prosumer"), reading, "t")


def test_others_trades_lose_their_parties_and_the_stream_its_details() -> None:
    trade = TradeReply(
        trade_id="1", period=1, kind="book", buy_order_id="1-0", sell_order_id="1-1",
        buyer=address("carol"), seller=address("alice"), energy_wh=5, price_micro_per_kwh=1,
        value_micro=0, matched_at_s=0, height=1, mechanism="x", price_rule="y",
        bid_price_micro_per_kwh=1, ask_price_micro_per_kwh=1, buy_order_time_s=None,
        sell_order_time_s=None, buy_sequence=3, sell_sequence=4, clamped=False, reason="",
    )  # fmt: skip
    assert redact_trade(Caller(address("carol"), "consumer"), trade) == trade
    hidden = redact_trade(Caller(address("dave"), "consumer"), trade)
    assert (hidden.buyer, hidden.seller, hidden.energy_wh) == ("", "", 5)
    assert (hidden.buy_order_id, hidden.buy_sequence, hidden.sell_sequence) == ("", None, None)
    transactions = [
        {"id": "a", "code": 0, "result": "ok", "sender": address("bob"), "events": []},
        {
            "id": "b", "code": 0, "result": "ok", "sender": address("carol"),
            "events": [{"attributes": {"to": address("bob")}}],
        },
        {"id": "c", "code": 0, "result": "ok", "sender": address("carol"), "events": []},
    ]  # fmt: skip
    shown = stream_transactions(Caller(address("bob"), "prosumer"), transactions)
    assert shown[:2] == transactions[:2]
    assert shown[2] == {"id": "c", "code": 0, "result": "ok"}
    assert stream_transactions(AUDITOR, transactions) is transactions
