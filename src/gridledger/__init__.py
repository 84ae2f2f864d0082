"""gridledger: a permissioned ledger and peer-to-peer energy market for microgrids."""

__version__ = "0.1.0"

__all__ = ["__version__"]
