"""Seed 003's pricing game (§3.2.2, eqs. 8–15), made well posed.

In each delivery period the users of a microgrid split into *sellers* (net
output above zero) and *buyers*. A seller ``i`` with available generation
``e_DG`` chooses its own load ``e_L`` to maximise eq. 9,

    u_i = λ_i · ln(1 + e_L / 1 kWh) + p · (e_DG − e_L) / 1 kWh,

so its best response to a price ``p`` is ``e_L = (λ_i / p − 1) kWh``, clipped to
``[0, e_DG]`` (`best_response_load_wh`). ``λ_i`` (micro-units) is the value the
seller puts on its own consumption; the paper publishes none, so
`preference_for_load` calibrates it: the λ whose best response *at the feed-in
price* (what a seller gets without the microgrid) is the seller's forecast load.

The paper then has the buyers pick the price minimising eq. 12, in which the
part of their demand the sellers do not cover is priced at the feed-in price.
That cost rises with the price, so the "equilibrium" is the feed-in bound
itself, which eq. 8 (``p_s < p < p_b``) forbids: `solve_pricing_game` with
``GameRule.LITERAL`` computes it to show the degenerate result. With the
remainder priced at the grid price instead (``GameRule.STACKELBERG``, the
buyers leading and the sellers following) the cost falls with the price only
if supply is elastic enough (``p·S'/S > p / (p_b − p)``: 9.6 at seed 003's
feed-in price, 20 at the midpoint); sellers whose only lever is a small own
load are far less elastic (about 0.2 in seed 003's period 12), so it lands on
the feed-in bound too (in seed 003 all but period 18, whose supply is tiny).

The rule used (``GameRule.NASH``, the default) is a generalised Nash bargain
between the buyers' saving against the grid, ``B(p) = (p_b − p) · V(p)``, and
the sellers' gain against feed-in, ``G(p) = Σ u_i(p) − Σ u_i(p_s)``, both with
the sellers at their best response (eq. 14); the price maximises
``w · ln G + (1 − w) · ln B``. Both factors vanish at the bounds, so the price
is strictly inside ``(p_s, p_b)``. The sellers' weight ``w`` follows the short
side of the market: ``w = D / (D + S)`` with ``S`` the sellers' surplus at
their forecast loads and ``D`` the buyers' demand, so the scarcer side holds
the stronger hand and the price rises with the shortage (with a fixed supply it
is exactly ``p_s + w · (p_b − p_s)``). The same rule prices a surplus
(``w < 1/2``), where the paper fixes the compromise ``(p_s + p_b) / 2``: one
rule keeps the price continuous and non-decreasing across the balance point
(the literal and Stackelberg rules keep the paper's compromise price there).

Volumes: the microgrid trades ``V = min(S(p), D)``; buyers get eq. 13's pro
rata share of it; when supply exceeds demand every seller's surplus is rationed
in the same proportion ``r`` and the rest is exported at ``p_s``, so each seller
responds to the effective price ``p_s + r · (p − p_s)`` (`sellers_response`).

Units: energy in Wh, prices in micro-units per kWh, money in micro-units. This
is an off-chain solver and computes in floats (DESIGN.md, "Determinism"); the
operator's agent rounds its result into a transaction whose bounds the pricing
contract checks in integers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from gridledger.market.errors import MarketError

__all__ = [
    "GameRule",
    "InvalidPricingGame",
    "PricingGame",
    "PricingOutcome",
    "Regime",
    "Seller",
    "best_response_load_wh",
    "buyers_saving_micro",
    "compromise_price",
    "preference_for_load",
    "sellers_gain_micro",
    "sellers_response",
    "short_side_weight",
    "solve_pricing_game",
]

WH_PER_KWH = 1000.0
SCAN_POINTS = 64
"""Grid points scanned before the bounded search, so a flat or kinked objective
cannot trap the search in a poor local optimum."""
PRICE_TOLERANCE = 1e-6
"""Micro-units per kWh: far below the 1 micro/kWh the contract can see."""


class InvalidPricingGame(MarketError):
    """One input of a pricing game is unusable; ``field`` names it."""

    def __init__(self, *, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"invalid pricing game: {field}={value!r}: {reason}")


class GameRule(StrEnum):
    NASH = "nash"
    """Generalised Nash bargain, sellers' weight from the short side (the rule used)."""
    STACKELBERG = "stackelberg"
    """Buyers lead, minimising their cost with the remainder at the grid price."""
    LITERAL = "literal"
    """Eq. 12 as printed: the remainder at the feed-in price (degenerate)."""


