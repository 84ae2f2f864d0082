"""Seed 001's bilateral negotiation (§4.1, step 4), as a pure protocol.

Trading for a delivery period happens in a one-hour window that ends at the
period's gate closure: 55 minutes of negotiation, then 5 minutes in which the
parties only sign what they agreed and the chain records it (seed 001: "In that
time window of 5 min, agents cannot continue their negotiations"). Both
lengths are community parameters (`contracts.market_parameters.TradingWindows`), and
the market contract enforces them from the block time: offers are published
only in the negotiation window, agreements signed only in the commit window
(`contracts.market_bilateral`). `window_before_gate` gives the same window.

1. Sellers have published offers (``MakeOffer``): energy, opening ask and
   production cost. Buyers read them (``GetOffers``).
2. Negotiation: every buyer bargains with every seller by *alternating
   concessions*: the seller's opening ask stands, the buyer bids, the seller
   answers, and so on for at most ``max_rounds`` rounds. Each side concedes a
   fixed share (per mille) of the distance to its reservation price, at least
   1 micro/kWh, and accepts the other's proposal as soon as it is no worse
   than what it would propose next. Every price stays in the pair's range:
   above the seller's production cost (and the feed-in price, below which the
   grid pays more) and below the buyer's grid price (and the regulator's cap),
   seed 001's "upper constraint ... the price of the energy bought from outside
   the grid ... lower constraint ... the minimum price needed to produce".
3. Commit: "each seller agent will start agreeing to sell the energy to those
   that offer the higher prices until the energy is all sold out. The buyer
   agents will do the opposite": sellers are served cheapest published ask
   first (so no buyer buys from a dear seller while cheap energy is left), and
   each seller gives its energy to the buyers whose agreed prices are highest.
   Each agreement gets a signing time inside the commit phase.
4. Payment on metered delivery (``MakeTransaction``): `delivery_payment`.

Units: energy in Wh, prices in micro-units per kWh, money in micro-units, times
in integer seconds. Integers only, and the same ``random.Random`` seed gives
the same messages, times and agreements: randomness only jitters message times
within their slots and breaks ties.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from gridledger.market.errors import MarketError
from gridledger.market.prices import trade_value_micro

__all__ = [
    "Agreement",
    "BuyerRequest",
    "DeliveryPayment",
    "InvalidNegotiation",
    "NegotiationResult",
    "NegotiationWindow",
    "Proposal",
    "Quote",
    "SellerOffer",
    "bargain",
    "concede",
    "delivery_payment",
    "negotiate",
    "pair_range",
    "window_before_gate",
]

NEGOTIATION_SECONDS = 55 * 60
COMMIT_SECONDS = 5 * 60


class InvalidNegotiation(MarketError):
    """A negotiation input is not acceptable: ``field`` held ``value``, breaking ``reason``."""

    def __init__(self, *, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"invalid negotiation input: {field}={value!r}: {reason}")


def _require(ok: bool, field: str, value: object, reason: str) -> None:
    if not ok:
        raise InvalidNegotiation(field=field, value=value, reason=reason)


def _require_positive(instance: object, *fields: str) -> None:
    """Refuse the first of the named ``fields`` of ``instance`` that is not positive."""
    for field in fields:
        value = getattr(instance, field)
        _require(value > 0, field, value, "must be positive")


def _require_permille(concession_permille: int) -> None:
    _require(
        0 <= concession_permille <= 1000,
        "concession_permille",
        concession_permille,
        "must lie in [0, 1000]",
    )


@dataclass(frozen=True)
class NegotiationWindow:
    """One trading window: ``[opens_s, opens_s + negotiation_seconds)`` to negotiate,
    then ``commit_seconds`` to sign; it closes at ``closes_s`` (the gate closure)."""

    opens_s: int
    negotiation_seconds: int = NEGOTIATION_SECONDS
    commit_seconds: int = COMMIT_SECONDS

    def __post_init__(self) -> None:
        _require(self.opens_s >= 0, "opens_s", self.opens_s, "must be >= 0")
        _require_positive(self, "negotiation_seconds", "commit_seconds")

    @property
    def commit_opens_s(self) -> int:
        """Negotiation ends and signing starts here."""
        return self.opens_s + self.negotiation_seconds

    @property
    def closes_s(self) -> int:
        """End of the commit phase (exclusive): the gate closure."""
        return self.commit_opens_s + self.commit_seconds

    def in_negotiation(self, time_s: int) -> bool:
        return self.opens_s <= time_s < self.commit_opens_s

    def in_commit(self, time_s: int) -> bool:
        return self.commit_opens_s <= time_s < self.closes_s


def window_before_gate(
    period: int,
    period_seconds: int,
    gate_closure_seconds: int,
    negotiation_seconds: int = NEGOTIATION_SECONDS,
    commit_seconds: int = COMMIT_SECONDS,
) -> NegotiationWindow:
    """The window for delivery ``period``, ending at its gate closure
    (``period × period_seconds - gate_closure_seconds``), when the market
    contract stops accepting offers and agreements for it."""
    closes = period * period_seconds - gate_closure_seconds
    opens = closes - negotiation_seconds - commit_seconds
    _require(opens >= 0, "period", period, "its trading window would start before time 0")
    return NegotiationWindow(opens, negotiation_seconds, commit_seconds)


@dataclass(frozen=True)
class SellerOffer:
    """A published offer and its seller's tactic."""

    offer_id: str
    seller: str
    energy_wh: int
    ask_micro_per_kwh: int
    """The published price: the seller's opening ask."""
    production_cost_micro_per_kwh: int
    """The seller's reservation: it never sells below it."""
    concession_permille: int = 200
    """Share of the gap to its reservation the seller gives up each round (0–1000)."""

    def __post_init__(self) -> None:
        _require_positive(self, "energy_wh", "ask_micro_per_kwh")
        _require(
            self.production_cost_micro_per_kwh >= 0,
            "production_cost_micro_per_kwh",
            self.production_cost_micro_per_kwh,
            "must be >= 0",
        )
        _require_permille(self.concession_permille)


