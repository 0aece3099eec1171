"""Virtual machines: request, look up, delete, and apply what a playbook run reported."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api.db import utcnow
from api.errors import InvalidState, NameTaken, NotFound, ResourceBusy
from api.models import VM, Baremetal, Job, JobKind, JobStatus, Tenant, TenantStatus, User, VMStatus
from api.models.job import UNFINISHED_JOB_STATUSES
from api.services import placement
from api.services.permissions import Perm, require, visible_tenants_clause

CREATE_PLAYBOOK = "vm_create.yml"
DELETE_PLAYBOOK = "vm_delete.yml"


@dataclass(frozen=True)
class VMRequest:
    tenant_id: uuid.UUID
    name: str
    vcpus: int
    ram_mb: int
    disk_gb: int


def domain_name(name: str, vm_id: uuid.UUID) -> str:
    """libvirt domain name: readable, and unique per VM even when a name is reused."""
    return f"vf-{name}-{vm_id.hex[:8]}"


def guest_spec(vm: VM) -> dict[str, Any]:
    """One entry of `virtflow_guests`, as roles/libvirt_guest/meta/argument_specs.yml defines it."""
    return {
        "name": vm.domain_name,
        "uuid": str(vm.id),
        "vcpus": vm.vcpus,
        "ram_mb": vm.ram_mb,
        "disk_gb": vm.disk_gb,
    }


def _locked_tenant(session: Session, tenant_id: uuid.UUID) -> Tenant:
    tenant = session.scalar(select(Tenant).where(Tenant.id == tenant_id).with_for_update())
    if tenant is None:
        raise NotFound()
    return tenant


def create_vm(session: Session, user: User, req: VMRequest, request_id: str | None) -> Job:
    """Record a pending VM and its queued create job; the caller commits, then enqueues."""
    tenant = _locked_tenant(session, req.tenant_id)
    require(session, user, Perm.VM_CREATE, tenant.id)
    if tenant.status != TenantStatus.ACTIVE:
        raise InvalidState(f"tenant is {tenant.status}", {"tenant_status": tenant.status})
    taken = select(VM.id).where(
        VM.tenant_id == tenant.id, VM.name == req.name, VM.status != VMStatus.DELETED
    )
    if session.scalar(taken) is not None:
        raise NameTaken(f"a VM named {req.name!r} exists in this tenant", {"field": "name"})
    host = placement.choose_host(session, placement.Request(req.vcpus, req.ram_mb, req.disk_gb))
    vm_id = uuid.uuid4()
    vm = VM(
        id=vm_id,
        tenant_id=tenant.id,
        name=req.name,
        vcpus=req.vcpus,
        ram_mb=req.ram_mb,
        disk_gb=req.disk_gb,
        status=VMStatus.PENDING,
        baremetal_id=host.id,
        domain_name=domain_name(req.name, vm_id),
        created_by_id=user.id,
    )
    session.add(vm)
    session.flush()  # the job row references the VM row
    extravars = {"virtflow_guests": [guest_spec(vm)]}
    job = _new_job(
        vm, JobKind.VM_CREATE, host.name, user=user, request_id=request_id, extravars=extravars
    )
    session.add(job)
    session.flush()
    return job


def _new_job(
    vm: VM,
    kind: JobKind,
    limit: str,
    *,
    user: User,
    request_id: str | None,
    extravars: dict[str, Any],
) -> Job:
    playbook = CREATE_PLAYBOOK if kind == JobKind.VM_CREATE else DELETE_PLAYBOOK
    return Job(
        id=uuid.uuid4(),
        kind=kind,
        status=JobStatus.QUEUED,
        tenant_id=vm.tenant_id,
        vm_id=vm.id,
        playbook=playbook,
        limit=limit,
        request_id=request_id,
        created_by_id=user.id,
        extravars=extravars,
    )


def get_vm(session: Session, user: User, vm_id: uuid.UUID, perm: Perm, *, lock: bool = False) -> VM:
    """The VM if the caller may see it and holds perm; 404 when it may not see it."""
    query = select(VM).where(VM.id == vm_id)
    vm = session.scalar(query.with_for_update(of=VM) if lock else query)
    if vm is None:
        raise NotFound()
    require(session, user, perm, vm.tenant_id)
    return vm


def vms_query(
    user: User,
    tenant_id: uuid.UUID | None = None,
    status: str | None = None,
    name: str | None = None,
) -> Select[VM]:
    """VMs the caller may see, newest first; filters narrow, never widen, that set."""
    query = select(VM).where(visible_tenants_clause(user, VM.tenant_id))
    if tenant_id is not None:
        query = query.where(VM.tenant_id == tenant_id)
    if status is not None:
        query = query.where(VM.status == status)
    if name is not None:
        query = query.where(VM.name == name)
    return query.order_by(VM.created_at.desc(), VM.id)


def request_delete(session: Session, user: User, vm_id: uuid.UUID, request_id: str | None) -> Job:
    """Mark the VM deleting and queue its delete job; a queued create job is canceled first."""
    vm = get_vm(session, user, vm_id, Perm.VM_DELETE, lock=True)
    if vm.status in (VMStatus.DELETED, VMStatus.DELETING):
        raise InvalidState(f"VM is already {vm.status}", {"status": vm.status})
    unfinished = session.scalars(
        select(Job)
        .where(Job.vm_id == vm.id, Job.status.in_(UNFINISHED_JOB_STATUSES))
        .with_for_update()
    ).all()
    if any(job.status == JobStatus.RUNNING for job in unfinished):
        raise ResourceBusy(details={"job_ids": [str(j.id) for j in unfinished]})
    for job in unfinished:
        job.status = JobStatus.CANCELED
        job.explanation = "canceled: the VM was deleted before the job started"
        job.finished_at = utcnow()
    host_name = vm_host_name(session, vm)
    vm.status = VMStatus.DELETING
    extravars = {"virtflow_guests": [{"name": vm.domain_name}]}
    job = _new_job(
        vm, JobKind.VM_DELETE, host_name, user=user, request_id=request_id, extravars=extravars
    )
    session.add(job)
    session.flush()
    return job


def vm_host_name(session: Session, vm: VM) -> str:
    """Inventory name of the VM's baremetal host."""
    host = session.get(Baremetal, vm.baremetal_id) if vm.baremetal_id else None
    if host is None:
        raise InvalidState("VM has no baremetal host")
    return host.name


