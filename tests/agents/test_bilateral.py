"""Seed 001's seller and buyer agents, through the protocol, onto the market contract."""

from __future__ import annotations

import random

import msgspec
import pytest

from gridledger.agents.bilateral import (
    BilateralBuyer,
    BilateralSeller,
    OfferTerms,
    agree_arguments,
    agreement_message_for,
    offer_from_record,
)
from gridledger.agents.interfaces import MarketView, PriceBand
from gridledger.contracts.market_bilateral import offers_for_period
from gridledger.contracts.market_state import NAMESPACE as MARKET
from gridledger.crypto import is_valid_signature
from gridledger.market.negotiation import Agreement, negotiate, window_before_gate
from tests.community import (
    CHAIN_ID,
    GATE_CLOSURE_SECONDS,
    NEXT_PERIOD,
    PERIOD_SECONDS,
    Community,
    address,
    key,
    run_at,
)

BAND = PriceBand(
    feed_in_micro_per_kwh=770_000, grid_micro_per_kwh=850_000, cap_micro_per_kwh=850_000
)


def view(surplus_wh: int = 0, deficit_wh: int = 0) -> MarketView:
    return MarketView(NEXT_PERIOD + 1, BAND, (), surplus_wh, deficit_wh)


def test_seller_offers_its_surplus_with_the_ask_placed_between_cost_and_grid() -> None:
    seller = BilateralSeller(780_000, opening_position=0.75)
    # floor max(cost 780,000, feed-in 770,000) = 780,000; ceiling 850,000;
    # ask = 780,000 + 0.75 × 70,000 = 832,500
    assert seller.offer_terms(view(surplus_wh=1_500)) == OfferTerms(1_500, 832_500, 780_000)
    assert seller.offer_terms(view(surplus_wh=0)) is None
    assert BilateralSeller(900_000).offer_terms(view(surplus_wh=1_500)) is None  # cost > grid
    assert OfferTerms(1_500, 832_500, 780_000).publish_arguments(9) == {
        "energy_wh": 1_500,
        "price_micro_per_kwh": 832_500,
        "period": 9,
        "production_cost_micro_per_kwh": 780_000,
    }


def test_buyer_asks_for_its_deficit_with_the_grid_price_as_reservation() -> None:
    buyer = BilateralBuyer(opening_position=0.25, concession_permille=300)
    # opening = 770,000 + 0.25 × 80,000 = 790,000
    request = buyer.request(view(deficit_wh=900), "bea")
    assert request is not None
    assert (request.energy_wh, request.grid_price_micro_per_kwh) == (900, 850_000)
    assert (request.opening_bid_micro_per_kwh, request.concession_permille) == (790_000, 300)
    assert buyer.request(view(deficit_wh=0), "bea") is None


def test_bad_tactics_are_refused() -> None:
    with pytest.raises(ValueError):
        BilateralSeller(-1)
    with pytest.raises(ValueError):
        BilateralSeller(1, opening_position=1.5)
    with pytest.raises(ValueError):
        BilateralBuyer(concession_permille=-1)


def test_agreement_arguments_carry_a_signature_the_contract_accepts() -> None:
    agreement = Agreement("w1-0", "9-o0", address("alice"), address("carol"), 1_000, 800_000, 5)
    signature = key("alice").sign(agreement_message_for(CHAIN_ID, agreement))
    arguments = agree_arguments(agreement, signature)
    assert arguments == {
        "offer_id": "9-o0",
        "agreement_id": "w1-0",
        "energy_wh": 1_000,
        "price_micro_per_kwh": 800_000,
        "seller_signature": signature.hex(),
    }
    message = agreement_message_for(CHAIN_ID, agreement)
    assert is_valid_signature(key("alice").public_key, message, signature)


def test_offer_records_that_are_not_open_are_skipped() -> None:
    record = {
        "offer_id": "9-o0",
        "seller": "gl1",
        "remaining_wh": 0,
        "price_micro_per_kwh": 800_000,
        "production_cost_micro_per_kwh": 1,
        "status": "taken",
    }
    assert offer_from_record(record) is None


def test_a_whole_window_on_the_chain() -> None:
    """MakeOffer → GetOffers → negotiation → AllowTransaction, with the real contract."""
    community = Community.create()
    period = NEXT_PERIOD + 1
    window = window_before_gate(period, PERIOD_SECONDS, GATE_CLOSURE_SECONDS)
    seller = BilateralSeller(780_000)
    terms = seller.offer_terms(view(surplus_wh=1_500))
    assert terms is not None
    published = run_at(
        community,
        window.opens_s,
        "alice",
        MARKET,
        "publish_offer",
        terms.publish_arguments(period),
    )
    assert published.ok, published.message
    records = [msgspec.structs.asdict(o) for o in offers_for_period(community.state, period)]
    offers = [offer_from_record(r, seller.concession_permille) for r in records]
    request = BilateralBuyer().request(view(deficit_wh=1_000), address("carol"))
    assert request is not None
    result = negotiate(
        [o for o in offers if o is not None],
        [request],
        window,
        BAND.feed_in_micro_per_kwh,
        BAND.cap_micro_per_kwh,
        random.Random(11),
    )
    [agreement] = result.agreements
    assert agreement.energy_wh == 1_000
    assert 780_000 <= agreement.price_micro_per_kwh <= 850_000
    signature = key("alice").sign(agreement_message_for(CHAIN_ID, agreement))
    agreed = run_at(
        community,
        agreement.signed_at_s,
        "carol",
        MARKET,
        "agree",
        agree_arguments(agreement, signature),
    )
    assert agreed.ok, agreed.message
    [offer] = offers_for_period(community.state, period)
    assert offer.remaining_wh == 500
