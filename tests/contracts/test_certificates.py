"""Granular certificates of origin: issued at settlement for the metered export, handed to
the buyers with their trades, transferred and retired with claims; no Wh certified twice."""

from __future__ import annotations

from collections import Counter

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.contracts.certificates import (
    claim_count,
    held_wh,
    read_certificate,
    read_claim,
    totals,
)
from gridledger.ledger import Genesis, GenesisError, ResultCode
from gridledger.ledger.genesis import validate_genesis
from gridledger.ledger.state import State
from tests.community import (
    GENESIS_TIME_MS,
    NEXT_PERIOD,
    Community,
    address,
    commit_at,
    gate_closure_s,
    make_genesis,
    meter_key_hex,
    meter_window_close_s,
    order_args,
    period_start_s,
    reading_args,
    run_at,
)

P = NEXT_PERIOD
T0 = GENESIS_TIME_MS // 1000 + 10
READINGS = period_start_s(P + 1) + 60
SETTLE = meter_window_close_s(P)
LATER = SETTLE + 60


def certifying_genesis(enabled: bool = True) -> Genesis:
    genesis = make_genesis(parameters={"certificates": {"enabled": enabled}})
    members = [
        msgspec.structs.replace(m, registration={"generation_type": "solar"})
        if m.name == "alice"
        else m
        for m in genesis.members
    ]
    return msgspec.structs.replace(genesis, members=members)


def with_meters(genesis: Genesis) -> Community:
    community = Community.create(genesis)
    receipts = commit_at(
        community,
        T0 - 5,
        [
            community.tx(
                "operator",
                "membership",
                "bind_meter",
                {"member": address(name), "meter_key": meter_key_hex(f"{name}-meter-1")},
            )
            for name in ("bob", "carol", "dave")
        ]
        + [community.tx("operator", "settlement", "fund_grid", {"amount_micro": 9_500_000})],
    )
    assert all(r.ok for r in receipts), [r.message for r in receipts]
    return community


def trade_and_settle(
    community: Community,
    sells: list[tuple[str, int]],
    buys: list[tuple[str, int]],
    readings: dict[str, tuple[int, int]],
) -> None:
    """Orders (sells at 700_000, buys at 900_000), the clear, readings, settlement."""
    raws = [
        community.tx(n, "market", "place_order", order_args("sell", wh, 700_000, P))
        for n, wh in sells
    ] + [
        community.tx(n, "market", "place_order", order_args("buy", wh, 900_000, P))
        for n, wh in buys
    ]
    receipts = commit_at(community, T0, raws)
    assert all(r.ok for r in receipts), [r.message for r in receipts]
    assert run_at(community, gate_closure_s(P), "dave", "market", "clear", {"period": P}).ok
    raws = [
        community.tx(n, "metering", "record_reading", reading_args(f"{n}-meter-1", n, P, e, i))
        for n, (e, i) in readings.items()
    ]
    receipts = commit_at(community, READINGS, raws)
    assert all(r.ok for r in receipts), [r.message for r in receipts]
    settled = run_at(community, SETTLE, "operator", "settlement", "settle", {"period": P})
    assert settled.ok, settled.message


def holdings(state: State) -> dict[tuple[str, int, str], int]:
    found = {}
    for key in state.keys_with_prefix("certificates", "holding/"):
        _, holder, period, producer = key.split("/")
        found[(holder, int(period), producer)] = held_wh(state, holder, int(period), producer)
    return found


def accounted(state: State) -> None:
    """Every certificate's Wh: held + retired = issued."""
    per_certificate: Counter[tuple[int, str]] = Counter()
    for (_, period, producer), wh in holdings(state).items():
        per_certificate[(period, producer)] += wh
    for number in range(claim_count(state)):
        claim = read_claim(state, number)
        assert claim is not None
        per_certificate[(claim.period, claim.producer)] += claim.energy_wh
    for period, producer in per_certificate:
        certificate = read_certificate(state, period, producer)
        assert certificate is not None
        assert per_certificate[(period, producer)] == certificate.energy_wh


