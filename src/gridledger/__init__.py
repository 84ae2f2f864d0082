"""gridledger: a permissioned ledger and peer-to-peer energy market for microgrids."""

from gridledger._version import __version__

__all__ = ["__version__"]
