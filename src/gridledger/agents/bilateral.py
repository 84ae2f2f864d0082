"""Seed 001's seller and buyer agents (§4.4, the Transaction Manager System).

The protocol itself is the pure :mod:`gridledger.market.negotiation`; these
agents supply its inputs from what a household knows, and turn its agreements
into the market contract's transactions:

- a `BilateralSeller` (Seller Agent) has a production cost; from the period's
  surplus it makes the terms of its offer (``MakeOffer``: the contract's
  ``market.publish_offer``) with an opening ask placed ``opening_position`` of
  the way from its floor (cost or feed-in price) to its ceiling (grid price or
  cap), and bargains with a concession rate;
- a `BilateralBuyer`'s reservation is the grid price; it asks for its deficit
  with an opening bid ``opening_position`` of the way from the feed-in price to
  the grid price;
- `agreement_message_for` gives the bytes the seller signs, and
  `agree_arguments` the arguments of ``market.agree`` that the buyer sends
  with that signature (seed 001 ``AllowTransaction``, both parties' consent in
  one transaction).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gridledger.agents.interfaces import MarketView
from gridledger.contracts.market_bilateral import agreement_message
from gridledger.market.negotiation import Agreement, BuyerRequest, SellerOffer

__all__ = [
    "BilateralBuyer",
    "BilateralSeller",
    "OfferTerms",
    "agree_arguments",
    "agreement_message_for",
    "offer_from_record",
]


def _position(low: int, high: int, position: float) -> int:
    return low + round((high - low) * position)


def _check_tactic(opening_position: float, concession_permille: int) -> None:
    if not 0 <= opening_position <= 1:
        raise ValueError(f"opening_position must lie in [0, 1], got {opening_position}")
    if not 0 <= concession_permille <= 1000:
        raise ValueError(f"concession_permille must lie in [0, 1000], got {concession_permille}")


@dataclass(frozen=True)
class OfferTerms:
    """The arguments of ``market.publish_offer`` (seed 001 ``MakeOffer``), less the period."""

    energy_wh: int
    price_micro_per_kwh: int
    production_cost_micro_per_kwh: int

    def publish_arguments(self, period: int) -> dict[str, int]:
        """``publish_offer(energy_wh, price_micro_per_kwh, period, production_cost_…)``."""
        return {
            "energy_wh": self.energy_wh,
            "price_micro_per_kwh": self.price_micro_per_kwh,
            "period": period,
            "production_cost_micro_per_kwh": self.production_cost_micro_per_kwh,
        }


@dataclass(frozen=True)
class BilateralSeller:
    """Seller Agent: offers its surplus at or above its production cost (micro/kWh)."""

    production_cost_micro_per_kwh: int
    opening_position: float = 0.75
    """Opening ask as a position in [floor, ceiling]: 0 = at cost, 1 = at the grid price."""
    concession_permille: int = 200
    """Share of the gap to its cost it gives up each round."""

    def __post_init__(self) -> None:
        if self.production_cost_micro_per_kwh < 0:
            raise ValueError("production_cost_micro_per_kwh must not be negative")
        _check_tactic(self.opening_position, self.concession_permille)

    def offer_terms(self, view: MarketView) -> OfferTerms | None:
        """The offer for the period: the whole surplus; None without surplus or margin."""
        band = view.prices
        floor = max(1, self.production_cost_micro_per_kwh, band.feed_in_micro_per_kwh)
        ceiling = min(band.grid_micro_per_kwh, band.cap_micro_per_kwh)
        if view.surplus_wh <= 0 or floor > ceiling:
            return None
        price = _position(floor, ceiling, self.opening_position)
        return OfferTerms(view.surplus_wh, price, self.production_cost_micro_per_kwh)

    def seller_offer(
        self, offer_id: str, seller: str, energy_wh: int, ask_micro_per_kwh: int
    ) -> SellerOffer:
        """The protocol's view of this agent's published offer."""
        return SellerOffer(
            offer_id,
            seller,
            energy_wh,
            ask_micro_per_kwh,
            self.production_cost_micro_per_kwh,
            self.concession_permille,
        )


@dataclass(frozen=True)
class BilateralBuyer:
    """Buyer Agent: wants its deficit, never pays more than the grid price."""

    opening_position: float = 0.25
    """Opening bid as a position in [feed-in, grid price]."""
    concession_permille: int = 200
    """Share of the gap to the grid price it gives up each round."""

    def __post_init__(self) -> None:
        _check_tactic(self.opening_position, self.concession_permille)

    def request(self, view: MarketView, buyer: str) -> BuyerRequest | None:
        """The protocol's request for the period; None without a deficit."""
        band = view.prices
        ceiling = min(band.grid_micro_per_kwh, band.cap_micro_per_kwh)
        if view.deficit_wh <= 0 or ceiling <= 0:
            return None
        floor = max(1, min(band.feed_in_micro_per_kwh, ceiling))
        opening = _position(floor, ceiling, self.opening_position)
        return BuyerRequest(
            buyer, view.deficit_wh, band.grid_micro_per_kwh, opening, self.concession_permille
        )


def offer_from_record(
    record: Mapping[str, Any], concession_permille: int = 200
) -> SellerOffer | None:
    """A protocol offer from one entry of ``GET /v1/market/periods/{p}/offers``
    (seed 001 ``GetOffers``); None unless it is open with energy left.

    Give the seller's own concession rate when the simulation knows it.
    """
    if record["status"] != "open" or record["remaining_wh"] <= 0:
        return None
    return SellerOffer(
        str(record["offer_id"]),
        str(record["seller"]),
        int(record["remaining_wh"]),
        int(record["price_micro_per_kwh"]),
        int(record["production_cost_micro_per_kwh"]),
        concession_permille,
    )


def agreement_message_for(chain_id: str, agreement: Agreement) -> bytes:
    """The bytes the seller signs (Ed25519, its member key) to consent to ``agreement``."""
    return agreement_message(
        chain_id,
        agreement.offer_id,
        agreement.agreement_id,
        agreement.buyer,
        agreement.energy_wh,
        agreement.price_micro_per_kwh,
    )


def agree_arguments(agreement: Agreement, seller_signature: bytes) -> dict[str, Any]:
    """The arguments of ``market.agree``, sent by ``agreement.buyer``."""
    return {
        "offer_id": agreement.offer_id,
        "agreement_id": agreement.agreement_id,
        "energy_wh": agreement.energy_wh,
        "price_micro_per_kwh": agreement.price_micro_per_kwh,
        "seller_signature": seller_signature.hex(),
    }
