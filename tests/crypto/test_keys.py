import pytest

from gridledger.crypto import (
    InvalidPublicKey,
    InvalidSignature,
    address_of,
    generate_keypair,
    is_address,
    keypair_from_name,
    validate_public_key,
    verify_signature,
)

# Small-order points of edwards25519 (from the libsodium blocklist): the identity,
# a point of order 2 and one of order 4. Each must be refused at enrolment.
SMALL_ORDER_KEYS = [
    bytes.fromhex("0100000000000000000000000000000000000000000000000000000000000000"),
    bytes.fromhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    bytes.fromhex("0000000000000000000000000000000000000000000000000000000000000000"),
    bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
]


@pytest.mark.parametrize("key", SMALL_ORDER_KEYS)
def test_small_order_keys_are_rejected(key: bytes) -> None:
    with pytest.raises(InvalidPublicKey) as error:
        validate_public_key(key)
    assert key.hex() in str(error.value)


def test_wrong_length_key_is_rejected_with_its_length() -> None:
    with pytest.raises(InvalidPublicKey, match="length 31"):
        validate_public_key(bytes(31))


def test_sign_and_verify_round_trip() -> None:
    pair = generate_keypair()
    validate_public_key(pair.public_key)
    signature = pair.sign(b"hello")
    verify_signature(pair.public_key, b"hello", signature)
    with pytest.raises(InvalidSignature):
        verify_signature(pair.public_key, b"hellO", signature)
    forged = bytes([signature[0] ^ 1]) + signature[1:]
    with pytest.raises(InvalidSignature):
        verify_signature(pair.public_key, b"hello", forged)


def test_names_give_reproducible_keys_and_addresses() -> None:
    a1, a2 = keypair_from_name("alice"), keypair_from_name("alice")
    assert a1 == a2
    assert a1.address == address_of(a1.public_key)
    assert is_address(a1.address)
    assert not is_address("gl" + "G" * 40)
    assert keypair_from_name("bob").address != a1.address


def test_signatures_are_rfc8032_test_vector_1() -> None:
    """RFC 8032 §7.1 TEST 1: the empty message under its fixed secret key."""
    from gridledger.crypto import keypair_from_seed

    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    keys = keypair_from_seed(seed)
    assert keys.public_key.hex() == (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    )
    assert keys.sign(b"").hex() == (
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )
