"""Looking for bytes in files: does any file of a directory still hold some text?"""

from __future__ import annotations

from pathlib import Path


def files_holding(directory: Path, needles: list[str]) -> dict[str, list[str]]:
    """Every file under `directory` that holds one of `needles` (UTF-8), with those it holds."""
    found: dict[str, list[str]] = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            held = [n for n in needles if n.encode() in data]
            if held:
                found[path.name] = held
    return found
