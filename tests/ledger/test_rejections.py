"""Every way a transaction is refused: its own result code, a message naming the values,
and — inside a block — the transaction stays, is marked, and changes nothing.

Envelope errors (encoding, version, size, chain, key, signature, nonce, membership,
contract/method/argument names) change nothing at all, not even the nonce. A refusal
by the contract itself (insufficient funds, not authorised, a rule) advances only the
sender's nonce, so the refused transaction cannot be replayed later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest

from gridledger.contracts import Contract, Registry
from gridledger.contracts.errors import NegativeValue
from gridledger.contracts.membership import check_active_member
from gridledger.contracts.membership import contract as membership_contract
from gridledger.crypto import merkle_root, sha256
from gridledger.ledger import (
    ENCODING_VERSION,
    LEDGER_NAMESPACE,
    MAX_ARGUMENT_DEPTH,
    MAX_TRANSACTION_BYTES,
    BadSignature,
    Context,
    Ed25519Authorization,
    EnvelopeError,
    InvalidSenderKey,
    MalformedTransaction,
    OversizedTransaction,
    Receipt,
    ResultCode,
    SignedTransaction,
    TooDeeplyNested,
    Transaction,
    TransactionError,
    UnsupportedVersion,
    WrongChain,
    decode,
    encode,
    encode_receipt,
    encode_transaction,
    genesis_block,
    make_transaction,
    sign_transaction,
    signing_bytes,
    state_hash_of,
    validate_transaction,
)
from tests.community import (
    CHAIN_ID,
    Community,
    address,
    key,
    make_genesis,
    nested_raw,
    signed_raw,
)

# A point of order 2 on edwards25519: libsodium refuses it as a public key.
SMALL_ORDER_KEY = bytes.fromhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")


def transfer_args(amount: int = 1_000, to: str = "bob") -> dict[str, Any]:
    return {"to": address(to), "amount_micro": amount}


def alice_body(**changes: Any) -> Transaction:
    """A valid transfer from alice (nonce 0), with `changes` applied to the body."""
    body = make_transaction(
        key("alice"), CHAIN_ID, 0, "tokens", "transfer", transfer_args()
    ).transaction
    return msgspec.structs.replace(body, **changes)


def signed_by(body: Transaction, signer: str = "alice") -> bytes:
    """The body signed by `signer`'s key whatever its sender says."""
    signature = key(signer).sign(signing_bytes(body))
    return encode_transaction(SignedTransaction(body, Ed25519Authorization(signature)))


