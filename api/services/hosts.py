"""Baremetal host lifecycle: one table of what each action may start from, and host jobs.

| action           | from                              | to                                  |
|------------------|-----------------------------------|-------------------------------------|
| prepare          | new, active, maintenance, offline | preparing (a host.prepare job)      |
| prepared (job)   | preparing                         | active; new with the reason if not  |
| maintenance on   | new, active, offline              | maintenance                         |
| maintenance off  | maintenance                       | active if ever prepared, else new   |
| prepare canceled | preparing                         | active if ever prepared, else new   |
| health: N fails  | active                            | offline (N host.domains in a row)   |
| health: answers  | offline                           | active                              |

Inventory sync (api.services.inventory) adds hosts as `new` and moves a host removed from the
inventory while VMs still live on it to `missing`. Only `active` hosts in the inventory are
placeable (api.services.placement). Nothing else writes Baremetal.state.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import utcnow
from api.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from api.models import Baremetal, HostState, Job, JobKind, JobStatus, Tenant, TenantStatus, User

PREPARE_PLAYBOOK = "host_prepare.yml"


class HostAction(StrEnum):
    PREPARE = "prepare"
    MAINTENANCE_ON = "maintenance on"
    MAINTENANCE_OFF = "maintenance off"


@dataclass(frozen=True)
class Transition:
    allowed_from: frozenset[HostState]
    becomes: HostState | None  # None: decided by the host (see _maintenance_off)


TRANSITIONS = {
    HostAction.PREPARE: Transition(
        frozenset({HostState.NEW, HostState.ACTIVE, HostState.MAINTENANCE, HostState.OFFLINE}),
        HostState.PREPARING,
    ),
    HostAction.MAINTENANCE_ON: Transition(
        frozenset({HostState.NEW, HostState.ACTIVE, HostState.OFFLINE}), HostState.MAINTENANCE
    ),
    HostAction.MAINTENANCE_OFF: Transition(frozenset({HostState.MAINTENANCE}), None),
}


def require_admin(user: User) -> None:
    if not user.is_admin:
        raise PermissionDenied("only platform admins manage baremetal hosts")


def locked_host(session: Session, host_id: uuid.UUID) -> Baremetal:
    host = session.scalar(select(Baremetal).where(Baremetal.id == host_id).with_for_update())
    if host is None:
        raise NotFound()
    return host


def host_by_name(session: Session, name: str) -> Baremetal:
    host = session.scalar(select(Baremetal).where(Baremetal.name == name).with_for_update())
    if host is None:
        raise NotFound(f"no baremetal host named {name!r}; sync the inventory first")
    return host


def _apply(host: Baremetal, action: HostAction) -> None:
    """Move host by action, or refuse with 409 naming its state."""
    rule = TRANSITIONS[action]
    if host.state not in rule.allowed_from or not host.in_inventory:
        where = host.state if host.in_inventory else f"{host.state}, out of the inventory"
        raise InvalidState(
            f"cannot {action} host {host.name} while it is {where}",
            {"state": host.state, "action": action.value},
        )
    if rule.becomes is not None:
        host.state = rule.becomes
    else:
        host.state = HostState.ACTIVE if host.prepared_at else HostState.NEW
    host.state_reason = None


def request_prepare(session: Session, host: Baremetal, request_id: str | None) -> Job:
    """Queue a host.prepare job (host_prepare.yml on that host only); the host is `preparing`."""
    _apply(host, HostAction.PREPARE)
    job = Job(
        kind=JobKind.HOST_PREPARE,
        baremetal_id=host.id,
        playbook=PREPARE_PLAYBOOK,
        limit=host.name,
        extravars={},
        request_id=request_id,
    )
    session.add(job)
    session.flush()
    return job


def set_maintenance(session: Session, host: Baremetal, enabled: bool) -> Baremetal:
    """Take a host out of placement, or give it back."""
    _apply(host, HostAction.MAINTENANCE_ON if enabled else HostAction.MAINTENANCE_OFF)
    session.flush()
    return host


def apply_prepare_result(host: Baremetal, succeeded: bool, reason: str | None) -> None:
    """A host.prepare job ended: the host is placeable, or `new` again with the reason."""
    if host.state != HostState.PREPARING:  # an admin moved it meanwhile: keep that
        return
    if succeeded:
        host.state, host.state_reason, host.prepared_at = HostState.ACTIVE, None, utcnow()
    else:
        host.state, host.state_reason = HostState.NEW, reason or "host_prepare.yml failed"


def apply_job_error(session: Session, job: Job, reason: str) -> None:
    """A host.prepare job that crashed or lost its worker: a preparing host is `new` again."""
    if job.baremetal_id is None or job.kind != JobKind.HOST_PREPARE:
        return
    host = session.scalar(
        select(Baremetal).where(Baremetal.id == job.baremetal_id).with_for_update()
    )
    if host is not None:
        apply_prepare_result(host, False, reason)
        session.flush()


def undo_prepare(session: Session, job: Job) -> None:
    """A queued host.prepare was canceled: the host goes back (active if ever prepared)."""
    if job.baremetal_id is None or job.kind != JobKind.HOST_PREPARE:
        return
    host = locked_host(session, job.baremetal_id)
    if host.state == HostState.PREPARING:
        host.state = HostState.ACTIVE if host.prepared_at else HostState.NEW
        host.state_reason = None
        session.flush()


def after_health_check(
    session: Session, host: Baremetal, job: Job, ok: bool, offline_after: int
) -> None:
    """A host.domains job is the host's health check: offline_after failed ones in a row take
    an active host out of placement; the first that answers brings an offline one back."""
    if ok:
        if host.state == HostState.OFFLINE:
            host.state, host.state_reason = HostState.ACTIVE, None
        return
    if host.state != HostState.ACTIVE:
        return
    recent = session.scalars(
        select(Job.status)
        .where(Job.baremetal_id == host.id, Job.kind == JobKind.HOST_DOMAINS)
        .where(Job.finished_at.is_not(None))
        .order_by(Job.finished_at.desc())
        .limit(offline_after)
    ).all()
    if len(recent) >= offline_after and all(s != JobStatus.SUCCESSFUL for s in recent):
        host.state = HostState.OFFLINE
        host.state_reason = f"failed {offline_after} health checks in a row: {job.explanation}"


def dedicate(session: Session, host: Baremetal, tenant_id: uuid.UUID | None) -> Baremetal:
    """Give the host to one tenant (its VMs alone land there from now on), or back to all.

    VMs already on the host stay where they are, whoever owns them.
    """
    if tenant_id is not None:
        tenant = session.get(Tenant, tenant_id)
        if tenant is None or tenant.status == TenantStatus.DELETED:
            raise ValidationFailed(details={"fields": {"tenant_id": ["No such tenant."]}})
    host.dedicated_tenant_id = tenant_id
    session.flush()
    return host