@pytest.fixture
def community() -> Community:
    community = with_meters(certifying_genesis())
    # alice sells 2000 Wh to carol and delivers 1500; bob sells nothing and exports 700
    trade_and_settle(
        community,
        sells=[("alice", 2000)],
        buys=[("carol", 2000)],
        readings={"alice": (1500, 0), "bob": (700, 0), "carol": (0, 2300)},
    )
    return community


def test_settlement_certifies_the_metered_export_and_hands_it_to_the_buyer(
    community: Community,
) -> None:
    alice = read_certificate(community.state, P, address("alice"))
    assert alice is not None
    assert (alice.energy_wh, alice.technology) == (1500, "solar")
    bob = read_certificate(community.state, P, address("bob"))
    assert bob is not None and (bob.energy_wh, bob.technology) == (700, "unspecified")
    assert read_certificate(community.state, P, address("carol")) is None  # exported nothing
    assert holdings(community.state) == {
        (address("carol"), P, address("alice")): 1500,  # all alice delivered went to carol
        (address("bob"), P, address("bob")): 700,  # bob's surplus stays his
    }
    assert totals(community.state).certified_wh == 2200
    assert totals(community.state).to_buyers_wh == 1500
    accounted(community.state)


def test_holders_transfer_and_retire_with_a_claim(community: Community) -> None:
    alice = address("alice")
    moved = run_at(
        community,
        LATER,
        "carol",
        "certificates",
        "transfer",
        {"to": address("dave"), "period": P, "producer": alice, "energy_wh": 500},
    )
    assert moved.ok, moved.message
    retired = run_at(
        community,
        LATER + 1,
        "carol",
        "certificates",
        "retire",
        {
            "period": P,
            "producer": alice,
            "energy_wh": 1000,
            "beneficiary": "carol's household",
            "purpose": "household consumption",
        },
    )
    assert retired.ok, retired.message
    claim = read_claim(community.state, 0)
    assert claim is not None
    assert (claim.holder, claim.energy_wh, claim.technology) == (address("carol"), 1000, "solar")
    assert claim.beneficiary == "carol's household"
    assert held_wh(community.state, address("carol"), P, alice) == 0
    assert held_wh(community.state, address("dave"), P, alice) == 500
    assert totals(community.state).transferred_wh == 500
    assert totals(community.state).retired_wh == 1000
    accounted(community.state)


@pytest.mark.parametrize(
    ("method", "args", "code"),
    [
        ("transfer", {"to": "dave", "energy_wh": 1501}, ResultCode.CERTIFICATE_SHORT),
        ("transfer", {"to": "carol", "energy_wh": 1}, ResultCode.SELF_TRANSFER),
        ("transfer", {"to": "erin", "energy_wh": 1}, ResultCode.MEMBER_NOT_ACTIVE),
        ("transfer", {"to": "dave", "energy_wh": 0}, ResultCode.ENERGY_OUT_OF_RANGE),
        (
            "transfer",
            {"to": "dave", "energy_wh": 1, "period": P + 1},
            ResultCode.UNKNOWN_CERTIFICATE,
        ),
        ("transfer", {"to": "dave", "energy_wh": 1, "period": -1}, ResultCode.UNKNOWN_CERTIFICATE),
        ("retire", {"energy_wh": 1, "beneficiary": ""}, ResultCode.TEXT_LENGTH_OUT_OF_RANGE),
        ("retire", {"energy_wh": 1, "purpose": "x" * 201}, ResultCode.TEXT_LENGTH_OUT_OF_RANGE),
        ("retire", {"energy_wh": 1501}, ResultCode.CERTIFICATE_SHORT),
        ("retire", {"energy_wh": -5}, ResultCode.ENERGY_OUT_OF_RANGE),
    ],
)
def test_bad_transfers_and_retirements_are_refused_and_change_nothing(
    community: Community, method: str, args: dict[str, object], code: ResultCode
) -> None:
    full: dict[str, object] = {"period": P, "producer": address("alice")}
    if method == "retire":
        full.update(beneficiary="carol", purpose="consumption")
    full.update(args)
    if "to" in full:
        full["to"] = address(str(full["to"]))
    before = holdings(community.state), totals(community.state)
    receipt = run_at(community, LATER, "carol", "certificates", method, full)
    assert receipt.code == code, receipt.message
    assert (holdings(community.state), totals(community.state)) == before


