"""The tokens contract: transfers between members, minting and burning by the issuer only,
balances that never go negative, and a supply that always equals the sum of balances."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.contracts import default_registry
from gridledger.contracts.errors import AmountOutOfRange
from gridledger.contracts.tokens import (
    balance_of,
    issuer_roles,
    move,
    total_supply,
)
from gridledger.ledger import (
    InsufficientFunds,
    ResultCode,
    encode,
    genesis_block,
)
from gridledger.ledger.encoding import MAX_INTEGER
from gridledger.ledger.execution import Context
from gridledger.ledger.state import Overlay
from tests.community import (
    CHAIN_ID,
    FOUNDERS,
    Community,
    address,
    balances,
    key,
    make_genesis,
)

OPENING_SUPPLY = sum(balance for _, balance in FOUNDERS.values())


@pytest.fixture
def community() -> Community:
    return Community.create()


def assert_conserved(community: Community) -> None:
    held = balances(community.state)
    assert all(amount > 0 for amount in held.values())
    assert community.supply() == sum(held.values())


def test_genesis_balances_and_supply(community: Community) -> None:
    for name, (_, balance) in FOUNDERS.items():
        assert community.balance(name) == balance
    assert community.supply() == OPENING_SUPPLY
    assert issuer_roles(community.state) == ("operator",)
    assert_conserved(community)


def test_transfer_moves_exactly_the_amount(community: Community) -> None:
    receipt = community.run(
        "carol", "tokens", "transfer", {"to": address("alice"), "amount_micro": 123, "memo": "tea"}
    )
    assert receipt.ok, receipt.message
    assert community.balance("carol") == 2_000_000 - 123
    assert community.balance("alice") == 1_000_000 + 123
    assert community.supply() == OPENING_SUPPLY
    [event] = receipt.events
    assert (event.contract, event.name) == ("tokens", "transferred")
    assert event.attributes == {
        "source": address("carol"),
        "target": address("alice"),
        "amount_micro": 123,
        "memo": "tea",
    }
    assert_conserved(community)


def test_transfer_to_an_empty_account_creates_it(community: Community) -> None:
    assert community.balance("regulator") == 0
    assert community.run(
        "bob", "tokens", "transfer", {"to": address("regulator"), "amount_micro": 1}
    ).ok
    assert community.balance("regulator") == 1
    assert_conserved(community)


def test_transferring_the_whole_balance_removes_the_account(community: Community) -> None:
    receipt = community.run(
        "dave", "tokens", "transfer", {"to": address("carol"), "amount_micro": 250_000}
    )
    assert receipt.ok, receipt.message
    assert community.balance("dave") == 0
    assert community.state.get("tokens", f"balance/{address('dave')}") is None
    assert_conserved(community)


def test_balances_never_go_negative(community: Community) -> None:
    before = dict(community.state.items())
    receipt = community.run(
        "dave", "tokens", "transfer", {"to": address("carol"), "amount_micro": 250_001}
    )
    assert receipt.code == ResultCode.INSUFFICIENT_FUNDS
    assert address("dave") in receipt.message
    assert "250000" in receipt.message and "250001" in receipt.message
    after = dict(community.state.items())
    assert {k for k in after if before.get(k) != after[k]} == {
        ("ledger", f"nonce/{address('dave')}")
    }
    assert community.balance("dave") == 250_000


def test_a_member_without_funds_cannot_pay(community: Community) -> None:
    receipt = community.run(
        "regulator", "tokens", "transfer", {"to": address("carol"), "amount_micro": 1}
    )
    assert receipt.code == ResultCode.INSUFFICIENT_FUNDS
    assert "has 0 micro-units, needs 1" in receipt.message


def test_two_payments_in_one_block_see_each_other(community: Community) -> None:
    first = community.tx(
        "dave", "tokens", "transfer", {"to": address("carol"), "amount_micro": 200_000}
    )
    second = community.tx(
        "dave", "tokens", "transfer", {"to": address("bob"), "amount_micro": 100_000}
    )
    _, execution = community.commit([first, second])
    assert [r.code for r in execution.receipts] == [ResultCode.OK, ResultCode.INSUFFICIENT_FUNDS]
    assert "has 50000 micro-units, needs 100000" in execution.receipts[1].message
    assert community.balance("dave") == 50_000
    assert_conserved(community)


@pytest.mark.parametrize(
    "args, fragment, expected",
    [
        (
            {"to": address("bob"), "amount_micro": 0},
            "amount 0 micro-units outside [1, ",
            ResultCode.AMOUNT_OUT_OF_RANGE,
        ),
        (
            {"to": address("bob"), "amount_micro": -5},
            "amount -5 micro-units outside [1, ",
            ResultCode.AMOUNT_OUT_OF_RANGE,
        ),
        (
            {"to": address("alice"), "amount_micro": 5},
            "cannot transfer to itself",
            ResultCode.SELF_TRANSFER,
        ),
        (
            {"to": address("frank"), "amount_micro": 5},
            "not an active member (status: unknown)",
            ResultCode.MEMBER_NOT_ACTIVE,
        ),
        (
            {"to": "grid", "amount_micro": 5},
            "grid is not an active member",
            ResultCode.MEMBER_NOT_ACTIVE,
        ),
        (
            {"to": address("bob"), "amount_micro": 5, "memo": "m" * 257},
            "memo is 257 characters; it must be 0 to 256",
            ResultCode.TEXT_LENGTH_OUT_OF_RANGE,
        ),
    ],
)
def test_transfer_rules(
    community: Community, args: dict[str, object], fragment: str, expected: ResultCode
) -> None:
    before = balances(community.state)
    receipt = community.run("alice", "tokens", "transfer", dict(args))
    assert receipt.code == expected
    assert fragment in receipt.message
    assert balances(community.state) == before
    assert community.nonce("alice") == 1


def test_a_memo_of_256_characters_is_accepted(community: Community) -> None:
    receipt = community.run(
        "alice", "tokens", "transfer", {"to": address("bob"), "amount_micro": 5, "memo": "m" * 256}
    )
    assert receipt.ok, receipt.message


def test_transfer_to_a_pending_applicant_is_refused(community: Community) -> None:
    assert community.apply_as("erin", "consumer").ok
    receipt = community.run(
        "alice", "tokens", "transfer", {"to": address("erin"), "amount_micro": 5}
    )
    assert receipt.code == ResultCode.MEMBER_NOT_ACTIVE
    assert "pending" in receipt.message
    assert receipt.details == {"address": address("erin"), "member_status": "pending"}


# --- mint and burn ----------------------------------------------------------------------------


def test_the_issuer_mints_for_a_member(community: Community) -> None:
    receipt = community.run(
        "operator",
        "tokens",
        "mint",
        {"to": address("dave"), "amount_micro": 40_000, "reference": "bank-ref-1"},
    )
    assert receipt.ok, receipt.message
    assert community.balance("dave") == 290_000
    assert community.supply() == OPENING_SUPPLY + 40_000
    [event] = receipt.events
    assert event.name == "minted"
    assert event.attributes == {
        "to": address("dave"),
        "amount_micro": 40_000,
        "reference": "bank-ref-1",
    }
    assert_conserved(community)


@pytest.mark.parametrize("minter", ["regulator", "alice", "carol"])
def test_only_the_issuer_mints(community: Community, minter: str) -> None:
    receipt = community.run(
        minter, "tokens", "mint", {"to": address(minter), "amount_micro": 1_000}
    )
    assert receipt.code == ResultCode.NOT_AUTHORISED
    assert address(minter) in receipt.message
    assert f"role {FOUNDERS[minter][0]}" in receipt.message and "mint currency" in receipt.message
    assert community.supply() == OPENING_SUPPLY


@pytest.mark.parametrize("burner", ["regulator", "alice", "carol"])
def test_only_the_issuer_burns(community: Community, burner: str) -> None:
    receipt = community.run(burner, "tokens", "burn", {"amount_micro": 1})
    assert receipt.code == ResultCode.NOT_AUTHORISED
    assert "burn currency" in receipt.message
    assert community.supply() == OPENING_SUPPLY


def test_an_outsider_cannot_mint(community: Community) -> None:
    receipt = community.run("frank", "tokens", "mint", {"to": address("frank"), "amount_micro": 1})
    assert receipt.code == ResultCode.NOT_A_MEMBER


@pytest.mark.parametrize(
    "args, fragment, expected",
    [
        (
            {"to": address("dave"), "amount_micro": 0},
            "outside [1, ",
            ResultCode.AMOUNT_OUT_OF_RANGE,
        ),
        (
            {"to": address("frank"), "amount_micro": 5},
            "is not an active member",
            ResultCode.MEMBER_NOT_ACTIVE,
        ),
        (
            {"to": address("dave"), "amount_micro": MAX_INTEGER},
            f"would exceed {MAX_INTEGER}",
            ResultCode.SUPPLY_OVERFLOW,
        ),
    ],
)
def test_mint_rules(
    community: Community, args: dict[str, object], fragment: str, expected: ResultCode
) -> None:
    receipt = community.run("operator", "tokens", "mint", dict(args))
    assert receipt.code == expected
    assert fragment in receipt.message
    assert community.supply() == OPENING_SUPPLY


def test_minting_up_to_the_64_bit_limit_is_allowed(community: Community) -> None:
    room = MAX_INTEGER - OPENING_SUPPLY
    assert community.run(
        "operator", "tokens", "mint", {"to": address("dave"), "amount_micro": room}
    ).ok
    assert community.supply() == MAX_INTEGER
    more = community.run("operator", "tokens", "mint", {"to": address("dave"), "amount_micro": 1})
    assert more.code == ResultCode.SUPPLY_OVERFLOW
    assert more.details == {
        "supply_micro": MAX_INTEGER,
        "amount_micro": 1,
        "maximum_micro": MAX_INTEGER,
    }
    assert_conserved(community)


def test_the_issuer_burns_from_its_own_balance(community: Community) -> None:
    receipt = community.run("operator", "tokens", "burn", {"amount_micro": 3_000_000})
    assert receipt.ok, receipt.message
    assert community.balance("operator") == 7_000_000
    assert community.supply() == OPENING_SUPPLY - 3_000_000
    assert receipt.events[0].name == "burned"
    assert_conserved(community)


def test_the_issuer_cannot_burn_more_than_it_holds(community: Community) -> None:
    receipt = community.run("operator", "tokens", "burn", {"amount_micro": 10_000_001})
    assert receipt.code == ResultCode.INSUFFICIENT_FUNDS
    assert "10000000" in receipt.message and "10000001" in receipt.message
    assert community.supply() == OPENING_SUPPLY


def test_burning_everything_removes_the_account(community: Community) -> None:
    assert community.run("operator", "tokens", "burn", {"amount_micro": 10_000_000}).ok
    assert community.state.get("tokens", f"balance/{address('operator')}") is None
    assert_conserved(community)


def test_issuer_roles_come_from_the_genesis_parameters() -> None:
    genesis = make_genesis(parameters={"tokens": {"issuer_roles": ["regulator"]}})
    community = Community.create(genesis)
    assert issuer_roles(community.state) == ("regulator",)
    assert community.run(
        "regulator", "tokens", "mint", {"to": address("dave"), "amount_micro": 1}
    ).ok
    refused = community.run(
        "operator", "tokens", "mint", {"to": address("dave"), "amount_micro": 1}
    )
    assert refused.code == ResultCode.NOT_AUTHORISED
    assert_conserved(community)


# --- move(), the helper other contracts use ---------------------------------------------------


def contract_context(community: Community) -> Context:
    return Context(
        Overlay(Overlay(community.state)),
        CHAIN_ID,
        community.head.height + 1,
        community.head.timestamp_ms,
        key("operator").public_key,
        b"\x00" * 32,
    )


def test_move_between_members_and_contract_accounts(community: Community) -> None:
    context = contract_context(community)
    move(context, address("carol"), "market:escrow", 500, "order 1")
    assert balance_of(context.overlay, "market:escrow") == 500
    assert balance_of(context.overlay, address("carol")) == 2_000_000 - 500
    [event] = context.events
    assert event.name == "moved"
    assert event.attributes == {
        "source": address("carol"),
        "target": "market:escrow",
        "amount_micro": 500,
        "reason": "order 1",
    }
    move(context, "market:escrow", address("alice"), 500, "trade 1")
    assert context.overlay.get("tokens", "balance/market:escrow") is None
    assert balance_of(context.overlay, address("alice")) == 1_000_500


def test_move_refuses_overdrafts_and_negative_amounts(community: Community) -> None:
    context = contract_context(community)
    with pytest.raises(InsufficientFunds) as raised:
        move(context, "market:escrow", address("alice"), 1, "nothing there")
    assert (raised.value.balance_micro, raised.value.required_micro) == (0, 1)
    assert raised.value.address == "market:escrow"
    with pytest.raises(AmountOutOfRange, match=r"amount -1 micro-units outside \[0, "):
        move(context, address("alice"), address("bob"), -1, "x")
    move(context, address("alice"), address("bob"), 0, "nothing")
    move(context, address("alice"), address("alice"), 5, "to itself")
    assert context.overlay.writes == {}
    assert context.events == []


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["alice", "bob", "carol", "dave", "market:escrow", "grid"]),
            st.sampled_from(["alice", "bob", "carol", "dave", "market:escrow", "grid"]),
            st.integers(0, 2_500_000),
        ),
        max_size=30,
    )
)
def test_moves_conserve_money_and_never_overdraw(moves: list[tuple[str, str, int]]) -> None:
    _, state = genesis_block(make_genesis(), default_registry())
    overlay = Overlay(state)

    def account(name: str) -> str:
        return name if ":" in name or name == "grid" else address(name)

    for source, target, amount in moves:
        context = Context(Overlay(overlay), CHAIN_ID, 1, 0, key("operator").public_key, b"")
        try:
            move(context, account(source), account(target), amount, "property")
        except InsufficientFunds:
            assert balance_of(overlay, account(source)) < amount
            continue
        context.overlay.merge_into_parent()
    state.apply_writes(overlay.writes)
    held = {
        k: balance_of(state, k.removeprefix("balance/"))
        for k in state.keys_with_prefix("tokens", "balance/")
    }
    assert all(amount > 0 for amount in held.values())
    assert sum(held.values()) == total_supply(state) == OPENING_SUPPLY
    assert state.get("tokens", "supply") == encode(OPENING_SUPPLY)
