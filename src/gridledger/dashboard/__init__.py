"""The community dashboard: a static web page (plain ES modules, vendored Chart.js) that
the node serves at ``/dashboard/``; it reads the node's API and its live stream.

The routes that serve it live in `gridledger.api.dashboard`.
"""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
"""index.html, the page's modules, its stylesheet and vendor/ (Chart.js with its licence)."""