class Regime(StrEnum):
    SHORTAGE = "shortage"
    """Sellers' forecast surplus below demand: the game sets the price."""
    SURPLUS = "surplus"
    """Surplus covers demand: sellers rationed pro rata, the rest exported at ``p_s``."""
    NO_TRADE = "no_trade"
    """No surplus or no demand: nothing to price."""


@dataclass(frozen=True, slots=True)
class Seller:
    generation_wh: float
    """``e_DG``: the seller's forecast generation in the period, Wh."""
    preference_micro: float
    """``λ``: the value of its own consumption, micro-units per unit of ``ln(1 + e_L/kWh)``."""


@dataclass(frozen=True, slots=True)
class PricingGame:
    sellers: tuple[Seller, ...]
    demands_wh: tuple[float, ...]
    """Each buyer's demand ``e_L,j − e_DG,j`` in Wh."""
    feed_in_price_micro_per_kwh: float
    """``p_s``: what the grid pays for surplus."""
    grid_price_micro_per_kwh: float
    """``p_b``: what the grid charges."""

    def __post_init__(self) -> None:
        p_s, p_b = self.feed_in_price_micro_per_kwh, self.grid_price_micro_per_kwh
        if not (math.isfinite(p_s) and math.isfinite(p_b) and 0 < p_s < p_b):
            raise InvalidPricingGame(
                field="grid_price_micro_per_kwh", value=p_b, reason=f"need 0 < {p_s} < grid price"
            )
        for index, seller in enumerate(self.sellers):
            for name in ("generation_wh", "preference_micro"):
                value = getattr(seller, name)
                if not (math.isfinite(value) and value >= 0):
                    raise InvalidPricingGame(
                        field=f"sellers[{index}].{name}", value=value, reason="must be >= 0"
                    )
        for index, demand in enumerate(self.demands_wh):
            if not (math.isfinite(demand) and demand >= 0):
                raise InvalidPricingGame(
                    field=f"demands_wh[{index}]", value=demand, reason="must be >= 0"
                )

    @property
    def demand_wh(self) -> float:
        return math.fsum(self.demands_wh)

    @property
    def forecast_supply_wh(self) -> float:
        """``S``: the sellers' surplus at their best response to the feed-in price."""
        return supply_wh(self.sellers, self.feed_in_price_micro_per_kwh)


@dataclass(frozen=True, slots=True)
class PricingOutcome:
    rule: GameRule
    regime: Regime
    price_micro_per_kwh: float | None
    """The period's microgrid price; None when there is nothing to trade."""
    sellers_weight: float
    """``w``, the sellers' bargaining weight (Nash rule; 0 otherwise)."""
    loads_wh: tuple[float, ...]
    """Each seller's adjusted load ``e_L`` (Table 12)."""
    sold_wh: tuple[float, ...]
    """What each seller sells to the buyers (Table 13, negative there)."""
    exported_wh: tuple[float, ...]
    """What each seller's surplus beyond that goes to the grid at ``p_s``."""
    bought_wh: tuple[float, ...]
    """What each buyer buys in the microgrid (Table 13); the rest comes from the grid."""
    supply_wh: float
    demand_wh: float
    traded_wh: float
    buyers_saving_micro: float
    sellers_gain_micro: float


def best_response_load_wh(seller: Seller, price_micro_per_kwh: float) -> float:
    """The load maximising eq. 9 at ``price``: ``(λ/p − 1) kWh`` clipped to ``[0, e_DG]``."""
    load = (seller.preference_micro / price_micro_per_kwh - 1.0) * WH_PER_KWH
    return min(max(load, 0.0), seller.generation_wh)


def preference_for_load(load_wh: float, price_micro_per_kwh: float) -> float:
    """The λ (micro-units) whose best response at ``price`` is ``load_wh``: ``p·(1 + e_L/kWh)``."""
    return price_micro_per_kwh * (1.0 + load_wh / WH_PER_KWH)


def compromise_price(game: PricingGame) -> float:
    """The paper's price when supply covers demand: ``(p_s + p_b) / 2``."""
    return (game.feed_in_price_micro_per_kwh + game.grid_price_micro_per_kwh) / 2.0


