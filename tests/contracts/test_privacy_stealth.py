"""Stealth payments on a real chain: registered keys, a payment to a one-time account found
by its recipient's scan alone, spending through the one-time authorisation, and each
refusal with its own code."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.client.privacy import output_args
from gridledger.contracts import privacy
from gridledger.contracts.tokens import balance_of
from gridledger.crypto import address_of
from gridledger.crypto.privacy import (
    StealthOutput,
    generate_stealth_keys,
    one_time_secret,
    pay_to,
    public_key_of,
    random_scalar,
    scan,
)
from gridledger.ledger import ResultCode, read_nonce, validate_transaction
from gridledger.ledger.errors import BadSignature, InvalidSenderKey, OneTimeCallRefused
from tests.community import CHAIN_ID, Community, address
from tests.contracts.privacy_helpers import commit_one, one_time_raw, register, stealth


@pytest.fixture
def community() -> Community:
    community = Community.create()
    for name in ("alice", "bob", "carol", "dave"):
        assert register(community, name).ok
    return community


def pay(community: Community, payer: str, recipient: str, amount: int) -> StealthOutput:
    output = pay_to(stealth(recipient).address())
    receipt = community.run(
        payer, "privacy", "pay", {"amount_micro": amount, "output": output_args(output)}
    )
    assert receipt.ok, receipt.message
    return output


def chain_outputs(community: Community) -> list[StealthOutput]:
    return [
        StealthOutput(o.transaction_public_key, o.output_index, o.one_time_public_key, o.view_tag)
        for o in privacy.outputs_from(community.state, 0, 1_000)
    ]


def scan_as(community: Community, name: str) -> list[StealthOutput]:
    keys = stealth(name)
    return scan(chain_outputs(community), keys.view_secret, keys.address().spend_public_key)


def test_a_stealth_payment_is_found_by_its_recipient_and_spent_with_the_one_time_key(
    community: Community,
) -> None:
    carol_before = community.balance("carol")
    output = pay(community, "alice", "bob", 70_000)
    account = address_of(output.one_time_public_key)
    assert balance_of(community.state, account) == 70_000
    [found] = scan_as(community, "bob")
    assert found.one_time_public_key == output.one_time_public_key
    assert scan_as(community, "carol") == [] and scan_as(community, "dave") == []
    secret = one_time_secret(found, stealth("bob"))
    raw = one_time_raw(
        secret, output.one_time_public_key, 0, {"amount_micro": 30_000, "to": address("carol")}
    )
    receipt = commit_one(community, raw)
    assert receipt.ok, receipt.message
    assert community.balance("carol") == carol_before + 30_000
    assert balance_of(community.state, account) == 40_000


def test_the_chain_record_of_a_stealth_payment_names_no_recipient(community: Community) -> None:
    output = pay(community, "alice", "bob", 1_000)
    [record] = privacy.outputs_from(community.state, 0, 10)
    described = str(privacy.describe_output(record))
    assert address("bob") not in described
    assert stealth("bob").address().spend_public_key.hex() not in described
    assert record.one_time_public_key == output.one_time_public_key


def test_a_one_time_account_pays_a_fresh_stealth_output(community: Community) -> None:
    output = pay(community, "alice", "bob", 5_000)
    secret = one_time_secret(output, stealth("bob"))
    onward = pay_to(stealth("carol").address())
    args = {"amount_micro": 5_000, "output": output_args(onward)}
    assert commit_one(community, one_time_raw(secret, output.one_time_public_key, 0, args)).ok
    assert [o.one_time_public_key for o in scan_as(community, "carol")] == [
        onward.one_time_public_key
    ]


def test_a_one_time_key_may_only_spend(community: Community) -> None:
    output = pay(community, "alice", "bob", 5_000)
    secret = one_time_secret(output, stealth("bob"))
    from gridledger.ledger import Transaction, encode_transaction, sign_one_time
    from gridledger.ledger.encoding import ENCODING_VERSION

    body = Transaction(
        ENCODING_VERSION,
        CHAIN_ID,
        output.one_time_public_key,
        0,
        "tokens",
        "transfer",
        {"to": address("carol"), "amount_micro": 1},
    )
    raw = encode_transaction(sign_one_time(body, secret))
    with pytest.raises(OneTimeCallRefused):
        validate_transaction(raw, CHAIN_ID)
    assert commit_one(community, raw).code == ResultCode.ONE_TIME_CALL_REFUSED


def test_a_spend_signed_by_another_key_is_refused(community: Community) -> None:
    from coincurve import PrivateKey

    from gridledger.crypto import sha256
    from gridledger.ledger import Transaction, encode, signing_bytes
    from gridledger.ledger.encoding import ENCODING_VERSION
    from gridledger.ledger.transactions import OneTimeAuthorization, SignedTransaction

    output = pay(community, "alice", "bob", 5_000)
    args = {"amount_micro": 1, "to": address("carol")}
    body = Transaction(
        ENCODING_VERSION, CHAIN_ID, output.one_time_public_key, 0, "privacy", "spend", args
    )
    thief = PrivateKey(random_scalar().to_bytes(32, "big"))
    signature = thief.sign_schnorr(sha256(signing_bytes(body)), bytes(32))
    raw = encode(SignedTransaction(body, OneTimeAuthorization(signature)))
    with pytest.raises(BadSignature):
        validate_transaction(raw, CHAIN_ID)
    assert commit_one(community, raw).code == ResultCode.BAD_SIGNATURE


def test_an_unknown_one_time_account_is_refused(community: Community) -> None:
    secret = random_scalar()
    raw = one_time_raw(secret, public_key_of(secret), 0, {"amount_micro": 1, "to": address("bob")})
    receipt = commit_one(community, raw)
    assert receipt.code == ResultCode.UNKNOWN_ONE_TIME_ACCOUNT
    with pytest.raises(privacy.UnknownOneTimeAccount):
        community.registry.admit(
            community.state,
            address_of(public_key_of(secret)),
            public_key_of(secret),
            ("privacy", "spend", {"amount_micro": 1, "to": address("bob")}),
        )


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("view_public_key", "02" + "00" * 32, ResultCode.INVALID_PRIVACY_KEY),
        ("view_public_key", "04" + "11" * 32, ResultCode.INVALID_PRIVACY_KEY),
        ("spend_public_key", "zz", ResultCode.NOT_HEX),
        ("spend_public_key", "02" + "ff" * 32, ResultCode.INVALID_PRIVACY_KEY),
    ],
)
def test_bad_keys_are_refused(community: Community, field: str, value: str, code: int) -> None:
    address_ = stealth("erin").address()
    args: dict[str, Any] = {
        "view_public_key": address_.view_public_key.hex(),
        "spend_public_key": address_.spend_public_key.hex(),
    }
    args[field] = value
    assert community.run("operator", "privacy", "register_keys", args).code == code


def test_a_spend_key_registered_by_another_member_is_refused(community: Community) -> None:
    taken = stealth("alice").address()
    args = {
        "view_public_key": public_key_of(random_scalar()).hex(),
        "spend_public_key": taken.spend_public_key.hex(),
    }
    receipt = community.run("operator", "privacy", "register_keys", args)
    assert receipt.code == ResultCode.PRIVACY_KEY_TAKEN


def test_hostile_outputs_are_refused(community: Community) -> None:
    good = output_args(pay_to(stealth("bob").address()))
    cases: list[tuple[dict[str, Any], int]] = [
        ({**good, "one_time_public_key": "03" + "00" * 32}, ResultCode.INVALID_PRIVACY_KEY),
        ({**good, "transaction_public_key": "02"}, ResultCode.INVALID_PRIVACY_KEY),
        ({**good, "view_tag": "0102"}, ResultCode.INVALID_PRIVACY_KEY),
        ({**good, "view_tag": "x"}, ResultCode.NOT_HEX),
        ({**good, "output_index": 2**32}, ResultCode.INVALID_PRIVACY_KEY),
    ]
    for output, code in cases:
        receipt = community.run("alice", "privacy", "pay", {"amount_micro": 1, "output": output})
        assert receipt.code == code, (output, receipt.message)
    assert community.run("alice", "privacy", "pay", {"amount_micro": 0, "output": good}).code == (
        ResultCode.AMOUNT_OUT_OF_RANGE
    )
    rich = {"amount_micro": 10**12, "output": good}
    assert community.run("dave", "privacy", "pay", rich).code == ResultCode.INSUFFICIENT_FUNDS
    assert community.run("alice", "privacy", "pay", {"amount_micro": 1, "output": good}).ok
    again = community.run("alice", "privacy", "pay", {"amount_micro": 1, "output": good})
    assert again.code == ResultCode.INVALID_PRIVACY_KEY  # a one-time key is used once


def test_a_flipped_byte_of_a_one_time_signature_fails(community: Community) -> None:
    output = pay(community, "alice", "bob", 5_000)
    secret = one_time_secret(output, stealth("bob"))
    raw = one_time_raw(secret, output.one_time_public_key, 0, {"amount_micro": 1, "to": ""})
    validate_transaction(raw, CHAIN_ID)
    flipped = raw[:-1] + bytes([raw[-1] ^ 1])
    with pytest.raises(BadSignature):
        validate_transaction(flipped, CHAIN_ID)


def test_an_ed25519_envelope_from_a_33_byte_key_is_refused() -> None:
    from gridledger.ledger import Transaction, encode
    from gridledger.ledger.encoding import ENCODING_VERSION
    from gridledger.ledger.transactions import Ed25519Authorization, SignedTransaction

    key33 = public_key_of(random_scalar())
    body = Transaction(ENCODING_VERSION, CHAIN_ID, key33, 0, "privacy", "spend", {})
    raw = encode(SignedTransaction(body, Ed25519Authorization(bytes(64))))
    with pytest.raises(InvalidSenderKey):
        validate_transaction(raw, CHAIN_ID)


@settings(max_examples=20, deadline=None)
@given(st.integers(min_value=0, max_value=5), st.integers(min_value=0, max_value=2**32 - 1))
def test_an_output_is_found_by_its_recipient_and_by_no_other_key(
    recipient: int, index: int
) -> None:
    members = [generate_stealth_keys() for _ in range(6)]
    output = pay_to(members[recipient].address(), index)
    decoys = [pay_to(generate_stealth_keys().address()) for _ in range(3)]
    outputs = [*decoys, output]
    for number, keys in enumerate(members):
        found = scan(outputs, keys.view_secret, keys.address().spend_public_key)
        assert found == ([output] if number == recipient else [])


def test_hostile_spends_are_refused_each_with_its_code(community: Community) -> None:
    output = pay(community, "alice", "bob", 5_000)
    secret = one_time_secret(output, stealth("bob"))
    key_ = output.one_time_public_key
    onward = output_args(pay_to(stealth("carol").address()))
    cases: list[tuple[dict[str, Any], int]] = [
        ({"amount_micro": 1}, ResultCode.INVALID_ARGUMENTS),
        (
            {"amount_micro": 1, "to": address("carol"), "output": onward},
            ResultCode.INVALID_ARGUMENTS,
        ),
        ({"amount_micro": 0, "to": address("carol")}, ResultCode.AMOUNT_OUT_OF_RANGE),
        ({"amount_micro": 1, "to": address("erin")}, ResultCode.MEMBER_NOT_ACTIVE),
        ({"amount_micro": 5_001, "to": address("carol")}, ResultCode.INSUFFICIENT_FUNDS),
        ({"amount_micro": 1, "to": 7}, ResultCode.INVALID_ARGUMENTS),
    ]
    for args, code in cases:
        nonce = read_nonce(community.state, address_of(key_))
        receipt = commit_one(community, one_time_raw(secret, key_, nonce, args))
        assert receipt.code == code, (args, receipt.message)
    assert balance_of(community.state, address_of(key_)) == 5_000


def test_a_members_spend_key_is_fixed_once_registered(community: Community) -> None:
    """A second spend key would be a second key image in every event: two ballots."""
    from gridledger.crypto.privacy import generate_stealth_keys

    fresh = generate_stealth_keys().address()
    same = stealth("alice").address()
    changed = {
        "view_public_key": fresh.view_public_key.hex(),
        "spend_public_key": fresh.spend_public_key.hex(),
    }
    receipt = community.run("alice", "privacy", "register_keys", changed)
    assert receipt.code == ResultCode.INVALID_PRIVACY_KEY and "fixed" in receipt.message
    new_view = {
        "view_public_key": fresh.view_public_key.hex(),
        "spend_public_key": same.spend_public_key.hex(),
        "stealth_payouts": True,
    }
    assert community.run("alice", "privacy", "register_keys", new_view).ok
    keys = privacy.keys_of(community.state, address("alice"))
    assert (
        keys is not None
        and keys.stealth_payouts
        and keys.view_public_key == (fresh.view_public_key)
    )


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=63), st.integers(min_value=0, max_value=7))
def test_flipping_any_bit_of_a_one_time_signature_fails(position: int, bit: int) -> None:
    from gridledger.crypto.privacy import StealthKeys
    from gridledger.ledger import Transaction, encode, sign_one_time
    from gridledger.ledger.encoding import ENCODING_VERSION
    from gridledger.ledger.transactions import OneTimeAuthorization, SignedTransaction

    keys = StealthKeys(7, 11)
    output = pay_to(keys.address())
    secret = one_time_secret(output, keys)
    args = {"amount_micro": 1, "to": address("carol")}
    body = Transaction(
        ENCODING_VERSION, CHAIN_ID, output.one_time_public_key, 0, "privacy", "spend", args
    )
    signature = sign_one_time(body, secret).authorization.signature
    validate_transaction(encode(SignedTransaction(body, OneTimeAuthorization(signature))), CHAIN_ID)
    flipped = bytearray(signature)
    flipped[position] ^= 1 << bit
    raw = encode(SignedTransaction(body, OneTimeAuthorization(bytes(flipped))))
    with pytest.raises(BadSignature):
        validate_transaction(raw, CHAIN_ID)
