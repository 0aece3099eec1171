"""Snapshots of a VM: take, list, delete and revert to them; each change queues a job.

A snapshot is a libvirt internal snapshot of the VM's qcow2 disk (and, taken while the VM runs,
of its memory). Permissions follow the VM: vm.view reads, vm.change takes and reverts, vm.delete
deletes. Each request locks the tenant (shared), then the VM, then the snapshot row, as every VM
request does; a take also passes the tenant's quota (`snapshots`, counted in api.services.quotas).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from api.db import utcnow
from api.errors import InvalidState, NameTaken, NotFound, ResourceBusy
from api.models import VM, Job, JobKind, Snapshot, SnapshotStatus, User
from api.services import lifecycle, quotas, vms
from api.services.permissions import Perm

KINDS = frozenset({JobKind.VM_SNAPSHOT, JobKind.VM_SNAPSHOT_DELETE, JobKind.VM_REVERT})
# What the role reports of the domain, and the power state a snapshot keeps.
POWER_STATES = frozenset(lifecycle.FOLLOWS_POWER)
# The snapshots a delete or a revert may act on.
DELETABLE = frozenset({SnapshotStatus.READY, SnapshotStatus.ERROR})
REVERTIBLE = frozenset({SnapshotStatus.READY})


@dataclass(frozen=True)
class Queued:
    """What a request did: the snapshot, its job, and the VM's status before and after."""

    snapshot: Snapshot
    job: Job
    before: str
    after: str


def live_count(session: Session, vm_id: uuid.UUID) -> int:
    """How many snapshots of the VM are not deleted (those a revert could return to)."""
    query = select(func.count(Snapshot.id)).where(
        Snapshot.vm_id == vm_id, Snapshot.status != SnapshotStatus.DELETED
    )
    return int(session.scalar(query) or 0)


def snapshots_query(
    session: Session, user: User, vm_id: uuid.UUID, status: str | None = None
) -> Select[Snapshot]:
    """The VM's snapshots, newest first: those not deleted, or those in status."""
    vm = vms.get_vm(session, user, vm_id, Perm.VM_VIEW)
    query = select(Snapshot).where(Snapshot.vm_id == vm.id)
    if status is None:
        query = query.where(Snapshot.status != SnapshotStatus.DELETED)
    else:
        query = query.where(Snapshot.status == status)
    return query.order_by(Snapshot.created_at.desc(), Snapshot.id)


def get_snapshot(
    session: Session, user: User, vm_id: uuid.UUID, snapshot_id: uuid.UUID, perm: Perm
) -> Snapshot:
    """The VM's snapshot if the caller may see the VM and holds perm on it; else 404/403."""
    vm = vms.get_vm(session, user, vm_id, perm)
    return _of_vm(session, vm, snapshot_id)


