"""HTTP and WebSocket API of a node."""

from gridledger.api.app import create_app
from gridledger.api.server import serve_node

__all__ = ["create_app", "serve_node"]
