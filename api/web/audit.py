"""Wire the API audit log into requests.

Every mutating request (POST, PUT, PATCH, DELETE), routed or not, gets an `audit.Entry` at its
start. Views name their action with `@audited("vm.create")` and describe the object and its
before/after with `note(...)`. `context.commit()` writes the entry in the same transaction as
the change. A request that ends without that commit - refused (4xx), failed (5xx), or done
without a change - is recorded by `record_refusal` in a transaction of its own, as is a request
whose answer differs from the success it committed (e.g. 503 when the database went away after
the commit). Writing that row never changes the answer: a row that cannot be written is logged.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, current_app, g, request
from flask_jwt_extended import get_current_user
from sqlalchemy.orm import Session

from api.db import session_factory
from api.models import AuditOutcome, User
from api.services import audit
from api.web import routing
from api.web.routing import view_method

log = logging.getLogger(__name__)
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PATH_MAX = 256
F = TypeVar("F", bound=Callable[..., Any])


def audited(action: str) -> Callable[[F], F]:
    """Name the audit action of a view method (e.g. "vm.delete")."""

    def mark(func: F) -> F:
        func.virtflow_audit_action = action  # type: ignore[attr-defined]
        return func

    return mark


def declared_action(view: Callable[..., Any] | None) -> str | None:
    """The action a view method declared with @audited, if any."""
    action: str | None = getattr(view, "virtflow_audit_action", None)
    return action


def action_name() -> str:
    """The declared action of this request's view, else endpoint.method (unrouted.post ...)."""
    declared = declared_action(view_method())
    return declared or f"{request.endpoint or 'unrouted'}.{request.method.lower()}"


def declared_success_status() -> int:
    """The status the view documents with @blp.response (200 when it documents none).

    An @blp.alt_response is not it, even a 2xx one: a view answering one (DELETE /vm/{id}/?force=
    true answers 200, not 202) passes that status to context.commit.
    """
    codes = routing.apidoc().get("success_status_codes", [])
    return int(codes[0]) if codes else 200


def begin() -> None:
    """before_request: open an entry for a mutating request, before any check can refuse it."""
    if request.method not in MUTATING:
        return
    current = audit.Entry(
        action=action_name(),
        request_id=g.get("request_id"),
        client_addr=request.remote_addr,
    )
    if request.endpoint is None:  # 404/405 from routing: the path is all there is to record
        current.details["path"] = request.path[:PATH_MAX]
    _target_from_path(current, request.view_args or {})
    g.audit = current


def _target_from_path(current: audit.Entry, args: dict[str, Any]) -> None:
    """What the URL points at, so a refusal before the view's note() still names it."""
    if isinstance(args.get("tenant_id"), uuid.UUID):
        current.tenant_id = args["tenant_id"]
    ids = [
        (name.removesuffix("_id"), value) for name, value in args.items() if name.endswith("_id")
    ]
    if ids:
        kind, value = ids[-1]
        current.target(kind, value, None)


def act_as(action: str) -> None:
    """Record this request under a variant of its declared action (vm.force_delete for a
    DELETE /vm/{id}/?force=true); its refusals from here on are recorded under it too."""
    current = entry()
    if current is not None:
        current.action = action


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


def write_success(session: Session, status: int | None = None) -> None:
    """Add the success row to session, just before the change commits (once per request).

    status: the success status the view answers, when it is not its declared one.
    """
    current = entry()
    if current is None or g.get("audit_status") is not None:
        return
    if current.actor_id is None:
        current.actor(_caller())
    status = status or declared_success_status()
    audit.record(session, current, AuditOutcome.SUCCESS, status, None)
    g.audit_pending = status


def success_committed() -> None:
    """After the commit: the success row is in. A commit that failed leaves it pending, and
    the refusal is then recorded by record_refusal."""
    status = g.pop("audit_pending", None)
    if status is not None:
        g.audit_status = status


def _error_code(response: Response) -> str | None:
    body = response.get_json(silent=True) or {}
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


def outcome_of(status: int) -> AuditOutcome:
    if status < 400:
        return AuditOutcome.SUCCESS
    return AuditOutcome.DENIED if status < 500 else AuditOutcome.FAILED


def record_refusal(response: Response) -> Response:
    """after_request: record a mutating request whose answer is not yet in the log.

    Never changes the answer: a row that cannot be written is logged and lost.
    """
    try:
        _record_answer(response)
    except Exception:
        log.exception("could not record the audit row of %s %s", request.method, request.path)
    return response


def _record_answer(response: Response) -> None:
    current = entry()
    committed = g.get("audit_status")
    status = response.status_code
    if current is None or committed == status:
        return
    if committed is not None:  # the change committed, then the request answered otherwise
        current = dataclasses.replace(
            current, before={}, after={}, details={**current.details, "committed_status": committed}
        )
    if current.actor_id is None:
        current.actor(_caller())
    _end_request_transaction()
    app_settings = current_app.extensions["virtflow_settings"]
    factory = current_app.extensions.get("virtflow_sessions") or session_factory(
        app_settings.database_url, app_settings.db_timeouts
    )
    with factory() as session:
        audit.resolve_tenant(session, current)
        audit.record(session, current, outcome_of(status), status, _error_code(response))
        session.commit()
    g.audit_status = status


def _end_request_transaction() -> None:
    """A refused request commits nothing: end its transaction (and locks) before writing."""
    session: Session | None = g.get("db")
    if session is None:
        return
    try:
        session.rollback()
    except Exception:  # an unusable session must not cost the audit row; teardown closes it
        log.warning("could not roll back the refused request's session", exc_info=True)
