"""A simulated community on disk: keys, genesis and the expanded list of households.

Every key is derived from the scenario's name, seed and the key's name
(`keypair_from_name`), so a rerun of the same scenario and seed signs the same
bytes and grows the same chain, head hash included. Those keys are for
simulations only: anyone who knows the names has them.

Every household registers as seed 003 Tables 1-2 ask: its technical fields
(customer or generation type, PV peak, battery capacity) are in genesis in the
clear, its personal fields (a made-up identity and credit record) only as
salted digests, with the values in the regulator's registry
(``registry.sqlite``). The salts too are derived from the scenario and seed
(`derived_salt`), so reruns stay byte-identical; like the keys, they are for
simulations only.

`open_community` writes it into a new directory and opens its node through the embedded
client. The directory is an ordinary gridledger community (``genesis.json``,
``keys/*.key``, ``chain.sqlite``, ``registry.sqlite``), so ``gridledger node
--dir`` and ``gridledger verify --dir`` work on it afterwards.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gridledger.client import EmbeddedClient
from gridledger.client.embedded import Founder, founding_genesis
from gridledger.client.embedded import write_community as write_founders
from gridledger.contracts.policies import default_policies
from gridledger.contracts.registration import SplitRegistration, split_registration
from gridledger.crypto import KeyPair, keypair_from_name
from gridledger.crypto.disclosure import Value, derived_salt
from gridledger.ledger import Genesis
from gridledger.simulation.scenario import MemberSpec, Scenario, ScenarioError, member_names

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


def registration_of(household: HouseholdSpec, scenario: Scenario) -> dict[str, Value]:
    """The household's registration (seed 003 Tables 1-2), made up from its spec."""
    group = household.group
    values: dict[str, Value] = {
        "basic_information": f"{household.name}, a simulated household of {scenario.name}",
        "credit_record": "none (simulated)",
    }
    if group.role == "consumer":
        values.update(customer_type="residential", purpose="household load")
    if group.pv is not None and group.role in ("producer", "prosumer"):
        values["generation_type"] = "solar"
        peak_w = round(group.pv.peak_power_w * household.size_factor)
        values["installed_capacity_w"] = max(peak_w, 1)
    if group.battery is not None and group.role == "storage":
        values["storage_capacity_wh"] = group.battery.capacity_wh
    return values


def split_registration_of(household: HouseholdSpec, scenario: Scenario) -> SplitRegistration:
    """The household's registration, its personal fields as disclosures with derived salts."""
    values = registration_of(household, scenario)
    secret = f"{key_namespace(scenario)}/{household.name}".encode()
    return split_registration(values, {field: derived_salt(secret, field) for field in values})


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
                split.technical,
                tuple(split.disclosures),
            )
            for household in households
            for split in (split_registration_of(household, scenario),)
        ),
    ]


def build_genesis(
    scenario: Scenario, households: list[HouseholdSpec], genesis_time_ms: int
) -> Genesis:
    """The genesis document: operator, regulator and every household with its meter."""
    market = scenario.market
    parameters: dict[str, Any] = {
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
    if scenario.treasurer:  # named only when set, so other communities keep their bytes
        parameters["policies"] = default_policies(
            member_keys(scenario, OPERATOR).public_key,
            member_keys(scenario, REGULATOR).public_key,
            member_keys(scenario, scenario.treasurer).public_key,
        )
    if scenario.currency.lifetime_days:  # named only when set, so other communities keep bytes
        parameters["tokens"]["lifetime_days"] = scenario.currency.lifetime_days
    if scenario.certificates.enabled:
        parameters["certificates"] = {"enabled": True}
    for name in ("negotiation_seconds", "commit_seconds", "amend_seconds"):
        value = getattr(market, name)
        if value is not None:  # named only when set, so other communities keep their bytes
            parameters["market"][name] = value
    if "day_ahead" in market.stages:  # named only then, so other communities keep their bytes
        parameters["market"]["day_ahead_gate_seconds"] = market.day_ahead_gate_seconds
    if market.sealed_reveal_window_seconds is not None:  # likewise, only when named
        parameters["market"]["sealed_reveal_window_seconds"] = market.sealed_reveal_window_seconds
        parameters["market"]["sealed_non_reveal_fee_micro"] = market.sealed_non_reveal_fee_micro
    return founding_genesis(
        chain_id_of(scenario), genesis_time_ms, founders(scenario, households), parameters
    )


def write_community(
    directory: Path, scenario: Scenario, households: list[HouseholdSpec], genesis: Genesis
) -> None:
    """Write ``genesis.json`` and every key file into a fresh community directory."""
    write_founders(directory, genesis, founders(scenario, households))


WORKER_PROCESSES_FROM = 5_000
"""Households from which a run starts the node's worker processes (signature checks and
lane sums off the main thread: about 15 % less time for the orders and readings of a
3,000-household run, for ~2 s of start-up, which a small community would not win back).
Where the checks run changes no result."""


def open_community(
    directory: Path,
    scenario: Scenario,
    households: list[HouseholdSpec],
    genesis: Genesis,
    block_transactions: int,
) -> EmbeddedClient:
    """Write the community into ``directory`` (which must not hold one) and open its node,
    cutting blocks of at most ``block_transactions``."""
    directory.mkdir(parents=True, exist_ok=True)
    if (directory / "genesis.json").exists():
        raise ScenarioError("", f"{directory} already holds a community; choose a new --out")
    write_community(directory, scenario, households, genesis)
    client = EmbeddedClient.open(
        directory / "chain.sqlite", genesis, max_block_transactions=block_transactions
    )
    if len(households) >= WORKER_PROCESSES_FROM:
        # the signature checks and the state hash's lane sums in worker processes, the
        # checks of a step's later blocks while its earlier ones execute
        # (`EmbeddedClient.submit_and_commit`): the second core works too
        client.node.verifier.start_processes_and_wait()
    return client
