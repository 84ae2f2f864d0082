"""The pricing contract on a real chain: the operator posts a period price strictly inside
the band in force, may replace it until gate closure, and nobody else may post."""

from __future__ import annotations

from typing import Any

import pytest

from gridledger.contracts.pricing import HORIZON_SECONDS, posted_price
from gridledger.ledger import ResultCode
from tests.community import (
    GENESIS_TIME_MS,
    NEXT_PERIOD,
    Community,
    address,
    gate_closure_s,
    make_genesis,
    period_start_s,
    run_at,
)

P = NEXT_PERIOD
T0 = GENESIS_TIME_MS // 1000 + 10
GATE = gate_closure_s(P)


def post_args(
    price: int = 812_000, supply_wh: int = 24_540, demand_wh: int = 28_500, period: int = P
) -> dict[str, Any]:
    return {
        "period": period,
        "price_micro_per_kwh": price,
        "supply_wh": supply_wh,
        "demand_wh": demand_wh,
    }


def post(community: Community, seconds: int, sender: str = "operator", **kw: Any) -> Any:
    return run_at(community, seconds, sender, "pricing", "post_price", post_args(**kw))


@pytest.fixture
def community() -> Community:
    return Community.create()  # feed-in 770_000, grid 850_000


def test_operator_posts_a_price_and_it_can_be_read_back(community: Community) -> None:
    receipt = post(community, T0)
    assert receipt.ok, receipt.message
    posted = posted_price(community.state, P)
    assert posted is not None
    assert (posted.period, posted.price_micro_per_kwh) == (P, 812_000)
    assert (posted.supply_wh, posted.demand_wh) == (24_540, 28_500)
    assert posted.operator == address("operator")
    assert posted.revision == 0
    assert posted.timestamp_ms == T0 * 1000
    assert posted_price(community.state, P + 1) is None


def test_price_can_be_replaced_until_gate_closure_then_is_firm(community: Community) -> None:
    assert post(community, T0).ok
    replaced = post(community, GATE - 1, price=813_500)
    assert replaced.ok, replaced.message
    posted = posted_price(community.state, P)
    assert posted is not None
    assert (posted.price_micro_per_kwh, posted.revision) == (813_500, 1)
    late = post(community, GATE, price=820_000)
    assert late.code == ResultCode.POSTING_CLOSED
    assert "gate" in late.message
    assert posted_price(community.state, P) == posted


@pytest.mark.parametrize("price", [770_000, 769_999, 850_000, 900_000, 0, -1])
def test_price_must_be_strictly_inside_the_band(community: Community, price: int) -> None:
    receipt = post(community, T0, price=price)
    assert receipt.code == ResultCode.PRICE_OUTSIDE_BAND
    assert "strictly between the feed-in price 770000 and the grid price 850000" in receipt.message
    assert posted_price(community.state, P) is None


@pytest.mark.parametrize("price", [770_001, 849_999])
def test_the_band_edges_inside_are_accepted(community: Community, price: int) -> None:
    assert post(community, T0, price=price).ok


def test_the_band_is_the_one_in_force_for_the_period() -> None:
    community = Community.create(
        make_genesis(
            parameters={
                "market": {
                    "feed_in_price_micro_per_kwh": 500_000,
                    "grid_price_micro_per_kwh": 600_000,
                }
            }
        )
    )
    assert post(community, T0, price=550_000).ok
    refused = post(community, T0 + 1, price=812_000)
    assert refused.code == ResultCode.PRICE_OUTSIDE_BAND
    assert "500000" in refused.message and "600000" in refused.message


@pytest.mark.parametrize(
    ("supply_wh", "demand_wh"), [(0, 1_000), (1_000, 0), (-5, 10), (1, 10**10)]
)
def test_a_period_without_both_sides_is_not_priced(
    community: Community, supply_wh: int, demand_wh: int
) -> None:
    receipt = post(community, T0, supply_wh=supply_wh, demand_wh=demand_wh)
    assert receipt.code == ResultCode.NOTHING_TO_PRICE
    assert "needs sellers and buyers" in receipt.message
    assert receipt.details == {"supply_wh": supply_wh, "demand_wh": demand_wh}


@pytest.mark.parametrize("sender", ["alice", "carol", "regulator"])
def test_only_the_operator_posts(community: Community, sender: str) -> None:
    receipt = post(community, T0, sender=sender)
    assert receipt.code == ResultCode.NOT_AUTHORISED
    assert posted_price(community.state, P) is None


def test_outsiders_cannot_post(community: Community) -> None:
    assert post(community, T0, sender="mallory").code == ResultCode.NOT_A_MEMBER


def test_past_periods_and_periods_beyond_the_horizon_are_refused(community: Community) -> None:
    past = post(community, T0, period=P - 1)
    assert past.code == ResultCode.POSTING_CLOSED
    far = P + HORIZON_SECONDS // 3600 + 1
    assert period_start_s(far) - T0 > HORIZON_SECONDS
    assert post(community, T0 + 1, period=far).code == ResultCode.POSTING_CLOSED
    assert post(community, T0 + 2, period=-3).code == ResultCode.POSTING_CLOSED


def test_unknown_argument_is_refused_before_the_contract(community: Community) -> None:
    receipt = run_at(
        community, T0, "operator", "pricing", "post_price", {**post_args(), "weight": 1}
    )
    assert receipt.code == ResultCode.INVALID_ARGUMENTS
