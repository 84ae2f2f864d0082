"""The local file of a member's sealed-order openings, next to its key file.

``market day-ahead buy|sell --sealed`` commits to a price and an energy; what opens the
commitments (the values and their blindings) stays on the member's machine until
``market day-ahead reveal`` publishes it after the gate. The file is
``<key file without .key>.openings.json`` beside the key (``DIR/keys/alice.openings.json``
for ``-k alice``), mode 0600 like the key itself: whoever reads it learns the member's
bids before the gate. Content: ``{"<order id>": {"price_micro_per_kwh": …,
"price_blinding": "<64 hex>", "energy_wh": …, "energy_blinding": "<64 hex>"}}``.
A revealed order's entry is removed.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from gridledger.crypto.privacy import PrivacyError, decode_scalar, encode_scalar
from gridledger.market import SealedOpening

__all__ = ["OpeningsFileError", "load_openings", "openings_path", "save_openings"]

FILE_MODE = 0o600


class OpeningsFileError(Exception):
    """The openings file cannot be read or written; the message names the file and why."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"sealed-order openings file {path}: {reason}")


def openings_path(key_file: Path) -> Path:
    """Where the openings of the key at ``key_file`` are kept."""
    return key_file.with_name(key_file.name.removesuffix(".key") + ".openings.json")


def _opening(path: Path, order_id: str, entry: object) -> SealedOpening:
    if not isinstance(entry, dict):
        raise OpeningsFileError(path, f"entry {order_id!r} is not an object")
    try:
        price, energy = entry["price_micro_per_kwh"], entry["energy_wh"]
        if type(price) is not int or type(energy) is not int:
            raise OpeningsFileError(path, f"entry {order_id!r}: price and energy are integers")
        return SealedOpening(
            price,
            decode_scalar(bytes.fromhex(entry["price_blinding"])),
            energy,
            decode_scalar(bytes.fromhex(entry["energy_blinding"])),
        )
    except (KeyError, TypeError, ValueError, PrivacyError) as error:
        raise OpeningsFileError(path, f"entry {order_id!r} is malformed: {error}") from None


def load_openings(path: Path) -> dict[str, SealedOpening]:
    """The openings kept in ``path`` (none if it does not exist); refuses a file others can
    read or one that is not JSON of the documented shape."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return {}
    if not stat.S_ISREG(info.st_mode):
        raise OpeningsFileError(path, "is not a regular file")
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise OpeningsFileError(
            path, f"mode {stat.S_IMODE(info.st_mode):o} lets others read it: run `chmod 600 {path}`"
        )
    try:
        content = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise OpeningsFileError(path, f"unreadable: {error}") from None
    if not isinstance(content, dict):
        raise OpeningsFileError(path, "is not a JSON object of order ids")
    return {str(k): _opening(path, str(k), v) for k, v in content.items()}


def save_openings(path: Path, openings: dict[str, SealedOpening]) -> None:
    """Write ``openings`` to ``path`` atomically, mode 0600 from the first byte."""
    content = {
        order_id: {
            "price_micro_per_kwh": o.price_micro_per_kwh,
            "price_blinding": encode_scalar(o.price_blinding).hex(),
            "energy_wh": o.energy_wh,
            "energy_blinding": encode_scalar(o.energy_blinding).hex(),
        }
        for order_id, o in sorted(openings.items())
    }
    temporary = path.with_name(path.name + ".tmp")
    temporary.unlink(missing_ok=True)
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        with os.fdopen(descriptor, "w") as file:
            json.dump(content, file, indent=2)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except OSError as error:
        raise OpeningsFileError(path, f"cannot be written: {error}") from None
