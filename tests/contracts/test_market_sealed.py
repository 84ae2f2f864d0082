"""Sealed orders in the day-ahead auction on a real chain: commitments and range proofs until
the gate, reveals in the window, one clear with plain orders after it, fees for the silent."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.contracts.market_day_ahead_clearing import NON_REVEAL_FEE_ACCOUNT
from gridledger.contracts.market_day_ahead_state import day_ahead_orders
from gridledger.contracts.market_sealed import sealed_orders_of_day
from gridledger.contracts.market_state import ESCROW, trades_for_period
from gridledger.contracts.settlement import GRID
from gridledger.contracts.tokens import balance_of
from gridledger.crypto.privacy import CURVE_ORDER, encode_scalar, prove_range
from gridledger.ledger import GenesisError, ResultCode
from gridledger.market import SealedOpening, SealedOrder, seal_order
from tests.community import Community, address, balances, make_genesis, run_at

DAY = 19_677
GATE = DAY * 86_400 - 43_200
FIRST = DAY * 24
WINDOW = 600
FEE = 5_000
FEED_IN, CAP = 770_000, 850_000
"""The default bounds (`market_parameters.MarketParameters`)."""


def sealed_community(**market: Any) -> Community:
    parameters = {
        "market": {
            "mechanism": "continuous",
            "day_ahead_gate_seconds": 43_200,
            "sealed_reveal_window_seconds": WINDOW,
            "sealed_non_reveal_fee_micro": FEE,
            **market,
        }
    }
    return Community.create(make_genesis(parameters=parameters))


@pytest.fixture
def community() -> Community:
    return sealed_community()


def seal(
    name: str, side: str, energy: int, price: int, maximum: int = 1_000, period: int = FIRST
) -> tuple[SealedOrder, SealedOpening]:
    return seal_order(address(name), side, period, price, energy, maximum, FEED_IN, CAP)


def place_sealed(community: Community, seconds: int, name: str, order: SealedOrder) -> Any:
    return run_at(
        community, seconds, name, "market", "place_sealed_day_ahead_order", order.place_args()
    )


def reveal(community: Community, seconds: int, name: str, args: dict[str, Any]) -> Any:
    return run_at(community, seconds, name, "market", "reveal_day_ahead_order", args)


def place_plain(community: Community, seconds: int, name: str, side: str, e: int, p: int) -> Any:
    args = {"side": side, "energy_wh": e, "price_micro_per_kwh": p, "period": FIRST}
    return run_at(community, seconds, name, "market", "place_day_ahead_order", args)


def clear(community: Community, seconds: int) -> Any:
    return run_at(community, seconds, "operator", "market", "clear_day_ahead", {"day": DAY})


def trades(community: Community) -> list[Any]:
    """The period's trades without the height they were written at (reveals add blocks)."""
    return [msgspec.structs.replace(t, height=0) for t in trades_for_period(community.state, FIRST)]


def oid(sequence: int) -> str:
    return f"da{DAY}-{sequence}"


def test_the_non_reveal_fee_goes_to_settlements_grid_account() -> None:
    assert NON_REVEAL_FEE_ACCOUNT == GRID


def test_a_community_without_sealed_orders_refuses_them() -> None:
    parameters = {"market": {"mechanism": "continuous", "day_ahead_gate_seconds": 43_200}}
    community = Community.create(make_genesis(parameters=parameters))
    order, _ = seal("carol", "buy", 500, 800_000)
    r = place_sealed(community, GATE - 100, "carol", order)
    assert r.code == ResultCode.SEALED_ORDERS_NOT_OFFERED, r.message


@pytest.mark.parametrize(
    ("market", "match"),
    [
        ({"sealed_reveal_window_seconds": 0}, "must be in"),
        ({"sealed_reveal_window_seconds": 43_200}, "must be in"),
        ({"sealed_reveal_window_seconds": "ten"}, "sealed_reveal_window_seconds"),
        ({"sealed_non_reveal_fee_micro": -1}, "sealed_non_reveal_fee_micro"),
    ],
)
def test_a_genesis_with_bad_sealed_parameters_is_refused(
    market: dict[str, Any], match: str
) -> None:
    with pytest.raises(GenesisError, match=match):
        sealed_community(**market)


def test_sealed_orders_need_the_day_ahead_auction_and_a_window() -> None:
    with pytest.raises(GenesisError, match="day-ahead auction"):
        Community.create(make_genesis(parameters={"market": {"sealed_reveal_window_seconds": 60}}))
    parameters = {"market": {"day_ahead_gate_seconds": 43_200, "sealed_non_reveal_fee_micro": 1}}
    with pytest.raises(GenesisError, match="needs sealed_reveal_window_seconds"):
        Community.create(make_genesis(parameters=parameters))


