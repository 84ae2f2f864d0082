"""secp256k1 group helpers: known points, arithmetic, encodings and the hashes."""

from __future__ import annotations

import pytest
from coincurve import PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.crypto.privacy import (
    CURVE_ORDER,
    GENERATOR_G,
    GENERATOR_H,
    IdentityPoint,
    PointNotOnCurve,
    ScalarOutOfRange,
    WrongLength,
    decode_point,
    decode_scalar,
    encode_point,
    encode_scalar,
    hash_to_point,
    hash_to_scalar,
)
from gridledger.crypto.privacy.group import FIELD_PRIME, add, base_mul, mul, negate

scalars = st.integers(min_value=1, max_value=CURVE_ORDER - 1)

# SEC 2 v2 §2.4.1: G; k·G for k = 2, 3 from the widely published secp256k1 point lists
# (e.g. the test vectors of Bitcoin's libsecp256k1 and of python-ecdsa), affine (x, y).
KNOWN_MULTIPLES = {
    1: (
        0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
        0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8,
    ),
    2: (
        0xC6047F9441ED7D6D3045406E95C07CD85C778E4B8CEF3CA7ABAC09B95C709EE5,
        0x1AE168FEA63DC339A3C58419466CEAEEF7F632653266D0E1236431A950CFE52A,
    ),
    3: (
        0xF9308A019258C31049344F85F89D5229B531C845836F99B08601F113BCE036F9,
        0x388F7B0F632DE8140FE337E62A37F3566500A99934C2231B6CB9FD7584B8E672,
    ),
}

# no per-example deadline: the machine is shared and the timings vary
NO_DEADLINE = settings(deadline=None)


@pytest.mark.parametrize("multiple", sorted(KNOWN_MULTIPLES))
def test_known_multiples_of_the_generator(multiple: int) -> None:
    x, y = KNOWN_MULTIPLES[multiple]
    point = base_mul(multiple)
    assert point.point() == (x, y)
    assert encode_point(point) == bytes([2 + (y & 1)]) + x.to_bytes(32, "big")
    assert y * y % FIELD_PRIME == (x**3 + 7) % FIELD_PRIME


def test_basic_arithmetic_vectors() -> None:
    assert encode_point(GENERATOR_G) == bytes.fromhex(
        "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
    )
    assert add(GENERATOR_G, base_mul(2)) == base_mul(3)
    assert add(GENERATOR_G, GENERATOR_G) == base_mul(2)
    assert mul(base_mul(2), 3) == base_mul(6)
    # (n - 1)·G = -G: same x, the other y
    x, y = KNOWN_MULTIPLES[1]
    assert base_mul(CURVE_ORDER - 1).point() == (x, FIELD_PRIME - y)
    assert negate(GENERATOR_G) == base_mul(CURVE_ORDER - 1)
    with pytest.raises(IdentityPoint):
        add(GENERATOR_G, negate(GENERATOR_G))


@NO_DEADLINE
@given(scalars, scalars)
def test_scalar_multiplication_distributes(a: int, b: int) -> None:
    total = (a + b) % CURVE_ORDER
    if total == 0:
        return
    assert add(base_mul(a), base_mul(b)) == base_mul(total)
    assert mul(base_mul(a), b) == base_mul(a * b % CURVE_ORDER)


@NO_DEADLINE
@given(scalars)
def test_points_and_scalars_round_trip(value: int) -> None:
    assert decode_scalar(encode_scalar(value)) == value
    point = base_mul(value)
    assert decode_point(encode_point(point)) == point


def test_second_generator_is_a_proper_point_other_than_g() -> None:
    assert GENERATOR_H != GENERATOR_G
    assert encode_point(GENERATOR_H) == encode_point(
        hash_to_point("generator-H", encode_point(GENERATOR_G))
    )
    # try-and-increment keeps the even y
    assert encode_point(GENERATOR_H)[0] == 2


def test_decode_point_refuses_wrong_length() -> None:
    encoded = encode_point(GENERATOR_G)
    with pytest.raises(WrongLength) as caught:
        decode_point(encoded[:-1])
    assert (caught.value.expected, caught.value.got) == (33, 32)
    with pytest.raises(WrongLength):
        decode_point(GENERATOR_G.format(compressed=False))


def test_decode_point_refuses_the_identity() -> None:
    for encoding in (b"\x00", bytes(33)):
        with pytest.raises(IdentityPoint):
            decode_point(encoding)
    with pytest.raises(WrongLength):
        decode_point(b"")


def first_x_off_the_curve() -> int:
    x = 1
    while pow(x**3 + 7, (FIELD_PRIME - 1) // 2, FIELD_PRIME) == 1:
        x += 1
    return x


def test_decode_point_refuses_points_off_the_curve() -> None:
    x = first_x_off_the_curve()
    off_curve = b"\x02" + x.to_bytes(32, "big")
    with pytest.raises(PointNotOnCurve) as caught:
        decode_point(off_curve)
    assert caught.value.encoding == off_curve
    # x at or above the field prime is not canonical
    with pytest.raises(PointNotOnCurve):
        decode_point(b"\x02" + FIELD_PRIME.to_bytes(32, "big"))
    # the uncompressed and hybrid prefixes are refused in a 33-byte string
    with pytest.raises(PointNotOnCurve):
        decode_point(b"\x04" + encode_point(GENERATOR_G)[1:])


def test_decode_scalar_refuses_zero_the_order_and_wrong_length() -> None:
    for value in (0, CURVE_ORDER, 2**256 - 1):
        with pytest.raises(ScalarOutOfRange) as caught:
            decode_scalar(value.to_bytes(32, "big"))
        assert caught.value.value == value
    with pytest.raises(WrongLength):
        decode_scalar(bytes(31) + b"\x01" + b"\x00")
    with pytest.raises(ScalarOutOfRange):
        encode_scalar(0)


def test_hashes_are_domain_separated_and_framed() -> None:
    assert hash_to_scalar("a", b"x") != hash_to_scalar("b", b"x")
    # the parts are length-prefixed: splitting the same bytes differently changes the hash
    assert hash_to_scalar("a", b"xy", b"") != hash_to_scalar("a", b"x", b"y")
    assert hash_to_point("a", b"x") != hash_to_point("b", b"x")


@NO_DEADLINE
@given(st.binary(max_size=64))
def test_hash_to_point_lands_on_the_curve(data: bytes) -> None:
    point = hash_to_point("test", data)
    assert decode_point(encode_point(point)) == point
    assert PublicKey(encode_point(point)) == point
