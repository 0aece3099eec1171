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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.db import utcnow
from api.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from api.models import (
    VM,
    Baremetal,
    HostState,
    Job,
    JobKind,
    JobStatus,
    Tenant,
    TenantStatus,
    User,
    VMStatus,
)
from api.services import capacity

PREPARE_PLAYBOOK = "host_prepare.yml"

# What host_prepare.yml reports in its custom stats (virtflow_host), with each value's type.
DISCOVERED_INT = ("cpus", "memory_mb", "image_dir_free_gb")
DISCOVERED_STR = ("libvirt_version", "qemu_version", "virt_type")


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


def parse_discovery(artifacts: Mapping[str, Any], host_name: str) -> dict[str, Any] | None:
    """The resources host_prepare.yml reported for host_name; None when it reported none.

    An integer it could not read (a check-mode run's missing image directory) is left out.
    """
    report = artifacts.get("virtflow_host")
    if not isinstance(report, dict) or report.get("host", host_name) != host_name:
        return None
    found: dict[str, Any] = {}
    for key in DISCOVERED_INT:
        value = report.get(key)
        if isinstance(value, int | str) and not isinstance(value, bool) and str(value).isdigit():
            found[key] = int(value)
    for key in DISCOVERED_STR:
        if isinstance(report.get(key), str) and report[key]:
            found[key] = report[key]
    return found or None


def record_discovery(host: Baremetal, discovered: dict[str, Any], policy: capacity.Policy) -> None:
    """Store what host_prepare.yml found on the host, and recompute its capacity from it."""
    host.discovered, host.discovered_at = discovered, utcnow()
    capacity.apply(host, policy)


@dataclass(frozen=True)
class Usage:
    """What a host's VMs that are not deleted take: the sum of their sizes, and how many."""

    vcpus: int = 0
    ram_mb: int = 0
    disk_gb: int = 0
    vms: int = 0


def usage(session: Session, host_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Usage]:
    """Usage per host, in one GROUP BY; a host without VMs is absent (Usage() is its value)."""
    if not host_ids:
        return {}
    rows = session.execute(
        select(
            VM.baremetal_id,
            func.sum(VM.vcpus),
            func.sum(VM.ram_mb),
            func.sum(VM.disk_gb),
            func.count(VM.id),
        )
        .where(VM.baremetal_id.in_(host_ids), VM.status != VMStatus.DELETED)
        .group_by(VM.baremetal_id)
    ).all()
    return {r[0]: Usage(int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows if r[0]}


def _per_resource(
    vcpus: float | None, ram_mb: float | None, disk_gb: float | None
) -> dict[str, Any]:
    return {"vcpus": vcpus, "ram_mb": ram_mb, "disk_gb": disk_gb}


def describe(host: Baremetal, used: Usage, policy: capacity.Policy) -> dict[str, Any]:
    """The host as the admin API shows it: its columns, and what its VMs take and leave."""
    mine = capacity.host_policy(host, policy)
    outside = capacity.unmanaged(host)
    shown = {a.key: getattr(host, a.key) for a in Baremetal.__mapper__.column_attrs}
    return {
        **shown,
        "capacity": _per_resource(host.capacity_vcpus, host.capacity_ram_mb, host.capacity_disk_gb),
        "declared": _per_resource(host.declared_vcpus, host.declared_ram_mb, host.declared_disk_gb),
        "allocated": _per_resource(used.vcpus, used.ram_mb, used.disk_gb),
        "unmanaged": _per_resource(outside.vcpus, outside.ram_mb, outside.disk_gb),
        "free": _per_resource(
            host.capacity_vcpus - used.vcpus - outside.vcpus,
            host.capacity_ram_mb - used.ram_mb - outside.ram_mb,
            host.capacity_disk_gb - used.disk_gb - outside.disk_gb,
        ),
        "vm_count": used.vms,
        "allocation_ratios": {
            "cpu": mine.cpu_ratio,
            "ram": mine.ram_ratio,
            "disk": mine.disk_ratio,
        },
        "reserved": _per_resource(mine.reserved_vcpus, mine.reserved_ram_mb, mine.reserved_disk_gb),
    }


def describe_all(
    session: Session, hosts: Sequence[Baremetal], policy: capacity.Policy
) -> list[dict[str, Any]]:
    """describe() for each host, with their VMs' usage read in one query."""
    used = usage(session, [h.id for h in hosts])
    return [describe(h, used.get(h.id, Usage()), policy) for h in hosts]
