"""The OpenAPI document declares every error the API gives, with the body it really has, and
a method a path does not answer gets 405 with an ``Allow`` header naming the ones it does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from gridledger.api import create_app
from gridledger.api.auth import OPEN_PATHS
from gridledger.node import Node
from tests.community import make_genesis
from tests.signing import signer


@pytest.fixture(scope="module")
def http() -> Iterator[TestClient]:
    node = Node.in_memory(make_genesis())
    try:
        with TestClient(create_app(node)) as client:
            yield client
    finally:
        node.close()


@pytest.fixture(scope="module")
def document(http: TestClient) -> dict[str, Any]:
    found: dict[str, Any] = http.get("/openapi.json").json()
    return found


@pytest.mark.parametrize(
    ("method", "path", "signed", "allow"),
    [
        ("PUT", "/v1/blocks", True, "GET"),
        ("DELETE", "/v1/members", True, "GET"),
        ("OPTIONS", "/v1/auth/session", True, "DELETE, POST"),  # two routes, one path
        ("GET", "/v1/transactions/batch", True, "POST"),  # not a transaction id
        ("GET", "/v1/transactions/batch", False, "POST"),
        ("GET", "/v1/transactions", False, "POST"),  # an open path: no key needed to hear it
        ("TRACE", "/v1/head", False, "GET"),
        ("PATCH", "/v1/auth/challenge", False, "POST"),
    ],
)
def test_a_method_the_path_does_not_answer_gets_405_with_allow(
    http: TestClient, method: str, path: str, signed: bool, allow: str
) -> None:
    response = http.request(method, path, auth=signer() if signed else None)
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == allow
    body = response.json()
    assert body["error"] == "method_not_allowed"
    assert allow in body["message"]


def declared(document: dict[str, Any], method: str, template: str) -> set[str]:
    return set(document["paths"][template][method.lower()]["responses"])


@pytest.mark.parametrize(
    ("method", "path", "template", "signed", "status"),
    [
        ("GET", "/v1/blocks/999", "/v1/blocks/{height}", True, 404),
        ("GET", "/v1/blocks/-1", "/v1/blocks/{height}", True, 400),
        ("GET", "/v1/blocks/x", "/v1/blocks/{height}", True, 422),
        ("GET", "/v1/blocks/1", "/v1/blocks/{height}", False, 401),
        ("GET", "/v1/members/nobody", "/v1/members/{address}", True, 400),
        ("GET", "/v1/members/gl" + "0" * 40, "/v1/members/{address}", True, 404),
        ("GET", "/v1/transactions/zz", "/v1/transactions/{transaction_id}", True, 400),
        ("GET", "/v1/transactions/" + "ab" * 32, "/v1/transactions/{transaction_id}", True, 404),
        ("GET", "/v1/market/periods/-1/book", "/v1/market/periods/{period}/book", True, 400),
        ("GET", "/v1/governance/proposals/7", "/v1/governance/proposals/{proposal_id}", True, 404),
        ("GET", "/v1/results", "/v1/results", True, 404),
        ("POST", "/v1/transactions", "/v1/transactions", False, 422),
        ("POST", "/v1/transactions/batch", "/v1/transactions/batch", False, 422),
        ("POST", "/v1/registry/applications", "/v1/registry/applications", False, 422),
        ("POST", "/v1/auth/session", "/v1/auth/session", False, 400),
        ("DELETE", "/v1/auth/session", "/v1/auth/session", True, 401),
        ("POST", "/v1/auth/login-codes", "/v1/auth/login-codes", False, 401),
    ],
)
def test_every_error_answered_is_declared_with_the_error_body(
    http: TestClient,
    document: dict[str, Any],
    method: str,
    path: str,
    template: str,
    signed: bool,
    status: int,
) -> None:
    options: dict[str, Any] = {"auth": signer()} if signed else {}
    if method == "POST":
        options["content"] = b"{}"
        options["headers"] = {"content-type": "application/json"}
    response: httpx.Response = http.request(method, path, **options)
    assert response.status_code == status, response.text
    assert str(status) in declared(document, method, template)
    body = response.json()
    assert isinstance(body["error"], str) and isinstance(body["message"], str)
    schema = document["paths"][template][method.lower()]["responses"][str(status)]
    assert schema["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorReply"
    }


def test_every_error_response_is_an_error_reply(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas  # FastAPI's 422 body is not this API's
    assert schemas["ErrorReply"]["required"] == ["error", "message"]
    wrong = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) < 400:
                    continue
                schema = response["content"]["application/json"]["schema"]
                if schema != {"$ref": "#/components/schemas/ErrorReply"}:
                    wrong.append(f"{method} {path} {status}")
    assert wrong == []


def test_every_route_needing_a_signature_says_so_and_declares_401(
    document: dict[str, Any],
) -> None:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if not path.startswith("/v1/"):
                continue
            if (method.upper(), path) in OPEN_PATHS:
                assert operation["security"] == [], (method, path)
                continue
            assert operation["security"], (method, path)
            assert {"401", "429"} <= set(operation["responses"]), (method, path)
            assert "WWW-Authenticate" in operation["responses"]["401"]["headers"]
            assert "Retry-After" in operation["responses"]["429"]["headers"]


def test_addresses_and_ids_carry_their_shape(document: dict[str, Any]) -> None:
    def parameter(path: str, name: str) -> dict[str, Any]:
        for found in document["paths"][path]["get"]["parameters"]:
            if found["name"] == name:
                schema: dict[str, Any] = found["schema"]
                return schema
        raise AssertionError(name)

    address = parameter("/v1/accounts/{address}", "address")
    assert address["pattern"] == "^gl[0-9a-f]{40}$"
    assert address["minLength"] == address["maxLength"] == 42
    transaction_id = parameter("/v1/transactions/{transaction_id}", "transaction_id")
    assert transaction_id["maxLength"] == 64
    height = parameter("/v1/blocks/{height}", "height")
    assert (height["minimum"], height["maximum"]) == (0, 2**63 - 1)
    submit = document["paths"]["/v1/transactions"]["post"]["requestBody"]["content"]
    hex_field = submit["application/json"]["schema"]["properties"]["transaction"]
    assert hex_field["pattern"] == "^([0-9a-fA-F]{2})+$"
