"""The market rules every market contract reads, as values: `MarketParameters` and the
trading windows (`TradingWindows`), their schedule entries and their range checks.

No state here: the parameters contract (`parameters`) stores and schedules them.
Units: seconds for durations, micro-units per kWh for prices, micro-units for money.
"""

from __future__ import annotations

import msgspec

from gridledger.contracts.parameters_errors import InvalidParameter

__all__ = [
    "MECHANISMS",
    "WINDOW_FIELDS",
    "BilateralWindow",
    "MarketParameters",
    "ScheduledParameters",
    "ScheduledWindows",
    "TradingWindows",
    "bilateral_window",
    "check_parameters",
    "check_windows",
    "standing_offers_in_force",
]

MECHANISMS = ("high_low", "continuous", "call_auction")


class MarketParameters(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    period_seconds: int = 3600
    """Length of a delivery period (one hour by default, as in seeds 000, 001 and 003)."""
    gate_closure_seconds: int = 300
    """Orders for a period close this long before it starts; seed 001's commit window
    (`TradingWindows.commit_seconds`) ends here."""
    meter_window_seconds: int = 900
    """Readings for a period are accepted for this long after it ends."""
    feed_in_price_micro_per_kwh: int = 770_000
    """What the grid pays for surplus (seed 003: 0.77 per kWh)."""
    grid_price_micro_per_kwh: int = 850_000
    """What the grid charges for energy (seed 003: 0.85 per kWh)."""
    cap_price_micro_per_kwh: int = 850_000
    """The regulator's standing offer, with unlimited volume (seed 000 §2.2 (4)).

    It bounds every price; it trades itself only while it is below the grid price
    (`standing_offers_in_force`)."""
    breakdown_penalty_micro: int = 1_000_000
    """Paid by a producer who sold but delivered nothing (seed 000 eq. 1, σ)."""
    mechanism: str = "high_low"


class ScheduledParameters(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    from_period: int
    parameters: MarketParameters


class TradingWindows(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """When members may negotiate, commit and amend (seeds 001 §4.1 and 003 §3).

    Seed 001 trades each delivery period in a one-hour window ending at its gate
    closure: ``negotiation_seconds`` in which sellers publish offers and the
    parties bargain off chain, then ``commit_seconds`` in which they only sign
    what they agreed and the chain records it. The market contract enforces
    both from the block timestamp (`bilateral_window`).
    """

    negotiation_seconds: int = 55 * 60
    """Offers for a period are published in this window (seed 001: 55 minutes)."""
    commit_seconds: int = 5 * 60
    """Agreements are signed in this window, which ends at gate closure (seed 001: 5 minutes)."""
    amend_seconds: int = 0
    """An order may be amended or withdrawn this long after it was placed (seed 003's
    "short time after release"); 0 = until gate closure."""


WINDOW_FIELDS = tuple(TradingWindows.__struct_fields__)


class ScheduledWindows(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    from_period: int
    windows: TradingWindows


class BilateralWindow(msgspec.Struct, frozen=True):
    """Seed 001's window for one delivery period, in block-time seconds.

    ``[opens_s, commit_opens_s)`` negotiation: offers are published;
    ``[commit_opens_s, closes_s)`` commit: agreements are signed; ``closes_s``
    is the period's gate closure.
    """

    opens_s: int
    commit_opens_s: int
    closes_s: int


def bilateral_window(
    parameters: MarketParameters, windows: TradingWindows, period: int
) -> BilateralWindow:
    """The negotiation and commit windows of `period`, ending at its gate closure."""
    closes = period * parameters.period_seconds - parameters.gate_closure_seconds
    commit_opens = closes - windows.commit_seconds
    return BilateralWindow(commit_opens - windows.negotiation_seconds, commit_opens, closes)


def check_parameters(parameters: MarketParameters) -> None:
    """Raise `InvalidParameter` naming the first field that is out of range."""
    if parameters.period_seconds < 60 or 86_400 % parameters.period_seconds:
        raise InvalidParameter("period_seconds", "must be at least 60 and divide a day")
    if not 0 <= parameters.gate_closure_seconds < parameters.period_seconds:
        raise InvalidParameter("gate_closure_seconds", "must be in [0, period_seconds)")
    if not 0 < parameters.meter_window_seconds <= 7 * 86_400:
        raise InvalidParameter("meter_window_seconds", "must be in (0, 7 days]")
    if parameters.feed_in_price_micro_per_kwh < 0:
        raise InvalidParameter("feed_in_price_micro_per_kwh", "must not be negative")
    if parameters.grid_price_micro_per_kwh < parameters.feed_in_price_micro_per_kwh:
        raise InvalidParameter("grid_price_micro_per_kwh", "must be at least the feed-in price")
    if not (parameters.feed_in_price_micro_per_kwh <= parameters.cap_price_micro_per_kwh):
        raise InvalidParameter("cap_price_micro_per_kwh", "must be at least the feed-in price")
    if parameters.breakdown_penalty_micro < 0:
        raise InvalidParameter("breakdown_penalty_micro", "must not be negative")
    if parameters.mechanism not in MECHANISMS:
        raise InvalidParameter("mechanism", f"must be one of {', '.join(MECHANISMS)}")


def check_windows(windows: TradingWindows) -> None:
    """Raise `InvalidParameter` naming the first window that is out of range."""
    if not 0 < windows.negotiation_seconds <= 86_400:
        raise InvalidParameter("negotiation_seconds", "must be in (0, 1 day]")
    if not 0 < windows.commit_seconds <= 86_400:
        raise InvalidParameter("commit_seconds", "must be in (0, 1 day]")
    if not 0 <= windows.amend_seconds <= 86_400:
        raise InvalidParameter("amend_seconds", "must be in [0, 1 day]")


def standing_offers_in_force(parameters: MarketParameters) -> bool:
    """True when the regulator's standing offer is in force: its cap is below the grid price.

    Then the standing offers trade (seed 000 §2.2 (4), DESIGN.md "Market and
    settlement"): at the clear, the regulator sells unlimited energy at the cap
    to every buy whose limit reaches it and the grid buys unlimited energy at
    the feed-in price from every sell whose limit is at most that; at
    settlement, the regulator serves unmet demand at the cap. Each is a trade of
    kind ``regulator`` or ``grid``. A cap at or above the grid price offers
    nothing the grid does not: the community then has no regulator's offer of
    its own, and settlement plays the grid's part alone (unmet demand at the
    grid price, which is then at most the cap), as on every chain recorded
    before the standing offers traded; so such chains keep their bytes.
    """
    return parameters.cap_price_micro_per_kwh < parameters.grid_price_micro_per_kwh
