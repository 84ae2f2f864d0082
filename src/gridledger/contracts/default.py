"""The contracts every gridledger chain runs, in genesis order."""

from __future__ import annotations

from gridledger.contracts import membership, tokens
from gridledger.contracts.registry import Registry


def default_registry() -> Registry:
    """A registry of the standard contracts: membership, then tokens."""
    return Registry([membership.contract, tokens.contract], membership.check_active_member)
