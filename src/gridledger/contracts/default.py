"""The contracts every gridledger chain runs, in genesis order."""

from __future__ import annotations

from gridledger.contracts import (
    certificates,
    corrections,
    governance,
    market,
    membership,
    metering,
    parameters,
    policies,
    pricing,
    privacy,
    settlement,
    tokens,
)
from gridledger.contracts.registry import Registry


def default_registry() -> Registry:
    """A registry of the standard contracts, in the order their genesis state is written."""
    contracts = [
        membership.contract,
        tokens.contract,
        parameters.contract,
        metering.contract,
        market.contract,
        settlement.contract,
        pricing.contract,
        governance.contract,
        privacy.contract,
        policies.contract,
        corrections.contract,
        certificates.contract,
    ]
    return Registry(contracts, membership.check_active_member)
