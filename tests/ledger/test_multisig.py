"""M-of-N multi-signature on a real chain: the issuer and the grid account as 2-of-3 policy
accounts (operator, regulator, treasurer), every refusal with its own code, a policy
changed by itself, and the stateless and stateful checks as properties."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.contracts.settlement import GRID
from gridledger.contracts.tokens import balance_of
from gridledger.crypto import keypair_from_name
from gridledger.ledger import (
    MAX_POLICY_KEYS,
    Cosignature,
    GenesisError,
    MultisigAuthorization,
    ResultCode,
    SignedTransaction,
    Transaction,
    TransactionError,
    cosign_transaction,
    decode_transaction,
    encode_transaction,
    make_policy,
    make_transaction,
    policy_account_key,
    policy_address,
    read_policy,
    signing_bytes,
    unsigned_multisig,
    validate_genesis,
    validate_transaction,
)
from gridledger.ledger.encoding import encode
from gridledger.ledger.multisig import POLICY_NAMESPACE, check_signers, policy_key
from gridledger.node import Node
from tests.community import CHAIN_ID, Community, address, commit_at, key, make_genesis

ISSUER = policy_account_key("issuer")
GRID_POLICY = policy_account_key("grid")
POLICY_MEMBERS = ("operator", "regulator", "alice")
"""The treasurer of the test community is alice."""


def policies(threshold: int = 2, names: tuple[str, ...] = POLICY_MEMBERS) -> dict[str, Any]:
    keys = [key(name).public_key.hex() for name in names]
    return {
        "issuer": {"threshold": threshold, "keys": keys},
        "grid": {"threshold": threshold, "keys": keys},
    }


@pytest.fixture
def community() -> Community:
    return Community.create(make_genesis(parameters={"policies": policies()}))


def mint(to: str = "dave", amount_micro: int = 5_000) -> tuple[str, str, dict[str, Any]]:
    return ("tokens", "mint", {"to": address(to), "amount_micro": amount_micro})


def run(community: Community, raw: bytes) -> tuple[int, str]:
    [receipt] = commit_at(community, community.head.timestamp_ms // 1000 + 1, [raw])
    return receipt.code, receipt.message


def test_genesis_stores_each_policy_under_its_account(community: Community) -> None:
    policy = read_policy(community.state, policy_address("issuer"))
    assert policy is not None
    assert policy.threshold == 2
    assert policy.keys == sorted(key(n).public_key for n in POLICY_MEMBERS)
    assert read_policy(community.state, address("operator")) is None


def test_two_of_three_issue_currency(community: Community) -> None:
    before, supply = community.balance("dave"), community.supply()
    code, message = run(community, community.multisig_tx(ISSUER, ["operator", "alice"], mint()))
    assert code == ResultCode.OK, message
    assert community.balance("dave") == before + 5_000
    assert community.supply() == supply + 5_000
    # the policy account has a nonce of its own, now 1
    assert community.state.get("ledger", f"nonce/{policy_address('issuer')}") == encode(1)


def test_one_of_three_on_a_two_of_three_policy_is_refused(community: Community) -> None:
    supply = community.supply()
    raw = community.multisig_tx(ISSUER, ["regulator"], mint(), nonce=0)
    code, message = run(community, raw)
    assert code == ResultCode.TOO_FEW_SIGNATURES
    assert "needs 2 signatures, the transaction has 1" in message
    assert community.supply() == supply
    assert community.state.get("ledger", f"nonce/{policy_address('issuer')}") is None


def test_the_operator_alone_no_longer_issues(community: Community) -> None:
    code, message = run(community, community.tx("operator", *mint()))
    assert code == ResultCode.NOT_AUTHORISED
    assert "only policy 'issuer' may" in message


def test_a_signer_outside_the_policy_is_refused(community: Community) -> None:
    raw = community.multisig_tx(ISSUER, ["operator", "bob"], mint(), nonce=0)
    code, message = run(community, raw)
    assert code == ResultCode.SIGNER_NOT_IN_POLICY
    assert address("bob") in message


def test_a_policy_nobody_registered_is_unknown(community: Community) -> None:
    raw = community.multisig_tx(policy_account_key("treasury"), ["operator", "regulator"], mint())
    code, message = run(community, raw)
    assert code == ResultCode.UNKNOWN_POLICY
    assert policy_address("treasury") in message


def test_a_member_cannot_send_for_someone_else_with_cosignatures(community: Community) -> None:
    """An ordinary sender has no policy: its own signature must be among them."""
    raw = community.multisig_tx("bob", ["alice", "regulator"], ("tokens", "transfer", {}), nonce=0)
    code, _ = run(community, raw)
    assert code == ResultCode.UNKNOWN_POLICY


def test_a_member_may_send_a_cosigned_ordinary_call(community: Community) -> None:
    args = {"to": address("carol"), "amount_micro": 10}
    raw = community.multisig_tx("bob", ["bob", "regulator"], ("tokens", "transfer", args))
    code, message = run(community, raw)
    assert code == ResultCode.OK, message


def raw_with(signed: SignedTransaction, signatures: list[Cosignature]) -> bytes:
    return encode_transaction(
        SignedTransaction(signed.transaction, MultisigAuthorization(signatures))
    )


def body(nonce: int = 0, sender: bytes = ISSUER) -> Transaction:
    contract, method, args = mint()
    return Transaction(1, CHAIN_ID, sender, nonce, contract, method, args)


def test_the_same_signer_twice_is_refused_before_any_state() -> None:
    message = signing_bytes(body())
    one = Cosignature(key("operator").public_key, key("operator").sign(message))
    raw = raw_with(unsigned_multisig(body()), [one, one])
    with pytest.raises(TransactionError) as refused:
        validate_transaction(raw, CHAIN_ID)
    assert refused.value.code == ResultCode.DUPLICATE_SIGNER


def test_no_signature_at_all_is_too_few() -> None:
    with pytest.raises(TransactionError) as refused:
        validate_transaction(raw_with(unsigned_multisig(body()), []), CHAIN_ID)
    assert refused.value.code == ResultCode.TOO_FEW_SIGNATURES


def test_more_signatures_than_any_policy_may_have_is_refused() -> None:
    message = signing_bytes(body())
    keys = [keypair_from_name(f"signer-{i}", namespace="msig") for i in range(MAX_POLICY_KEYS + 1)]
    signatures = sorted(
        (Cosignature(k.public_key, k.sign(message)) for k in keys), key=lambda c: c.signer
    )
    with pytest.raises(TransactionError) as refused:
        validate_transaction(raw_with(unsigned_multisig(body()), signatures), CHAIN_ID)
    assert refused.value.code == ResultCode.TOO_MANY_SIGNATURES


def test_a_cosignature_over_other_bytes_is_a_bad_signature() -> None:
    other = signing_bytes(body(nonce=7))
    signatures = [
        Cosignature(key("operator").public_key, key("operator").sign(signing_bytes(body()))),
        Cosignature(key("regulator").public_key, key("regulator").sign(other)),
    ]
    with pytest.raises(TransactionError) as refused:
        validate_transaction(raw_with(unsigned_multisig(body()), signatures), CHAIN_ID)
    assert refused.value.code == ResultCode.BAD_SIGNATURE
    assert address("regulator") in str(refused.value)


def test_a_signer_key_of_small_order_is_refused() -> None:
    small_order = bytes(32)  # the identity point's encoding is not a valid key
    raw = raw_with(unsigned_multisig(body()), [Cosignature(small_order, bytes(64))])
    with pytest.raises(TransactionError) as refused:
        validate_transaction(raw, CHAIN_ID)
    assert refused.value.code == ResultCode.INVALID_SENDER_KEY


def test_cosigning_in_any_order_gives_the_same_bytes() -> None:
    first = cosign_transaction(
        cosign_transaction(unsigned_multisig(body()), key("alice")), key("operator")
    )
    second = cosign_transaction(
        cosign_transaction(unsigned_multisig(body()), key("operator")), key("alice")
    )
    assert encode_transaction(first) == encode_transaction(second)
    with pytest.raises(ValueError, match="already signed"):
        cosign_transaction(first, key("alice"))
    assert decode_transaction(encode_transaction(first)) == first


def test_an_ed25519_transaction_keeps_its_bytes() -> None:
    """The ordinary variant's encoding is unchanged: ``["ed25519", signature]``."""
    signed = make_transaction(key("alice"), CHAIN_ID, 0, "tokens", "transfer", {})
    raw = encode_transaction(signed)
    assert raw.endswith(encode(["ed25519", signed.authorization.signature]))


