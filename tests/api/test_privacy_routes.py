"""``/v1/privacy/outputs`` and ``/v1/privacy/keys`` against a real node: members read them,
outsiders do not, bad queries get a 400 naming the field; a stealth payment and a ring-signed
ballot through the HTTP client; the ring-signed ballot's submission and read-back are signed
by its throwaway key, so no request names the voter."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from gridledger.api.server import BackgroundServer
from gridledger.client import HttpClient, Wallet
from gridledger.client.privacy import (
    new_output_for,
    register_keys_args,
    registered_keys,
    scan_outputs,
    secret_ballot,
    stealth_keys_of,
    submit_ring_call,
)
from gridledger.client.replies import TransactionReply
from gridledger.node import CutterConfig, MemoryStorage, Node
from tests.community import address, key, make_genesis
from tests.signing import signer


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    genesis = make_genesis(parameters={"governance": {"founding_until_ms": 0}})
    node = Node.create(MemoryStorage(), genesis, cutter=CutterConfig(timeout_ms=5))
    server = BackgroundServer(node)
    try:
        yield server.start()
    finally:
        server.stop()
        node.close()


def committed(reply: object) -> TransactionReply:
    assert isinstance(reply, TransactionReply) and reply.code == 0, reply
    return reply


def test_members_read_outputs_and_keys_and_outsiders_do_not(url: str) -> None:
    for name in ("alice", "bob", "carol"):
        with HttpClient(url) as client:
            wallet = Wallet(key(name), client)
            committed(wallet.call("privacy", "register_keys", register_keys_args(key(name), False)))
    with HttpClient(url) as client:
        wallet = Wallet(key("alice"), client)
        output = new_output_for(registered_keys(client, address("bob")))
        committed(wallet.call("privacy", "pay", {"amount_micro": 700, "output": output}))
    with HttpClient(url) as client:
        client.sign_with(key("bob"))
        [own] = scan_outputs(client, stealth_keys_of(key("bob")))
        assert (own.output.amount_micro, own.output.balance_micro, own.output.nonce) == (
            700,
            700,
            0,
        )
    with HttpClient(url) as client:
        client.sign_with(key("carol"))
        assert scan_outputs(client, stealth_keys_of(key("carol"))) == []
        keys = client.privacy_keys().keys
        assert {k.address for k in keys} == {address(n) for n in ("alice", "bob", "carol")}
    with httpx.Client(base_url=url, timeout=30, auth=signer("mallory")) as outsider:
        for path in ("/v1/privacy/outputs", "/v1/privacy/keys"):
            answer = outsider.get(path)
            assert answer.status_code in (401, 403), (path, answer.text)
    with httpx.Client(base_url=url, timeout=30, auth=signer("alice")) as member:
        for query, field in (("limit=0", "limit"), ("limit=10001", "limit"), ("start=-1", "start")):
            answer = member.get(f"/v1/privacy/outputs?{query}")
            assert answer.status_code == 400, answer.text
            assert field in answer.text
        assert member.get("/v1/privacy/outputs?limit=x").status_code in (400, 422)


def test_a_ring_signed_ballot_through_the_api(url: str) -> None:
    names = ("regulator", "operator", "dave")
    for name in names:
        with HttpClient(url) as client:
            args = register_keys_args(key(name), False)
            committed(Wallet(key(name), client).call("privacy", "register_keys", args))
    with HttpClient(url) as client:
        wallet = Wallet(key("dave"), client)
        proposal = {"kind": "motion", "text": "x", "secret": True, "deadline_ms": 2**62}
        reply = wallet.call("governance", "propose", proposal)
        assert isinstance(reply, TransactionReply)
        if reply.code != 0:  # the deadline is beyond the longest vote: take the longest
            latest = reply.details.get("latest_ms")
            proposal["deadline_ms"] = int(latest) - 1
            committed(wallet.call("governance", "propose", proposal))
        proposal_id = client.proposals().proposals[-1].proposal_id
        ballot = secret_ballot(client, key("dave"), proposal_id, "yes", ring_size=4)
        result = committed(submit_ring_call(client, ballot))
        assert address("dave") not in str(result)
        assert client.keys == key("dave")  # signed as the throwaway key for the submission only
        assert client.proposal(proposal_id).yes == 1