def test_a_community_without_certificates_issues_none_and_refuses_their_methods() -> None:
    community = with_meters(certifying_genesis(enabled=False))
    trade_and_settle(community, [("alice", 1000)], [("carol", 1000)], {"alice": (1000, 0)})
    assert read_certificate(community.state, P, address("alice")) is None
    assert community.state.keys_with_prefix("certificates", "") == []
    receipt = run_at(
        community,
        LATER,
        "carol",
        "certificates",
        "retire",
        {
            "period": P,
            "producer": address("alice"),
            "energy_wh": 1,
            "beneficiary": "c",
            "purpose": "p",
        },
    )
    assert receipt.code == ResultCode.CERTIFICATES_DISABLED


# -- property: no Wh is ever certified twice ---------------------------------------------

SELLERS = ("alice", "bob")
BUYERS = ("carol", "dave")
"""Buyers' orders stay within their balances (carol 2 units, dave 0.25) at 900_000/kWh."""


@settings(max_examples=20, deadline=None)
@given(
    sells=st.lists(st.tuples(st.sampled_from(SELLERS), st.integers(1, 3000)), max_size=3),
    buys=st.lists(
        st.tuples(st.just("carol"), st.integers(1, 700))
        | st.tuples(st.just("dave"), st.integers(1, 90)),
        max_size=3,
    ),
    exports=st.tuples(*(st.integers(0, 3000) for _ in range(4))),
    moves=st.lists(
        st.tuples(
            st.sampled_from(SELLERS + BUYERS),
            st.sampled_from(SELLERS + BUYERS),
            st.sampled_from(SELLERS),
            st.integers(1, 2000),
            st.booleans(),
        ),
        max_size=6,
    ),
)
def test_no_wh_is_ever_certified_twice(
    sells: list[tuple[str, int]],
    buys: list[tuple[str, int]],
    exports: tuple[int, int, int, int],
    moves: list[tuple[str, str, str, int, bool]],
) -> None:
    community = with_meters(certifying_genesis())
    names = ("alice", "bob", "carol", "dave")
    readings = {name: (exported, 100) for name, exported in zip(names, exports, strict=True)}
    trade_and_settle(community, sells, buys, readings)
    # each producer's certificate is exactly its metered export, and nothing else is certified
    certified = 0
    for name, exported in readings.items():
        certificate = read_certificate(community.state, P, address(name))
        assert (certificate.energy_wh if certificate else 0) == exported[0]
        certified += exported[0]
    assert totals(community.state).certified_wh == certified
    accounted(community.state)
    # holders move and retire Wh at will; a certificate's Wh never grow
    for step, (sender, recipient, producer, wh, retire) in enumerate(moves):
        common = {"period": P, "producer": address(producer), "energy_wh": wh}
        if retire:
            args = {**common, "beneficiary": sender, "purpose": "test"}
            run_at(community, LATER + step, sender, "certificates", "retire", args)
        else:
            args = {**common, "to": address(recipient)}
            run_at(community, LATER + step, sender, "certificates", "transfer", args)
        accounted(community.state)
    # settling the period again certifies nothing more
    again = run_at(community, LATER + 100, "operator", "settlement", "settle", {"period": P})
    assert again.code == ResultCode.PERIOD_ALREADY_SETTLED
    assert totals(community.state).certified_wh == certified


@pytest.mark.parametrize("enabled", ["yes", 1, None])
def test_genesis_refuses_a_switch_that_is_not_true_or_false(enabled: object) -> None:
    with pytest.raises(GenesisError, match=r"certificates\.enabled"):
        validate_genesis(make_genesis(parameters={"certificates": {"enabled": enabled}}))
