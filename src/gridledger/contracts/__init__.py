"""The chaincode: contracts as pure functions over ledger state, dispatched by name.

Only the errors are imported with the package; the registry and `default_registry` (every
contract, and with them the ledger's state transition and numpy) are imported on first
use (PEP 562), so importing a light module of the package for its constants (such as
`contracts.vocabulary`) does not load them.
"""

from typing import TYPE_CHECKING

from gridledger.contracts.errors import ContractError

if TYPE_CHECKING:
    from gridledger.contracts.default import default_registry
    from gridledger.contracts.registry import Access, Contract, Method, Registry


def __getattr__(name: str) -> object:
    """`default_registry` from ``contracts.default``, the rest from ``contracts.registry``,
    imported when first asked for."""
    import importlib

    if name == "default_registry":
        module = "default"
    elif name in ("Access", "Contract", "Method", "Registry"):
        module = "registry"
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = ["Access", "Contract", "ContractError", "Method", "Registry", "default_registry"]
