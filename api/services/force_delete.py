"""Force delete: a VM whose host is unreachable or gone ends deleted without reaching libvirt.

Its delete job could never succeed, and until deleted the VM holds its tenant's quota and name
(and, in a deleting tenant, keeps the tenant from ending). A platform admin marks it deleted in
the request's transaction; the domain may still exist on the host, and status_reason says so.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from api.db import utcnow
from api.errors import InvalidState, PermissionDenied, ResourceBusy
from api.models import VM, Job, JobStatus, TenantStatus, User, VMStatus
from api.services import lifecycle, snapshots, tenants, vms
from api.services.permissions import Perm, drop_object_grants


@dataclass(frozen=True)
class ForceDeleted:
    """What a force delete did."""

    vm: VM
    before: str  # the VM's status before
    canceled: list[uuid.UUID]  # its queued jobs, now canceled
    tenant_deleted: bool  # it was the last VM of a deleting tenant, which ended with it


def force_delete(session: Session, user: User, vm_id: uuid.UUID) -> ForceDeleted:
    """Mark the VM deleted at once (platform admins only; 404 for those who cannot see it).

    Queued jobs of the VM are canceled; a running one refuses (409): its worker may still be
    changing the domain. Deleted frees the VM's quota and name and drops its grants; the last
    VM of a deleting tenant ends the tenant. Locks the tenant row FOR UPDATE, then the VM row:
    the order of every request, and no lock upgrade when the tenant ends here.
    """
    vm = vms.get_vm(session, user, vm_id, Perm.VM_VIEW)
    if not user.is_admin:
        raise PermissionDenied("only platform admins force-delete VMs")
    deletable = (TenantStatus.ACTIVE, TenantStatus.DELETING)
    vms.lock_active_tenant(session, vm.tenant_id, deletable, exclusive=True)
    vm = vms.get_vm(session, user, vm_id, Perm.VM_VIEW, lock=True)
    if vm.status == VMStatus.DELETED:
        raise InvalidState("VM is already deleted", {"status": vm.status})
    unfinished = vms.unfinished_jobs(session, vm)
    _refuse_running(unfinished)
    for job in unfinished:
        job.status = JobStatus.CANCELED
        job.explanation = "canceled: the VM was force-deleted before the job started"
        job.finished_at = utcnow()
    before = vm.status
    _mark_deleted(session, vm, user)
    ended = tenants.finish_deletion_if_empty(session, vm.tenant_id)
    return ForceDeleted(vm, before, [job.id for job in unfinished], ended)


def _refuse_running(unfinished: list[Job]) -> None:
    running = [job for job in unfinished if job.status == JobStatus.RUNNING]
    if not running:
        return
    job = running[0]
    raise ResourceBusy(
        f"job {job.id} ({job.kind}) is running: its worker may still be changing the domain in "
        "libvirt; force-delete once it has finished (or the sweep has failed it)",
        {"job_ids": [str(j.id) for j in running]},
    )


def _mark_deleted(session: Session, vm: VM, user: User) -> None:
    lifecycle.forced_deleted(
        vm,
        f"force-deleted by {user.username}; libvirt on {_host_label(vm)} was not reached, "
        "the domain may still exist there",
    )
    drop_object_grants(session, vms.target(vm))  # grants vanish with their object
    snapshots.vm_deleted(session, vm)  # abandoned with the domain
    session.flush()


def _host_label(vm: VM) -> str:
    """The host as status_reason names it: its inventory name, and whether ops removed it."""
    host = vm.baremetal
    if host is None:
        return "no recorded host"
    removed = "" if host.in_inventory else " (removed from the inventory)"
    return f"host {host.name}{removed}"