def apply_create_result(
    vm: VM, state: str | None, domain_uuid: str | None, reason: str | None
) -> None:
    """Running only when libvirt reported the domain running; error with a reason otherwise."""
    if state == "running":
        vm.status = VMStatus.RUNNING
        vm.status_reason = None
        vm.domain_uuid = uuid.UUID(domain_uuid) if domain_uuid else None
        return
    vm.status = VMStatus.ERROR
    vm.status_reason = reason or f"libvirt reported the domain as {state or 'unknown'}"


def apply_delete_result(vm: VM, ok: bool, reason: str | None) -> None:
    """Deleted when the playbook removed domain and disk; error with a reason otherwise."""
    if ok:
        vm.status = VMStatus.DELETED
        vm.status_reason = None
        vm.deleted_at = utcnow()
        return
    vm.status = VMStatus.ERROR
    vm.status_reason = reason or "delete playbook failed"


def fail_unqueued(session: Session, job_id: uuid.UUID, reason: str) -> None:
    """A job that never reached the queue ends `error`, and so does its VM, with the reason."""
    job = session.scalar(select(Job).where(Job.id == job_id).with_for_update())
    if job is None or job.status != JobStatus.QUEUED:
        return
    job.status = JobStatus.ERROR
    job.explanation = f"could not be queued: {reason}"
    job.finished_at = utcnow()
    vm = session.get(VM, job.vm_id) if job.vm_id else None
    if vm is not None:
        vm.status = VMStatus.ERROR
        vm.status_reason = job.explanation
    session.flush()


def apply_job_error(session: Session, job: Job, reason: str) -> None:
    """A job that could not run leaves its VM in `error` with the reason, unless already final."""
    vm = (
        session.scalar(select(VM).where(VM.id == job.vm_id).with_for_update(of=VM))
        if job.vm_id
        else None
    )
    if vm is None or vm.status in (VMStatus.DELETED, VMStatus.RUNNING):
        return
    vm.status = VMStatus.ERROR
    vm.status_reason = reason
    session.flush()
