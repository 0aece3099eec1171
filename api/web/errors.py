"""The single translation point from errors to enveloped HTTP responses."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from api.errors import Conflict, VirtFlowError, by_status
from api.web.context import db
from api.web.envelope import error_body

log = logging.getLogger(__name__)


def respond(
    err: type[VirtFlowError] | VirtFlowError,
    details: dict[str, Any] | None = None,
    message: str | None = None,
) -> tuple[Response, int]:
    """Envelope an error class or instance with its status."""
    if isinstance(err, VirtFlowError):
        message, details = err.detail_message, err.details
    body = error_body(err.code, message or err.message, details)
    return jsonify(body), err.status


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


def handle_integrity_error(exc: IntegrityError) -> tuple[Response, int]:
    """A constraint the services did not pre-check (a race): 409, never 500."""
    _rollback()
    log.warning("integrity error: %s", exc.orig)
    diag = getattr(exc.orig, "diag", None)
    details = {"constraint": getattr(diag, "constraint_name", None)}
    return respond(Conflict, details)


def handle_unexpected(exc: Exception) -> tuple[Response, int]:
    _rollback()
    log.exception("unhandled error")
    return respond(VirtFlowError)


def _rollback() -> None:
    try:
        db().rollback()
    except Exception:  # the session may be unusable; teardown closes it anyway
        log.debug("rollback after error failed", exc_info=True)


def register(app: Flask) -> None:
    app.register_error_handler(VirtFlowError, handle_virtflow_error)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(Exception, handle_unexpected)
