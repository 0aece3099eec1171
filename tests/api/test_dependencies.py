"""A dependency that is down answers 503 DEPENDENCY_UNAVAILABLE with Retry-After, quickly:
never a 500, never a hang. Teardown and audit failures never change the answer."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask_jwt_extended import create_access_token
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import Engine, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from api.errors import DependencyUnavailable
from api.models import AuditLog
from api.queue import JobQueue
from api.settings import Settings
from api.web.app import create_app
from api.web.auth import public
from api.web.context import db
from tests.api.conftest import CLOSED_REDIS_URL
from tests.conftest import PASSWORD, Factory
from tests.helpers.http import assert_error

CLOSED_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:1/virtflow"
# Short client timeouts, so a hung dependency costs the tests a fraction of a second.
QUICK = {"redis_connect_timeout": 0.5, "redis_socket_timeout": 0.5}
# A request against a hung dependency must answer well inside this (gunicorn kills at 30 s).
ANSWER_WITHIN_SECONDS = 5.0


def build(settings: Settings, sessions: sessionmaker[Session] | None, **overrides: Any) -> Flask:
    """An app of its own; sessions None: it connects to settings.database_url itself."""
    application = create_app(dataclasses.replace(settings, **overrides))
    if sessions is not None:
        application.extensions["virtflow_sessions"] = sessions
    application.config["TESTING"] = True
    return application


def assert_unavailable(resp: TestResponse, dependency: str) -> dict[str, Any]:
    body = assert_error(resp, 503, "DEPENDENCY_UNAVAILABLE")
    assert body["error"]["details"] == {"dependency": dependency}
    assert resp.headers["Retry-After"] == str(DependencyUnavailable.retry_after)
    return body


def route_raising(app: Flask, exc: Exception) -> str:
    """A public GET route of app that raises exc; returns its path."""

    @public
    def failing() -> str:
        raise exc

    app.add_url_rule("/api/v1/failing/", view_func=failing)
    return "/api/v1/failing/"


def operational_error() -> sa_exc.OperationalError:
    """What SQLAlchemy raises when the server went away mid-statement, SQL and parameters in."""
    statement = "SELECT secret_column FROM user_account WHERE username = %(username)s"
    params = {"username": "hunter2-parameter"}
    return sa_exc.OperationalError(
        statement, params, psycopg.OperationalError("server closed the connection unexpectedly")
    )


def invalidated_dbapi_error() -> sa_exc.DBAPIError:
    return sa_exc.DBAPIError(
        "SELECT 1", None, psycopg.DatabaseError("connection lost"), connection_invalidated=True
    )


OUTAGES: dict[str, tuple[Callable[[], Exception], str]] = {
    "operational": (operational_error, "database"),
    "interface": (
        lambda: sa_exc.InterfaceError("SELECT 1", None, psycopg.InterfaceError("closed")),
        "database",
    ),
    "invalidated": (invalidated_dbapi_error, "database"),
    "pool-timeout": (lambda: sa_exc.TimeoutError("QueuePool limit reached"), "database"),
    "psycopg": (lambda: psycopg.OperationalError("connection refused"), "database"),
    "redis-refused": (lambda: RedisConnectionError("Error 111 connecting"), "redis"),
    "redis-timeout": (lambda: RedisTimeoutError("Timeout reading from socket"), "redis"),
    "redis-other": (lambda: RedisError("READONLY You can't write against a replica"), "redis"),
}


@pytest.mark.parametrize("name", sorted(OUTAGES))
def test_errors_dependency_outage_is_503_with_retry_after(
    settings: Settings, sessions: sessionmaker[Session], name: str
) -> None:
    make_exc, dependency = OUTAGES[name]
    app = build(settings, sessions)
    resp = app.test_client().get(route_raising(app, make_exc()))
    assert_unavailable(resp, dependency)


def test_errors_database_outage_message_hides_sql_and_parameters(
    settings: Settings, sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    app = build(settings, sessions)
    with caplog.at_level(logging.ERROR, logger="api.web.errors"):
        resp = app.test_client().get(route_raising(app, operational_error()))
    message = assert_unavailable(resp, "database")["error"]["message"]
    assert message.count(".") == 1  # one short sentence
    for secret in ("SELECT", "secret_column", "hunter2", "server closed", "Traceback"):
        assert secret not in resp.get_data(as_text=True)
    assert "secret_column" in caplog.text  # the log keeps what the answer leaves out


def test_errors_database_bug_stays_500(settings: Settings, sessions: sessionmaker[Session]) -> None:
    """Bad SQL is our bug, not an outage: no Retry-After invites a retry of it."""
    bug = sa_exc.ProgrammingError("SELEC 1", None, psycopg.ProgrammingError("syntax error"))
    app = build(settings, sessions)
    resp = app.test_client().get(route_raising(app, bug))
    assert_error(resp, 500, "INTERNAL_ERROR")
    assert "Retry-After" not in resp.headers


def test_errors_database_unreachable_is_503(settings: Settings) -> None:
    """PostgreSQL refuses connections: a login (public) and a token check both answer 503."""
    app = build(settings, None, database_url=CLOSED_DATABASE_URL)
    client = app.test_client()
    resp = client.post("/api/v1/auth/login/", json={"username": "alice", "password": PASSWORD})
    assert_unavailable(resp, "database")
    with app.app_context():
        token = create_access_token(identity="00000000-0000-0000-0000-000000000001")
    resp = client.get("/api/v1/vm/", headers={"Authorization": f"Bearer {token}"})
    assert_unavailable(resp, "database")


def test_errors_database_disconnect_is_503_and_next_request_reconnects(
    settings: Settings,
) -> None:
    """The request's backend is terminated (pg_terminate_backend) under it: 503, and the next
    request of the same process gets a working connection."""
    app = build(settings, None)

    @public
    def terminated() -> str:
        db().execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        db().execute(text("SELECT 1"))
        return "unreachable"

    app.add_url_rule("/api/v1/terminated/", view_func=terminated)
    client = app.test_client()
    assert_unavailable(client.get("/api/v1/terminated/"), "database")
    resp = client.get("/api/v1/health/")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["data"]["database"] == "ok"


def test_health_redis_unreachable_is_503_with_retry_after(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    app = build(settings, sessions, redis_url=CLOSED_REDIS_URL)
    resp = app.test_client().get("/api/v1/health/")
    body = assert_error(resp, 503, "DEPENDENCY_UNAVAILABLE")
    assert body["error"]["details"] == {"database": "ok", "redis": "unavailable"}
    assert resp.headers["Retry-After"] == str(DependencyUnavailable.retry_after)


def test_job_queue_hung_redis_times_out(settings: Settings, hung_redis_url: str) -> None:
    queue = JobQueue(dataclasses.replace(settings, redis_url=hung_redis_url, **QUICK))
    started = time.monotonic()
    with pytest.raises(RedisError):
        queue.redis.ping()
    assert time.monotonic() - started < ANSWER_WITHIN_SECONDS


def test_limiter_hung_redis_login_answers_quickly(
    settings: Settings, sessions: sessionmaker[Session], make: Factory, hung_redis_url: str
) -> None:
    """Redis accepts connections and never answers (paused): the limiter gives up after its
    socket timeout and counts in memory, and the login itself succeeds."""
    make.user("alice")
    app = build(settings, sessions, redis_url=hung_redis_url, **QUICK)
    started = time.monotonic()
    resp = app.test_client().post(
        "/api/v1/auth/login/", json={"username": "alice", "password": PASSWORD}
    )
    assert time.monotonic() - started < ANSWER_WITHIN_SECONDS
    assert resp.status_code == 200, resp.get_json()


def test_limiter_redis_unreachable_still_limits_in_memory(
    settings: Settings, sessions: sessionmaker[Session], make: Factory
) -> None:
    make.user("alice")
    app = build(settings, sessions, redis_url=CLOSED_REDIS_URL, login_fails_per_account=2)
    client = app.test_client()
    wrong = {"username": "alice", "password": "not-the-password"}
    for _ in range(2):
        assert_error(client.post("/api/v1/auth/login/", json=wrong), 401, "INVALID_CREDENTIALS")
    resp = client.post("/api/v1/auth/login/", json=wrong)
    assert_error(resp, 429, "RATE_LIMITED")
    assert int(resp.headers["Retry-After"]) >= 1


class CloseFails(Session):
    """A session whose close fails, as it does when the server went away under the pool."""

    def close(self) -> None:
        raise operational_error()


def test_close_db_failure_keeps_the_response(
    settings: Settings, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    # Its own connections (not the test's): invalidating them must not end the test's.
    broken = sessionmaker(bind=engine, class_=CloseFails, expire_on_commit=False)
    app = build(settings, broken)
    with caplog.at_level(logging.ERROR, logger="api.web.context"):
        resp = app.test_client().get("/api/v1/health/")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["data"] == {"database": "ok", "redis": "ok"}
    assert "closing the request's database session failed" in caplog.text


class AuditFlushFails(Session):
    """A session whose flush fails whenever it holds a new audit row."""

    def flush(self, objects: Any = None) -> None:
        if any(isinstance(obj, AuditLog) for obj in self.new):
            raise operational_error()
        super().flush(objects)


def audit_flush_fails(connection: Any) -> sessionmaker[Session]:
    return sessionmaker(
        bind=connection,
        class_=AuditFlushFails,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
    )


def test_audit_refusal_flush_failure_keeps_the_response(
    settings: Settings, connection: Any, make: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    app = build(settings, audit_flush_fails(connection))
    with caplog.at_level(logging.ERROR, logger="api.web.audit"):
        resp = app.test_client().post(
            "/api/v1/tenant/", json={"name": "acme"}, headers=make.headers(make.user())
        )
    assert_error(resp, 403, "PERMISSION_DENIED")
    assert "could not record the audit row of POST /api/v1/tenant/" in caplog.text


def test_audit_success_row_flush_failure_is_503(
    settings: Settings, connection: Any, make: Factory
) -> None:
    """The success row goes in with the change: the database failing there fails the change,
    as a 503 (the refusal row cannot be written either; the 503 stands)."""
    app = build(settings, audit_flush_fails(connection))
    resp = app.test_client().post(
        "/api/v1/tenant/", json={"name": "acme"}, headers=make.headers(make.user(is_admin=True))
    )
    assert_unavailable(resp, "database")
