"""The day-ahead auction's rules (issue 13) and its sealed orders' (issue 15), as values:
`DayAhead` and `SealedOrders`, how a genesis names them and what a delivery day is.

No state here: the parameters contract (`parameters`) stores them, only when a
genesis offers them (`parameters.day_ahead_of`, `parameters.sealed_orders_of`).
Units: seconds, micro-units for money; a delivery day is a UTC day since 1970.
"""

from __future__ import annotations

from typing import Any

import msgspec

from gridledger.contracts.market_parameters import MarketParameters
from gridledger.contracts.parameters_errors import InvalidParameter
from gridledger.ledger import GenesisError
from gridledger.ledger.encoding import MAX_INTEGER

__all__ = [
    "DAY_AHEAD_FIELDS",
    "DAY_SECONDS",
    "SEALED_FIELDS",
    "DayAhead",
    "SealedOrders",
    "check_day_ahead",
    "day_ahead_gate_s",
    "day_of",
    "parse_day_ahead",
    "parse_sealed_orders",
]

DAY_SECONDS = 86_400


class DayAhead(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The community's day-ahead call auction (seed 002 §5.3.3), stored only when offered.

    The products of a delivery day (the periods of one UTC day) take orders
    until the day's gate, ``gate_seconds`` before the day starts (43,200: noon
    the day before, as the European day-ahead markets), and are cleared there
    together (`market_day_ahead`). A genesis offers it by naming
    ``day_ahead_gate_seconds`` in ``parameters.market``; without it the key is
    absent and day-ahead orders are refused (DAY_AHEAD_NOT_OFFERED), so
    communities that do not offer it keep their state bytes.
    """

    gate_seconds: int = 43_200


SEALED_FIELDS = ("sealed_reveal_window_seconds", "sealed_non_reveal_fee_micro")
DAY_AHEAD_FIELDS = ("day_ahead_gate_seconds", *SEALED_FIELDS)


class SealedOrders(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Sealed day-ahead orders (issue 15, `market_sealed`), stored only when offered.

    A genesis offers them by naming ``sealed_reveal_window_seconds`` (with the
    day-ahead auction); without it the key is absent, sealed orders are refused
    (SEALED_ORDERS_NOT_OFFERED) and other communities keep their state bytes.
    Timing of a day: orders (plain and sealed) until the gate; the owners of
    sealed orders reveal them in [gate, gate + reveal_window_seconds); the clear
    happens at or after gate + reveal_window_seconds. ``non_reveal_fee_micro``
    is escrowed with each sealed order, returned at its reveal or cancellation,
    and paid to the grid account when the order is dropped unrevealed.
    """

    reveal_window_seconds: int
    non_reveal_fee_micro: int = 0


def parse_sealed_orders(
    raw: dict[str, Any], parameters: MarketParameters, day_ahead: DayAhead | None, field: str
) -> SealedOrders | None:
    """The sealed orders a genesis offers, or None; the reveal window must end before the
    day's first product closes (``gate_seconds - reveal_window > gate_closure_seconds``)."""
    named = {name: raw[name] for name in SEALED_FIELDS if name in raw}
    if not named:
        return None
    if "sealed_reveal_window_seconds" not in named:
        raise GenesisError(field, "sealed_non_reveal_fee_micro needs sealed_reveal_window_seconds")
    if day_ahead is None:
        raise GenesisError(
            field, "sealed orders need the day-ahead auction (day_ahead_gate_seconds)"
        )
    try:
        sealed = msgspec.convert(
            {name.removeprefix("sealed_"): value for name, value in named.items()},
            SealedOrders,
            strict=True,
        )
    except msgspec.ValidationError as error:
        raise GenesisError(field, str(error).replace("$.", "sealed_")) from error
    limit = day_ahead.gate_seconds - parameters.gate_closure_seconds
    if not 0 < sealed.reveal_window_seconds < limit:
        raise GenesisError(
            field,
            f"sealed_reveal_window_seconds must be in (0, {limit}): the reveal window ends "
            "before the day's first product closes",
        )
    if not 0 <= sealed.non_reveal_fee_micro <= MAX_INTEGER:
        raise GenesisError(field, f"sealed_non_reveal_fee_micro must be in [0, {MAX_INTEGER}]")
    return sealed


def check_day_ahead(day_ahead: DayAhead, parameters: MarketParameters) -> None:
    """The gate lies before every product's own gate closure (strictly: the day's first
    product must still be open at the clear), and at most two days ahead."""
    if not parameters.gate_closure_seconds < day_ahead.gate_seconds <= 2 * DAY_SECONDS:
        raise InvalidParameter(
            "day_ahead_gate_seconds",
            f"must be in (gate_closure_seconds ({parameters.gate_closure_seconds}), "
            f"{2 * DAY_SECONDS}]",
        )


def parse_day_ahead(
    raw: dict[str, Any], parameters: MarketParameters, field: str
) -> DayAhead | None:
    """The day-ahead auction a genesis offers, or None."""
    if "day_ahead_gate_seconds" not in raw:
        return None
    try:
        day_ahead = msgspec.convert(
            {"gate_seconds": raw["day_ahead_gate_seconds"]}, DayAhead, strict=True
        )
        check_day_ahead(day_ahead, parameters)
    except (msgspec.ValidationError, InvalidParameter) as error:
        raise GenesisError(
            field, str(error).replace("$.gate_seconds", "day_ahead_gate_seconds")
        ) from error
    return day_ahead


def day_of(period: int, period_seconds: int) -> int:
    """The delivery day (UTC days since 1970) a period starts in."""
    return period * period_seconds // DAY_SECONDS


def day_ahead_gate_s(day: int, day_ahead: DayAhead) -> int:
    """When the day-ahead auction of ``day`` closes and clears (Unix seconds)."""
    return day * DAY_SECONDS - day_ahead.gate_seconds
