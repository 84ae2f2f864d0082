"""Signatures checked ahead by the verifier are looked up, never trusted otherwise.

The verifier checks a meter's signature inside a reading before the block executes
(threads, or worker processes that send back only the digests of valid ones); the
metering contract then finds it in `crypto.signature_cache`. Only valid signatures are
ever remembered, so a forged reading is still refused by the contract, and a cache hit
needs the very same key, message and signature.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridledger.crypto import generate_keypair, is_valid_signature, signature_cache
from gridledger.crypto.signature_cache import (
    forget_all,
    is_remembered,
    remember_valid,
    signature_digest,
)
from gridledger.ledger import ResultCode, decode_transaction
from gridledger.node.stateless_checks import embedded_signatures, valid_embedded
from gridledger.node.verifier import Verifier
from tests.community import (
    CHAIN_ID,
    NEXT_PERIOD,
    Community,
    key,
    period_start_s,
    reading_args,
    signed_raw,
)

P = NEXT_PERIOD
OPENS = period_start_s(P + 1)


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    forget_all()
    yield
    forget_all()


def reading_raw(exported_wh: int = 1500, forged: bool = False, nonce: int = 0) -> bytes:
    args = reading_args("alice-meter-1", "alice", P, 1500, 200)
    if forged:
        args["exported_wh"] = exported_wh  # the meter signed 1500
    return signed_raw("alice", nonce, "metering", "record_reading", args)


def test_a_valid_meter_signature_is_checked_ahead_and_found_by_the_contract() -> None:
    raw = reading_raw()
    signed = decode_transaction(raw)
    [(meter, message, signature)] = embedded_signatures(signed, CHAIN_ID)
    digest = signature_digest(meter, message, signature)
    assert not is_remembered(digest)
    verifier = Verifier(CHAIN_ID, workers=2)
    try:
        [outcome] = verifier.check([raw])
    finally:
        verifier.close()
    assert outcome == signed and is_remembered(digest)
    community = Community.create()
    _, execution = community.commit([raw], OPENS * 1000)
    assert execution.receipts[0].ok, execution.receipts[0].message


def test_a_forged_meter_signature_is_not_remembered_and_still_refused() -> None:
    raw = reading_raw(exported_wh=9999, forged=True)
    signed = decode_transaction(raw)
    assert valid_embedded(signed, CHAIN_ID) == []
    verifier = Verifier(CHAIN_ID, workers=2)
    try:
        verifier.check([raw])
    finally:
        verifier.close()
    assert not signature_cache._remembered
    community = Community.create()
    _, execution = community.commit([raw], OPENS * 1000)
    assert execution.receipts[0].code == ResultCode.INVALID_READING_SIGNATURE


def test_worker_processes_send_back_the_digests_of_valid_signatures() -> None:
    raws = [reading_raw(nonce=n) for n in range(40)]  # >= PROCESS_BATCH: the process pool
    raws.append(reading_raw(exported_wh=9999, forged=True, nonce=40))
    verifier = Verifier(CHAIN_ID, workers=2)
    try:
        processes = verifier.start_processes_and_wait()
        outcomes = verifier._check_in_processes(processes, raws)
    finally:
        verifier.close()
    assert len(outcomes) == 41
    good = embedded_signatures(decode_transaction(raws[0]), CHAIN_ID)[0]
    bad = embedded_signatures(decode_transaction(raws[-1]), CHAIN_ID)[0]
    assert is_remembered(signature_digest(*good))
    assert not is_remembered(signature_digest(*bad))


def test_other_calls_and_malformed_readings_embed_no_signature() -> None:
    transfer = signed_raw("alice", 0, "tokens", "transfer", {"to": "glx", "amount_micro": 1})
    assert embedded_signatures(decode_transaction(transfer), CHAIN_ID) == []
    args = reading_args("alice-meter-1", "alice", P, 1500, 200)
    for broken in ({**args, "signature": "zz"}, {k: v for k, v in args.items() if k != "period"}):
        raw = signed_raw("alice", 0, "metering", "record_reading", broken)
        assert embedded_signatures(decode_transaction(raw), CHAIN_ID) == []


@given(st.binary(max_size=64), st.binary(max_size=64))
def test_a_hit_needs_the_same_key_message_and_signature(message: bytes, other: bytes) -> None:
    forget_all()
    keys = key("alice-meter-1")
    signature = keys.sign(message)
    remember_valid([signature_digest(keys.public_key, message, signature)])
    assert is_valid_signature(keys.public_key, message, signature)
    if other != message:
        assert not is_valid_signature(keys.public_key, other, signature)
    assert not is_valid_signature(generate_keypair().public_key, message, signature)


def test_the_cache_keeps_at_most_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signature_cache, "LIMIT", 3)
    remember_valid([bytes([i]) * 32 for i in range(5)])
    assert not is_remembered(b"\x00" * 32) and is_remembered(b"\x04" * 32)
    assert len(signature_cache._remembered) == 3
