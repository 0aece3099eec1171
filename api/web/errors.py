"""The single translation point from errors to enveloped HTTP responses."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from flask import Flask, Response, g, jsonify
from redis.exceptions import RedisError
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from api.errors import Conflict, DependencyUnavailable, VirtFlowError, by_status
from api.web.context import discard
from api.web.envelope import error_body

log = logging.getLogger(__name__)

# Errors that say PostgreSQL is down, unreachable, gone from under the connection, or too slow
# (statement and lock timeouts are OperationalErrors too): the request may succeed later.
DATABASE_DOWN: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,  # no pooled connection free within the checkout timeout
    psycopg.OperationalError,
    psycopg.InterfaceError,
)
UNAVAILABLE_MESSAGE = {
    "database": "The database is unreachable; retry after the seconds in Retry-After.",
    "redis": "Redis is unreachable; retry after the seconds in Retry-After.",
}


def respond(
    err: type[VirtFlowError] | VirtFlowError,
    details: dict[str, Any] | None = None,
    message: str | None = None,
) -> tuple[Response, int]:
    """Envelope an error class or instance with its status (and Retry-After, for a 503)."""
    if isinstance(err, VirtFlowError):
        message, details = err.detail_message, err.details
    body = error_body(err.code, message or err.message, details)
    response = jsonify(body)
    if err.retry_after is not None:
        response.headers["Retry-After"] = str(err.retry_after)
    return response, err.status


def handle_http_exception(exc: HTTPException) -> tuple[Response, int]:
    """werkzeug and webargs errors (404, 405, 413, 400 bad JSON, 422 field errors), enveloped."""
    status = exc.code or 500
    err = by_status(status)
    messages = (getattr(exc, "data", None) or {}).get("messages")
    response, _ = respond(err, {"fields": messages} if messages else {})
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response, status


def handle_virtflow_error(exc: VirtFlowError) -> tuple[Response, int]:
    _rollback()
    return respond(exc)


def handle_integrity_error(exc: sa_exc.IntegrityError) -> tuple[Response, int]:
    """A constraint the services did not pre-check (a race): 409, never 500."""
    _rollback()
    log.warning("integrity error: %s", exc.orig)
    diag = getattr(exc.orig, "diag", None)
    details = {"constraint": getattr(diag, "constraint_name", None)}
    return respond(Conflict, details)


def unavailable_dependency(exc: BaseException) -> str | None:
    """ "database" or "redis" when exc says that dependency is down; None for any other error."""
    if isinstance(exc, RedisError):
        return "redis"
    if isinstance(exc, DATABASE_DOWN):
        return "database"
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return "database"
    return None


def handle_dependency_error(exc: Exception) -> tuple[Response, int]:
    """A dependency that is down: 503 with Retry-After, never a 500. The SQL, its parameters
    and the stack go to the log only."""
    dependency = unavailable_dependency(exc)
    if dependency is None:  # a database error that is a bug (bad SQL ...), not an outage
        return handle_unexpected(exc)
    _rollback()
    log.exception("%s unavailable", dependency)
    err = DependencyUnavailable(UNAVAILABLE_MESSAGE[dependency], {"dependency": dependency})
    return respond(err)


def handle_unexpected(exc: Exception) -> tuple[Response, int]:
    _rollback()
    log.exception("unhandled error")
    return respond(VirtFlowError)


def _rollback() -> None:
    """End the request's transaction, if it opened one; a session that cannot even roll back
    (its connection is gone) is invalidated, so the pool hands the next request a fresh one."""
    session: Session | None = g.get("db")
    if session is None:
        return
    try:
        session.rollback()
    except Exception:
        log.warning("rollback after an error failed; invalidating the session", exc_info=True)
        discard(session)


def register(app: Flask) -> None:
    app.register_error_handler(VirtFlowError, handle_virtflow_error)
    app.register_error_handler(sa_exc.IntegrityError, handle_integrity_error)
    for outage in (RedisError, sa_exc.DBAPIError, sa_exc.TimeoutError, psycopg.Error):
        app.register_error_handler(outage, handle_dependency_error)
    app.register_error_handler(Exception, handle_unexpected)
