"""Seed 001's bilateral workflow in a simulation: the ``bilateral`` strategy's two steps.

A household whose strategy is ``bilateral`` places no orders in the book. For
each delivery period, in the community's trading window (`TradingWindows`,
55 + 5 minutes in seed 001) ending at the period's gate closure:

1. ``OFFERS``, one minute into the negotiation window: every bilateral
   household with a forecast surplus publishes it (seed 001 ``MakeOffer``,
   ``market.publish_offer``) at the opening ask of its `BilateralSeller`;
2. ``AGREEMENTS``, when the commit window opens: the buyers read the period's
   offers back from the chain (``GetOffers``), the pure protocol
   (`gridledger.market.negotiation.negotiate`) plays the negotiation messages
   of the 55 minutes and allocates the quotes, and every agreement is sent by
   its buyer with its seller's signature (``AllowTransaction``,
   ``market.agree``) in a block stamped with the agreement's signing time, so
   inside the commit window, where the contract accepts it.

Payment on metered delivery (``MakeTransaction``) is settlement's, as for any
trade. PublishInfo is the household's enrolment in the genesis.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gridledger.agents.bilateral import (
    BilateralBuyer,
    BilateralSeller,
    agree_arguments,
    agreement_message_for,
    offer_from_record,
)
from gridledger.agents.interfaces import Bid, MarketView, Outcome
from gridledger.market.negotiation import BuyerRequest, NegotiationWindow, negotiate

if TYPE_CHECKING:
    from gridledger.client.market_replies import ParametersReply
    from gridledger.simulation.scenario import Scenario

__all__ = ["BilateralTrader", "bilateral_trader", "uses_bilateral", "window_of"]

OFFER_LEAD_SECONDS = 60
"""Offers are published this long after the negotiation window opens."""


@dataclass
class BilateralTrader:
    """Seed 001's Seller and Buyer Agent in one household; it trades off the book."""

    seller: BilateralSeller
    buyer: BilateralBuyer
    max_rounds: int = 10
    offers: dict[int, str] = field(default_factory=dict)
    """Offer id published per period."""

    def bid(self, view: MarketView, rng: random.Random) -> list[Bid]:
        """No book orders: this household trades by agreement."""
        return []

    def learn(self, outcome: Outcome) -> None:
        """The tactic is fixed (seed 001 leaves the algorithm to each agent)."""


def bilateral_trader(params: dict[str, Any]) -> BilateralTrader:
    """From ``strategy.params``: production_cost_micro_per_kwh, seller_opening_position,
    buyer_opening_position, concession_permille, max_rounds (ValueError/TypeError if bad)."""
    known = {
        "production_cost_micro_per_kwh",
        "seller_opening_position",
        "buyer_opening_position",
        "concession_permille",
        "max_rounds",
    }
    unknown = sorted(set(params) - known)
    if unknown:
        raise TypeError(f"unknown parameter(s) {', '.join(unknown)}; known: {sorted(known)}")
    concession = int(params.get("concession_permille", 200))
    max_rounds = int(params.get("max_rounds", 10))
    if not 1 <= max_rounds <= 100:
        raise ValueError(f"max_rounds must lie in [1, 100], got {max_rounds}")
    seller = BilateralSeller(
        int(params.get("production_cost_micro_per_kwh", 0)),
        float(params.get("seller_opening_position", 0.75)),
        concession,
    )
    buyer = BilateralBuyer(float(params.get("buyer_opening_position", 0.25)), concession)
    return BilateralTrader(seller, buyer, max_rounds)


def uses_bilateral(scenario: Scenario) -> bool:
    return any(group.strategy.kind == "bilateral" for group in scenario.members)


def window_of(parameters: ParametersReply) -> NegotiationWindow:
    """The period's trading window as the chain states it."""
    windows = parameters.windows
    if windows is None:
        raise ValueError("the node does not state the trading windows")
    return NegotiationWindow(
        windows.negotiation_opens_s, windows.negotiation_seconds, windows.commit_seconds
    )


def trading_steps(scenario: Scenario, periods: Iterable[int]) -> list[tuple[int, str, int]]:
    """(time_s, "offers" | "agreements", period) for the default windows of the scenario.

    The runner reads the windows from the chain; these times follow the scenario's
    ``market`` section (seed 001's 55 + 5 minutes unless it names others).
    """
    market = scenario.market
    commit = market.commit_seconds or 300
    negotiation = market.negotiation_seconds or 3300
    steps = []
    for period in periods:
        closes = period * market.period_seconds - market.gate_closure_seconds
        opens = closes - commit - negotiation
        steps.append((opens + min(OFFER_LEAD_SECONDS, negotiation // 2), "offers", period))
        steps.append((closes - commit, "agreements", period))
    return steps


def offer_transactions(runner: Any, period: int) -> list[bytes]:
    """Every bilateral seller's ``publish_offer`` for ``period`` (seed 001 MakeOffer)."""
    raws = []
    for agent in runner.agents:
        if not isinstance(agent.strategy, BilateralTrader):
            continue
        terms = agent.strategy.seller.offer_terms(runner.view(agent, period))
        if terms is not None:
            args = terms.publish_arguments(period)
            raws.append(agent.wallet.sign("market", "publish_offer", args))
    return raws


def agreements(runner: Any, period: int) -> dict[int, list[bytes]]:
    """GetOffers, the negotiation, and the signed agreements by their signing time."""
    traders = {
        agent.wallet.address: agent
        for agent in runner.agents
        if isinstance(agent.strategy, BilateralTrader)
    }
    window = window_of(runner.client.parameters(period))
    offers = []
    for record in runner.client.market_offers(period).offers:
        seller = traders.get(record.seller)
        concession = 200 if seller is None else seller.strategy.seller.concession_permille
        offer = offer_from_record(
            {name: getattr(record, name) for name in record.__struct_fields__}, concession
        )
        if offer is not None:
            offers.append(offer)
    requests: list[BuyerRequest] = []
    for address, agent in traders.items():
        request = agent.strategy.buyer.request(runner.view(agent, period), address)
        if request is not None:
            requests.append(request)
    if not offers or not requests:
        return {}
    band = runner.view(next(iter(traders.values())), period).prices
    rounds = max(agent.strategy.max_rounds for agent in traders.values())
    rng = random.Random(f"{runner.scenario.name}/{runner.scenario.seed}/negotiation/{period}")
    result = negotiate(
        offers, requests, window, band.feed_in_micro_per_kwh, band.cap_micro_per_kwh, rng, rounds
    )
    chain_id = runner.client.chain_id()
    signed: dict[int, list[bytes]] = {}
    for agreement in result.agreements:
        seller, buyer = traders[agreement.seller], traders[agreement.buyer]
        signature = seller.wallet.keys.sign(agreement_message_for(chain_id, agreement))
        raw = buyer.wallet.sign("market", "agree", agree_arguments(agreement, signature))
        signed.setdefault(agreement.signed_at_s, []).append(raw)
    return signed
