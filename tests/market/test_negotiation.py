"""Seed 001's bilateral negotiation: concessions, bounds, windows, determinism."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridledger.market.negotiation import (
    Agreement,
    BuyerRequest,
    InvalidNegotiation,
    NegotiationWindow,
    Proposal,
    Quote,
    SellerOffer,
    bargain,
    concede,
    delivery_payment,
    negotiate,
    pair_range,
    window_before_gate,
)

WINDOW = NegotiationWindow(opens_s=36_000)


def test_the_window_is_55_minutes_of_negotiation_then_5_of_commit_ending_at_the_gate() -> None:
    # period 10 starts at 36,000 s, gate closure 300 s before: 35,700; opens an hour earlier
    window = window_before_gate(10, 3_600, 300)
    assert (window.opens_s, window.commit_opens_s, window.closes_s) == (32_100, 35_400, 35_700)
    assert window.in_negotiation(32_100) and window.in_negotiation(35_399)
    assert window.in_commit(35_400) and window.in_commit(35_699)
    assert not window.in_commit(35_700) and not window.in_negotiation(35_400)
    with pytest.raises(InvalidNegotiation):
        window_before_gate(0, 3_600, 300)


def test_concede_moves_a_share_of_the_gap_and_at_least_one() -> None:
    assert concede(100, 200, 250) == 125  # 100 + 100 × 250 // 1000
    assert concede(800, 500, 500) == 650  # 800 - 300 × 500 // 1000
    assert concede(100, 101, 100) == 101  # 1 × 100 // 1000 = 0 → at least 1
    assert concede(200, 100, 1000) == 100  # all the way, never past
    assert concede(5, 5, 300) == 5
    assert concede(100, 200, 0) == 100  # a rate of 0 never concedes


def test_a_hand_worked_bargain() -> None:
    offer = SellerOffer("7-o0", "sam", 2_000, 800, 500, concession_permille=500)
    request = BuyerRequest("bea", 1_000, 900, 600, concession_permille=500)
    proposals, quote = bargain(offer, request, WINDOW, 0, 1_000, random.Random(1), max_rounds=10)
    # range [max(cost 500, feed-in 0), min(grid 900, cap 1,000)] = [500, 900]
    # seller asks 800; buyer would bid 600 < 800 → bids 600; seller would ask
    # 800 - (800 - 500) × 0.5 = 650 > 600 → asks 650; buyer would bid
    # 600 + (900 - 600) × 0.5 = 750 >= 650 → accepts 650
    assert [(p.by, p.price_micro_per_kwh) for p in proposals] == [
        ("seller", 800),
        ("buyer", 600),
        ("seller", 650),
    ]
    assert quote is not None and quote.price_micro_per_kwh == 650
    assert (quote.offer_id, quote.seller, quote.buyer) == ("7-o0", "sam", "bea")
    times = [p.sent_at_s for p in proposals] + [quote.accepted_at_s]
    assert times == sorted(times) and all(WINDOW.in_negotiation(t) for t in times)


def test_a_seller_accepts_a_bid_at_or_above_its_next_ask() -> None:
    offer = SellerOffer("o", "sam", 100, 700, 600, concession_permille=1000)
    request = BuyerRequest("bea", 100, 900, 650)
    # buyer bids 650 < 700; seller's next ask would be 600 <= 650 → accepts 650
    proposals, quote = bargain(offer, request, WINDOW, 0, 1_000, random.Random(2))
    assert len(proposals) == 2
    assert quote is not None and quote.price_micro_per_kwh == 650


def test_no_deal_when_ranges_do_not_meet_or_rounds_run_out() -> None:
    dear = SellerOffer("o", "sam", 100, 950, 950)
    request = BuyerRequest("bea", 100, 900, 700)
    assert pair_range(dear, request, 0, 1_000) is None
    assert bargain(dear, request, WINDOW, 0, 1_000, random.Random(1)) == ([], None)
    stubborn = SellerOffer("o", "sam", 100, 890, 500, concession_permille=0)
    proposals, quote = bargain(
        stubborn, BuyerRequest("bea", 100, 900, 600, 1), WINDOW, 0, 1_000, random.Random(1), 3
    )
    assert quote is None
    assert len(proposals) == 1 + 2 * 3  # opening ask, then 3 rounds of bid and ask


def test_commit_phase_serves_cheap_sellers_first_to_their_best_buyers() -> None:
    offers = [
        SellerOffer("o-dear", "sid", 1_000, 880, 700, 1000),
        SellerOffer("o-cheap", "sam", 1_500, 820, 700, 1000),
    ]
    requests = [
        BuyerRequest("bea", 1_000, 900, 890, 1000),
        BuyerRequest("bo", 1_000, 900, 895, 1000),
    ]
    result = negotiate(offers, requests, WINDOW, 0, 900, random.Random(5))
    # every pair agrees at once at the ask (bids 890 and 895 are above both asks)
    assert {(q.offer_id, q.buyer, q.price_micro_per_kwh) for q in result.quotes} == {
        ("o-dear", "bea", 880),
        ("o-dear", "bo", 880),
        ("o-cheap", "bea", 820),
        ("o-cheap", "bo", 820),
    }
    # o-cheap (820) goes first: its 1,500 Wh go 1,000 to one buyer and 500 to the other
    # (equal prices: the generator breaks the tie); o-dear supplies the 500 Wh still wanted
    cheap = [a for a in result.agreements if a.offer_id == "o-cheap"]
    dear = [a for a in result.agreements if a.offer_id == "o-dear"]
    assert sorted(a.energy_wh for a in cheap) == [500, 1_000]
    assert [a.energy_wh for a in dear] == [500]
    assert dear[0].buyer == next(a.buyer for a in cheap if a.energy_wh == 500)
    assert all(WINDOW.in_commit(a.signed_at_s) for a in result.agreements)
    assert len({a.agreement_id for a in result.agreements}) == 3


def test_the_best_paying_buyer_is_served_first() -> None:
    offers = [SellerOffer("o", "sam", 1_000, 800, 600, 500)]
    requests = [BuyerRequest("low", 1_000, 820, 700, 200), BuyerRequest("high", 1_000, 900, 850)]
    result = negotiate(offers, requests, WINDOW, 0, 900, random.Random(3))
    [agreement] = result.agreements
    assert agreement.buyer == "high" and agreement.price_micro_per_kwh == 800


def test_a_seller_does_not_negotiate_with_itself_and_inputs_are_checked() -> None:
    offers = [SellerOffer("o", "sam", 1_000, 800, 600)]
    assert (
        negotiate(
            offers, [BuyerRequest("sam", 500, 900, 850)], WINDOW, 0, 900, random.Random(1)
        ).agreements
        == ()
    )
    with pytest.raises(InvalidNegotiation):
        negotiate(offers * 2, [], WINDOW, 0, 900, random.Random(1))
    with pytest.raises(InvalidNegotiation):
        negotiate(offers, [], WINDOW, 950, 900, random.Random(1))
    with pytest.raises(InvalidNegotiation):
        SellerOffer("o", "sam", 0, 800, 600)
    with pytest.raises(InvalidNegotiation):
        BuyerRequest("bea", 10, 900, 800, concession_permille=1001)


def test_payment_on_metered_delivery() -> None:
    agreement = Agreement("w0-0", "o", "sam", "bea", 1_500, 820_000, 35_500)
    # delivered in full: 1,500 × 820,000 // 1,000 = 1,230,000 both ways, nothing short
    paid = delivery_payment(agreement, 2_000, 850_000)
    assert (paid.buyer_pays_micro, paid.seller_receives_micro) == (1_230_000, 1_230_000)
    assert (paid.shortfall_wh, paid.shortfall_charge_micro) == (0, 0)
    # delivered 1,000: the missing 500 Wh come from the grid at 850,000 → 425,000 to the seller
    short = delivery_payment(agreement, 1_000, 850_000)
    assert (short.shortfall_wh, short.shortfall_charge_micro) == (500, 425_000)
    assert short.buyer_pays_micro == 1_230_000


offer_lists = st.lists(
    st.builds(
        lambda index, seller, energy, ask, cost, rate: SellerOffer(
            f"o{index}", seller, energy, ask, cost, rate
        ),
        st.integers(0, 1_000_000),
        st.sampled_from(["sam", "sid", "sue", "bea"]),
        st.integers(1, 5_000),
        st.integers(1, 1_200),
        st.integers(0, 1_200),
        st.integers(0, 1_000),
    ),
    max_size=4,
    unique_by=lambda offer: offer.offer_id,
)
request_lists = st.lists(
    st.builds(
        BuyerRequest,
        st.sampled_from(["bea", "bo", "bill", "sam"]),
        st.integers(1, 5_000),
        st.integers(1, 1_200),
        st.integers(1, 1_200),
        st.integers(0, 1_000),
    ),
    max_size=4,
    unique_by=lambda request: request.buyer,
)


@settings(max_examples=150)
@given(
    offers=offer_lists,
    requests=request_lists,
    feed_in=st.integers(0, 600),
    cap_above=st.integers(0, 600),
    seed=st.integers(0, 2**32),
    rounds=st.integers(1, 12),
)
def test_negotiation_properties(
    offers: list[SellerOffer],
    requests: list[BuyerRequest],
    feed_in: int,
    cap_above: int,
    seed: int,
    rounds: int,
) -> None:
    cap = feed_in + cap_above
    result = negotiate(offers, requests, WINDOW, feed_in, cap, random.Random(seed), rounds)
    again = negotiate(offers, requests, WINDOW, feed_in, cap, random.Random(seed), rounds)
    assert result == again  # deterministic for a fixed seed
    by_offer = {offer.offer_id: offer for offer in offers}
    by_buyer = {request.buyer: request for request in requests}

    def within(offer_id: str, buyer: str, price: int) -> bool:
        offer, request = by_offer[offer_id], by_buyer[buyer]
        low = max(offer.production_cost_micro_per_kwh, feed_in)
        return low <= price <= min(request.grid_price_micro_per_kwh, cap)

    for proposal in result.proposals:
        assert isinstance(proposal, Proposal)
        assert within(proposal.offer_id, proposal.buyer, proposal.price_micro_per_kwh)
        assert WINDOW.in_negotiation(proposal.sent_at_s)
    for quote in result.quotes:
        assert isinstance(quote, Quote)
        assert within(quote.offer_id, quote.buyer, quote.price_micro_per_kwh)
    sold: dict[str, int] = {}
    bought: dict[str, int] = {}
    for agreement in result.agreements:
        assert isinstance(agreement.energy_wh, int) and agreement.energy_wh > 0
        assert isinstance(agreement.price_micro_per_kwh, int)
        assert agreement.price_micro_per_kwh > 0
        assert within(agreement.offer_id, agreement.buyer, agreement.price_micro_per_kwh)
        assert WINDOW.in_commit(agreement.signed_at_s)
        assert agreement.seller == by_offer[agreement.offer_id].seller != agreement.buyer
        assert 0 < len(agreement.agreement_id) <= 64
        sold[agreement.offer_id] = sold.get(agreement.offer_id, 0) + agreement.energy_wh
        bought[agreement.buyer] = bought.get(agreement.buyer, 0) + agreement.energy_wh
    assert all(sold[o] <= by_offer[o].energy_wh for o in sold)
    assert all(bought[b] <= by_buyer[b].energy_wh for b in bought)
    signed = [agreement.signed_at_s for agreement in result.agreements]
    assert signed == sorted(signed)
    assert len({(a.offer_id, a.agreement_id) for a in result.agreements}) == len(signed)
