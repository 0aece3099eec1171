"""Tenants: creation, visibility, renaming and guarded deletion."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from api.errors import InvalidState, NameTaken, NotFound, TenantNotEmpty
from api.models import VM, Job, Membership, Tenant, TenantStatus, User, VMStatus
from api.models.job import UNFINISHED_JOB_STATUSES
from api.services import vms
from api.services.permissions import Perm, Target, drop_object_grants, objects_clause, require


def create_tenant(session: Session, name: str) -> Tenant:
    """Add a tenant; names stay reserved even after deletion so history stays unambiguous."""
    if session.scalar(select(Tenant.id).where(Tenant.name == name)) is not None:
        raise NameTaken(f"tenant name {name!r} is taken", {"field": "name"})
    tenant = Tenant(name=name)
    session.add(tenant)
    session.flush()
    return tenant


def get_tenant(session: Session, user: User, tenant_id: uuid.UUID, perm: Perm) -> Tenant:
    """The tenant if the caller may see it and holds perm; 404 otherwise (no existence leak)."""
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound()
    require(session, user, perm, Target(tenant.id))
    return tenant


def tenants_query(user: User, name: str | None = None) -> Select[Tenant]:
    """The tenants the caller may see, newest first."""
    query = select(Tenant).where(objects_clause(user, Perm.TENANT_VIEW, Tenant.id))
    if name:
        query = query.where(Tenant.name == name)
    return query.order_by(Tenant.created_at.desc(), Tenant.id)


def rename_tenant(session: Session, tenant: Tenant, name: str) -> Tenant:
    """Give the tenant a new, unused name."""
    if name != tenant.name:
        if session.scalar(select(Tenant.id).where(Tenant.name == name)) is not None:
            raise NameTaken(f"tenant name {name!r} is taken", {"field": "name"})
        tenant.name = name
        session.flush()
    return tenant


def deletion_blockers(session: Session, tenant_id: uuid.UUID) -> dict[str, list[dict[str, str]]]:
    """What stops the tenant from being deleted: VMs not stopped or deleted, unfinished jobs."""
    vms = session.scalars(
        select(VM).where(
            VM.tenant_id == tenant_id, VM.status.not_in([VMStatus.STOPPED, VMStatus.DELETED])
        )
    )
    jobs = session.scalars(
        select(Job).where(Job.tenant_id == tenant_id, Job.status.in_(UNFINISHED_JOB_STATUSES))
    )
    return {
        "vms": [{"id": str(v.id), "name": v.name, "status": v.status} for v in vms],
        "jobs": [{"id": str(j.id), "kind": j.kind, "status": j.status} for j in jobs],
    }


def request_delete(
    session: Session, user: User, tenant_id: uuid.UUID, request_id: str | None
) -> list[Job]:
    """Delete a tenant on the seed's preconditions; returns the delete jobs of its stopped VMs.

    Under a lock on the tenant row (every request that queues work for the tenant takes a
    share lock on it first): all VMs stopped or deleted, no queued or running job, and the
    caller holds tenant.admin. The tenant becomes `deleting`, or `deleted` at once when it has
    no VM left to remove.
    """
    get_tenant(session, user, tenant_id, Perm.TENANT_ADMIN)
    tenant = session.scalars(_locked(tenant_id)).one()
    if tenant.status != TenantStatus.ACTIVE:
        raise InvalidState(f"tenant is {tenant.status}", {"tenant_status": tenant.status})
    blockers = deletion_blockers(session, tenant.id)
    if blockers["vms"] or blockers["jobs"]:
        raise TenantNotEmpty(details=blockers)
    tenant.status = TenantStatus.DELETING
    stopped = session.scalars(
        select(VM)
        .where(VM.tenant_id == tenant.id, VM.status == VMStatus.STOPPED)
        .with_for_update(of=VM)
    ).all()
    jobs = [vms.queue_delete(session, vm, user, request_id) for vm in stopped]
    finish_deletion_if_empty(session, tenant.id)
    return jobs


def _locked(tenant_id: uuid.UUID) -> Select[Tenant]:
    """The tenant row FOR UPDATE, refreshed even if the session already holds it."""
    query = select(Tenant).where(Tenant.id == tenant_id).with_for_update()
    return query.execution_options(populate_existing=True)


def finish_deletion_if_empty(session: Session, tenant_id: uuid.UUID) -> bool:
    """A deleting tenant with no VM left becomes deleted; its members and grants go with it.

    Called by every finished VM delete while the job holds its VM row. An active tenant is not
    locked: it cannot start deleting while that job is unfinished, and taking its row FOR UPDATE
    would deadlock with a request that holds the tenant share lock and waits for the VM row.
    """
    status = session.scalar(select(Tenant.status).where(Tenant.id == tenant_id))
    if status != TenantStatus.DELETING:
        return False
    tenant = session.scalars(_locked(tenant_id)).one()
    if tenant.status != TenantStatus.DELETING:
        return False
    remaining = session.scalar(
        select(VM.id).where(VM.tenant_id == tenant_id, VM.status != VMStatus.DELETED).limit(1)
    )
    if remaining is not None:
        return False
    tenant.status = TenantStatus.DELETED
    session.execute(delete(Membership).where(Membership.tenant_id == tenant_id))
    drop_object_grants(session, Target(tenant_id))
    session.flush()
    return True
