"""The chaincode: contracts as pure functions over ledger state, dispatched by name."""

from gridledger.contracts.default import default_registry
from gridledger.contracts.errors import ContractError
from gridledger.contracts.registry import Access, Contract, Method, Registry

__all__ = ["Access", "Contract", "ContractError", "Method", "Registry", "default_registry"]
