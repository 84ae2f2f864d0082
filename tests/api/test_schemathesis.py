"""The API document matches the API: a short schemathesis run against the real app.

Schemathesis (v4) reads ``/openapi.json`` of an app over a real SQLite chain and runs its
engine, as its command line does: the examples, coverage and fuzzing phases, with
schema-valid and deliberately invalid requests, sent to the app in process (ASGI). Every
check is on: no 5xx; every status, content type, header and body declared by the document;
invalid requests refused; schema-valid ones accepted (or 401/403/404/409/429); 405 with an
``Allow`` header that lists the path's methods; and authentication enforced where the
document says it is.

The run is fixed: one seed, derandomized, no example database, at most
`CASES_PER_OPERATION` generated cases per operation in the fuzzing phase, so the same code
gives the same cases. Reads are signed as the regulator (RFC 9421): a ``before_call`` hook
gives every request a `SignedRead`, which signs it as it is sent, and an auth provider
tells schemathesis that the requests carry credentials (so its ``ignored_auth`` check
sends probes without them, which must get 401). A second run sends everything unsigned:
every route that needs a signature must answer 401 as the document says.

The submissions (``POST /v1/transactions``, ``/batch``, ``/v1/registry/applications``) are
exempt from ``positive_data_acceptance`` only: a schema cannot say what a valid Ed25519
signature over canonical bytes is, so random bytes that fit the schema are rightly refused
400 ``malformed`` (their shape is the schema's; their content is not a transaction).
"""

from __future__ import annotations

import collections
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis.engine import events, from_schema
from schemathesis.hooks import GLOBAL_HOOK_DISPATCHER

from gridledger.api import create_app
from gridledger.api.limits import RefusalLimits
from gridledger.crypto import KeyPair
from gridledger.crypto.message_signatures import sign_request
from gridledger.node import CutterConfig, Node, SQLiteStorage
from tests.community import address, key, make_genesis, signed_raw

pytestmark = pytest.mark.slow

SEED = 16
CASES_PER_OPERATION = 40
SUBMISSIONS = (
    "POST /v1/transactions",
    "POST /v1/transactions/batch",
    "POST /v1/registry/applications",
)
REFUSED = ["400", "401", "403", "404", "405", "409", "413", "422", "429"]
"""What an invalid request may be answered (schemathesis's list, with 413 oversized)."""


class SignedRead(requests.auth.AuthBase):
    """Signs a request as `keys` (RFC 9421), over the path, query and body as sent."""

    def __init__(self, keys: KeyPair) -> None:
        self.keys = keys

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        path, _, query = request.path_url.partition("?")
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        headers = sign_request(
            self.keys,
            request.method or "GET",
            path,
            query,
            body,
            created=int(time.time()),
            nonce=secrets.token_urlsafe(16),
        )
        request.headers.update(headers)
        return request


class SignedAs:
    """The auth provider of a signed run: the credentials are the signature `SignedRead`
    adds when the request is sent, so there is nothing to put into the case itself."""

    def get(self, case: schemathesis.Case, context: schemathesis.AuthContext) -> str:
        return "regulator"

    def set(self, case: schemathesis.Case, data: str, context: schemathesis.AuthContext) -> None:
        return None


def seeded_node(path: Path) -> Node:
    """A node over a SQLite chain with a few committed blocks."""
    node = Node.create(SQLiteStorage(path), make_genesis(), cutter=CutterConfig(timeout_ms=5))
    for nonce in range(3):
        raw = signed_raw(
            "alice", nonce, "tokens", "transfer", {"to": address("bob"), "amount_micro": 10}
        )
        node.submit(raw)
        node.cut_block()
    return node


def run_config(cases: int) -> schemathesis.Config:
    exempt = [
        {"include-name": name, "checks": {"positive_data_acceptance": {"enabled": False}}}
        for name in SUBMISSIONS
    ]
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "mode": "all",
                "max-examples": cases,
                "deterministic": True,
                "database": "none",
                "with-security-parameters": False,
            },
            "phases": {"stateful": {"enabled": False}},
            "checks": {"negative_data_rejection": {"expected-statuses": REFUSED}},
            "operations": exempt,
        }
    )


class Run:
    """What one schemathesis run saw: cases per operation and every failed check."""

    def __init__(self) -> None:
        self.cases: collections.Counter[str] = collections.Counter()
        self.failures: list[str] = []
        self.errors: list[str] = []


def run_schemathesis(app: Any, signed: bool, cases: int) -> Run:
    """Run the engine over `app`'s document, at most `cases` fuzzed cases per operation;
    sign every request as the regulator if `signed`."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=run_config(cases))
    hooks: list[Callable[..., Any]] = []
    if signed:
        schema.auth()(SignedAs)
        signer = SignedRead(key("regulator"))

        def before_call(context: Any, case: schemathesis.Case, kwargs: dict[str, Any]) -> None:
            kwargs["auth"] = signer

        hooks.append(schemathesis.hook(before_call))
    seen = Run()
    try:
        for event in from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished):
                recorder = event.recorder
                seen.cases[recorder.label] += len(recorder.cases)
                for checks in recorder.checks.values():
                    for check in checks:
                        if check.failure_info is not None:
                            failure = check.failure_info.failure
                            seen.failures.append(
                                f"{recorder.label}: {check.name}: {failure.title}: "
                                f"{failure.message}\n{check.failure_info.code_sample}"
                            )
            elif isinstance(event, events.NonFatalError):
                seen.errors.append(f"{event.label}: {event.value!r}")
            elif isinstance(event, events.FatalError):
                seen.errors.append(f"fatal: {event.exception!r}")
    finally:
        for hook in hooks:
            GLOBAL_HOOK_DISPATCHER.unregister(hook)
    return seen


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    node = seeded_node(tmp_path_factory.mktemp("schemathesis") / "chain.sqlite")
    try:
        # the run sends thousands of refused requests on purpose (tests/api/test_limits.py)
        yield create_app(node, refusal_limits=RefusalLimits.off())
    finally:
        node.close()


def test_signed_requests_conform_to_the_document(app: Any) -> None:
    seen = run_schemathesis(app, signed=True, cases=CASES_PER_OPERATION)
    assert seen.errors == []
    assert seen.failures == [], "\n\n".join(seen.failures)
    assert len(seen.cases) >= 35  # every operation ran
    assert sum(seen.cases.values()) > 1000


def test_unsigned_requests_get_the_documented_401(app: Any) -> None:
    # every read is refused alike whatever its arguments: fewer cases show it
    seen = run_schemathesis(app, signed=False, cases=CASES_PER_OPERATION // 4)
    assert seen.errors == []
    assert seen.failures == [], "\n\n".join(seen.failures)
    assert len(seen.cases) >= 35
