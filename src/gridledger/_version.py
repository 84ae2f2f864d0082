"""The version of gridledger, kept equal to ``version`` in pyproject.toml (the API reports it)."""

__version__ = "0.1.0"
