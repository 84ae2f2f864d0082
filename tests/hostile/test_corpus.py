"""The hostile corpus (issue 16, "What must show"): bad transactions and requests, each a row
with the status and the ``error`` code it must get, sent to one node; afterwards the chain
replays (`verify`) and no balance has moved.

A refusal at admission is its own status (403 ``not_a_member``, 400 ``bad_signature``,
...); a member's call that a contract refuses is committed, marked, and the waited answer
(200) names the rule in ``error``. The rows run in order against one node (module scope),
and the last test checks what they left behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest

from gridledger.ledger import (
    MAX_ARGUMENT_DEPTH,
    MAX_POLICY_KEYS,
    MAX_TRANSACTION_BYTES,
    Cosignature,
    MultisigAuthorization,
    ResultCode,
    SignedTransaction,
    Transaction,
    cosign_transaction,
    encode,
    encode_transaction,
    key_address,
    policy_account_key,
    policy_address,
    read_nonce,
    signing_bytes,
    unsigned_multisig,
    validate_transaction,
)
from gridledger.ledger.transactions import SIGNING_DOMAIN
from gridledger.node import SQLiteStorage
from gridledger.node.verify import verify_storage
from tests.community import (
    CHAIN_ID,
    FOUNDERS,
    NEXT_PERIOD,
    address,
    application_of,
    balances,
    key,
    meter_key_hex,
    nested_raw,
    order_args,
    reading_args,
    signed_raw,
)
from tests.hostile.world import OPEN_PERIOD, READ_PERIOD, World, open_world

OCTETS = {"content-type": "application/octet-stream"}
MSGPACK = {"content-type": "application/msgpack"}
JSON = {"content-type": "application/json"}


@dataclass(frozen=True)
class Case:
    name: str
    send: Callable[[World], Any]
    """Sends the request and returns the httpx response."""
    status: int
    error: str


def tx(build: Callable[[World], bytes]) -> Callable[[World], Any]:
    """Submit the transaction `build` makes, as hex JSON, waiting for its commit."""
    return lambda w: w.http.post(
        "/v1/transactions", params={"wait": "true"}, json={"transaction": build(w).hex()}
    )


def octets(build: Callable[[World], bytes]) -> Callable[[World], Any]:
    return lambda w: w.http.post("/v1/transactions", content=build(w), headers=OCTETS)


def call(sender: str, contract: str, method: str, args: dict[str, Any]) -> Callable[[World], Any]:
    return tx(lambda w: w.raw(sender, contract, method, args))


def get(
    path: str | Callable[[World], str], who: str | None = "regulator"
) -> Callable[[World], Any]:
    def send(w: World) -> Any:
        url = path(w) if callable(path) else path
        return w.http.get(url, auth=None if who is None else w.as_(who))

    return send


def post(path: str, content: bytes, headers: dict[str, str]) -> Callable[[World], Any]:
    return lambda w: w.http.post(path, content=content, headers=headers)


# -- envelopes ------------------------------------------------------------------------------------


def flipped(raw: bytes, index: int) -> bytes:
    changed = bytearray(raw)
    changed[index] ^= 0x01
    return bytes(changed)


def transfer(w: World, sender: str = "alice", amount: int = 1, nonce: int | None = None) -> bytes:
    args = {"to": address("bob"), "amount_micro": amount}
    if nonce is None:
        return w.raw(sender, "tokens", "transfer", args)
    return signed_raw(sender, nonce, "tokens", "transfer", args)


def other_signature(w: World) -> bytes:
    """alice's transfer signed by mallory: the envelope names alice's key."""
    body = [
        1,
        CHAIN_ID,
        key("alice").public_key,
        0,
        "tokens",
        "transfer",
        {"to": address("bob"), "amount_micro": 1},
    ]
    signature = key("mallory").sign(SIGNING_DOMAIN + encode(body))
    return encode([body, ["ed25519", signature]])


def with_body(body: list[Any], signer: str = "alice") -> bytes:
    """A transaction with the envelope fields `body`, correctly signed by `signer`."""
    signature = key(signer).sign(SIGNING_DOMAIN + encode(body))
    return encode([body, ["ed25519", signature]])


def envelope(w: World, **changes: Any) -> bytes:
    fields = {
        "version": 1,
        "chain_id": CHAIN_ID,
        "sender": key("alice").public_key,
        "nonce": 0,
        "contract": "tokens",
        "method": "transfer",
        "args": {"to": address("bob"), "amount_micro": 1},
    }
    fields.update(changes)
    return with_body(list(fields.values()))


def unsorted_keys(w: World) -> bytes:
    """alice's transfer with its argument map's keys out of canonical order, signed as sent."""
    nonce = read_nonce(w.node.state, address("alice"))
    fields = [1, CHAIN_ID, key("alice").public_key, nonce, "tokens", "transfer"]
    args = b"\x82" + encode("to") + encode(address("bob")) + encode("amount_micro") + encode(1)
    body = b"\x97" + b"".join(encode(value) for value in fields) + args
    signature = key("alice").sign(SIGNING_DOMAIN + body)
    return b"\x92" + body + encode(["ed25519", signature])


SMALL_ORDER_KEY = bytes(32)
"""The all-zero point encoding: a small-order Ed25519 key."""


def committed_replay(w: World) -> bytes:
    block = w.node.storage.block(1)
    assert block is not None
    return block.transactions[0]


ENVELOPES = [
    Case(
        "forged signature (a flipped bit)",
        octets(lambda w: flipped(transfer(w), -1)),
        400,
        "bad_signature",
    ),
    Case("signed by another key", octets(other_signature), 400, "bad_signature"),
    Case(
        "arguments changed after signing",
        octets(lambda w: transfer(w).replace(b"amount_micro\x01", b"amount_micro\x02")),
        400,
        "bad_signature",
    ),
    Case("replay of a committed transaction", octets(committed_replay), 409, "duplicate"),
    Case(
        "replay of a used nonce",
        octets(lambda w: transfer(w, nonce=0, amount=2)),
        409,
        "nonce_mismatch",
    ),
    Case("nonce far ahead", octets(lambda w: transfer(w, nonce=10_000)), 409, "nonce_mismatch"),
    Case(
        "another chain",
        octets(lambda w: signed_raw("alice", 1, "tokens", "transfer", {}, chain_id="other-chain")),
        400,
        "wrong_chain",
    ),
    Case(
        "encoding version 2", octets(lambda w: envelope(w, version=2)), 400, "unsupported_version"
    ),
    Case("garbage bytes", octets(lambda w: b"\x00garbage"), 400, "malformed"),
    Case("no bytes", octets(lambda w: b""), 400, "malformed"),
    Case("truncated", octets(lambda w: transfer(w)[:-10]), 400, "malformed"),
    Case("trailing bytes", octets(lambda w: transfer(w) + b"\x00"), 400, "malformed"),
    Case("not an array", octets(lambda w: encode({"tx": 1})), 400, "malformed"),
    Case(
        "a field missing",
        octets(
            lambda w: with_body([1, CHAIN_ID, key("alice").public_key, 1, "tokens", "transfer"])
        ),
        400,
        "malformed",
    ),
    Case("nonce as text", octets(lambda w: envelope(w, nonce="1")), 400, "malformed"),
    Case("negative nonce", octets(lambda w: envelope(w, nonce=-1)), 400, "malformed"),
    Case(
        "sender key too short",
        octets(lambda w: envelope(w, sender=b"\x01" * 31)),
        400,
        "invalid_sender_key",
    ),
    Case(
        "small-order sender key",
        octets(lambda w: envelope(w, sender=SMALL_ORDER_KEY)),
        400,
        "invalid_sender_key",
    ),
    Case(
        "non-canonical: a wide integer",
        octets(lambda w: transfer(w).replace(b"amount_micro\x01", b"amount_micro\xcd\x00\x01")),
        400,
        "malformed",
    ),
    Case(
        "non-canonical: unsorted map keys",
        octets(unsorted_keys),
        400,
        "malformed",
    ),
    Case(
        "oversized transaction",
        octets(
            lambda w: w.raw(
                "alice",
                "tokens",
                "transfer",
                {
                    "to": address("bob"),
                    "amount_micro": 1,
                    "memo": "x" * (MAX_TRANSACTION_BYTES + 10),
                },
            )
        ),
        413,
        "oversized",
    ),
    Case(
        "oversized body",
        octets(lambda w: b"\x00" * (4 * MAX_TRANSACTION_BYTES + 1)),
        413,
        "oversized",
    ),
    Case(
        f"nesting {MAX_ARGUMENT_DEPTH + 1} deep",
        octets(lambda w: nested_raw("alice", MAX_ARGUMENT_DEPTH + 1, nonce=1)),
        400,
        "too_deeply_nested",
    ),
    Case(
        "nesting 950 deep", octets(lambda w: nested_raw("mallory", 950)), 400, "too_deeply_nested"
    ),
    Case(
        "nesting 1500 deep",
        octets(lambda w: nested_raw("mallory", 1_500)),
        400,
        "too_deeply_nested",
    ),
    Case("unknown contract", call("alice", "casino", "bet", {}), 400, "unknown_contract"),
    Case("unknown method", call("alice", "tokens", "steal", {}), 400, "unknown_method"),
]


# -- who may write ----------------------------------------------------------------------------


def fresh(name: str) -> str:
    """A key name nobody has used (a fresh outsider per row)."""
    return f"stranger-{name}"


def apply_as(who: str, **changes: Any) -> Callable[[World], Any]:
    arguments, _ = application_of(who, "consumer")
    return call(who, "membership", "apply", {**arguments, **changes})


NON_MEMBERS = [
    Case(
        f"a non-member calls {contract}.{method}",
        call(fresh(method), contract, method, args),
        403,
        "not_a_member",
    )
    for contract, method, args in [
        ("tokens", "transfer", {"to": address("bob"), "amount_micro": 1}),
        ("tokens", "mint", {"to": address("bob"), "amount_micro": 1}),
        ("market", "place_order", order_args("buy", 1000, 800_000, OPEN_PERIOD)),
        ("market", "cancel_order", {"order_id": "1-0"}),
        ("market", "clear", {"period": NEXT_PERIOD}),
        ("membership", "approve", {"address": address("erin")}),
        ("membership", "bind_meter", {"member": address("alice"), "meter_key": "00" * 32}),
        ("membership", "exit", {}),
        ("metering", "anchor_batch", {"sha256": "00" * 32, "label": "x"}),
        ("settlement", "settle", {"period": NEXT_PERIOD}),
        ("settlement", "fund_grid", {"amount_micro": 1}),
        ("parameters", "change_market", {"from_period": OPEN_PERIOD + 5, "parameters": {}}),
        (
            "pricing",
            "post_price",
            {
                "period": NEXT_PERIOD,
                "price_micro_per_kwh": 800_000,
                "supply_wh": 1000,
                "demand_wh": 2000,
            },
        ),
    ]
] + [
    Case(
        "the pending applicant (erin) transfers",
        call("erin", "tokens", "transfer", {"to": address("bob"), "amount_micro": 1}),
        403,
        "not_a_member",
    ),
    Case(
        "the pending applicant (erin) applies again", apply_as("erin"), 409, "application_pending"
    ),
    Case("an active member applies", apply_as("bob"), 409, "application_exists"),
    Case(
        "apply for the regulator's role",
        apply_as(fresh("role"), role="regulator"),
        422,
        "role_not_applicable",
    ),
    Case(
        "apply with an empty name",
        apply_as(fresh("name"), name=""),
        422,
        "text_length_out_of_range",
    ),
    Case(
        "apply with personal data in the clear",
        apply_as(fresh("personal"), registration={"basic_information": "Flat 3"}),
        422,
        "personal_data_on_chain",
    ),
    Case(
        "apply with an unknown argument",
        apply_as(fresh("unknown"), colour="red"),
        400,
        "invalid_arguments",
    ),
    Case(
        "apply without the required fields",
        apply_as(fresh("incomplete"), registration_commitments={}),
        422,
        "registration_incomplete",
    ),
    Case(
        "an unbound key sends a reading",
        call(
            "rogue-meter",
            "metering",
            "record_reading",
            reading_args("rogue-meter", "alice", READ_PERIOD, 1, 1),
        ),
        403,
        "not_a_member",
    ),
    Case(
        "a bound meter sends a transfer",
        call("alice-meter-1", "tokens", "transfer", {"to": address("bob"), "amount_micro": 1}),
        403,
        "not_a_member",
    ),
]

WRONG_ROLES = [
    Case(
        "a consumer approves",
        call("carol", "membership", "approve", {"address": address("erin")}),
        200,
        "not_authorised",
    ),
    Case(
        "a consumer rejects",
        call("carol", "membership", "reject", {"address": address("erin"), "reason": "x"}),
        200,
        "not_authorised",
    ),
    Case(
        "a prosumer revokes",
        call("bob", "membership", "revoke", {"address": address("alice"), "reason": "x"}),
        200,
        "not_authorised",
    ),
    Case(
        "a prosumer binds a meter",
        call(
            "bob",
            "membership",
            "bind_meter",
            {"member": address("bob"), "meter_key": meter_key_hex("bob-meter")},
        ),
        200,
        "not_authorised",
    ),
    Case(
        "a prosumer mints",
        call("alice", "tokens", "mint", {"to": address("alice"), "amount_micro": 10}),
        200,
        "not_authorised",
    ),
    Case(
        "a consumer changes the market",
        call(
            "carol",
            "parameters",
            "change_market",
            {"from_period": OPEN_PERIOD + 5, "parameters": {"cap_price_micro_per_kwh": 1}},
        ),
        200,
        "not_authorised",
    ),
    Case(
        "a consumer posts a price",
        call(
            "carol",
            "pricing",
            "post_price",
            {
                "period": OPEN_PERIOD,
                "price_micro_per_kwh": 800_000,
                "supply_wh": 1000,
                "demand_wh": 2000,
            },
        ),
        200,
        "not_authorised",
    ),
    Case(
        "a consumer withdraws the grid's money",
        call("carol", "settlement", "withdraw_grid", {"amount_micro": 1}),
        200,
        "not_authorised",
    ),
]


def order(sender: str, **changes: Any) -> Callable[[World], Any]:
    return call(
        sender,
        "market",
        "place_order",
        {**order_args("buy", 1000, 800_000, OPEN_PERIOD), **changes},
    )


SEALED_ARGS: dict[str, Any] = {
    "side": "buy",
    "period": OPEN_PERIOD + 48,
    "max_energy_wh": 1_000,
    "price_commitment": "02" + "11" * 32,
    "price_proof": "00",
    "energy_commitment": "02" + "22" * 32,
    "energy_proof": "00",
}
REVEAL_ARGS: dict[str, Any] = {
    "order_id": "da19700-0",
    "price_micro_per_kwh": 800_000,
    "price_blinding": "01" * 32,
    "energy_wh": 500,
    "energy_blinding": "02" * 32,
}


BAD_ORDERS = [
    Case("zero energy", order("carol", energy_wh=0), 200, "energy_out_of_range"),
    Case("negative energy", order("carol", energy_wh=-1000), 200, "energy_out_of_range"),
    Case("huge energy", order("carol", energy_wh=2**62), 200, "energy_out_of_range"),
    Case("energy as text", order("carol", energy_wh="1000"), 200, "invalid_arguments"),
    Case("negative price", order("carol", price_micro_per_kwh=-1), 200, "price_out_of_range"),
    Case(
        "price above the cap", order("carol", price_micro_per_kwh=10**12), 200, "price_out_of_range"
    ),
    Case("huge price", order("carol", price_micro_per_kwh=2**63 - 1), 200, "price_out_of_range"),
    Case("a side that is neither", order("carol", side="steal"), 200, "invalid_side"),
    Case("a past period", order("carol", period=NEXT_PERIOD - 5), 200, "period_closed"),
    Case("a negative period", order("carol", period=-1), 200, "negative_value"),
    Case("beyond the horizon", order("carol", period=OPEN_PERIOD + 100_000), 200, "beyond_horizon"),
    Case("an unknown field", order("carol", leverage=10), 200, "invalid_arguments"),
    Case("a buy beyond the balance", order("dave", energy_wh=1_000_000), 200, "insufficient_funds"),
    Case(
        "cancel someone else's order",
        lambda w: call("bob", "market", "cancel_order", {"order_id": w.order_id})(w),
        200,
        "not_order_owner",
    ),
    Case(
        "cancel an unknown order",
        call("bob", "market", "cancel_order", {"order_id": f"{OPEN_PERIOD}-999"}),
        200,
        "unknown_order",
    ),
    Case(
        "clear before the gate closes",
        call("operator", "market", "clear", {"period": OPEN_PERIOD}),
        200,
        "gate_not_closed",
    ),
    Case(
        "all-or-none in a period's own market",
        order("carol", all_or_none=True),
        200,
        "all_or_none_not_supported",
    ),
    Case("all-or-none as text", order("carol", all_or_none="yes"), 200, "invalid_arguments"),
    Case(
        "a day-ahead order where the community runs no day-ahead auction",
        call(
            "carol",
            "market",
            "place_day_ahead_order",
            order_args("buy", 1000, 800_000, OPEN_PERIOD + 48),
        ),
        200,
        "day_ahead_not_offered",
    ),
    Case(
        "a day-ahead order with an unknown field",
        call(
            "carol",
            "market",
            "place_day_ahead_order",
            {**order_args("buy", 1000, 800_000, OPEN_PERIOD + 48), "expiry_s": 5},
        ),
        200,
        "invalid_arguments",
    ),
    Case(
        "clear a day-ahead auction the community does not run",
        call("operator", "market", "clear_day_ahead", {"day": 19_700}),
        200,
        "day_ahead_not_offered",
    ),
    Case(
        "clear a negative day",
        call("operator", "market", "clear_day_ahead", {"day": -1}),
        200,
        "negative_value",
    ),
    Case(
        "cancel an unknown day-ahead order",
        call("carol", "market", "cancel_day_ahead_order", {"order_id": "da19700-0"}),
        200,
        "unknown_order",
    ),
    Case(
        "a sealed order where the community runs no day-ahead auction",
        call("carol", "market", "place_sealed_day_ahead_order", SEALED_ARGS),
        200,
        "day_ahead_not_offered",
    ),
    Case(
        "a sealed order with an unknown field",
        call("carol", "market", "place_sealed_day_ahead_order", {**SEALED_ARGS, "price": 800_000}),
        200,
        "invalid_arguments",
    ),
    Case(
        "a sealed order stating a maximum of 1 Wh",
        call(
            "carol", "market", "place_sealed_day_ahead_order", {**SEALED_ARGS, "max_energy_wh": 1}
        ),
        200,
        "energy_out_of_range",
    ),
    Case(
        "reveal an unknown day-ahead order",
        call("carol", "market", "reveal_day_ahead_order", REVEAL_ARGS),
        200,
        "unknown_order",
    ),
]


def reading(
    sender: str, meter: str, member: str, period: int, exported: int = 100, **changes: Any
) -> Callable[[World], Any]:
    args = {**reading_args(meter, member, period, exported, 0), **changes}
    return call(sender, "metering", "record_reading", args)


BAD_READINGS = [
    Case(
        "a member relays a reading of an unbound meter",
        reading("bob", "rogue-meter", "alice", READ_PERIOD),
        200,
        "meter_mismatch",
    ),
    Case(
        "alice's meter reports for bob",
        reading("alice-meter-1", "alice-meter-1", "bob", READ_PERIOD),
        200,
        "meter_mismatch",
    ),
    Case(
        "a reading with a forged signature",
        reading("bob", "alice-meter-1", "alice", READ_PERIOD, signature="00" * 64),
        200,
        "invalid_reading_signature",
    ),
    Case(
        "a signature that is not hex",
        reading("bob", "alice-meter-1", "alice", READ_PERIOD, signature="zz"),
        200,
        "not_hex",
    ),
    Case(
        "a reading before its window",
        reading("alice-meter-1", "alice-meter-1", "alice", NEXT_PERIOD),
        200,
        "meter_window_closed",
    ),
    Case(
        "a reading after its window",
        reading("alice-meter-1", "alice-meter-1", "alice", READ_PERIOD - 3),
        200,
        "meter_window_closed",
    ),
    Case(
        "a second reading of a period",
        reading("alice-meter-1", "alice-meter-1", "alice", READ_PERIOD, 900),
        200,
        "reading_exists",
    ),
    Case(
        "a reading of negative energy",
        reading("alice-meter-1", "alice-meter-1", "alice", READ_PERIOD, -5),
        200,
        "energy_out_of_range",
    ),
    Case(
        "a period as text",
        call(
            "bob",
            "metering",
            "record_reading",
            {**reading_args("alice-meter-1", "alice", READ_PERIOD, 1, 0), "period": "x"},
        ),
        200,
        "invalid_arguments",
    ),
    Case(
        "an anchor that is no digest",
        call("alice", "metering", "anchor_batch", {"sha256": "xyz", "label": "x"}),
        200,
        "invalid_digest",
    ),
]

BAD_TIMING_AND_PARAMETERS = [
    Case(
        "settle a period whose meter window is open",
        call("operator", "settlement", "settle", {"period": READ_PERIOD}),
        200,
        "meter_window_open",
    ),
    Case(
        "settle a future period",
        call("operator", "settlement", "settle", {"period": OPEN_PERIOD}),
        200,
        "meter_window_open",
    ),
    Case(
        "post a price for a period not open",
        call(
            "operator",
            "pricing",
            "post_price",
            {
                "period": NEXT_PERIOD - 3,
                "price_micro_per_kwh": 800_000,
                "supply_wh": 1000,
                "demand_wh": 2000,
            },
        ),
        200,
        "posting_closed",
    ),
    Case(
        "change parameters in the past",
        call(
            "regulator",
            "parameters",
            "change_market",
            {"from_period": NEXT_PERIOD - 3, "parameters": {"cap_price_micro_per_kwh": 900_000}},
        ),
        200,
        "change_not_in_future",
    ),
    Case(
        "change an unknown parameter",
        call(
            "regulator",
            "parameters",
            "change_market",
            {"from_period": OPEN_PERIOD + 5, "parameters": {"free_money": 1}},
        ),
        200,
        "unknown_parameter",
    ),
    Case(
        "a cap below the feed-in price",
        call(
            "regulator",
            "parameters",
            "change_market",
            {"from_period": OPEN_PERIOD + 5, "parameters": {"cap_price_micro_per_kwh": 1}},
        ),
        200,
        "invalid_parameter",
    ),
    Case(
        "change the period length",
        call(
            "regulator",
            "parameters",
            "change_market",
            {"from_period": OPEN_PERIOD + 5, "parameters": {"period_seconds": 60}},
        ),
        200,
        "invalid_parameter",
    ),
    Case(
        "transfer to oneself",
        call("bob", "tokens", "transfer", {"to": address("bob"), "amount_micro": 1}),
        200,
        "self_transfer",
    ),
    Case(
        "transfer a negative amount",
        call("bob", "tokens", "transfer", {"to": address("carol"), "amount_micro": -5}),
        200,
        "amount_out_of_range",
    ),
    Case(
        "transfer more than the balance",
        call("dave", "tokens", "transfer", {"to": address("carol"), "amount_micro": 10**12}),
        200,
        "insufficient_funds",
    ),
    Case(
        "approve someone who never applied",
        call("regulator", "membership", "approve", {"address": address("frank")}),
        200,
        "unknown_applicant",
    ),
    Case(
        "approve an address that is none",
        call("regulator", "membership", "approve", {"address": "not-an-address"}),
        200,
        "invalid_address",
    ),
    Case(
        "reject without a reason",
        call("regulator", "membership", "reject", {"address": address("erin")}),
        200,
        "reason_required",
    ),
    Case(
        "the regulator revokes itself",
        call("regulator", "membership", "revoke", {"address": address("regulator"), "reason": "x"}),
        200,
        "self_revocation",
    ),
]


# -- multi-signature and corrections (issue 14) -----------------------------------------------

ISSUER = policy_account_key("issuer")
ALICE_ = address("alice")


def multisig(
    w: World,
    signers: list[str],
    sender: bytes = ISSUER,
    call: tuple[str, str, dict[str, Any]] = ("tokens", "mint", {"to": ALICE_, "amount_micro": 1}),
) -> bytes:
    contract, method, args = call
    nonce = read_nonce(w.node.state, key_address(sender))
    signed = unsigned_multisig(Transaction(1, CHAIN_ID, sender, nonce, contract, method, args))
    for name in signers:
        signed = cosign_transaction(signed, key(name))
    return encode_transaction(signed)


def with_signatures(w: World, signatures: list[Cosignature], sender: bytes = ISSUER) -> bytes:
    nonce = read_nonce(w.node.state, key_address(sender))
    body = Transaction(
        1, CHAIN_ID, sender, nonce, "tokens", "mint", {"to": ALICE_, "amount_micro": 1}
    )
    return encode_transaction(SignedTransaction(body, MultisigAuthorization(signatures)))


def signed_by(w: World, names: list[str], sender: bytes = ISSUER) -> list[Cosignature]:
    nonce = read_nonce(w.node.state, key_address(sender))
    body = Transaction(
        1, CHAIN_ID, sender, nonce, "tokens", "mint", {"to": ALICE_, "amount_micro": 1}
    )
    return [Cosignature(key(n).public_key, key(n).sign(signing_bytes(body))) for n in names]


def forged_cosignature(w: World) -> bytes:
    [operator, regulator] = signed_by(w, ["operator", "regulator"])
    forged = Cosignature(regulator.signer, key("mallory").sign(b"anything"))
    return with_signatures(w, [operator, forged])


def many_signers(w: World) -> bytes:
    names = [f"stranger-signer-{i}" for i in range(MAX_POLICY_KEYS + 1)]
    return with_signatures(w, signed_by(w, names))


THREE = [key(n).public_key.hex() for n in ("bob", "carol", "dave")]
SEVENTEEN = [key(f"policy-key-{i}").public_key.hex() for i in range(MAX_POLICY_KEYS + 1)]
MULTISIG = [
    Case(
        "one of three signs for the issuer",
        tx(lambda w: multisig(w, ["regulator"])),
        403,
        "too_few_signatures",
    ),
    Case(
        "a signer outside the issuer's policy",
        tx(lambda w: multisig(w, ["operator", "mallory"])),
        403,
        "signer_not_in_policy",
    ),
    Case(
        "the same signer twice",
        tx(lambda w: with_signatures(w, signed_by(w, ["operator"]) * 2)),
        400,
        "duplicate_signer",
    ),
    Case(
        "a multi-signature with no signature",
        tx(lambda w: with_signatures(w, [])),
        403,
        "too_few_signatures",
    ),
    Case("seventeen signatures", tx(many_signers), 400, "too_many_signatures"),
    Case(
        "a policy nobody registered",
        tx(lambda w: multisig(w, ["operator", "regulator"], policy_account_key("treasury"))),
        403,
        "unknown_policy",
    ),
    Case(
        "co-signatures without the sender's own",
        tx(lambda w: multisig(w, ["alice", "regulator"], key("bob").public_key)),
        403,
        "unknown_policy",
    ),
    Case("a forged co-signature", tx(forged_cosignature), 400, "bad_signature"),
    Case(
        "a multi-signed sender of 5 bytes",
        tx(lambda w: with_signatures(w, [], sender=b"short")),
        400,
        "invalid_sender_key",
    ),
    Case(
        "a co-signature that is not a pair",
        octets(
            lambda w: encode(
                [[1, CHAIN_ID, ISSUER, 0, "tokens", "mint", {}], ["multisig", [[b"x"]]]]
            )
        ),
        400,
        "malformed",
    ),
    Case(
        "an authorization of an unknown kind",
        octets(
            lambda w: encode(
                [[1, CHAIN_ID, ISSUER, 0, "tokens", "mint", {}], ["schnorr", b"x" * 64]]
            )
        ),
        400,
        "malformed",
    ),
    Case(
        "the issuer sets a policy of threshold 0",
        tx(
            lambda w: multisig(
                w,
                ["operator", "regulator"],
                call=("policies", "set_policy", {"threshold": 0, "keys": THREE}),
            )
        ),
        200,
        "policy_threshold_out_of_range",
    ),
    Case(
        "the issuer sets a policy of 17 keys",
        tx(
            lambda w: multisig(
                w,
                ["operator", "regulator"],
                call=("policies", "set_policy", {"threshold": 1, "keys": SEVENTEEN}),
            )
        ),
        200,
        "policy_size_out_of_range",
    ),
    Case(
        "the issuer sets a policy naming a key twice",
        tx(
            lambda w: multisig(
                w,
                ["operator", "regulator"],
                call=("policies", "set_policy", {"threshold": 1, "keys": [THREE[0], THREE[0]]}),
            )
        ),
        200,
        "policy_key_repeated",
    ),
    Case(
        "a member sets a policy",
        call("bob", "policies", "set_policy", {"threshold": 1, "keys": THREE}),
        403,
        "not_a_policy_account",
    ),
    Case(
        "the operator alone mints under a policy",
        call("operator", "tokens", "mint", {"to": ALICE_, "amount_micro": 1}),
        200,
        "not_authorised",
    ),
    Case(
        "the operator alone withdraws the grid's money",
        call("operator", "settlement", "withdraw_grid", {"amount_micro": 1, "to": ALICE_}),
        200,
        "not_authorised",
    ),
    Case(
        "correct a trade that does not exist",
        call(
            "alice",
            "corrections",
            "correct",
            {"trade_id": "1-t0", "sequence": 0, "refund_micro": 1, "energy_wh": 1, "reason": "x"},
        ),
        200,
        "unknown_trade",
    ),
    Case(
        "correct with a text sequence",
        call(
            "alice",
            "corrections",
            "correct",
            {"trade_id": "1-t0", "sequence": "0", "refund_micro": 1, "energy_wh": 1, "reason": "x"},
        ),
        200,
        "invalid_arguments",
    ),
    Case(
        "a prosumer flags a transaction",
        call(
            "alice",
            "corrections",
            "flag",
            {"kind": "transaction", "subject": "ab" * 32, "reason": "x"},
        ),
        200,
        "not_authorised",
    ),
    Case(
        "the regulator flags a trade that does not exist",
        call(
            "regulator", "corrections", "flag", {"kind": "trade", "subject": "5-t3", "reason": "x"}
        ),
        200,
        "unknown_trade",
    ),
    Case(
        "the regulator flags without a reason",
        call(
            "regulator",
            "corrections",
            "flag",
            {"kind": "transaction", "subject": "ab" * 32, "reason": ""},
        ),
        200,
        "text_length_out_of_range",
    ),
    Case(
        "the regulator flags a block",
        call("regulator", "corrections", "flag", {"kind": "block", "subject": "1", "reason": "x"}),
        200,
        "invalid_arguments",
    ),
    Case(
        "the regulator flags a transaction id that is no hex",
        call(
            "regulator",
            "corrections",
            "flag",
            {"kind": "transaction", "subject": "zz" * 32, "reason": "x"},
        ),
        200,
        "not_hex",
    ),
]


# -- requests -------------------------------------------------------------------------------


def batch_json(items: Any) -> bytes:
    return msgspec.json.encode({"transactions": items})


REQUESTS = [
    Case(
        "a body that is not JSON",
        post("/v1/transactions", b"{not json", JSON),
        422,
        "invalid_request",
    ),
    Case(
        "JSON without the transaction",
        post("/v1/transactions", b'{"tx": "00"}', JSON),
        422,
        "invalid_request",
    ),
    Case(
        "a transaction that is not a string",
        post("/v1/transactions", b'{"transaction": 7}', JSON),
        422,
        "invalid_request",
    ),
    Case(
        "hex that is not hex",
        post("/v1/transactions", b'{"transaction": "zz"}', JSON),
        400,
        "invalid_request",
    ),
    Case(
        "hex of odd length",
        post("/v1/transactions", b'{"transaction": "abc"}', JSON),
        400,
        "invalid_request",
    ),
    Case(
        "a timeout of 0",
        lambda w: w.http.post("/v1/transactions?timeout_ms=0", json={"transaction": "00"}),
        422,
        "invalid_request",
    ),
    Case(
        "a timeout that is text",
        lambda w: w.http.post("/v1/transactions?timeout_ms=soon", json={"transaction": "00"}),
        422,
        "invalid_request",
    ),
    Case(
        "a batch that is not a list",
        post("/v1/transactions/batch", batch_json("00"), JSON),
        422,
        "invalid_request",
    ),
    Case(
        "a batch with bad hex",
        post("/v1/transactions/batch", batch_json(["00", "zz"]), JSON),
        400,
        "invalid_request",
    ),
    Case(
        "a batch of numbers",
        post("/v1/transactions/batch", batch_json([1, 2]), JSON),
        422,
        "invalid_request",
    ),
    Case(
        "MessagePack that is garbage",
        post("/v1/transactions/batch", b"\xc1\xc1", MSGPACK),
        422,
        "invalid_request",
    ),
    Case(
        "MessagePack of integers",
        post("/v1/transactions/batch", msgspec.msgpack.encode([1, 2]), MSGPACK),
        422,
        "invalid_request",
    ),
    Case(
        "MessagePack that is a map",
        post("/v1/transactions/batch", msgspec.msgpack.encode({"a": b"x"}), MSGPACK),
        422,
        "invalid_request",
    ),
    Case(
        "a batch of 10,001",
        post("/v1/transactions/batch", msgspec.msgpack.encode([b"\x00"] * 10_001), MSGPACK),
        413,
        "oversized",
    ),
]

ALICE = address("alice")
READS = [
    Case("a block height that is text", get("/v1/blocks/abc"), 422, "invalid_request"),
    Case("a negative block height", get("/v1/blocks/-1"), 400, "invalid_request"),
    Case("a block height beyond 64 bits", get(f"/v1/blocks/{2**70}"), 404, "not_found"),
    Case("a block not yet made", get("/v1/blocks/999999"), 404, "not_found"),
    Case("a transaction id that is not hex", get("/v1/transactions/zz"), 400, "invalid_request"),
    Case("an unknown transaction", get("/v1/transactions/" + "ab" * 32), 404, "not_found"),
    Case("an address that is none", get("/v1/accounts/nobody"), 400, "invalid_address"),
    Case("a member address that is none", get("/v1/members/nobody"), 400, "invalid_address"),
    Case("a period that is text", get("/v1/market/periods/abc/book"), 422, "invalid_request"),
    Case(
        "a period beyond 64 bits", get(f"/v1/market/periods/{2**70}/book"), 400, "invalid_request"
    ),
    Case(
        "statements of a text period",
        get("/v1/settlement/periods/x/statements"),
        422,
        "invalid_request",
    ),
    Case("a limit that is negative", get("/v1/blocks?limit=-5"), 422, "invalid_request"),
    Case("an unsigned read of the members", get("/v1/members", who=None), 401, "unauthenticated"),
    Case("an unsigned read of a block", get("/v1/blocks/1", who=None), 401, "unauthenticated"),
    Case(
        "an unsigned read of alice's account",
        get(f"/v1/accounts/{ALICE}", who=None),
        401,
        "unauthenticated",
    ),
    Case(
        "a forged read signature",
        lambda w: w.http.get(
            "/v1/members",
            headers={
                "signature-input": 'sig1=("@method");keyid="00";alg="ed25519";created=1',
                "signature": "sig1=:AAAA:",
            },
        ),
        401,
        "bad_request_signature",
    ),
    Case(
        "an outsider reads alice's account",
        get(f"/v1/accounts/{ALICE}", who="mallory"),
        403,
        "not_a_member",
    ),
    Case("dave reads alice's account", get(f"/v1/accounts/{ALICE}", who="dave"), 403, "forbidden"),
    Case(
        "dave reads alice's reading",
        lambda w: get(f"/v1/transactions/{w.reading_tx}", who="dave")(w),
        403,
        "forbidden",
    ),
    Case(
        "a trade id far too long", get("/v1/corrections/trades/" + "9" * 40), 400, "invalid_request"
    ),
    Case("corrections of a trade never made", get("/v1/corrections/trades/9-t0"), 404, "not_found"),
    Case("corrections of a text period", get("/v1/corrections/periods/x"), 422, "invalid_request"),
    Case(
        "corrections of a period beyond 64 bits",
        get(f"/v1/corrections/periods/{2**64}"),
        400,
        "invalid_request",
    ),
    Case(
        "an unsigned read of the audit flags",
        get("/v1/corrections/flags", who=None),
        401,
        "unauthenticated",
    ),
    Case(
        "an outsider reads the audit flags",
        get("/v1/corrections/flags", who="mallory"),
        403,
        "not_a_member",
    ),
    Case(
        "a bearer token that is none",
        lambda w: w.http.get("/v1/members", headers={"authorization": "Bearer nonsense"}),
        401,
        "session_expired",
    ),
]

CORPUS = (
    ENVELOPES
    + NON_MEMBERS
    + WRONG_ROLES
    + BAD_ORDERS
    + BAD_READINGS
    + BAD_TIMING_AND_PARAMETERS
    + MULTISIG
    + REQUESTS
    + READS
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    opened = open_world(tmp_path_factory.mktemp("hostile"))
    try:
        yield opened
    finally:
        opened.http.__exit__(None, None, None)
        opened.node.close()


def test_the_corpus_is_large_and_each_row_is_named_once() -> None:
    assert len(CORPUS) >= 100
    names = [case.name for case in CORPUS]
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("case", CORPUS, ids=[case.name for case in CORPUS])
def test_a_hostile_request_gets_its_own_code(world: World, case: Case) -> None:
    response = case.send(world)
    body = response.json()
    assert (response.status_code, body.get("error")) == (case.status, case.error), body
    assert body.get("message"), body


def test_after_the_corpus_the_chain_verifies_and_no_balance_moved(world: World) -> None:
    assert balances(world.node.state) == world.balances_before
    members = {address(name) for name in FOUNDERS} | {address("erin"), address("alice-meter-1")}
    members.add(policy_address("issuer"))  # a policy account, refused by its contract
    for height in range(1, world.node.head.height + 1):
        block = world.node.storage.block(height)
        assert block is not None
        for raw in block.transactions:
            sender = validate_transaction(raw, CHAIN_ID).transaction.sender
            assert key_address(sender) in members, "a non-member's transaction was written"
        codes = {receipt.code for receipt in world.node.storage.receipts(height)}
        assert ResultCode.NOT_A_MEMBER not in codes
    report = verify_storage(SQLiteStorage(world.path))
    assert report.height == world.node.head.height and report.head_hash == world.node.head_hash
    assert report.state_hash == world.node.head.state_hash
