"""What the runner's own steps sign: the start's funding and stealth keys, the households'
orders and meter readings, the operator's anchor of each period's device data, its daily
issue, and the households' retirement of their certificates at the end.

Each function only builds the signed transactions (and, for the readings, runs the
households' devices); the runner (`simulation.runner`) commits them at its step's
simulated time. The day-ahead stage and seed 001's bilateral steps build their own
(`simulation.day_ahead`, `simulation.bilateral`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gridledger.agents.interfaces import Bid
from gridledger.client import EmbeddedClient, Wallet
from gridledger.client.privacy import register_keys_args
from gridledger.contracts.metering import reading_message
from gridledger.simulation.device_rows import DeviceRows, device_row
from gridledger.simulation.households import Agent
from gridledger.simulation.scenario import Scenario


def grid_funding_transactions(scenario: Scenario, operator: Wallet) -> list[bytes]:
    """The operator's move of ``grid_funding_micro`` into the grid account, to pay feed-in
    (nothing without it)."""
    if not scenario.grid_funding_micro:
        return []
    args = {"amount_micro": scenario.grid_funding_micro, "reference": "simulation"}
    return [operator.sign("settlement", "fund_grid", args)]


def stealth_registrations(agents: Sequence[Agent]) -> list[bytes]:
    """Every household's stealth keys (``privacy.stealth_payouts``), so that settlement pays
    it to a fresh one-time account each period."""
    return [
        agent.wallet.sign("privacy", "register_keys", register_keys_args(agent.wallet.keys, True))
        for agent in agents
    ]


def order_args(bid: Bid, period: int) -> dict[str, Any]:
    return {
        "side": bid.side,
        "energy_wh": bid.energy_wh,
        "price_micro_per_kwh": bid.price_micro_per_kwh,
        "period": period,
    }


def reading_transactions(
    agents: Sequence[Agent],
    operator: Wallet,
    device_rows: DeviceRows,
    chain_id: str,
    period: int,
    seconds: int,
    committed: dict[str, int],
) -> list[bytes]:
    """Every household's meter reading of ``period`` (its devices run now: actual generation,
    load and battery dispatch, given its net ``committed`` export in Wh), signed by its meter
    key, then the operator's anchor of the SHA-256 of the period's device data, which
    ``device_rows`` keeps for ``device_data.csv``."""
    start = period * seconds
    raws: list[bytes] = []
    rows: list[dict[str, int | str]] = []
    for agent in agents:
        address = agent.wallet.address
        metered = agent.household.deliver(period, start, seconds, committed.get(address, 0))
        rows.append(device_row(period, address, agent.name, metered))
        message = reading_message(
            chain_id, address, period, metered.exported_wh, metered.imported_wh
        )
        args = {
            "member": address,
            "period": period,
            "exported_wh": metered.exported_wh,
            "imported_wh": metered.imported_wh,
            "meter_key": agent.meter.public_key.hex(),
            "signature": agent.meter.sign(message).hex(),
        }
        raws.append(agent.meter_wallet.sign("metering", "record_reading", args))
    raws.append(
        operator.sign(
            "metering",
            "anchor_batch",
            {
                "sha256": device_rows.add(period, rows),
                "label": f"device data, period {period}",
                "record_count": len(rows),
            },
        )
    )
    return raws


def daily_issue_transactions(
    operator: Wallet, agents: Sequence[Agent], amount_micro: int
) -> list[bytes]:
    """The operator's issue of the day's currency to every household (seed 004 §3.4)."""
    return [
        operator.sign(
            "tokens",
            "mint",
            {"to": agent.wallet.address, "amount_micro": amount_micro, "reference": "daily"},
        )
        for agent in agents
    ]


def retirement_transactions(client: EmbeddedClient, agents: Sequence[Agent]) -> list[bytes]:
    """Every household's retirement of the certificates it holds, for its own consumption."""
    return [
        agent.wallet.sign(
            "certificates",
            "retire",
            {
                "period": holding.period,
                "producer": holding.producer,
                "energy_wh": holding.energy_wh,
                "beneficiary": agent.name,
                "purpose": "household consumption",
            },
        )
        for agent in agents
        for holding in client.certificates(agent.wallet.address).holdings
    ]