@dataclass(frozen=True)
class BuyerRequest:
    """A buyer's need and its tactic."""

    buyer: str
    energy_wh: int
    grid_price_micro_per_kwh: int
    """The buyer's reservation: it never pays more than the grid would charge."""
    opening_bid_micro_per_kwh: int
    concession_permille: int = 200

    def __post_init__(self) -> None:
        _require_positive(
            self, "energy_wh", "grid_price_micro_per_kwh", "opening_bid_micro_per_kwh"
        )
        _require_permille(self.concession_permille)


@dataclass(frozen=True)
class Proposal:
    """One negotiation message: ``by`` proposes ``price`` on ``offer_id`` at ``sent_at_s``."""

    offer_id: str
    buyer: str
    by: Literal["seller", "buyer"]
    price_micro_per_kwh: int
    sent_at_s: int


@dataclass(frozen=True)
class Quote:
    """A price one buyer and one seller both accepted during negotiation."""

    offer_id: str
    seller: str
    buyer: str
    price_micro_per_kwh: int
    accepted_at_s: int


@dataclass(frozen=True)
class Agreement:
    """What the two parties sign in the commit phase (seed 001 ``AllowTransaction``).

    Maps one to one onto the market contract's ``agree(offer_id, agreement_id,
    energy_wh, price_micro_per_kwh, seller_signature)`` sent by ``buyer``.
    """

    agreement_id: str
    offer_id: str
    seller: str
    buyer: str
    energy_wh: int
    price_micro_per_kwh: int
    signed_at_s: int


@dataclass(frozen=True)
class NegotiationResult:
    proposals: tuple[Proposal, ...]
    """Every message, in sending order."""
    quotes: tuple[Quote, ...]
    agreements: tuple[Agreement, ...]
    """In signing order."""


