"""The canonical encoding: one and only one byte string for every value, round trips for
transactions and blocks, and strict refusal of everything else."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.crypto import sha256
from gridledger.ledger import (
    ENCODING_VERSION,
    Block,
    BlockHeader,
    DecodingError,
    Ed25519Authorization,
    Event,
    Receipt,
    SignedTransaction,
    Transaction,
    decode,
    decode_block,
    decode_transaction,
    encode,
    encode_block,
    encode_receipt,
    encode_transaction,
    transaction_id,
)
from gridledger.ledger.encoding import MAX_INTEGER, MIN_INTEGER, check_no_floats, nesting_depth

int64 = st.integers(MIN_INTEGER, MAX_INTEGER)
scalars = st.one_of(st.none(), st.booleans(), int64, st.text(max_size=12), st.binary(max_size=12))
arg_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)
arg_maps = st.dictionaries(st.text(max_size=8), arg_values, max_size=6)
hashes = st.binary(min_size=32, max_size=32)

transactions = st.builds(
    Transaction,
    version=st.just(ENCODING_VERSION),
    chain_id=st.text(min_size=1, max_size=20),
    sender=hashes,
    nonce=st.integers(0, 2**64 - 1),
    contract=st.text(min_size=1, max_size=12),
    method=st.text(min_size=1, max_size=12),
    args=arg_maps,
)
signed_transactions = st.builds(
    SignedTransaction,
    transaction=transactions,
    authorization=st.builds(Ed25519Authorization, signature=st.binary(min_size=64, max_size=64)),
)
headers = st.builds(
    BlockHeader,
    version=st.just(ENCODING_VERSION),
    chain_id=st.text(min_size=1, max_size=20),
    height=st.integers(0, 2**63 - 1),
    previous_hash=hashes,
    timestamp_ms=st.integers(0, 2**63 - 1),
    transaction_count=st.integers(0, 10_000),
    transactions_root=hashes,
    results_root=hashes,
    state_hash=hashes,
)
blocks = st.builds(Block, header=headers, transactions=st.lists(st.binary(max_size=64), max_size=5))
receipts = st.builds(
    Receipt,
    transaction_id=hashes,
    code=st.integers(0, 15),
    message=st.text(max_size=30),
    events=st.lists(
        st.builds(
            Event, contract=st.text(max_size=8), name=st.text(max_size=8), attributes=arg_maps
        ),
        max_size=3,
    ),
)


@settings(max_examples=60, deadline=None)
@given(transactions)
def test_transaction_round_trip(body: Transaction) -> None:
    data = encode(body)
    decoded = decode(data, Transaction)
    assert decoded == body
    assert encode(decoded) == data


@settings(max_examples=60, deadline=None)
@given(signed_transactions)
def test_signed_transaction_round_trip(signed: SignedTransaction) -> None:
    raw = encode_transaction(signed)
    decoded = decode_transaction(raw)
    assert decoded == signed
    assert encode_transaction(decoded) == raw
    assert transaction_id(raw) == sha256(raw)


@settings(max_examples=40, deadline=None)
@given(blocks)
def test_block_round_trip(block: Block) -> None:
    data = encode_block(block)
    decoded = decode_block(data)
    assert decoded == block
    assert encode_block(decoded) == data


@settings(max_examples=40, deadline=None)
@given(receipts)
def test_receipt_round_trip(receipt: Receipt) -> None:
    data = encode_receipt(receipt)
    assert decode(data, Receipt) == receipt
    assert encode(decode(data, Receipt)) == data


@settings(max_examples=40, deadline=None)
@given(arg_maps)
def test_map_key_insertion_order_does_not_change_the_bytes(args: dict[str, Any]) -> None:
    assert encode(dict(reversed(list(args.items())))) == encode(args)


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.text(max_size=8), scalars, min_size=2, max_size=6))
def test_non_canonical_map_order_is_refused(args: dict[str, Any]) -> None:
    unsorted = dict(sorted(args.items(), reverse=True))
    data = msgspec.msgpack.Encoder().encode(unsorted)
    assert data != encode(args)
    with pytest.raises(DecodingError, match="canonical"):
        decode(data, dict[str, Any])


def test_maps_are_sorted_by_key_and_integers_are_shortest() -> None:
    assert encode({"b": 1, "a": 2}) == b"\x82\xa1a\x02\xa1b\x01"
    assert encode(0) == b"\x00"
    assert encode(127) == b"\x7f"
    assert encode(128) == b"\xcc\x80"
    assert encode(-1) == b"\xff"
    assert encode(-33) == b"\xd0\xdf"
    assert encode(2**63 - 1) == b"\xcf" + (2**63 - 1).to_bytes(8, "big")
    assert encode(True) != encode(1)
    assert encode("a") != encode(b"a")


@pytest.mark.parametrize(
    "data, canonical",
    [
        (b"\xcc\x05", b"\x05"),  # uint8 holding a fixint
        (b"\xcd\x00\x05", b"\x05"),  # uint16
        (b"\xce\x00\x00\x00\x05", b"\x05"),  # uint32
        (b"\xcf\x00\x00\x00\x00\x00\x00\x00\x05", b"\x05"),  # uint64
        (b"\xd0\x05", b"\x05"),  # int8 holding a non-negative fixint
        (b"\xd1\xff\xff", b"\xff"),  # int16 holding -1
    ],
)
def test_non_minimal_integers_are_refused(data: bytes, canonical: bytes) -> None:
    assert msgspec.msgpack.decode(data) == msgspec.msgpack.decode(canonical)
    with pytest.raises(DecodingError) as raised:
        decode(data, int)
    assert "canonical" in str(raised.value)
    assert decode(canonical, int) == msgspec.msgpack.decode(canonical)


@pytest.mark.parametrize(
    "data",
    [
        b"\xd9\x01a",  # str8 holding a 1-character string (fixstr is shorter)
        b"\xdc\x00\x01\x01",  # array16 of one element
        b"\xde\x00\x01\xa1a\x01",  # map16 of one entry
        b"\xc5\x00\x01a",  # bin16 of one byte
    ],
)
def test_non_minimal_headers_are_refused(data: bytes) -> None:
    with pytest.raises(DecodingError, match="canonical"):
        decode(data, Any)  # type: ignore[arg-type]


def test_decoding_errors_name_the_type() -> None:
    with pytest.raises(DecodingError) as raised:
        decode(b"\xa1x", int)
    assert raised.value.type_name == "int"
    assert "cannot decode int" in str(raised.value)
    with pytest.raises(DecodingError) as raised:
        decode_block(b"\x01")
    assert raised.value.type_name == "Block"


def test_trailing_bytes_are_refused() -> None:
    with pytest.raises(DecodingError):
        decode(encode(5) + b"\x00", int)


def test_struct_with_a_missing_or_extra_element_is_refused() -> None:
    header = BlockHeader(1, "c", 1, bytes(32), 0, 0, bytes(32), bytes(32), bytes(32))
    fields = list(msgspec.msgpack.decode(encode(header)))
    with pytest.raises(DecodingError):
        decode(encode(fields[:-1]), BlockHeader)
    with pytest.raises(DecodingError):
        decode(encode([*fields, 0]), BlockHeader)
    assert decode(encode(fields), BlockHeader) == header


@pytest.mark.parametrize(
    "value, path",
    [
        (1.0, "value"),
        ({"a": 0.5}, "a"),
        ({"a": [1, 2, {"b": float("nan")}]}, "a[2].b"),
        ([float("inf")], "[0]"),
    ],
)
def test_floats_are_refused_with_their_place(value: Any, path: str) -> None:
    with pytest.raises(DecodingError) as raised:
        check_no_floats(value)
    assert path in str(raised.value)
    assert "floats are not allowed" in str(raised.value)


def test_integers_are_limited_to_signed_64_bits() -> None:
    check_no_floats({"max": MAX_INTEGER, "min": MIN_INTEGER})
    for too_big in (MAX_INTEGER + 1, MIN_INTEGER - 1):
        with pytest.raises(DecodingError, match="exceeds 64 bits"):
            check_no_floats({"n": too_big})


def test_unsupported_types_are_refused() -> None:
    with pytest.raises(DecodingError, match="unsupported type tuple"):
        check_no_floats({"t": (1, 2)})
    with pytest.raises(DecodingError, match="keys must be strings"):
        check_no_floats({"m": {1: 2}})


def test_the_transaction_id_covers_the_signature() -> None:
    body = Transaction(ENCODING_VERSION, "c", bytes(32), 0, "tokens", "transfer", {})
    one = encode_transaction(SignedTransaction(body, Ed25519Authorization(bytes(64))))
    two = encode_transaction(SignedTransaction(body, Ed25519Authorization(b"\x01" + bytes(63))))
    assert transaction_id(one) != transaction_id(two)


def test_signed_transaction_layout_is_arrays_in_field_order() -> None:
    body = Transaction(ENCODING_VERSION, "c", b"\x07" * 32, 3, "t", "m", {"k": 1})
    raw = encode_transaction(SignedTransaction(body, Ed25519Authorization(b"\x09" * 64)))
    assert msgspec.msgpack.decode(raw) == [
        [ENCODING_VERSION, "c", b"\x07" * 32, 3, "t", "m", {"k": 1}],
        ["ed25519", b"\x09" * 64],
    ]


@pytest.mark.parametrize("key", [1, b"k", None, True])
def test_maps_with_keys_that_are_not_text_are_refused_not_crashed(key: Any) -> None:
    data = msgspec.msgpack.Encoder().encode({"outer": {key: 1}})
    assert msgspec.msgpack.decode(data) == {"outer": {key: 1}}
    with pytest.raises(DecodingError) as raised:
        decode(data, dict[str, Any])
    assert "canonical" in str(raised.value)


def recursive_depth(value: Any) -> int:
    """Nesting depth of arrays and maps, computed the obvious (recursive) way."""
    if isinstance(value, list):
        return 1 + max((recursive_depth(item) for item in value), default=0)
    if isinstance(value, dict):
        return 1 + max((recursive_depth(item) for item in value.values()), default=0)
    return 0


any_width_scalars = st.one_of(
    scalars,
    st.integers(-(2**63), 2**64 - 1),
    st.floats(allow_nan=False),
    st.text(min_size=20, max_size=300),
    st.binary(min_size=250, max_size=70_000),
    st.builds(msgspec.msgpack.Ext, st.integers(0, 127), st.binary(max_size=300)),
)
any_values = st.recursive(
    any_width_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=20), st.dictionaries(st.text(max_size=4), children, max_size=20)
    ),
    max_leaves=40,
)


@settings(max_examples=200, deadline=None)
@given(any_values)
def test_nesting_depth_reads_the_depth_off_the_bytes(value: Any) -> None:
    assert nesting_depth(encode(value)) == recursive_depth(value)


def test_nesting_depth_measures_what_msgspec_cannot_decode() -> None:
    deep = b"\x91" * 100_000 + b"\x90"  # 100,001 arrays, one inside the other
    with pytest.raises(RecursionError):
        msgspec.msgpack.decode(deep)
    assert nesting_depth(deep) == 100_001
    assert nesting_depth(b"\xdc\x00\x01" * 3 + b"\xdf\x00\x00\x00\x00") == 4  # array16, map32
    assert nesting_depth(b"\x91\xc1") == 1  # a reserved byte stops the scan
    assert nesting_depth(b"\x93\x90") == 2  # truncated: the depth seen so far