def _of_vm(session: Session, vm: VM, snapshot_id: uuid.UUID, *, lock: bool = False) -> Snapshot:
    query = select(Snapshot).where(Snapshot.id == snapshot_id, Snapshot.vm_id == vm.id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    snapshot = session.scalar(query)
    if snapshot is None:
        raise NotFound()
    return snapshot


def _locked_vm(session: Session, user: User, vm_id: uuid.UUID, perm: Perm) -> VM:
    """The VM row locked after the tenant's share lock; 404/403 first, as every VM request."""
    vm = vms.get_vm(session, user, vm_id, perm)
    vms.lock_active_tenant(session, vm.tenant_id)
    return vms.get_vm(session, user, vm_id, perm, lock=True)


def _admit(session: Session, vm: VM, op: lifecycle.Operation) -> None:
    """The VM's status allows op (409 INVALID_STATE) and no other job of it is unfinished."""
    unfinished = vms.unfinished_jobs(session, vm)
    lifecycle.require_allowed(vm, op, unfinished)
    if unfinished:
        raise ResourceBusy()


def _queue(
    session: Session,
    vm: VM,
    snapshot: Snapshot,
    kind: JobKind,
    *,
    user: User,
    request_id: str | None,
) -> Queued:
    """Mark the VM as the operation's request does and add its job, tied to the snapshot."""
    prior = lifecycle.requested(vm, lifecycle.operation(kind))
    spec = {"name": vm.domain_name, "uuid": str(vm.id), "snapshot": snapshot.name}
    job = vms._add_job(session, vm, kind, user=user, request_id=request_id, spec=spec, prior=prior)
    job.snapshot_id = snapshot.id
    session.flush()
    return Queued(snapshot, job, prior, vm.status)


def request_create(
    session: Session,
    user: User,
    vm_id: uuid.UUID,
    name: str,
    description: str | None,
    *,
    request_id: str | None,
    quota_defaults: quotas.Amounts = quotas.DEFAULTS,
) -> Queued:
    """Record a `creating` snapshot and queue its vm.snapshot job (the caller commits).

    409: the VM is not running or stopped (INVALID_STATE), another job of it is unfinished
    (RESOURCE_BUSY), a live snapshot of the VM has the name (NAME_TAKEN), or the tenant's
    `snapshots` quota is used up (QUOTA_EXCEEDED)."""
    vm = _locked_vm(session, user, vm_id, Perm.VM_CHANGE)
    _admit(session, vm, lifecycle.operation(JobKind.VM_SNAPSHOT))
    taken = select(Snapshot.id).where(
        Snapshot.vm_id == vm.id, Snapshot.name == name, Snapshot.status != SnapshotStatus.DELETED
    )
    if session.scalar(taken) is not None:
        raise NameTaken(f"VM {vm.name} has a snapshot named {name!r}", {"field": "name"})
    quotas.admit(session, vm.tenant_id, quotas.Amounts(snapshots=1), quota_defaults)
    snapshot = Snapshot(
        id=uuid.uuid4(),
        tenant_id=vm.tenant_id,
        vm_id=vm.id,
        name=name,
        description=description,
        status=SnapshotStatus.CREATING,
        created_by_id=user.id,
    )
    session.add(snapshot)
    session.flush()
    return _queue(session, vm, snapshot, JobKind.VM_SNAPSHOT, user=user, request_id=request_id)


def request_delete(
    session: Session,
    user: User,
    vm_id: uuid.UUID,
    snapshot_id: uuid.UUID,
    request_id: str | None,
) -> Queued:
    """Mark a ready (or failed) snapshot `deleting` and queue its vm.snapshot_delete job."""
    vm = _locked_vm(session, user, vm_id, Perm.VM_DELETE)
    snapshot = _of_vm(session, vm, snapshot_id, lock=True)
    _admit(session, vm, lifecycle.operation(JobKind.VM_SNAPSHOT_DELETE))
    _require_status(snapshot, DELETABLE, "delete")
    snapshot.status = SnapshotStatus.DELETING
    snapshot.status_reason = None
    return _queue(
        session, vm, snapshot, JobKind.VM_SNAPSHOT_DELETE, user=user, request_id=request_id
    )


def request_revert(
    session: Session,
    user: User,
    vm_id: uuid.UUID,
    snapshot_id: uuid.UUID,
    request_id: str | None,
) -> Queued:
    """Queue a vm.revert job to a ready snapshot; the VM shows `reverting` until it has run.

    The VM ends in the power state the snapshot was taken in (libvirt's revert): running with
    the memory it had then, or stopped; its disk is the snapshot's. The snapshot stays."""
    vm = _locked_vm(session, user, vm_id, Perm.VM_CHANGE)
    snapshot = _of_vm(session, vm, snapshot_id, lock=True)
    _admit(session, vm, lifecycle.operation(JobKind.VM_REVERT))
    _require_status(snapshot, REVERTIBLE, "revert to")
    return _queue(session, vm, snapshot, JobKind.VM_REVERT, user=user, request_id=request_id)


def _require_status(snapshot: Snapshot, allowed: frozenset[SnapshotStatus], verb: str) -> None:
    if snapshot.status in allowed:
        return
    needs = " or ".join(sorted(allowed))
    raise InvalidState(
        f"cannot {verb} snapshot {snapshot.name} while it is {snapshot.status}; it must be {needs}",
        {"snapshot_status": snapshot.status},
    )


def ended(session: Session, job: Job, vm: VM, outcome: str, report: Mapping[str, str]) -> None:
    """A snapshot job ended (api.services.outcomes): its snapshot follows.

    A take makes the snapshot ready with the power state libvirt reports for it, a delete makes
    it deleted; a job canceled before it ran puts back what its request found (a take that never
    ran: deleted, it never existed). Anything else leaves the snapshot `error` with the reason,
    as libvirt may or may not hold it: it can be deleted. A revert leaves its snapshot as it is."""
    snapshot = session.get(Snapshot, job.snapshot_id) if job.snapshot_id else None
    if snapshot is None or snapshot.status in (SnapshotStatus.DELETED, SnapshotStatus.READY):
        return
    kind = JobKind(job.kind)
    never_ran = outcome == "canceled" and job.started_at is None
    if kind == JobKind.VM_SNAPSHOT and snapshot.status == SnapshotStatus.CREATING:
        taken = report.get("snapshot_state") or report.get("state")
        if outcome == "succeeded" and taken in POWER_STATES:
            _ready(snapshot, taken)
        elif never_ran:
            _deleted(snapshot)
        else:
            _failed(snapshot, job, vm, "take")
    elif kind == JobKind.VM_SNAPSHOT_DELETE and snapshot.status == SnapshotStatus.DELETING:
        if outcome == "succeeded":
            _deleted(snapshot)
        elif never_ran:
            _ready(snapshot, snapshot.power_state)
        else:
            _failed(snapshot, job, vm, "delete")
    session.flush()


def _ready(snapshot: Snapshot, power_state: str | None) -> None:
    snapshot.status = SnapshotStatus.READY if power_state else SnapshotStatus.ERROR
    snapshot.power_state = power_state
    snapshot.status_reason = None if power_state else "its power state is unknown"


def _deleted(snapshot: Snapshot) -> None:
    snapshot.status = SnapshotStatus.DELETED
    snapshot.deleted_at = utcnow()


def _failed(snapshot: Snapshot, job: Job, vm: VM, verb: str) -> None:
    snapshot.status = SnapshotStatus.ERROR
    # The job's explanation; else what the lifecycle made of the report (it ran first).
    why = job.explanation or vm.status_reason or f"the {job.kind} job ended {job.status}"
    snapshot.status_reason = f"its {verb} job did not succeed ({why}); libvirt may still hold it"


def vm_deleted(session: Session, vm: VM) -> None:
    """The VM became deleted: its snapshots went with its disk and domain (or were abandoned
    with them by a force delete). They no longer count against the quota."""
    live = select(Snapshot).where(
        Snapshot.vm_id == vm.id, Snapshot.status != SnapshotStatus.DELETED
    )
    for snapshot in session.scalars(live.with_for_update()):
        _deleted(snapshot)
        snapshot.status_reason = f"deleted with VM {vm.name}"
    session.flush()
