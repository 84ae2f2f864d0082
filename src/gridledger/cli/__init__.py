"""The `gridledger` command, one module per command group (see `gridledger.cli.main`)."""

from gridledger.cli.main import app

__all__ = ["app"]