def pair_range(
    offer: SellerOffer, request: BuyerRequest, feed_in_micro_per_kwh: int, cap_micro_per_kwh: int
) -> tuple[int, int] | None:
    """``[max(cost, feed-in), min(grid price, cap)]``, or None when it is empty."""
    low = max(offer.production_cost_micro_per_kwh, feed_in_micro_per_kwh, 1)
    high = min(request.grid_price_micro_per_kwh, cap_micro_per_kwh)
    return (low, high) if low <= high else None


def concede(price: int, reservation: int, concession_permille: int) -> int:
    """Move ``price`` toward ``reservation`` by ``gap × permille // 1000``.

    At least 1 micro/kWh while there is a gap and the rate is not zero; never past
    the reservation.
    """
    gap = reservation - price
    if gap == 0:
        return price
    step = abs(gap) * concession_permille // 1000
    step = max(1, step) if concession_permille else 0
    return price + step if gap > 0 else price - step


def _message_times(window: NegotiationWindow, messages: int, rng: random.Random) -> list[int]:
    """One time per message, in increasing slots of the negotiation phase, jittered in each."""
    slot = window.negotiation_seconds // messages
    if slot == 0:
        return [
            window.opens_s + index * window.negotiation_seconds // messages
            for index in range(messages)
        ]
    return [window.opens_s + index * slot + rng.randrange(slot) for index in range(messages)]


def bargain(
    offer: SellerOffer,
    request: BuyerRequest,
    window: NegotiationWindow,
    feed_in_micro_per_kwh: int,
    cap_micro_per_kwh: int,
    rng: random.Random,
    max_rounds: int = 10,
) -> tuple[list[Proposal], Quote | None]:
    """Alternating concessions between one seller and one buyer.

    Message 0 is the seller's opening ask; then the buyer and the seller take
    turns, ``max_rounds`` turns each at most. A side accepts when the other's
    proposal is no worse than what it would propose next; the accepted price
    is the proposal's. Returns the messages and the quote (None if no deal).
    """
    _require(max_rounds >= 1, "max_rounds", max_rounds, "must be at least 1")
    bounds = pair_range(offer, request, feed_in_micro_per_kwh, cap_micro_per_kwh)
    if bounds is None:
        return [], None
    low, high = bounds
    times = _message_times(window, 2 * max_rounds + 1, rng)
    ask = min(high, max(low, offer.ask_micro_per_kwh))
    bid = min(high, max(low, request.opening_bid_micro_per_kwh))
    proposals = [Proposal(offer.offer_id, request.buyer, "seller", ask, times[0])]
    for turn in range(max_rounds):
        next_bid = bid if turn == 0 else concede(bid, high, request.concession_permille)
        at = times[2 * turn + 1]
        if ask <= next_bid:
            return proposals, Quote(offer.offer_id, offer.seller, request.buyer, ask, at)
        bid = next_bid
        proposals.append(Proposal(offer.offer_id, request.buyer, "buyer", bid, at))
        next_ask = concede(ask, low, offer.concession_permille)
        at = times[2 * turn + 2]
        if bid >= next_ask:
            return proposals, Quote(offer.offer_id, offer.seller, request.buyer, bid, at)
        ask = next_ask
        proposals.append(Proposal(offer.offer_id, request.buyer, "seller", ask, at))
    return proposals, None


