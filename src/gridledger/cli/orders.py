"""What the order commands `market buy|sell` and `market day-ahead buy|sell` share: the
energy and limit options, worded for each side, and the order's arguments."""

from __future__ import annotations

from typing import Any

import typer

ENERGY_OPTIONS = {
    "buy": typer.Option(..., "--energy-wh", help="Energy to buy, Wh"),
    "sell": typer.Option(..., "--energy-wh", help="Energy to sell, Wh"),
}
"""``--energy-wh`` of a buy or a sell order."""
LIMIT_OPTIONS = {
    "buy": typer.Option(..., "--price", help="Limit: the most you pay, micro-units per kWh"),
    "sell": typer.Option(..., "--price", help="Limit: the least you accept, micro-units per kWh"),
}
"""``--price`` (the limit) of a buy or a sell order."""


def order_args(
    side: str, energy_wh: int, price: int, period: int, expiry: int = 0, all_or_none: bool = False
) -> dict[str, Any]:
    """The arguments of an order (``place_order``, ``place_day_ahead_order``), in this order.

    `expiry` (seconds since the epoch) only when set; `all_or_none` only when asked for: a
    period's own market refuses it (all_or_none_not_supported), and says why.
    """
    args: dict[str, Any] = {
        "side": side,
        "energy_wh": energy_wh,
        "price_micro_per_kwh": price,
        "period": period,
    }
    if expiry:
        args["expiry_s"] = expiry
    if all_or_none:
        args["all_or_none"] = True
    return args
