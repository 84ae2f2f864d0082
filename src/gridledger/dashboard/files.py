"""Where the dashboard's files are."""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
"""index.html, the page's modules, its stylesheet and vendor/ (Chart.js with its licence)."""