def test_the_policy_changes_itself_and_old_quorums_stop_counting(community: Community) -> None:
    three = [key(n).public_key.hex() for n in ("operator", "regulator", "alice")]
    change = ("policies", "set_policy", {"threshold": 3, "keys": three})
    code, message = run(community, community.multisig_tx(ISSUER, ["operator", "regulator"], change))
    assert code == ResultCode.OK, message
    assert read_policy(community.state, policy_address("issuer")).threshold == 3  # type: ignore[union-attr]
    code, _ = run(
        community, community.multisig_tx(ISSUER, ["operator", "regulator"], mint(), nonce=1)
    )
    assert code == ResultCode.TOO_FEW_SIGNATURES
    code, message = run(
        community, community.multisig_tx(ISSUER, list(POLICY_MEMBERS), mint(), nonce=1)
    )
    assert code == ResultCode.OK, message


@pytest.mark.parametrize(
    ("threshold", "names", "reason", "code"),
    [
        (0, POLICY_MEMBERS, "threshold 0 is outside [1, 3]", "POLICY_THRESHOLD_OUT_OF_RANGE"),
        (4, POLICY_MEMBERS, "threshold 4 is outside [1, 3]", "POLICY_THRESHOLD_OUT_OF_RANGE"),
        (2, ("operator", "operator", "alice"), "a key is named twice", "POLICY_KEY_REPEATED"),
        (
            2,
            tuple(f"k{i}" for i in range(MAX_POLICY_KEYS + 1)),
            "17 keys",
            "POLICY_SIZE_OUT_OF_RANGE",
        ),
        (1, (), "0 keys", "POLICY_SIZE_OUT_OF_RANGE"),
    ],
)
def test_an_unusable_policy_is_refused(
    community: Community, threshold: int, names: tuple[str, ...], reason: str, code: str
) -> None:
    keys = [key(n).public_key.hex() for n in names]
    change = ("policies", "set_policy", {"threshold": threshold, "keys": keys})
    got, message = run(community, community.multisig_tx(ISSUER, ["operator", "alice"], change))
    assert got == ResultCode[code]
    assert reason in message
    with pytest.raises(GenesisError, match=r"parameters\.policies"):
        validate_genesis(make_genesis(parameters={"policies": {"issuer": change[2]}}))


