"""The API audit log: who did what to which object, with what outcome, and what changed.

A change and its audit row commit in the same transaction; a refused request is recorded in a
transaction of its own (the refused change itself was rolled back). Rows are append-only: the
database refuses UPDATE, DELETE and TRUNCATE on audit_log.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api.errors import NotFound
from api.models import VM, AuditLog, AuditOutcome, Job, Tenant, User
from api.services.filters import narrow
from api.services.permissions import Perm, objects_clause

# A key containing one of these is never stored, at any depth, whatever a caller passes in.
SECRET_MARKERS = (
    "password",
    "passwd",
    "secret",
    "token",
    "hash",
    "credential",
    "private_key",
    "user_data",  # cloud-config given to a VM create: may hold anything
)
# What PostgreSQL cannot store: NUL (in text and JSONB) and lone surrogates (not UTF-8).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
BIGINT_MAX = 2**63 - 1  # audit_log.id


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
        """Name the object acted on; an id not known yet (a failed login) stays None."""
        self.object_type = object_type
        self.object_id = None if object_id is None else str(object_id)
        if tenant_id is not None:
            self.tenant_id = tenant_id


def is_secret(key: object) -> bool:
    name = str(key).lower()
    return any(marker in name for marker in SECRET_MARKERS)


def escape_unstorable(text: str) -> str:
    """text with each character PostgreSQL cannot store written as its escape (NUL as the six
    characters \\u0000): a hostile path or body still leaves its audit row."""
    return UNSTORABLE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def scrub(values: dict[str, Any]) -> dict[str, Any]:
    """Drop anything that looks like a secret, at any depth; stringify what JSON cannot hold."""
    return {
        escape_unstorable(str(key)): _clean(value)
        for key, value in values.items()
        if not is_secret(key)
    }


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return scrub(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_clean(item) for item in value]
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return escape_unstorable(str(value))


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
        actor_username=_fit(entry.actor_username, 64),
        tenant_id=entry.tenant_id,
        action=escape_unstorable(entry.action)[:64],
        object_type=_fit(entry.object_type, 32),
        object_id=_fit(entry.object_id, 64),
        outcome=outcome,
        status_code=status_code,
        error_code=_fit(error_code, 64),
        request_id=_fit(entry.request_id, 128),
        client_addr=_fit(entry.client_addr, 64),
        changes=changes,
    )
    session.add(row)
    session.flush()
    return row


# How to find the tenant of an object a request named, for refusals that stopped before the view
# could say (a 403 on a VM, a 404 probing another tenant's VM: that tenant's log shows it).
TENANT_OF: dict[str, Callable[[uuid.UUID], Select[Any]]] = {
    "tenant": lambda oid: select(Tenant.id).where(Tenant.id == oid),
    "vm": lambda oid: select(VM.tenant_id).where(VM.id == oid),
    "job": lambda oid: select(Job.tenant_id).where(Job.id == oid),
}


def resolve_tenant(session: Session, entry: Entry) -> None:
    """Fill in entry's tenant from its object when the request did not get to name it."""
    lookup = TENANT_OF.get(entry.object_type or "")
    if entry.tenant_id is not None or lookup is None or entry.object_id is None:
        return
    try:
        object_id = uuid.UUID(entry.object_id)
    except ValueError:
        return
    entry.tenant_id = session.scalar(lookup(object_id))


def _fit(value: str | None, length: int) -> str | None:
    """Escaped and cut to the column's length: an odd or over-long value must not cost the row."""
    return escape_unstorable(value)[:length] if value is not None else None


@dataclass(frozen=True)
class AuditFilter:
    """Equality filters, plus the time range since <= created_at < until."""

    tenant_id: uuid.UUID | None = None
    actor_id: uuid.UUID | None = None
    object_type: str | None = None
    object_id: str | None = None
    action: str | None = None
    outcome: str | None = None
    request_id: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def visible(user: User) -> Select[AuditLog]:
    """Audit rows the caller may read: admins all; holders of audit.view on a tenant (a
    tenant.admin grant implies it) that tenant's rows; rows without a tenant only admins."""
    query = select(AuditLog)
    if not user.is_admin:
        query = query.where(
            AuditLog.tenant_id.is_not(None),
            objects_clause(user, Perm.AUDIT_VIEW, AuditLog.tenant_id),
        )
    return query


# AuditFilter fields that filter by equality.
AUDIT_EQUALS = (
    "tenant_id",
    "actor_id",
    "object_type",
    "object_id",
    "action",
    "outcome",
    "request_id",
)


def audit_query(user: User, flt: AuditFilter) -> Select[AuditLog]:
    """The rows of flt the caller may read, newest first (a tampered tenant_id finds nothing).

    Newest by id, the order rows joined the hash chain in: unique, so a page can start after a
    row (keyset paging), and served by the primary key. created_at follows it but for rows
    written within milliseconds of each other by concurrent transactions.
    """
    equals = {name: getattr(flt, name) for name in AUDIT_EQUALS}
    query = narrow(visible(user), AuditLog, **equals)
    if flt.since is not None:
        query = query.where(AuditLog.created_at >= flt.since)
    if flt.until is not None:
        query = query.where(AuditLog.created_at < flt.until)
    return query.order_by(AuditLog.id.desc())


def get_entry(session: Session, user: User, entry_id: int) -> AuditLog:
    """One audit row, 404 unless the caller may read it (no existence leak)."""
    if entry_id > BIGINT_MAX:  # no row has such an id; PostgreSQL would refuse the number
        raise NotFound()
    row = session.scalar(visible(user).where(AuditLog.id == entry_id))
    if row is None:
        raise NotFound()
    return row
