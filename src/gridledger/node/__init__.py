"""The node: mempool, solo ordering, block cutter, committer and storage.

Only the errors are imported with the package; the node, its services and its storages
(which load the contracts and numpy) are imported on first use (PEP 562), so a command
that reads a key file or talks to a node over HTTP does not pay for them.
"""

from typing import TYPE_CHECKING

from gridledger.node.errors import (
    ChainBehind,
    CorruptChain,
    MempoolFull,
    NodeError,
    NotFound,
    StorageError,
)

if TYPE_CHECKING:
    from gridledger.node.core import Admission, CommittedBlock, CutterConfig, Node
    from gridledger.node.memory_storage import MemoryStorage
    from gridledger.node.service import SoloService
    from gridledger.node.storage import SQLiteStorage
    from gridledger.node.storage_interface import Storage


def __getattr__(name: str) -> object:
    """The node, its services and storages, imported when first asked for."""
    import importlib

    modules = {
        "Admission": "core",
        "CommittedBlock": "core",
        "CutterConfig": "core",
        "Node": "core",
        "MemoryStorage": "memory_storage",
        "SoloService": "service",
        "SQLiteStorage": "storage",
        "Storage": "storage_interface",
    }
    if name not in modules:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{modules[name]}"), name)
    globals()[name] = value
    return value


__all__ = [
    "Admission",
    "ChainBehind",
    "CommittedBlock",
    "CorruptChain",
    "CutterConfig",
    "MemoryStorage",
    "MempoolFull",
    "Node",
    "NodeError",
    "NotFound",
    "SQLiteStorage",
    "SoloService",
    "Storage",
    "StorageError",
]