NEGLIGIBLE_WH = 1e-3
"""A supply or demand below a milliwatt-hour is nothing to trade: the chain counts whole
Wh, and a surplus of float rounding noise (say 1e-13 Wh) would give the sellers a weight
``D / (D + S)`` that rounds to exactly 1."""


def short_side_weight(supply_wh: float, demand_wh: float) -> float:
    """The sellers' bargaining weight ``D / (D + S)``: more than 1/2 in a shortage."""
    return demand_wh / (demand_wh + supply_wh)


def supply_wh(sellers: Sequence[Seller], price_micro_per_kwh: float) -> float:
    """The sellers' total surplus ``Σ (e_DG − e_L)`` at their best response to ``price``."""
    return math.fsum(
        s.generation_wh - best_response_load_wh(s, price_micro_per_kwh) for s in sellers
    )


def sellers_response(game: PricingGame, price_micro_per_kwh: float) -> tuple[float, float]:
    """(effective price, rationing share ``r``) of the sellers' equilibrium at ``price``.

    A seller sells the share ``r`` of its surplus at ``price`` and exports the rest
    at ``p_s``, so it responds to ``p_s + r · (price − p_s)``; ``r`` is 1 while the
    supply at ``price`` does not exceed demand, and otherwise solves
    ``r · S(p_s + r · (price − p_s)) = D`` (increasing in ``r``, so one root).
    """
    p_s = game.feed_in_price_micro_per_kwh
    demand = game.demand_wh
    if supply_wh(game.sellers, price_micro_per_kwh) <= demand:
        return price_micro_per_kwh, 1.0

    def excess(share: float) -> float:
        return share * supply_wh(game.sellers, p_s + share * (price_micro_per_kwh - p_s)) - demand

    from scipy.optimize import brentq  # lazily: scipy takes ~1 s to import

    share = float(brentq(excess, 0.0, 1.0, xtol=1e-15))
    return p_s + share * (price_micro_per_kwh - p_s), share


def _utility_micro(seller: Seller, price_micro_per_kwh: float) -> float:
    """Eq. 9 at the seller's best response to ``price`` (micro-units)."""
    load = best_response_load_wh(seller, price_micro_per_kwh)
    return (
        seller.preference_micro * math.log1p(load / WH_PER_KWH)
        + price_micro_per_kwh * (seller.generation_wh - load) / WH_PER_KWH
    )


def sellers_gain_micro(game: PricingGame, price_micro_per_kwh: float) -> float:
    """``G(p)``: the sellers' total benefit (eq. 9) at ``price`` less that at feed-in alone."""
    effective, _ = sellers_response(game, price_micro_per_kwh)
    p_s = game.feed_in_price_micro_per_kwh
    return math.fsum(_utility_micro(s, effective) - _utility_micro(s, p_s) for s in game.sellers)


def traded_wh(game: PricingGame, price_micro_per_kwh: float) -> float:
    """``V(p) = min(S, D)`` with the sellers at their equilibrium."""
    effective, share = sellers_response(game, price_micro_per_kwh)
    return min(share * supply_wh(game.sellers, effective), game.demand_wh)


def buyers_saving_micro(game: PricingGame, price_micro_per_kwh: float) -> float:
    """``B(p) = (p_b − p) · V(p)``: what the buyers save against buying all from the grid."""
    volume = traded_wh(game, price_micro_per_kwh)
    return (game.grid_price_micro_per_kwh - price_micro_per_kwh) * volume / WH_PER_KWH


def _buyers_cost_micro(game: PricingGame, price: float, literal: bool) -> float:
    """The buyers' total cost: the microgrid volume at ``price``, the rest of demand from the grid.

    ``literal``: eq. 12 as printed, the rest at ``p_s`` and the sellers' whole
    surplus ``Σ (e_DG − e_L)`` as the microgrid volume. Otherwise the rest at
    ``p_b`` (eq. 10 summed) and the volume ``V(p) = min(S, D)``.
    """
    if literal:
        volume = supply_wh(game.sellers, price)
        remainder_price = game.feed_in_price_micro_per_kwh
    else:
        volume = traded_wh(game, price)
        remainder_price = game.grid_price_micro_per_kwh
    return (price * volume + remainder_price * (game.demand_wh - volume)) / WH_PER_KWH