def _allocate(
    offers: list[SellerOffer],
    requests: list[BuyerRequest],
    quotes: list[Quote],
    window: NegotiationWindow,
    rng: random.Random,
) -> list[Agreement]:
    """The commit phase: cheapest sellers first, each to its highest-paying buyers."""
    seller_order = list(offers)
    rng.shuffle(seller_order)
    seller_order.sort(key=lambda offer: offer.ask_micro_per_kwh)
    need = {request.buyer: request.energy_wh for request in requests}
    by_offer: dict[str, list[Quote]] = {}
    for quote in quotes:
        by_offer.setdefault(quote.offer_id, []).append(quote)
    planned: list[tuple[str, str, str, int, int]] = []
    for offer in seller_order:
        left = offer.energy_wh
        candidates = list(by_offer.get(offer.offer_id, []))
        rng.shuffle(candidates)
        candidates.sort(key=lambda quote: -quote.price_micro_per_kwh)
        for quote in candidates:
            energy = min(left, need[quote.buyer])
            if energy <= 0:
                continue
            left -= energy
            need[quote.buyer] -= energy
            planned.append(
                (offer.offer_id, offer.seller, quote.buyer, energy, quote.price_micro_per_kwh)
            )
    times = sorted(window.commit_opens_s + rng.randrange(window.commit_seconds) for _ in planned)
    return [
        Agreement(f"w{window.opens_s}-{index}", offer_id, seller, buyer, energy, price, time)
        for index, ((offer_id, seller, buyer, energy, price), time) in enumerate(
            zip(planned, times, strict=True)
        )
    ]


def negotiate(
    offers: list[SellerOffer],
    requests: list[BuyerRequest],
    window: NegotiationWindow,
    feed_in_micro_per_kwh: int,
    cap_micro_per_kwh: int,
    rng: random.Random,
    max_rounds: int = 10,
) -> NegotiationResult:
    """Run one window: every buyer bargains with every offer, then the commit phase.

    Offer ids and buyers must be unique. Pairs are bargained in input order
    (offers outer, buyers inner), so the result depends only on the inputs and
    the generator's state.
    """
    offer_ids = [offer.offer_id for offer in offers]
    buyers = [request.buyer for request in requests]
    _require(len(set(offer_ids)) == len(offer_ids), "offers", offer_ids, "offer ids repeat")
    _require(len(set(buyers)) == len(buyers), "requests", buyers, "buyers repeat")
    _require(
        0 <= feed_in_micro_per_kwh <= cap_micro_per_kwh,
        "cap_micro_per_kwh",
        cap_micro_per_kwh,
        f"must be at least the feed-in price {feed_in_micro_per_kwh}",
    )
    proposals: list[Proposal] = []
    quotes: list[Quote] = []
    for offer in offers:
        for request in requests:
            if request.buyer == offer.seller:
                continue
            messages, quote = bargain(
                offer, request, window, feed_in_micro_per_kwh, cap_micro_per_kwh, rng, max_rounds
            )
            proposals.extend(messages)
            if quote is not None:
                quotes.append(quote)
    proposals.sort(key=lambda proposal: proposal.sent_at_s)
    agreements = _allocate(list(offers), list(requests), quotes, window, rng)
    return NegotiationResult(tuple(proposals), tuple(quotes), tuple(agreements))


@dataclass(frozen=True)
class DeliveryPayment:
    """Seed 001 ``MakeTransaction`` for one agreement, once the meters have spoken."""

    buyer_pays_micro: int
    """The agreed value, paid in full (the buyer gets its energy, from the grid if need be)."""
    seller_receives_micro: int
    shortfall_wh: int
    """Agreed energy the seller did not deliver."""
    shortfall_charge_micro: int
    """What the seller pays for the grid energy that covered its shortfall."""


def delivery_payment(
    agreement: Agreement, delivered_wh: int, grid_price_micro_per_kwh: int
) -> DeliveryPayment:
    """Pay an agreement on metered delivery, as the settlement contract does for a trade.

    The buyer pays ``trade_value_micro(energy, price)`` and the seller receives
    it; the seller's shortfall ``energy - min(delivered, energy)`` is bought from
    the grid at the grid price and charged to the seller. (Settlement values
    grid energy once per member per period, so its rounding can differ by a
    micro-unit from a sum of these.)
    """
    _require(delivered_wh >= 0, "delivered_wh", delivered_wh, "must be >= 0")
    value = trade_value_micro(agreement.energy_wh, agreement.price_micro_per_kwh)
    shortfall = agreement.energy_wh - min(delivered_wh, agreement.energy_wh)
    charge = trade_value_micro(shortfall, grid_price_micro_per_kwh) if shortfall else 0
    return DeliveryPayment(value, value, shortfall, charge)
