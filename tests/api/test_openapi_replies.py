"""The OpenAPI document publishes every reply type the clients decode, and each route
names its reply, so the document and the clients cannot drift apart."""

from __future__ import annotations

import msgspec
from fastapi.testclient import TestClient

from gridledger.api import create_app
from gridledger.api.openapi import REPLY_TYPES
from gridledger.client import dashboard_replies, market_replies, replies
from gridledger.node import Node
from tests.community import make_genesis


def reply_structs() -> list[type[msgspec.Struct]]:
    found = []
    for module in (replies, market_replies, dashboard_replies):
        for name in module.__all__:
            value = getattr(module, name)
            is_struct = isinstance(value, type) and issubclass(value, msgspec.Struct)
            if is_struct and value is not replies.Reply:
                found.append(value)
    return found


def openapi() -> dict[str, object]:
    node = Node.in_memory(make_genesis())
    try:
        with TestClient(create_app(node)) as http:
            document: dict[str, object] = http.get("/openapi.json").json()
    finally:
        node.close()
    return document


def test_every_reply_type_is_a_schema_component() -> None:
    schemas = openapi()["components"]["schemas"]  # type: ignore[index]
    missing = [t.__name__ for t in reply_structs() if t.__name__ not in schemas]
    assert missing == []
    assert len(reply_structs()) > 40
    for struct in reply_structs():
        assert struct in REPLY_TYPES or struct.__name__ in schemas


def test_every_read_route_names_its_reply() -> None:
    document = openapi()
    unnamed = []
    for path, methods in document["paths"].items():  # type: ignore[attr-defined]
        for method, operation in methods.items():
            if not path.startswith("/v1/") or path.startswith("/v1/results"):
                continue
            responses = operation["responses"]
            if set(responses) & {"200", "201", "202"} == set():
                assert "204" in responses, (method, path)  # answers no body
                continue
            ok = responses.get("200") or responses.get("201") or responses.get("202")
            schema = ok["content"]["application/json"]["schema"]
            if not ("$ref" in schema or "anyOf" in schema or "type" in schema):
                unnamed.append(f"{method.upper()} {path}")
    assert unnamed == []


def test_a_reply_schema_has_the_served_keys() -> None:
    schemas = openapi()["components"]["schemas"]  # type: ignore[index]
    head = schemas["HeadReply"]  # type: ignore[index]
    assert set(head["properties"]) == {  # type: ignore[index]
        "chain_id",
        "height",
        "hash",
        "timestamp_ms",
        "state_hash",
        "pending_transactions",
        "total_supply_micro",
        "header",
    }
    transaction = schemas["TransactionReply"]["properties"]  # type: ignore[index]
    assert transaction["status"] == {"enum": ["committed"]}  # type: ignore[index]
