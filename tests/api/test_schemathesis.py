"""Schemathesis against the app, in process, on the test database and Redis: every operation of
the OpenAPI document with generated valid and invalid input (examples, coverage and fuzzing
phases), then the stateful phase following the document's links. All of Schemathesis's checks,
a fixed seed and a bounded number of examples; zero failures allowed.

Each call carries a new platform admin token, so a fuzzed logout revokes only its own token.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from flask import Flask
from redis import Redis
from schemathesis import engine
from schemathesis.engine import events
from schemathesis.specs.openapi.schemas import OpenApiSchema
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import make_server

from api.settings import Settings
from tests.api.conftest import build_app
from tests.conftest import Factory
from tests.helpers.openapi import spec

SEED = 20261130
# Per operation and phase; enough to reach every declared error of the operations here.
MAX_EXAMPLES = 8
STATEFUL_STEPS = 20
# Operations with a rule JSON Schema cannot state, answered 422 VALIDATION_ERROR for data the
# schema allows: a grant to oneself (the grantee is the caller), since later than until.
RULES_BEYOND_THE_SCHEMA = {
    "tenant_permission_grant": "user_id is the caller",
    "vm_permission_grant": "user_id is the caller",
    "audit_list": "since is later than until",
}
# Tenants and VMs are deleted softly: DELETE answers 202 with `deleting` (or `deleted`), and the
# record stays readable with that status (docs/api.md), so a read after a delete is no
# use-after-free. The check runs on every other path.
SOFT_DELETED = r"^/api/v1/(tenant|vm)/\{"
# The same Idempotency-Key with another request is 422 IDEMPOTENCY_KEY_REUSED (docs/api.md,
# Idempotency): every call here is the same admin, and generated keys repeat.
IDEMPOTENCY_KEY = {"$ref": "#/components/parameters/Idempotency-Key"}
# positive_data_acceptance's default statuses, plus 422 for those rules alone.
ACCEPTED_OR_422 = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx", "422"]


def idempotent_operations() -> list[str]:
    """The operations that take an Idempotency-Key, by id."""
    return [
        op["operationId"]
        for item in spec()["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and IDEMPOTENCY_KEY in op.get("parameters", [])
    ]


@pytest.fixture
def fuzzed_app(
    settings: Settings, sessions: sessionmaker[Session], redis: Redis
) -> Iterator[Flask]:
    """The app with login counters of its own: fuzzed logins never throttle other tests; a job's
    event stream lasts 1 s (a stream of a queued job would outlast the fuzzer's read timeout)."""
    yield from build_app(settings, sessions, redis, sse_max_seconds=1)


@pytest.fixture
def admin_token(fuzzed_app: Flask, db: Session) -> Any:
    """A new fresh admin token for each call (the admin is made once)."""
    make = Factory(db, fuzzed_app)
    admin = make.user(is_admin=True)
    return lambda: make.headers(admin, fresh=True)


@pytest.fixture
def served(fuzzed_app: Flask) -> Iterator[str]:
    """The app over HTTP on a loopback port, one request at a time (it shares the test's
    database connection), as Schemathesis's engine drives a server."""
    server = make_server("127.0.0.1", 0, fuzzed_app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def api_schema(served: str, admin_token: Any) -> OpenApiSchema:
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"max-examples": MAX_EXAMPLES},
            "phases": {"stateful": {"max-steps": STATEFUL_STEPS}},
            "suppress-health-check": ["all"],
            "operations": [
                {
                    "include-operation-id": [*RULES_BEYOND_THE_SCHEMA, *idempotent_operations()],
                    "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED_OR_422}},
                },
                {
                    # Its one documented header is Last-Event-ID: an unknown header is not
                    # refused (clients and proxies add their own), as unknown query parameters
                    # are not (docs/api.md, Validation rules).
                    "include-operation-id": ["job_events_stream"],
                    "generation": {"allow-extra-parameters": False},
                },
                {
                    "include-path-regex": SOFT_DELETED,
                    "checks": {"use_after_free": {"enabled": False}},
                },
            ],
        }
    )
    loaded = schemathesis.openapi.from_url(f"{served}/api/v1/openapi.json", config=config)

    @loaded.auth(refresh_interval=None)
    class AdminToken:
        def get(self, case: schemathesis.Case, ctx: schemathesis.AuthContext) -> dict[str, str]:
            token: dict[str, str] = admin_token()
            return token

        def set(
            self, case: schemathesis.Case, data: dict[str, str], ctx: schemathesis.AuthContext
        ) -> None:
            case.headers = {**(case.headers or {}), **data}

    return loaded


@dataclass
class Outcome:
    """What a run did: scenarios by phase, requests, checks by name, failures and errors."""

    finished: events.EngineFinished | None = None
    scenarios: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    checks: Counter[str] = field(default_factory=Counter)
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, event: events.ScenarioFinished) -> None:
        self.scenarios[event.phase.value] += 1
        self.requests += len(event.recorder.interactions)
        for case_id, nodes in event.recorder.checks.items():
            for node in nodes:
                self.checks[node.name] += 1
                if node.status != "success":
                    where = event.recorder.cases[case_id].value.operation.label
                    info = node.failure_info
                    failure = f"{info.failure.title}: {info.failure.message}" if info else ""
                    sample = info.code_sample if info else ""
                    self.failed.append(f"{where}: {node.name}: {failure}\n    {sample}")


def run(schema: OpenApiSchema) -> Outcome:
    """All phases, as `st run` runs them."""
    outcome = Outcome()
    for event in engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            outcome.add(event)
        elif isinstance(event, events.NonFatalError):
            outcome.errors.append(f"{event.label}: {event.value!r}")
        elif isinstance(event, events.FatalError):
            outcome.errors.append(repr(event.exception))
        elif isinstance(event, events.EngineFinished):
            outcome.finished = event
    return outcome


def test_schemathesis_finds_no_failure(api_schema: OpenApiSchema) -> None:
    outcome = run(api_schema)
    assert outcome.finished is not None
    print(
        f"\nschemathesis: {dict(outcome.scenarios)} scenarios, {outcome.requests} requests, "
        f"{sum(outcome.checks.values())} checks in {outcome.finished.running_time:.1f} s: "
        f"{dict(outcome.checks)}"
    )
    assert outcome.errors == []
    assert outcome.failed == [], "\n".join(outcome.failed)
    assert [str(f) for f in outcome.finished.failures] == []
    assert outcome.finished.stop_reason == "completed"
    assert set(outcome.scenarios) == {"examples", "coverage", "fuzzing", "stateful"}
    assert outcome.scenarios["stateful"] > 0
