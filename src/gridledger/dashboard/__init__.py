"""The community dashboard: a static web page (plain ES modules, vendored Chart.js) that
the node serves at ``/dashboard/``; it reads the node's API and its live stream.

The routes that serve it live in `gridledger.api.dashboard`.
"""

from gridledger.dashboard.files import STATIC_DIR

__all__ = ["STATIC_DIR"]