def test_a_member_cannot_set_a_policy(community: Community) -> None:
    three = [key(n).public_key.hex() for n in ("bob", "carol", "dave")]
    raw = community.tx("bob", "policies", "set_policy", {"threshold": 1, "keys": three})
    code, _ = run(community, raw)
    assert code == ResultCode.NOT_A_POLICY_ACCOUNT


def test_the_grid_policy_withdraws_to_a_member(community: Community) -> None:
    assert (
        run(
            community, community.tx("operator", "settlement", "fund_grid", {"amount_micro": 9_000})
        )[0]
        == 0
    )
    operator = community.balance("operator")
    args = {"amount_micro": 4_000, "to": address("operator"), "reference": "utility invoice 7"}
    call = ("settlement", "withdraw_grid", args)
    code, message = run(community, community.multisig_tx(GRID_POLICY, ["regulator", "alice"], call))
    assert code == ResultCode.OK, message
    assert community.balance("operator") == operator + 4_000
    assert balance_of(community.state, GRID) == 5_000
    alone = community.tx("operator", "settlement", "withdraw_grid", {"amount_micro": 1})
    assert run(community, alone)[0] == ResultCode.NOT_AUTHORISED


def test_members_pay_the_issuer_and_it_burns(community: Community) -> None:
    supply = community.supply()
    pay = community.tx(
        "carol", "tokens", "transfer", {"to": policy_address("issuer"), "amount_micro": 700}
    )
    assert run(community, pay)[0] == ResultCode.OK
    burn = ("tokens", "burn", {"amount_micro": 700, "reference": "cash-out carol"})
    code, message = run(community, community.multisig_tx(ISSUER, ["operator", "regulator"], burn))
    assert code == ResultCode.OK, message
    assert community.supply() == supply - 700


