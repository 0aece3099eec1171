"""Tenant quotas: limits, usage, and the one function that admits new resources.

"Used" counts every VM of the tenant that is not deleted: pending, provisioning, running,
stopping, stopped, starting, error and deleting VMs all hold their vCPUs, RAM and disk until
the delete job has removed them. `snapshots` counts the tenant's snapshots that are not deleted
(creating, ready, deleting and error ones), which end deleted with their VM too.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from api.errors import QuotaExceeded
from api.models import (
    DEFAULT_LIMITS,
    QUOTA_RESOURCES,
    VM,
    Quota,
    Snapshot,
    SnapshotStatus,
    Tenant,
    User,
    VMStatus,
)
from api.services.permissions import Perm, objects_clause


@dataclass(frozen=True)
class Amounts:
    """A quantity of each quota resource: a request, a usage or a limit."""

    vcpus: int = 0
    ram_mb: int = 0
    disk_gb: int = 0
    vms: int = 0
    snapshots: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


DEFAULTS = Amounts(**DEFAULT_LIMITS)


def ensure_quota(session: Session, tenant_id: uuid.UUID, defaults: Amounts) -> None:
    """Create the tenant's quota row with defaults unless it exists (safe under concurrency)."""
    stmt = insert(Quota).values(tenant_id=tenant_id, **defaults.as_dict())
    session.execute(stmt.on_conflict_do_nothing(index_elements=[Quota.tenant_id]))


def limits(
    session: Session, tenant_id: uuid.UUID, defaults: Amounts, *, lock: bool = False
) -> Quota:
    """The tenant's quota row; lock=True holds it FOR UPDATE until the transaction ends."""
    ensure_quota(session, tenant_id, defaults)
    query = select(Quota).where(Quota.tenant_id == tenant_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalars(query).one()


def usage(session: Session, tenant_id: uuid.UUID) -> Amounts:
    """What the tenant uses now: every VM and every snapshot that is not deleted."""
    snapshots = session.scalar(
        select(func.count(Snapshot.id)).where(
            Snapshot.tenant_id == tenant_id, Snapshot.status != SnapshotStatus.DELETED
        )
    )
    row = session.execute(
        select(
            func.coalesce(func.sum(VM.vcpus), 0),
            func.coalesce(func.sum(VM.ram_mb), 0),
            func.coalesce(func.sum(VM.disk_gb), 0),
            func.count(VM.id),
        ).where(VM.tenant_id == tenant_id, VM.status != VMStatus.DELETED)
    ).one()
    return Amounts(
        vcpus=int(row[0]),
        ram_mb=int(row[1]),
        disk_gb=int(row[2]),
        vms=int(row[3]),
        snapshots=int(snapshots or 0),
    )


def as_amounts(quota: Quota) -> Amounts:
    return Amounts(**{name: getattr(quota, name) for name in QUOTA_RESOURCES})


def exceeded(limit: Amounts, used: Amounts, request: Amounts) -> list[dict[str, int | str]]:
    """Every resource the request would push over its limit, with the figures."""
    over: list[dict[str, int | str]] = []
    for name in QUOTA_RESOURCES:
        want, have, cap = getattr(request, name), getattr(used, name), getattr(limit, name)
        if want and have + want > cap:
            over.append({"resource": name, "requested": want, "used": have, "limit": cap})
    return over


def admit(session: Session, tenant_id: uuid.UUID, request: Amounts, defaults: Amounts) -> None:
    """The one quota gate: lock the quota row, then refuse what would exceed a limit.

    The caller adds its resources in the same transaction, so the row lock makes concurrent
    requests queue here: never more than the limit, never a refusal of a request that fits.
    """
    quota = limits(session, tenant_id, defaults, lock=True)
    over = exceeded(as_amounts(quota), usage(session, tenant_id), request)
    if over:
        raise QuotaExceeded(details={**over[0], "exceeded": over})


def set_limits(
    session: Session, tenant_id: uuid.UUID, new: dict[str, int], defaults: Amounts
) -> Quota:
    """Change some limits; lowering one below usage keeps what exists and refuses what is new."""
    quota = limits(session, tenant_id, defaults, lock=True)
    for name, value in new.items():
        setattr(quota, name, value)
    session.flush()
    return quota


def report(limit: Amounts, used: Amounts) -> dict[str, dict[str, int]]:
    """Limit, used and available (never below 0) for each resource."""
    return {
        name: {
            "limit": getattr(limit, name),
            "used": getattr(used, name),
            "available": max(getattr(limit, name) - getattr(used, name), 0),
        }
        for name in QUOTA_RESOURCES
    }


def usage_by_tenant(
    session: Session, tenant_ids: Sequence[uuid.UUID], defaults: Amounts
) -> dict[uuid.UUID, tuple[Amounts, Amounts]]:
    """(limit, used) of each tenant in three queries; a tenant without a quota row has defaults."""
    rows = session.scalars(select(Quota).where(Quota.tenant_id.in_(tenant_ids)))
    limit = {row.tenant_id: as_amounts(row) for row in rows}
    snapshots = _snapshots_by_tenant(session, tenant_ids)
    used = {
        tenant_id: Amounts(
            vcpus=int(v),
            ram_mb=int(r),
            disk_gb=int(d),
            vms=int(n),
            snapshots=snapshots.get(tenant_id, 0),
        )
        for tenant_id, v, r, d, n in session.execute(
            select(
                VM.tenant_id,
                func.sum(VM.vcpus),
                func.sum(VM.ram_mb),
                func.sum(VM.disk_gb),
                func.count(VM.id),
            )
            .where(VM.tenant_id.in_(tenant_ids), VM.status != VMStatus.DELETED)
            .group_by(VM.tenant_id)
        )
    }
    return {
        t: (limit.get(t, defaults), used.get(t, Amounts(snapshots=snapshots.get(t, 0))))
        for t in tenant_ids
    }


def _snapshots_by_tenant(session: Session, tenant_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """How many snapshots that are not deleted each tenant has (tenants with none left out)."""
    rows = session.execute(
        select(Snapshot.tenant_id, func.count(Snapshot.id))
        .where(Snapshot.tenant_id.in_(tenant_ids), Snapshot.status != SnapshotStatus.DELETED)
        .group_by(Snapshot.tenant_id)
    )
    return {tenant_id: int(n) for tenant_id, n in rows}


def usage_query(caller: User, tenant_id: uuid.UUID | None = None) -> Select[Tenant]:
    """Tenants whose quotas the caller administers (platform admins: all), by name."""
    query = select(Tenant).where(objects_clause(caller, Perm.QUOTA_CHANGE, Tenant.id))
    if tenant_id is not None:
        query = query.where(Tenant.id == tenant_id)
    return query.order_by(Tenant.name, Tenant.id)