def test_sealed_and_plain_orders_clear_together_as_plain_orders_would(
    community: Community,
) -> None:
    """The same book, once with carol's and alice's orders sealed, once all plain: the same
    trades, the same balances, and nothing about the sealed ones visible before the gate."""
    plain = sealed_community()
    supply = community.supply()
    carol_before = community.balance("carol")
    buy, buy_opening = seal("carol", "buy", 1_000, 840_000, maximum=1_500)
    sell, sell_opening = seal("alice", "sell", 1_100, 780_000, maximum=2_000)
    t = GATE - 100
    r = place_sealed(community, t, "carol", buy)
    assert r.ok, r.message
    assert community.balance("carol") == carol_before - (FEE + 1_500 * CAP // 1_000)
    assert place_plain(community, t, "dave", "buy", 200, 790_000).ok
    assert place_sealed(community, t, "alice", sell).ok
    for name, side, energy, price in (
        ("carol", "buy", 1_000, 840_000),
        ("dave", "buy", 200, 790_000),
        ("alice", "sell", 1_100, 780_000),
    ):
        assert place_plain(plain, t, name, side, energy, price).ok
    # before the gate the chain shows commitments only
    shown = {o.order_id: o for o in day_ahead_orders(community.state, DAY)}
    assert (shown[oid(0)].status, shown[oid(0)].price_micro_per_kwh) == ("sealed", 0)
    assert set(sealed_orders_of_day(community.state, DAY)) == {oid(0), oid(2)}
    assert sealed_orders_of_day(community.state, DAY)[oid(0)].price_commitment == (
        buy.price_commitment
    )
    r = clear(community, GATE)
    assert r.code == ResultCode.REVEAL_WINDOW_OPEN, r.message
    assert reveal(community, GATE + 10, "carol", buy_opening.reveal_args(oid(0))).ok
    assert reveal(community, GATE + WINDOW - 1, "alice", sell_opening.reveal_args(oid(2))).ok
    assert clear(community, GATE + WINDOW).ok
    assert clear(plain, GATE + WINDOW).ok
    assert trades(community) == trades(plain)
    assert balances(community.state) == balances(plain.state)
    assert sum(balances(community.state).values()) == supply
    statuses = [o.status for o in day_ahead_orders(community.state, DAY)]
    assert statuses == [o.status for o in day_ahead_orders(plain.state, DAY)]


def test_an_unrevealed_order_is_dropped_and_pays_the_fee(community: Community) -> None:
    supply = community.supply()
    grid = balance_of(community.state, GRID)
    before = community.balance("carol")
    order, opening = seal("carol", "buy", 500, 800_000)
    assert place_sealed(community, GATE - 100, "carol", order).ok
    seller, _ = seal("alice", "sell", 500, 780_000)
    assert place_sealed(community, GATE - 100, "alice", seller).ok
    alice = community.balance("alice")
    assert clear(community, GATE + WINDOW).ok
    assert [o.status for o in day_ahead_orders(community.state, DAY)] == ["unrevealed"] * 2
    assert community.balance("carol") == before - FEE
    r = reveal(community, GATE + WINDOW + 5, "carol", opening.reveal_args(oid(0)))
    assert r.code == ResultCode.REVEAL_WINDOW_CLOSED, r.message
    assert community.balance("alice") == alice  # its deposit was the fee itself
    assert balance_of(community.state, GRID) == grid + 2 * FEE
    assert balance_of(community.state, ESCROW) == 0
    assert trades_for_period(community.state, FIRST) == []
    assert sum(balances(community.state).values()) == supply


def test_a_sealed_order_can_be_cancelled_before_the_gate(community: Community) -> None:
    before = community.balance("carol")
    order, _ = seal("carol", "buy", 500, 800_000)
    assert place_sealed(community, GATE - 100, "carol", order).ok
    r = run_at(
        community, GATE - 50, "carol", "market", "cancel_day_ahead_order", {"order_id": oid(0)}
    )
    assert r.ok, r.message
    assert community.balance("carol") == before


def test_a_sealed_order_after_the_gate_is_refused(community: Community) -> None:
    order, _ = seal("carol", "buy", 500, 800_000)
    r = place_sealed(community, GATE, "carol", order)
    assert r.code == ResultCode.DAY_AHEAD_GATE_CLOSED, r.message


def test_a_proof_for_a_different_range_is_refused(community: Community) -> None:
    order, opening = seal("carol", "buy", 500, 800_000)
    wider = prove_range(
        opening.price_micro_per_kwh, opening.price_blinding, FEED_IN - 1, CAP
    ).encode()
    args = {**order.place_args(), "price_proof": wider.hex()}
    r = run_at(community, GATE - 100, "carol", "market", "place_sealed_day_ahead_order", args)
    assert r.code == ResultCode.RANGE_PROOF_RANGE_MISMATCH, r.message
    assert "[769999, 850000]" in r.message


def test_a_commitment_off_the_curve_is_refused(community: Community) -> None:
    order, _ = seal("carol", "buy", 500, 800_000)
    off_curve = "02" + "00" * 31 + "05"  # x = 5: 5^3 + 7 = 132 has no square root mod p
    args = {**order.place_args(), "energy_commitment": off_curve}
    r = run_at(community, GATE - 100, "carol", "market", "place_sealed_day_ahead_order", args)
    assert r.code == ResultCode.INVALID_PEDERSEN_COMMITMENT, r.message
    assert "energy_commitment" in r.message
    args = {**order.place_args(), "price_commitment": "zz"}
    r = run_at(community, GATE - 99, "carol", "market", "place_sealed_day_ahead_order", args)
    assert r.code == ResultCode.NOT_HEX, r.message


def test_a_proof_copied_into_another_members_order_is_refused(community: Community) -> None:
    order, _ = seal("carol", "buy", 200, 800_000)
    r = place_sealed(community, GATE - 100, "dave", order)
    assert r.code == ResultCode.INVALID_RANGE_PROOF, r.message


def test_reveal_refusals(community: Community) -> None:
    order, opening = seal("carol", "buy", 500, 800_000)
    assert place_sealed(community, GATE - 100, "carol", order).ok
    assert place_plain(community, GATE - 100, "dave", "buy", 100, 800_000).ok
    good = opening.reveal_args(oid(0))
    r = reveal(community, GATE - 1, "carol", good)
    assert r.code == ResultCode.REVEAL_BEFORE_GATE, r.message
    r = reveal(community, GATE, "dave", good)
    assert r.code == ResultCode.NOT_ORDER_OWNER, r.message
    r = reveal(community, GATE, "carol", {**good, "price_micro_per_kwh": 800_001})
    assert r.code == ResultCode.OPENING_MISMATCH, r.message
    assert "price 800001" in r.message
    r = reveal(community, GATE, "carol", {**good, "energy_wh": 499})
    assert r.code == ResultCode.OPENING_MISMATCH, r.message
    r = reveal(community, GATE, "dave", opening.reveal_args(oid(1)))
    assert r.code == ResultCode.ORDER_NOT_SEALED, r.message
    r = reveal(community, GATE, "carol", {**good, "order_id": "da1-1"})
    assert r.code == ResultCode.UNKNOWN_ORDER, r.message
    r = reveal(community, GATE + WINDOW, "carol", good)
    assert r.code == ResultCode.REVEAL_WINDOW_CLOSED, r.message


def test_a_second_reveal_is_refused(community: Community) -> None:
    order, opening = seal("carol", "buy", 500, 800_000)
    assert place_sealed(community, GATE - 100, "carol", order).ok
    assert reveal(community, GATE, "carol", opening.reveal_args(oid(0))).ok
    r = reveal(community, GATE + 1, "carol", opening.reveal_args(oid(0)))
    assert r.code == ResultCode.ORDER_NOT_OPEN, r.message


@pytest.fixture(scope="module")
def placed() -> tuple[Community, SealedOrder, SealedOpening]:
    community = sealed_community()
    order, opening = seal("carol", "buy", 500, 800_000)
    assert place_sealed(community, GATE - 100, "carol", order).ok
    return community, order, opening


@pytest.fixture(scope="module")
def placing() -> tuple[Community, SealedOrder, SealedOpening]:
    """A second community for placements before the gate (`placed` goes past it)."""
    community = sealed_community()
    order, opening = seal("carol", "buy", 500, 800_000)
    return community, order, opening


@settings(max_examples=20, deadline=None)
@given(
    price=st.integers(0, 10**9),
    energy=st.integers(0, 10**6),
    blinding=st.integers(1, CURVE_ORDER - 1),
)
def test_a_reveal_that_does_not_open_the_commitment_is_refused(
    placed: tuple[Community, SealedOrder, SealedOpening], price: int, energy: int, blinding: int
) -> None:
    community, _, opening = placed
    wrong = SealedOpening(price, blinding, energy, blinding)
    if wrong == opening:  # pragma: no cover - probability 2^-256
        return
    r = reveal(community, GATE, "carol", wrong.reveal_args(oid(0)))
    assert r.code == ResultCode.OPENING_MISMATCH, r.message


FIELDS = ("price_commitment", "price_proof", "energy_commitment", "energy_proof")


@settings(max_examples=25, deadline=None)
@given(field=st.sampled_from(FIELDS), data=st.data())
def test_flipping_any_byte_of_a_commitment_or_proof_fails(
    placing: tuple[Community, SealedOrder, SealedOpening], field: str, data: st.DataObject
) -> None:
    community, order, _ = placing
    args = order.place_args()
    raw = bytearray(bytes.fromhex(str(args[field])))
    index = data.draw(st.integers(0, len(raw) - 1), label="index")
    raw[index] ^= data.draw(st.integers(1, 255), label="mask")
    r = run_at(
        community,
        GATE - 50,
        "carol",
        "market",
        "place_sealed_day_ahead_order",
        {**args, field: raw.hex()},
    )
    assert not r.ok
    assert r.code in {
        ResultCode.INVALID_PEDERSEN_COMMITMENT,
        ResultCode.INVALID_RANGE_PROOF,
        ResultCode.RANGE_PROOF_RANGE_MISMATCH,
    }, r.message


def test_blindings_are_64_hex_digits() -> None:
    _, opening = seal("carol", "buy", 500, 800_000)
    args = opening.reveal_args(oid(0))
    assert args["price_blinding"] == encode_scalar(opening.price_blinding).hex()
    assert len(str(args["energy_blinding"])) == 64