def test_a_node_refuses_too_few_signatures_at_admission() -> None:
    genesis = make_genesis(parameters={"policies": policies()})
    node = Node.in_memory(genesis)
    try:
        signed = cosign_transaction(unsigned_multisig(body()), key("operator"))
        with pytest.raises(TransactionError) as refused:
            node.submit(encode_transaction(signed))
        assert refused.value.code == ResultCode.TOO_FEW_SIGNATURES
        both = cosign_transaction(signed, key("regulator"))
        node.submit(encode_transaction(both))
        committed = node.cut_block()
        assert committed is not None and committed.receipts[0].code == ResultCode.OK
    finally:
        node.close()


class DictState:
    def __init__(self) -> None:
        self.values: dict[tuple[str, str], bytes] = {}

    def get(self, namespace: str, key_: str) -> bytes | None:
        return self.values.get((namespace, key_))


KEYS = [keypair_from_name(f"policy-key-{i}", namespace="msig-property") for i in range(6)]


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=1, max_value=6).flatmap(
        lambda n: st.tuples(st.integers(min_value=1, max_value=n), st.just(n))
    ),
    st.sets(st.integers(min_value=0, max_value=5), min_size=1),
)
def test_a_policy_accepts_exactly_its_threshold_of_its_own_keys(
    policy_shape: tuple[int, int], chosen: set[int]
) -> None:
    threshold, size = policy_shape
    state = DictState()
    policy = make_policy("issuer", threshold, [k.public_key for k in KEYS[:size]])
    state.values[(POLICY_NAMESPACE, policy_key(policy_address("issuer")))] = encode(policy)
    signed = unsigned_multisig(body())
    for index in sorted(chosen):
        signed = cosign_transaction(signed, KEYS[index])
    assert isinstance(signed.authorization, MultisigAuthorization)
    validate_transaction(encode_transaction(signed), CHAIN_ID)  # stateless: always fine here
    outsiders = [i for i in chosen if i >= size]
    try:
        check_signers(state, ISSUER, policy_address("issuer"), signed.authorization)
    except TransactionError as error:
        expected = ResultCode.SIGNER_NOT_IN_POLICY if outsiders else ResultCode.TOO_FEW_SIGNATURES
        assert error.code == expected
        assert outsiders or len(chosen) < threshold
    else:
        assert not outsiders and len(chosen) >= threshold


def test_a_policy_key_that_is_no_key_is_invalid(community: Community) -> None:
    keys = [key("operator").public_key.hex(), "00" * 32]
    change = ("policies", "set_policy", {"threshold": 1, "keys": keys})
    code, message = run(community, community.multisig_tx(ISSUER, ["operator", "alice"], change))
    assert code == ResultCode.INVALID_POLICY
    assert "not usable" in message
    change = ("policies", "set_policy", {"threshold": 1, "keys": ["xyz"]})
    code, message = run(
        community, community.multisig_tx(ISSUER, ["operator", "alice"], change, nonce=1)
    )
    assert code == ResultCode.INVALID_POLICY
    assert "not hexadecimal" in message
