"""Wire the API audit log into requests.

Every mutating request (POST, PUT, PATCH, DELETE) gets an `audit.Entry` at its start. Views
name their action with `@audited("vm.create")` and describe the object and its before/after
with `note(...)`. `context.commit()` writes the entry in the same transaction as the change;
a request that ends refused (4xx) or failed (5xx) without that commit is recorded by
`record_refusal` in a transaction of its own.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, current_app, g, request
from flask_jwt_extended import get_current_user
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from api.db import session_factory
from api.models import AuditOutcome, User
from api.services import audit

log = logging.getLogger(__name__)
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
F = TypeVar("F", bound=Callable[..., Any])


def audited(action: str) -> Callable[[F], F]:
    """Name the audit action of a view method (e.g. "vm.delete")."""

    def mark(func: F) -> F:
        func.virtflow_audit_action = action  # type: ignore[attr-defined]
        return func

    return mark


def _view_method() -> Callable[..., Any] | None:
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    return getattr(view_class, request.method.lower(), None) if view_class else view


def action_name() -> str:
    """The declared action of this request's view, else endpoint.method."""
    method = _view_method()
    declared = getattr(method, "virtflow_audit_action", None)
    return declared or f"{request.endpoint or 'unrouted'}.{request.method.lower()}"


def declared_success_status() -> int:
    """The 2xx status the view documents with @blp.response (200 when it documents none)."""
    apidoc = getattr(_view_method(), "_apidoc", {})
    codes = [int(c) for c in apidoc.get("response", {}).get("responses", {}) if str(c)[0] == "2"]
    return min(codes) if codes else 200


def begin() -> None:
    """before_request: open an entry for a mutating request."""
    if request.method in MUTATING and request.endpoint is not None:
        g.audit = audit.Entry(
            action=action_name(),
            request_id=g.get("request_id"),
            client_addr=request.remote_addr,
        )


def entry() -> audit.Entry | None:
    found: audit.Entry | None = g.get("audit")
    return found


def _caller() -> User | None:
    try:
        user: User | None = get_current_user()
    except RuntimeError:  # no verified token in this request
        return None
    return user


def note(
    object_type: str | None = None,
    object_id: object = None,
    tenant_id: uuid.UUID | None = None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor: User | None = None,
    **details: Any,
) -> None:
    """Describe what this request acts on and what it changed."""
    current = entry()
    if current is None:
        return
    if object_type is not None:
        current.target(object_type, object_id, tenant_id)
    elif tenant_id is not None:
        current.tenant_id = tenant_id
    current.before.update(before or {})
    current.after.update(after or {})
    current.details.update(details)
    if actor is not None:
        current.actor(actor)


def write_success(session: Session) -> None:
    """Add the success row to session, just before the change commits (once per request)."""
    current = entry()
    if current is None or g.get("audit_written"):
        return
    if current.actor_id is None:
        current.actor(_caller())
    audit.record(session, current, AuditOutcome.SUCCESS, declared_success_status(), None)
    g.audit_written = True


def _error_code(response: Response) -> str | None:
    body = response.get_json(silent=True) or {}
    error = body.get("error") if isinstance(body, dict) else None
    return error.get("code") if isinstance(error, dict) else None


def record_refusal(response: Response) -> Response:
    """after_request: record a mutating request that did not commit its own audit row."""
    current = entry()
    if current is None or g.get("audit_written"):
        return response
    if current.actor_id is None:
        current.actor(_caller())
    status = response.status_code
    if status < 400:
        outcome = AuditOutcome.SUCCESS
    else:
        outcome = AuditOutcome.DENIED if status < 500 else AuditOutcome.FAILED
    factory = current_app.extensions.get("virtflow_sessions") or session_factory(
        current_app.extensions["virtflow_settings"].database_url
    )
    try:
        with factory() as session:
            audit.record(session, current, outcome, status, _error_code(response))
            session.commit()
    except SQLAlchemyError:  # the answer stands; the lost row is in the log
        log.exception("could not record the audit row for %s", current.action)
    g.audit_written = True
    return response
