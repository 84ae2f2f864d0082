"""A simulated community on disk: keys, genesis and the expanded list of households.

Every key is derived from the scenario's name, seed and the key's name
(`keypair_from_name`), so a rerun of the same scenario and seed signs the same
bytes and grows the same chain, head hash included. Those keys are for
simulations only: anyone who knows the names has them.

The directory is an ordinary gridledger community (``genesis.json``,
``keys/*.key``, ``chain.sqlite``), so ``gridledger node --dir`` and
``gridledger verify --dir`` work on it afterwards.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from pathlib import Path

from gridledger.crypto import KeyPair, keypair_from_name
from gridledger.ledger import Genesis
from gridledger.node.community import Founder, founding_genesis
from gridledger.node.community import write_community as write_founders
from gridledger.simulation.scenario import MemberSpec, Scenario, member_names

OPERATOR = "operator"
REGULATOR = "regulator"


@dataclass(frozen=True)
class HouseholdSpec:
    """One household of the scenario, with its group's spec and its own size factor."""

    name: str
    group: MemberSpec
    group_index: int
    """Index of its group in ``scenario.members`` (for error messages)."""
    size_factor: float
    """PV peak and annual load are multiplied by this (1.0 unless ``size_variation``)."""


def expand_members(scenario: Scenario) -> list[HouseholdSpec]:
    """Every household of the scenario, groups expanded, in file order."""
    draw = random.Random(f"{scenario.seed}/sizes")
    households: list[HouseholdSpec] = []
    for index, group in enumerate(scenario.members):
        for name in member_names(group):
            variation = group.size_variation
            factor = 1.0 if variation == 0 else 1 + variation * (2 * draw.random() - 1)
            households.append(HouseholdSpec(name, group, index, factor))
    return households


def key_namespace(scenario: Scenario) -> str:
    return f"gridledger-simulation/{scenario.name}/{scenario.seed}"


def _keys(name: str, scenario: Scenario) -> KeyPair:
    return _derived_keys(name, key_namespace(scenario))


@functools.lru_cache(maxsize=8192)
def _derived_keys(name: str, namespace: str) -> KeyPair:
    """`keypair_from_name`, remembered: genesis, the key files and the agents each need every
    household's two keys (a derivation is a scalar multiplication, about 30 µs)."""
    return keypair_from_name(name, namespace=namespace)


def member_keys(scenario: Scenario, name: str) -> KeyPair:
    return _keys(name, scenario)


def meter_keys(scenario: Scenario, name: str) -> KeyPair:
    return _keys(f"{name}-meter", scenario)


def chain_id_of(scenario: Scenario) -> str:
    return f"sim-{scenario.name}-{scenario.seed}"[:64]


def founders(scenario: Scenario, households: list[HouseholdSpec]) -> list[Founder]:
    """Operator, regulator and every household with its meter, with their derived keys."""
    return [
        Founder(OPERATOR, "operator", member_keys(scenario, OPERATOR), scenario.grid_funding_micro),
        Founder(REGULATOR, "regulator", member_keys(scenario, REGULATOR)),
        *(
            Founder(
                household.name,
                household.group.role,
                member_keys(scenario, household.name),
                household.group.balance_micro,
                meter_keys(scenario, household.name),
            )
            for household in households
        ),
    ]


def build_genesis(
    scenario: Scenario, households: list[HouseholdSpec], genesis_time_ms: int
) -> Genesis:
    """The genesis document: operator, regulator and every household with its meter."""
    market = scenario.market
    parameters = {
        "tokens": {"issuer_roles": ["operator"]},
        "market": {
            "mechanism": market.mechanism,
            "period_seconds": market.period_seconds,
            "gate_closure_seconds": market.gate_closure_seconds,
            "meter_window_seconds": market.meter_window_seconds,
            "feed_in_price_micro_per_kwh": market.feed_in_price_micro_per_kwh,
            "grid_price_micro_per_kwh": market.grid_price_micro_per_kwh,
            "cap_price_micro_per_kwh": market.cap_price_micro_per_kwh,
            "breakdown_penalty_micro": market.breakdown_penalty_micro,
        },
    }
    return founding_genesis(
        chain_id_of(scenario), genesis_time_ms, founders(scenario, households), parameters
    )


def write_community(
    directory: Path, scenario: Scenario, households: list[HouseholdSpec], genesis: Genesis
) -> None:
    """Write ``genesis.json`` and every key file into a fresh community directory."""
    write_founders(directory, genesis, founders(scenario, households))
