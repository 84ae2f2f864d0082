"""The node: mempool, solo ordering, block cutter, committer and storage."""

from gridledger.node.core import Admission, CommittedBlock, CutterConfig, Node
from gridledger.node.errors import (
    ChainBehind,
    CorruptChain,
    MempoolFull,
    NodeError,
    NotFound,
    StorageError,
)
from gridledger.node.memory_storage import MemoryStorage
from gridledger.node.service import SoloService
from gridledger.node.storage import SQLiteStorage
from gridledger.node.storage_interface import Storage

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