def flip_bit(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def _parts(body: Transaction) -> list[bytes]:
    """The canonical encodings of the body's fields, in order."""
    return [encode(getattr(body, f)) for f in body.__struct_fields__]


def non_minimal_nonce() -> bytes:
    """alice's nonce 5 written as a 3-byte uint16 (0xcd 0x00 0x05) instead of one byte."""
    body = alice_body(nonce=5)
    auth = Ed25519Authorization(key("alice").sign(signing_bytes(body)))
    parts = _parts(body)
    # 0x92: array of 2 (body, authorization); 0x97: array of 7 (the body's fields)
    canonical = b"\x92\x97" + b"".join(parts) + encode(auth)
    assert canonical == encode_transaction(SignedTransaction(body, auth))
    parts[3] = b"\xcd\x00\x05"
    return b"\x92\x97" + b"".join(parts) + encode(auth)


def unsorted_args() -> bytes:
    """A correctly signed transfer whose args map is written with its keys out of order."""
    body = alice_body(args={"to": address("bob"), "amount_micro": 10})
    signed = SignedTransaction(body, Ed25519Authorization(key("alice").sign(signing_bytes(body))))
    raw = msgspec.msgpack.Encoder().encode(signed)  # insertion order: "to" before "amount_micro"
    assert raw != encode_transaction(signed)
    assert msgspec.msgpack.decode(raw) == msgspec.msgpack.decode(encode_transaction(signed))
    return raw


def extra_body_field() -> bytes:
    body = alice_body()
    auth = Ed25519Authorization(key("alice").sign(signing_bytes(body)))
    return b"\x92\x98" + b"".join(_parts(body)) + encode(0) + encode(auth)


def unknown_authorization_tag() -> bytes:
    body = alice_body()
    signature = key("alice").sign(signing_bytes(body))
    return b"\x92" + encode(body) + encode(["rsa", signature])


def oversized() -> bytes:
    memo = "x" * (MAX_TRANSACTION_BYTES + 1)
    args = {**transfer_args(), "memo": memo}
    return signed_raw("alice", 0, "tokens", "transfer", args)


def exactly_max_size() -> bytes:
    """A transaction of exactly MAX_TRANSACTION_BYTES bytes (the limit is inclusive)."""

    def with_memo(length: int) -> bytes:
        args = {**transfer_args(), "memo": "x" * length}
        return signed_raw("alice", 0, "tokens", "transfer", args)

    length = MAX_TRANSACTION_BYTES - len(with_memo(0))
    length -= len(with_memo(length)) - MAX_TRANSACTION_BYTES  # the str header grows with it
    raw = with_memo(length)
    assert len(raw) == MAX_TRANSACTION_BYTES
    return raw


def non_string_nested_key() -> bytes:
    """args = {"x": {1: 2}}: a nested map keyed by an integer (the canonical encoder refuses it)."""
    body = alice_body()
    args = msgspec.msgpack.Encoder().encode({"x": {1: 2}})
    assert args == b"\x81\xa1x\x81\x01\x02"
    auth = Ed25519Authorization(bytes(64))
    return b"\x92\x97" + b"".join(_parts(body)[:6]) + args + encode(auth)


@dataclass(frozen=True)
class Case:
    """One way to break the envelope: the raw bytes, the error, the code, what the message names."""

    make: Callable[[], bytes]
    error: type[TransactionError]
    code: ResultCode
    names: Callable[[], list[str]]


ALICE = address("alice")

STATELESS_CASES: dict[str, Case] = {
    "forged signature (another key signed)": Case(
        lambda: signed_by(alice_body(), "mallory"),
        BadSignature,
        ResultCode.BAD_SIGNATURE,
        lambda: [ALICE],
    ),
    "signature with one bit flipped": Case(
        lambda: encode_transaction(
            SignedTransaction(
                alice_body(),
                Ed25519Authorization(flip_bit(key("alice").sign(signing_bytes(alice_body())), 10)),
            )
        ),
        BadSignature,
        ResultCode.BAD_SIGNATURE,
        lambda: [ALICE],
    ),
    "signature of another body (amount changed after signing)": Case(
        lambda: encode_transaction(
            SignedTransaction(
                alice_body(args=transfer_args(999_999)),
                make_transaction(
                    key("alice"), CHAIN_ID, 0, "tokens", "transfer", transfer_args()
                ).authorization,
            )
        ),
        BadSignature,
        ResultCode.BAD_SIGNATURE,
        lambda: [ALICE],
    ),
    "signature of the wrong length": Case(
        lambda: encode_transaction(
            SignedTransaction(alice_body(), Ed25519Authorization(bytes(63)))
        ),
        BadSignature,
        ResultCode.BAD_SIGNATURE,
        lambda: [ALICE],
    ),
    "wrong chain id": Case(
        lambda: signed_raw("alice", 0, "tokens", "transfer", transfer_args(), "other-chain"),
        WrongChain,
        ResultCode.WRONG_CHAIN,
        lambda: ["'other-chain'", repr(CHAIN_ID)],
    ),
    "oversized": Case(
        oversized,
        OversizedTransaction,
        ResultCode.OVERSIZED,
        lambda: [str(len(oversized())), str(MAX_TRANSACTION_BYTES)],
    ),
    "small-order sender key": Case(
        lambda: signed_by(alice_body(sender=SMALL_ORDER_KEY)),
        InvalidSenderKey,
        ResultCode.INVALID_SENDER_KEY,
        lambda: [SMALL_ORDER_KEY.hex(), "small order"],
    ),
    "sender key of 31 bytes": Case(
        lambda: signed_by(alice_body(sender=key("alice").public_key[:31])),
        InvalidSenderKey,
        ResultCode.INVALID_SENDER_KEY,
        lambda: [key("alice").public_key[:31].hex(), "length 31"],
    ),
    "unsupported version": Case(
        lambda: signed_by(alice_body(version=ENCODING_VERSION + 1)),
        UnsupportedVersion,
        ResultCode.UNSUPPORTED_VERSION,
        lambda: [f"version {ENCODING_VERSION + 1}", f"speaks {ENCODING_VERSION}"],
    ),
    "garbage bytes": Case(
        lambda: b"not a transaction at all",
        MalformedTransaction,
        ResultCode.MALFORMED,
        lambda: ["malformed transaction", "array"],
    ),
    "reserved msgpack byte": Case(
        lambda: b"\xc1", MalformedTransaction, ResultCode.MALFORMED, lambda: ["malformed"]
    ),
    "empty bytes": Case(lambda: b"", MalformedTransaction, ResultCode.MALFORMED, lambda: []),
    "truncated": Case(
        lambda: signed_raw("alice", 0, "tokens", "transfer", transfer_args())[:-1],
        MalformedTransaction,
        ResultCode.MALFORMED,
        lambda: [],
    ),
    "trailing byte": Case(
        lambda: signed_raw("alice", 0, "tokens", "transfer", transfer_args()) + b"\x00",
        MalformedTransaction,
        ResultCode.MALFORMED,
        lambda: [],
    ),
    "unsorted map keys": Case(
        unsorted_args, MalformedTransaction, ResultCode.MALFORMED, lambda: ["canonical"]
    ),
    "non-minimal integer": Case(
        non_minimal_nonce, MalformedTransaction, ResultCode.MALFORMED, lambda: ["canonical"]
    ),
    "float argument": Case(
        lambda: signed_raw("alice", 0, "tokens", "transfer", {"to": "x", "amount_micro": 1.5}),
        MalformedTransaction,
        ResultCode.MALFORMED,
        lambda: ["args.amount_micro", "floats are not allowed", "1.5"],
    ),
    "float nested in a list in a map": Case(
        lambda: signed_raw("alice", 0, "tokens", "transfer", {"x": [1, {"y": 0.25}]}),
        MalformedTransaction,
        ResultCode.MALFORMED,
        lambda: ["args.x[1].y", "0.25"],
    ),
    "integer beyond 64 bits": Case(
        lambda: signed_raw("alice", 0, "tokens", "transfer", {"amount_micro": 2**63}),
        MalformedTransaction,
        ResultCode.MALFORMED,
        lambda: ["args.amount_micro", str(2**63), "64 bits"],
    ),
    "non-string map key in args": Case(
        non_string_nested_key,
        MalformedTransaction,
        ResultCode.MALFORMED,
        lambda: ["canonical"],
    ),
    "extra field in the body": Case(
        extra_body_field, MalformedTransaction, ResultCode.MALFORMED, lambda: []
    ),
    "unknown authorisation scheme": Case(
        unknown_authorization_tag, MalformedTransaction, ResultCode.MALFORMED, lambda: ["rsa"]
    ),
    "negative nonce": Case(
        lambda: signed_raw("alice", -1, "tokens", "transfer", transfer_args()),
        MalformedTransaction,
        ResultCode.MALFORMED,
        lambda: ["nonce -1"],
    ),
    "arguments nested one level too deep": Case(
        lambda: nested_raw("alice", MAX_ARGUMENT_DEPTH + 1),
        TooDeeplyNested,
        ResultCode.TOO_DEEPLY_NESTED,
        lambda: [f"nest {MAX_ARGUMENT_DEPTH + 1} levels", f"limit is {MAX_ARGUMENT_DEPTH}"],
    ),
    "arguments nested 950 deep (msgspec decodes them)": Case(
        lambda: nested_raw("alice", 950),
        TooDeeplyNested,
        ResultCode.TOO_DEEPLY_NESTED,
        lambda: ["nest 950 levels"],
    ),
    "arguments nested 1,500 deep (msgspec raises RecursionError)": Case(
        lambda: nested_raw("alice", 1_500),
        TooDeeplyNested,
        ResultCode.TOO_DEEPLY_NESTED,
        lambda: ["nest 1500 levels"],
    ),
    "empty contract name": Case(
        lambda: signed_raw("alice", 0, "", "transfer", transfer_args()),
        MalformedTransaction,
        ResultCode.MALFORMED,
        lambda: ["non-empty"],
    ),
}


@pytest.mark.parametrize("case_id", list(STATELESS_CASES))
def test_validate_transaction_raises_its_own_error(case_id: str) -> None:
    case = STATELESS_CASES[case_id]
    with pytest.raises(case.error) as raised:
        validate_transaction(case.make(), CHAIN_ID)
    error = raised.value
    assert type(error) is case.error
    assert error.code == case.code
    assert isinstance(error, EnvelopeError)
    assert not error.consumes_nonce
    for name in case.names():
        assert name in str(error), f"{name!r} not in {str(error)!r}"


def test_error_attributes_carry_the_values() -> None:
    with pytest.raises(WrongChain) as wrong_chain:
        validate_transaction(STATELESS_CASES["wrong chain id"].make(), CHAIN_ID)
    assert (wrong_chain.value.expected, wrong_chain.value.got) == (CHAIN_ID, "other-chain")

    raw = oversized()
    with pytest.raises(OversizedTransaction) as too_big:
        validate_transaction(raw, CHAIN_ID)
    assert too_big.value.size_bytes == len(raw)
    assert too_big.value.limit_bytes == MAX_TRANSACTION_BYTES

    with pytest.raises(BadSignature) as forged:
        validate_transaction(
            STATELESS_CASES["forged signature (another key signed)"].make(), CHAIN_ID
        )
    assert forged.value.sender == ALICE

    with pytest.raises(UnsupportedVersion) as version:
        validate_transaction(STATELESS_CASES["unsupported version"].make(), CHAIN_ID)
    assert (version.value.got, version.value.supported) == (ENCODING_VERSION + 1, ENCODING_VERSION)


def test_a_transaction_of_exactly_the_size_limit_is_accepted() -> None:
    signed = validate_transaction(exactly_max_size(), CHAIN_ID)
    assert len(signed.transaction.args["memo"]) > 30_000


def test_arguments_nested_exactly_to_the_limit_are_accepted() -> None:
    signed = validate_transaction(nested_raw("alice", MAX_ARGUMENT_DEPTH), CHAIN_ID)
    value, depth = signed.transaction.args, 1
    while value:
        value = value["x"] if isinstance(value, dict) else value[0]
        depth += 1
    assert depth == MAX_ARGUMENT_DEPTH
    with pytest.raises(TooDeeplyNested) as too_deep:
        validate_transaction(nested_raw("alice", MAX_ARGUMENT_DEPTH + 1), CHAIN_ID)
    assert (too_deep.value.depth, too_deep.value.limit) == (
        MAX_ARGUMENT_DEPTH + 1,
        MAX_ARGUMENT_DEPTH,
    )


def test_a_valid_transaction_passes_every_stateless_check() -> None:
    raw = signed_raw("alice", 0, "tokens", "transfer", transfer_args())
    signed = validate_transaction(raw, CHAIN_ID)
    assert signed.transaction.sender == key("alice").public_key
    assert encode_transaction(signed) == raw


@pytest.mark.parametrize(
    "field, value",
    [
        ("version", ENCODING_VERSION),  # unchanged value: must still verify
        ("chain_id", CHAIN_ID + "-x"),
        ("nonce", 1),
        ("contract", "tokenz"),
        ("method", "mint"),
        ("args", transfer_args(1_001)),
    ],
)
def test_the_signature_covers_every_field(field: str, value: Any) -> None:
    original = make_transaction(key("alice"), CHAIN_ID, 0, "tokens", "transfer", transfer_args())
    tampered = SignedTransaction(
        msgspec.structs.replace(original.transaction, **{field: value}), original.authorization
    )
    if getattr(original.transaction, field) == value:
        validate_transaction(encode_transaction(tampered), CHAIN_ID)
        return
    with pytest.raises(BadSignature):
        validate_transaction(encode_transaction(tampered), tampered.transaction.chain_id)


def test_a_signature_for_another_sender_key_does_not_verify() -> None:
    body = alice_body(sender=key("bob").public_key)
    with pytest.raises(BadSignature) as raised:
        validate_transaction(signed_by(body, "alice"), CHAIN_ID)
    assert address("bob") in str(raised.value)


def test_sign_transaction_refuses_a_key_that_is_not_the_sender() -> None:
    with pytest.raises(ValueError, match="sender"):
        sign_transaction(alice_body(), key("bob"))


# --- inside a block -------------------------------------------------------------------------


def assert_changes_nothing(community: Community, raw: bytes, code: ResultCode) -> str:
    """Commit `raw` alone in a block; check it stays, is marked `code`, and changes nothing."""
    before_hash = community.state.state_hash()
    before_entries = dict(community.state.items())
    block, execution = community.commit([raw])
    assert block.transactions == [raw]
    assert block.header.transaction_count == 1
    receipt = execution.receipts[0]
    assert receipt.code == code, receipt.message
    assert receipt.transaction_id == sha256(raw)
    assert receipt.events == []
    assert execution.writes == {}
    assert execution.state_hash == before_hash
    assert block.header.state_hash == before_hash
    assert community.state.state_hash() == before_hash
    assert dict(community.state.items()) == before_entries
    return receipt.message


@pytest.mark.parametrize("case_id", list(STATELESS_CASES))
def test_in_a_block_an_envelope_error_is_marked_and_changes_nothing(case_id: str) -> None:
    case = STATELESS_CASES[case_id]
    community = Community.create()
    message = assert_changes_nothing(community, case.make(), case.code)
    for name in case.names():
        assert name in message
    # alice's nonce was not consumed: her next transaction still uses nonce 0
    _, execution = community.commit([signed_raw("alice", 0, "tokens", "transfer", transfer_args())])
    assert execution.receipts[0].code == ResultCode.OK


STATEFUL_CASES: dict[str, tuple[Callable[[], bytes], ResultCode, list[str]]] = {
    "nonce from the future": (
        lambda: signed_raw("alice", 1, "tokens", "transfer", transfer_args()),
        ResultCode.NONCE_MISMATCH,
        ["nonce 1", "expected 0", ALICE],
    ),
    "non-member": (
        lambda: signed_raw("erin", 0, "tokens", "transfer", transfer_args()),
        ResultCode.NOT_A_MEMBER,
        [address("erin"), "unknown"],
    ),
    "unknown contract": (
        lambda: signed_raw("alice", 0, "casino", "bet", {}),
        ResultCode.UNKNOWN_CONTRACT,
        ["'casino'"],
    ),
    "unknown method": (
        lambda: signed_raw("alice", 0, "tokens", "steal", {}),
        ResultCode.UNKNOWN_METHOD,
        ["'tokens'", "'steal'"],
    ),
    "amount as a string": (
        lambda: signed_raw("alice", 0, "tokens", "transfer", {"to": "x", "amount_micro": "5"}),
        ResultCode.INVALID_ARGUMENTS,
        ["tokens.transfer", "$.amount_micro", "int"],
    ),
    "amount as a boolean": (
        lambda: signed_raw("alice", 0, "tokens", "transfer", {"to": "x", "amount_micro": True}),
        ResultCode.INVALID_ARGUMENTS,
        ["$.amount_micro", "bool"],
    ),
    "recipient as bytes": (
        lambda: signed_raw("alice", 0, "tokens", "transfer", {"to": b"x", "amount_micro": 5}),
        ResultCode.INVALID_ARGUMENTS,
        ["$.to", "bytes"],
    ),
    "missing field": (
        lambda: signed_raw("alice", 0, "tokens", "transfer", {"amount_micro": 5}),
        ResultCode.INVALID_ARGUMENTS,
        ["`to`"],
    ),
    "unknown field": (
        lambda: signed_raw("alice", 0, "tokens", "transfer", {**transfer_args(), "colour": "red"}),
        ResultCode.INVALID_ARGUMENTS,
        ["colour"],
    ),
    "registration not a map": (
        lambda: signed_raw(
            "erin", 0, "membership", "apply", {"name": "e", "role": "consumer", "registration": 1}
        ),
        ResultCode.INVALID_ARGUMENTS,
        ["membership.apply", "$.registration"],
    ),
}


@pytest.mark.parametrize("case_id", list(STATEFUL_CASES))
def test_in_a_block_a_stateful_envelope_error_changes_nothing(case_id: str) -> None:
    make, code, names = STATEFUL_CASES[case_id]
    raw = make()
    validate_transaction(raw, CHAIN_ID)  # every stateless check passes
    community = Community.create()
    message = assert_changes_nothing(community, raw, code)
    for name in names:
        assert name in message, f"{name!r} not in {message!r}"


def test_a_replayed_transaction_is_refused_with_expected_and_got_nonce() -> None:
    community = Community.create()
    raw = community.tx("alice", "tokens", "transfer", transfer_args(1_000))
    _, first = community.commit([raw])
    assert first.receipts[0].ok
    validate_transaction(raw, CHAIN_ID)  # the replay is well-formed: only state can refuse it
    message = assert_changes_nothing(community, raw, ResultCode.NONCE_MISMATCH)
    assert f"nonce 0 from {ALICE}, expected 1" in message
    assert "replay" in message
    assert community.balance("alice") == 999_000


def test_a_replay_within_the_same_block_is_refused() -> None:
    community = Community.create()
    raw = community.tx("alice", "tokens", "transfer", transfer_args(1_000))
    _, execution = community.commit([raw, raw])
    assert [r.code for r in execution.receipts] == [ResultCode.OK, ResultCode.NONCE_MISMATCH]
    assert community.balance("alice") == 999_000
    assert community.nonce("alice") == 1


@pytest.mark.parametrize("status_change", ["pending", "revoked", "exited"])
def test_members_that_are_not_active_cannot_transact(status_change: str) -> None:
    community = Community.create()
    if status_change == "pending":
        assert community.apply_as("erin", "consumer").ok
        sender = "erin"
    elif status_change == "revoked":
        receipt = community.run(
            "regulator", "membership", "revoke", {"address": address("dave"), "reason": "fraud"}
        )
        assert receipt.ok, receipt.message
        sender = "dave"
    else:
        assert community.run("dave", "membership", "exit", {}).ok
        sender = "dave"
    raw = community.tx(sender, "tokens", "transfer", transfer_args(1))
    message = assert_changes_nothing(community, raw, ResultCode.NOT_A_MEMBER)
    assert address(sender) in message and status_change in message


# --- contract refusals: only the nonce advances ------------------------------------------------


CONTRACT_REFUSALS: dict[
    str, tuple[str, str, str, Callable[[], dict[str, Any]], ResultCode, list[str]]
] = {
    "insufficient funds": (
        "alice",
        "tokens",
        "transfer",
        lambda: transfer_args(1_000_001),
        ResultCode.INSUFFICIENT_FUNDS,
        [ALICE, "1000000", "1000001"],
    ),
    "not authorised": (
        "alice",
        "tokens",
        "mint",
        lambda: {"to": ALICE, "amount_micro": 5},
        ResultCode.NOT_AUTHORISED,
        [ALICE, "prosumer", "mint"],
    ),
    "contract rule": (
        "alice",
        "tokens",
        "transfer",
        lambda: transfer_args(0),
        ResultCode.AMOUNT_OUT_OF_RANGE,
        ["amount 0 micro-units outside [1, "],
    ),
}


@pytest.mark.parametrize("case_id", list(CONTRACT_REFUSALS))
def test_a_contract_refusal_advances_only_the_nonce(case_id: str) -> None:
    sender, contract, method, make_args, code, names = CONTRACT_REFUSALS[case_id]
    community = Community.create()
    before = dict(community.state.items())
    raw = community.tx(sender, contract, method, make_args())
    block, execution = community.commit([raw])
    receipt = execution.receipts[0]
    assert block.transactions == [raw]
    assert receipt.code == code
    for name in names:
        assert name in receipt.message
    nonce_key = (LEDGER_NAMESPACE, f"nonce/{address(sender)}")
    assert execution.writes == {nonce_key: encode(1)}
    assert dict(community.state.items()) == {**before, nonce_key: encode(1)}
    assert community.state.state_hash() == state_hash_of({**before, nonce_key: encode(1)})
    # the refused transaction can never run later, even once it would succeed
    message = assert_changes_nothing(community, raw, ResultCode.NONCE_MISMATCH)
    assert "expected 1" in message


def test_a_block_mixes_valid_and_invalid_transactions() -> None:
    community = Community.create()
    first = community.tx("alice", "tokens", "transfer", transfer_args(100))
    forged = signed_by(alice_body(nonce=1, args=transfer_args(999)), "mallory")
    second = signed_raw("alice", 1, "tokens", "transfer", transfer_args(200))
    outsider = signed_raw("erin", 0, "tokens", "transfer", transfer_args(1))
    poor = community.tx("dave", "tokens", "transfer", transfer_args(10**9, to="carol"))
    block, execution = community.commit([first, forged, b"\x00garbage", second, outsider, poor])
    assert block.transactions == [first, forged, b"\x00garbage", second, outsider, poor]
    assert [r.code for r in execution.receipts] == [
        ResultCode.OK,
        ResultCode.BAD_SIGNATURE,
        ResultCode.MALFORMED,
        ResultCode.OK,
        ResultCode.NOT_A_MEMBER,
        ResultCode.INSUFFICIENT_FUNDS,
    ]
    assert [r.transaction_id for r in execution.receipts] == [sha256(r) for r in block.transactions]
    assert community.balance("alice") == 1_000_000 - 300
    assert community.balance("bob") == 500_000 + 300
    assert community.nonce("alice") == 2
    assert community.nonce("dave") == 1
    assert community.nonce("erin") == 0


# --- a contract that crashes ----------------------------------------------------------------


class Nothing(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pass


def crashing_registry() -> Registry:
    broken = Contract("broken")

    @broken.method(Nothing)
    def explode(context: Context, args: Nothing) -> None:
        context.write("broken", "half-done", 1)
        raise ZeroDivisionError("division by zero")

    @broken.method(Nothing)
    def refuse(context: Context, args: Nothing) -> None:
        context.write("broken", "half-done", 1)
        raise NegativeValue("period", -1)

    return Registry([membership_contract, broken], check_active_member)


def crashing_community() -> Community:
    registry = crashing_registry()
    block0, state = genesis_block(make_genesis(), registry)
    return Community(make_genesis(), registry, state, [block0])


def test_a_crashing_contract_is_recorded_as_contract_failed_and_its_writes_are_dropped() -> None:
    community = crashing_community()
    before = dict(community.state.items())
    _, execution = community.commit([community.tx("alice", "broken", "explode", {})])
    receipt = execution.receipts[0]
    assert receipt.code == ResultCode.CONTRACT_FAILED
    assert ResultCode(receipt.code).slug == "contract_failed"
    # only the exception's type, the same on every peer; not its text
    assert receipt.message == "contract failed: ZeroDivisionError"
    assert receipt.details == {"exception": "ZeroDivisionError"}
    nonce_key = (LEDGER_NAMESPACE, f"nonce/{ALICE}")
    assert dict(community.state.items()) == {**before, nonce_key: encode(1)}


def test_a_crash_and_a_refusal_are_told_apart_by_their_codes() -> None:
    community = crashing_community()
    crash = community.tx("alice", "broken", "explode", {})
    rule = signed_raw("alice", 1, "broken", "refuse", {})
    _, execution = community.commit([crash, rule])
    crashed, refused = execution.receipts
    assert crashed.code == ResultCode.CONTRACT_FAILED
    assert refused.code == ResultCode.NEGATIVE_VALUE
    assert refused.details == {"field": "period", "value": -1}
    assert community.nonce("alice") == 2
    assert ("broken", "half-done") not in dict(community.state.items())


def test_a_refusal_records_its_values_in_the_receipt_and_the_results_root() -> None:
    community = Community.create()
    block, execution = community.commit(
        [community.tx("alice", "tokens", "transfer", transfer_args(0))]
    )
    [receipt] = execution.receipts
    assert receipt.details == {"amount_micro": 0, "minimum_micro": 1, "maximum_micro": 2**63 - 1}
    assert decode(encode_receipt(receipt), Receipt) == receipt
    without = msgspec.structs.replace(receipt, details={})
    assert merkle_root([encode_receipt(receipt)]) == block.header.results_root
    assert merkle_root([encode_receipt(without)]) != block.header.results_root
