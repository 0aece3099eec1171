"""The API audit log: who did what to which object, with what outcome, and what changed.

A change and its audit row commit in the same transaction; a refused request is recorded in a
transaction of its own (the refused change itself was rolled back). Rows are append-only: the
database refuses UPDATE, DELETE and TRUNCATE on audit_log.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api.models import AuditLog, AuditOutcome, User
from api.services.permissions import Perm, objects_clause

# Never stored, whatever a caller passes in `changes`.
SECRET_MARKERS = ("password", "secret", "token", "hash")


@dataclass
class Entry:
    """What one request did, filled in while it runs and written once at its end."""

    action: str
    request_id: str | None = None
    client_addr: str | None = None
    actor_id: uuid.UUID | None = None
    actor_username: str | None = None
    tenant_id: uuid.UUID | None = None
    object_type: str | None = None
    object_id: str | None = None
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def actor(self, user: User | None) -> None:
        if user is not None:
            self.actor_id, self.actor_username = user.id, user.username

    def target(self, object_type: str, object_id: object, tenant_id: uuid.UUID | None) -> None:
        self.object_type, self.object_id = object_type, str(object_id)
        if tenant_id is not None:
            self.tenant_id = tenant_id


def scrub(values: dict[str, Any]) -> dict[str, Any]:
    """Drop anything that looks like a secret; stringify what JSON cannot hold."""
    clean: dict[str, Any] = {}
    for key, value in values.items():
        if any(marker in key.lower() for marker in SECRET_MARKERS):
            continue
        if isinstance(value, dict):
            clean[key] = scrub(value)
        elif isinstance(value, (str, int, float, bool, list)) or value is None:
            clean[key] = value
        else:
            clean[key] = str(value)
    return clean


def snapshot(obj: object, fields: tuple[str, ...]) -> dict[str, Any]:
    """The named attributes of obj, for before/after."""
    return scrub({name: getattr(obj, name) for name in fields})


def record(
    session: Session, entry: Entry, outcome: AuditOutcome, status_code: int, error_code: str | None
) -> AuditLog:
    """Add the audit row for entry to session (the caller commits)."""
    changes: dict[str, Any] = {}
    if entry.before or entry.after:
        changes = {"before": scrub(entry.before), "after": scrub(entry.after)}
    if entry.details:
        changes["details"] = scrub(entry.details)
    row = AuditLog(
        actor_id=entry.actor_id,
        actor_username=entry.actor_username,
        tenant_id=entry.tenant_id,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        outcome=outcome,
        status_code=status_code,
        error_code=error_code,
        request_id=entry.request_id,
        client_addr=entry.client_addr,
        changes=changes,
    )
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class AuditFilter:
    tenant_id: uuid.UUID | None = None
    actor_id: uuid.UUID | None = None
    object_type: str | None = None
    object_id: str | None = None
    action: str | None = None
    outcome: str | None = None
    request_id: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def audit_query(user: User, flt: AuditFilter) -> Select[AuditLog]:
    """Audit rows the caller may read, newest first (admins: all; audit.view: its tenants)."""
    query = select(AuditLog)
    if not user.is_admin:
        query = query.where(
            AuditLog.tenant_id.is_not(None),
            objects_clause(user, Perm.AUDIT_VIEW, AuditLog.tenant_id),  # type: ignore[arg-type]
        )
    for name in (
        "tenant_id",
        "actor_id",
        "object_type",
        "object_id",
        "action",
        "outcome",
        "request_id",
    ):
        value = getattr(flt, name)
        if value is not None:
            query = query.where(getattr(AuditLog, name) == value)
    if flt.since is not None:
        query = query.where(AuditLog.created_at >= flt.since)
    if flt.until is not None:
        query = query.where(AuditLog.created_at < flt.until)
    return query.order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
