"""``python -m gridledger.cli``: the `gridledger` command."""

from gridledger.cli import app

app()