def _minimise(objective: _Objective, low: float, high: float, closed: bool) -> float:
    """The argmin over ``[low, high]`` (``(low, high)`` when not ``closed``): a scan, then Brent."""
    step = (high - low) / SCAN_POINTS
    points = [low + step * k for k in range(1, SCAN_POINTS)]
    if closed:
        points = [low, *points, high]
    best = min(points, key=objective)
    from scipy.optimize import minimize_scalar  # lazily: scipy takes ~1 s to import

    left, right = max(low, best - step), min(high, best + step)
    found = minimize_scalar(
        objective, bounds=(left, right), method="bounded", options={"xatol": PRICE_TOLERANCE}
    )
    candidate = float(found.x)
    return candidate if objective(candidate) <= objective(best) else best


class _Objective:
    """A scalar objective of the price (a class so mypy sees the call signature)."""

    def __init__(self, game: PricingGame, rule: GameRule, weight: float) -> None:
        self.game, self.rule, self.weight = game, rule, weight

    def __call__(self, price: float) -> float:
        game = self.game
        if self.rule is GameRule.LITERAL:
            return _buyers_cost_micro(game, price, literal=True)
        if self.rule is GameRule.STACKELBERG:
            return _buyers_cost_micro(game, price, literal=False)
        gain, saving = sellers_gain_micro(game, price), buyers_saving_micro(game, price)
        if gain <= 0.0 or saving <= 0.0:
            return math.inf
        return -(self.weight * math.log(gain) + (1.0 - self.weight) * math.log(saving))


def solve_pricing_game(
    game: PricingGame, rule: GameRule = GameRule.NASH, sellers_weight: float | None = None
) -> PricingOutcome:
    """The period's price, the sellers' adjusted loads and the traded volumes.

    ``sellers_weight`` overrides the short-side weight of the Nash rule (1/2 gives
    the symmetric bargain). Deterministic: a fixed scan and Brent's bounded search.
    """
    supply, demand = game.forecast_supply_wh, game.demand_wh
    if supply < NEGLIGIBLE_WH or demand < NEGLIGIBLE_WH:
        return _outcome(game, rule, Regime.NO_TRADE, None, 0.0)
    regime = Regime.SURPLUS if supply >= demand else Regime.SHORTAGE
    if rule is not GameRule.NASH and regime is Regime.SURPLUS:
        return _outcome(game, rule, regime, compromise_price(game), 0.0)
    weight = short_side_weight(supply, demand) if sellers_weight is None else sellers_weight
    if rule is not GameRule.NASH:
        weight = 0.0
    elif not 0.0 < weight < 1.0:
        raise InvalidPricingGame(field="sellers_weight", value=weight, reason="must be in (0, 1)")
    objective = _Objective(game, rule, weight)
    low, high = game.feed_in_price_micro_per_kwh, game.grid_price_micro_per_kwh
    price = _minimise(objective, low, high, closed=rule is not GameRule.NASH)
    return _outcome(game, rule, regime, price, weight)


def _outcome(
    game: PricingGame, rule: GameRule, regime: Regime, price: float | None, weight: float
) -> PricingOutcome:
    p_s = game.feed_in_price_micro_per_kwh
    effective, share = (p_s, 0.0) if price is None else sellers_response(game, price)
    loads = tuple(best_response_load_wh(s, effective) for s in game.sellers)
    surpluses = [s.generation_wh - load for s, load in zip(game.sellers, loads, strict=True)]
    sold = tuple(share * surplus for surplus in surpluses)
    traded = min(math.fsum(sold), game.demand_wh)
    demand = game.demand_wh
    bought = tuple(traded * d / demand if demand > 0 else 0.0 for d in game.demands_wh)
    return PricingOutcome(
        rule=rule,
        regime=regime,
        price_micro_per_kwh=price,
        sellers_weight=weight,
        loads_wh=loads,
        sold_wh=sold,
        exported_wh=tuple(surplus - s for surplus, s in zip(surpluses, sold, strict=True)),
        bought_wh=bought,
        supply_wh=math.fsum(surpluses),
        demand_wh=demand,
        traded_wh=traded,
        buyers_saving_micro=0.0 if price is None else buyers_saving_micro(game, price),
        sellers_gain_micro=0.0 if price is None else sellers_gain_micro(game, price),
    )
