"""Virtual machines: request creation, look up, power and delete; each change queues a job."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import InstrumentedAttribute, Session, defer
from sqlalchemy.orm.attributes import set_committed_value

from api.db import utcnow
from api.errors import InvalidState, NameTaken, NotFound, PermissionDenied, ResourceBusy
from api.models import (
    VM,
    Baremetal,
    Image,
    Job,
    JobKind,
    JobStatus,
    Tenant,
    TenantStatus,
    User,
    VMStatus,
)
from api.models.job import UNFINISHED_JOB_STATUSES
from api.services import guests, hosts, jobs, lifecycle, outcomes, placement, quotas, scheduler
from api.services.filters import narrow
from api.services.permissions import (
    CREATOR_PERMS,
    Perm,
    Target,
    assign_perm,
    drop_object_grants,
    objects_clause,
    require,
)

# VM.job_id, the VM's latest job: a column_property api.models adds once both models exist.
LATEST_JOB: InstrumentedAttribute[uuid.UUID | None] = VM.job_id  # type: ignore[attr-defined]

# Operations that shut the guest down first, with the role's name of their "at once" flag.
SHUTS_DOWN = {JobKind.VM_STOP: "force", JobKind.VM_REBOOT: "hard"}


@dataclass(frozen=True)
class VMRequest:
    tenant_id: uuid.UUID
    name: str
    vcpus: int
    ram_mb: int
    disk_gb: int
    anti_affinity_group: str | None = None
    image_id: uuid.UUID | None = None
    ssh_authorized_keys: Sequence[str] = ()
    user_data: str | None = None  # a secret: never logged, audited or put in a job

    def amounts(self) -> quotas.Amounts:
        return quotas.Amounts(vcpus=self.vcpus, ram_mb=self.ram_mb, disk_gb=self.disk_gb, vms=1)


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


def create_spec(vm: VM, image: Image | None, store: Path) -> dict[str, Any]:
    """The create's guest spec: the sizes, the NIC (mac, ssh_port) and, with an image, what
    cloud-init gets, except user_data (jobs/vms.py adds it to the run, never to the job)."""
    spec = guest_spec(vm)
    if vm.mac is not None:
        spec["mac"] = vm.mac
    if vm.ssh_port is not None:
        spec["ssh_port"] = vm.ssh_port
    if image is not None:
        spec["image"] = guests.image_source(image, store)
        spec["hostname"] = vm.name
        spec["ssh_authorized_keys"] = list(vm.ssh_authorized_keys)
    return spec


def target(vm: VM) -> Target:
    return Target(vm.tenant_id, vm.id)


def lock_active_tenant(
    session: Session,
    tenant_id: uuid.UUID,
    allowed: tuple[str, ...] = (TenantStatus.ACTIVE,),
    *,
    exclusive: bool = False,
) -> Tenant:
    """Share-lock the tenant row for the rest of the transaction and require it active.

    Tenant deletion takes this row FOR UPDATE, so it waits for requests that are queuing work
    for the tenant, and they wait for it: its precondition check cannot miss a new job.
    exclusive: FOR UPDATE, for a request that may end the tenant itself (force_delete.py).
    """
    query = select(Tenant).where(Tenant.id == tenant_id).with_for_update(read=not exclusive)
    # populate_existing: a Tenant already in the session must show the status read under the lock.
    tenant = session.scalar(query.execution_options(populate_existing=True))
    if tenant is None:
        raise NotFound()
    if tenant.status not in allowed:
        raise InvalidState(f"tenant is {tenant.status}", {"tenant_status": tenant.status})
    return tenant


def create_vm(
    session: Session,
    user: User,
    req: VMRequest,
    request_id: str | None,
    quota_defaults: quotas.Amounts = quotas.DEFAULTS,
    *,
    chooser: scheduler.Scheduler = scheduler.DEFAULT,
    config: guests.Config = guests.DEFAULT,
) -> Job:
    """Record a pending VM and its queued create job; the caller commits, then enqueues.

    Order: the request's own checks (keys, user_data: 422), permission (no lock for
    outsiders), the image (404/409/422), tenant share lock, name, quota (row lock), placement
    (host row locks; the MAC and SSH port are chosen under the host's), then the rows, all in
    the caller's transaction.
    """
    guests.check_request(req.image_id, req.ssh_authorized_keys, req.user_data, config)
    if session.get(Tenant, req.tenant_id) is None:
        raise NotFound()
    require(session, user, Perm.VM_CREATE, Target(req.tenant_id))
    image = None
    if req.image_id is not None:
        image = guests.usable_image(session, user, req.image_id, req.tenant_id, req.disk_gb)
    tenant = lock_active_tenant(session, req.tenant_id)
    taken = select(VM.id).where(
        VM.tenant_id == tenant.id, VM.name == req.name, VM.status != VMStatus.DELETED
    )
    if session.scalar(taken) is not None:
        raise NameTaken(f"a VM named {req.name!r} exists in this tenant", {"field": "name"})
    quotas.admit(session, tenant.id, req.amounts(), quota_defaults)
    # Only a VM from an image has an sshd to forward to: a blank one takes no port.
    ports = config.ssh_ports if image is not None else None
    sizes = placement.Request(req.vcpus, req.ram_mb, req.disk_gb, req.anti_affinity_group, ports)
    host = placement.choose_host(session, sizes, chooser, tenant.id)
    vm_id = uuid.uuid4()
    vm = VM(
        id=vm_id,
        tenant_id=tenant.id,
        name=req.name,
        vcpus=req.vcpus,
        ram_mb=req.ram_mb,
        disk_gb=req.disk_gb,
        status=lifecycle.operation(JobKind.VM_CREATE).queued,
        baremetal_id=host.id,
        anti_affinity_group=req.anti_affinity_group,
        domain_name=domain_name(req.name, vm_id),
        image_id=image.id if image else None,
        ssh_authorized_keys=[key.strip(" ") for key in req.ssh_authorized_keys],
        user_data=req.user_data,
        mac=guests.new_mac(session, host),
        ssh_port=guests.allocate_ssh_port(session, host, ports) if ports else None,
        created_by_id=user.id,
    )
    session.add(vm)
    session.flush()  # the job row references the VM row
    for perm in CREATOR_PERMS:
        assign_perm(session, user.id, perm, target(vm), granted_by=user)
    spec = create_spec(vm, image, config.image_store)
    return _add_job(session, vm, JobKind.VM_CREATE, user=user, request_id=request_id, spec=spec)


def _add_job(
    session: Session,
    vm: VM,
    kind: JobKind,
    *,
    user: User | None,
    request_id: str | None,
    spec: dict[str, Any],
    prior: str | None = None,
) -> Job:
    """A queued job for the VM on its host, with the one-guest spec as extravars.

    prior: the VM's status before the request (lifecycle.requested), for a cancel to restore."""
    job = Job(
        id=uuid.uuid4(),
        kind=kind,
        status=JobStatus.QUEUED,
        tenant_id=vm.tenant_id,
        vm_id=vm.id,
        playbook=lifecycle.operation(kind).playbook,
        limit=vm_host_name(session, vm),
        request_id=request_id,
        created_by_id=user.id if user else None,
        extravars={"virtflow_guests": [spec]},
        prior_status=prior,
    )
    session.add(job)
    session.flush()
    return job


def get_vm(session: Session, user: User, vm_id: uuid.UUID, perm: Perm, *, lock: bool = False) -> VM:
    """The VM if the caller may see it and holds perm; 404 when it may not see it."""
    query = select(VM).where(VM.id == vm_id)
    if lock:
        # The caller usually holds this VM from an unlocked read: refresh it under the lock.
        query = query.with_for_update(of=VM).execution_options(populate_existing=True)
    vm = session.scalar(query)
    if vm is None:
        raise NotFound()
    require(session, user, perm, target(vm))
    return vm


def vms_query(
    user: User,
    *,
    tenant_id: uuid.UUID | None = None,
    status: str | None = None,
    name: str | None = None,
    anti_affinity_group: str | None = None,
    baremetal: str | None = None,
    host_state: str | None = None,
) -> Select[VM]:
    """VMs the caller may see, newest first; filters narrow, never widen, that set.

    baremetal: the VMs on the host of that name. host_state: the VMs on hosts in that state
    (`missing`: the VMs an admin must decide on)."""
    query = select(VM).where(objects_clause(user, Perm.VM_VIEW, VM.tenant_id, VM.id))
    query = narrow(
        query,
        VM,
        tenant_id=tenant_id,
        status=status,
        name=name,
        anti_affinity_group=anti_affinity_group,
    )
    if baremetal is not None:
        query = query.where(
            VM.baremetal_id.in_(select(Baremetal.id).where(Baremetal.name == baremetal))
        )
    if host_state is not None:
        hosts = select(Baremetal.id).where(Baremetal.state == host_state)
        query = query.where(VM.baremetal_id.in_(hosts))
    # job_id is read for the page alone (with_job_ids), not once for every row a page skips.
    # The order is ix_vm_created_at_id's (ix_vm_tenant_id_created_at_id's within a tenant).
    return query.options(defer(LATEST_JOB)).order_by(VM.created_at.desc(), VM.id)


def with_job_ids(session: Session, page: Sequence[VM]) -> Sequence[VM]:
    """Set job_id (the latest job, deferred by vms_query) on a page of VMs, in one query."""
    if page:
        query = select(VM.id, LATEST_JOB).where(VM.id.in_([vm.id for vm in page]))
        latest: dict[uuid.UUID, uuid.UUID | None] = {
            vm_id: job_id for vm_id, job_id in session.execute(query)
        }
        for vm in page:
            set_committed_value(vm, "job_id", latest.get(vm.id))
    return page


def unfinished_jobs(session: Session, vm: VM) -> list[Job]:
    """The VM's queued and running jobs, locked (the caller holds the VM row)."""
    return list(
        session.scalars(
            select(Job)
            .where(Job.vm_id == vm.id, Job.status.in_(UNFINISHED_JOB_STATUSES))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def request_delete(
    session: Session, user: User, vm_id: uuid.UUID, request_id: str | None
) -> Job | None:
    """Mark the VM deleting and queue its delete job; queued jobs of the VM are canceled first.

    None: the VM was deleted at once, its create job canceled before it ran (libvirt has
    nothing of it). Never busy: a running job of the VM finishes, then the delete job runs."""
    vm = get_vm(session, user, vm_id, Perm.VM_DELETE)
    # A deleting tenant still takes VM deletes: retrying one whose delete job failed.
    lock_active_tenant(session, vm.tenant_id, (TenantStatus.ACTIVE, TenantStatus.DELETING))
    vm = get_vm(session, user, vm_id, Perm.VM_DELETE, lock=True)
    lifecycle.require_allowed(vm, lifecycle.operation(JobKind.VM_DELETE))
    unfinished = unfinished_jobs(session, vm)
    create = lifecycle.operation(JobKind.VM_CREATE)
    if vm.status == create.queued and all(j.status == JobStatus.QUEUED for j in unfinished):
        _cancel(session, vm, unfinished, "canceled: the VM was deleted before the job started")
        lifecycle.canceled(vm, create, None, why="never ran: the VM was deleted first")
        drop_object_grants(session, target(vm))
        session.flush()
        return None
    return queue_delete(session, vm, user, request_id)


def queue_delete(session: Session, vm: VM, user: User | None, request_id: str | None) -> Job:
    """Cancel the VM's queued jobs, mark it deleting and add its delete job (VM row locked).

    A running job of the VM is left to finish: the delete job waits for it (jobs/vms.py)."""
    queued = [job for job in unfinished_jobs(session, vm) if job.status == JobStatus.QUEUED]
    _cancel(session, vm, queued, "canceled: the VM was deleted before the job started")
    prior = lifecycle.requested(vm, lifecycle.operation(JobKind.VM_DELETE))
    # With the uuid, the role refuses to remove a same-named domain that is not this VM's.
    spec = {"name": vm.domain_name, "uuid": str(vm.id)}
    return _add_job(
        session, vm, JobKind.VM_DELETE, user=user, request_id=request_id, spec=spec, prior=prior
    )


def _cancel(session: Session, vm: VM, queued: list[Job], explanation: str) -> None:
    for job in queued:
        job.status = JobStatus.CANCELED
        job.explanation = explanation
        job.finished_at = utcnow()
        outcomes.ended(session, job, vm, outcomes.Outcome.CANCELED)


def request_power(
    session: Session,
    user: User,
    vm_id: uuid.UUID,
    kind: JobKind,
    request_id: str | None,
    *,
    force: bool = False,
    timeout: int | None = None,
) -> Job:
    """Queue a stop, start or reboot job for the VM (lifecycle.OPERATIONS says from what).

    force: a stop powers off at once, a reboot is hard. timeout: seconds a stop's or a soft
    reboot's ACPI shutdown may take before the domain is powered off (None: the role's 60)."""
    op = lifecycle.operation(kind)
    vm = get_vm(session, user, vm_id, Perm.VM_CHANGE)
    lock_active_tenant(session, vm.tenant_id)
    vm = get_vm(session, user, vm_id, Perm.VM_CHANGE, lock=True)
    unfinished = unfinished_jobs(session, vm)
    lifecycle.require_allowed(vm, op, unfinished)
    if unfinished:
        raise ResourceBusy()
    prior = lifecycle.requested(vm, op)
    spec: dict[str, Any] = {"name": vm.domain_name, "uuid": str(vm.id)}
    if kind in SHUTS_DOWN:
        spec[SHUTS_DOWN[kind]] = force
        if timeout is not None:
            spec["timeout"] = timeout
    return _add_job(session, vm, kind, user=user, request_id=request_id, spec=spec, prior=prior)


def cancel_job(
    session: Session, user: User, job_id: uuid.UUID
) -> tuple[Job, tuple[str, str] | None]:
    """Cancel a job. A queued one ends `canceled` now and its request is undone (lifecycle:
    `undo`). A running one is asked to stop (job.cancel_requested_at): its worker stops the
    playbook within seconds and ends it `canceled`, its VM `error` until libvirt is read back
    (jobs/cancel.py, lifecycle.canceled_while_running); until then it shows `running`.

    404 when the caller cannot see the job, 403 without job.cancel, 409 INVALID_STATE when it
    has ended, its cancel was already asked, it is a delete, or it runs without a VM. Locks VM,
    then job: a worker claiming the job either ran first (running: the worker is asked to stop)
    or finds it canceled and skips it. Returns the job and its VM's (status before, status
    after); None when it has no VM or the VM does not change now (a running job).
    """
    seen = jobs.get_job(session, user, job_id)
    if Perm.JOB_CANCEL not in jobs.job_perms(session, user, seen):
        raise PermissionDenied("missing permission job.cancel", {"permission": Perm.JOB_CANCEL})
    job = jobs.locked(session, job_id)
    if job is None:
        raise NotFound()
    _refuse_cancel(job)
    if job.status == JobStatus.RUNNING:
        job.cancel_requested_at = utcnow()
        # Its reason from now on: the worker ends the job with it (unless it ends first).
        job.explanation = f"canceled by {user.username} while it ran"
        session.flush()
        return job, None
    job.status = JobStatus.CANCELED
    job.explanation = f"canceled by {user.username} before it started"
    job.finished_at = utcnow()
    hosts.undo_prepare(session, job)
    vm = session.get(VM, job.vm_id, populate_existing=True) if job.vm_id else None
    change = None
    if vm is not None:
        before = vm.status
        _undo(session, job, vm)
        change = (before, vm.status)
    session.flush()
    return job, change


# Jobs a cancel may stop while they run: a worker's VM jobs, but a delete (a half-deleted VM).
CANCELABLE_WHILE_RUNNING = (
    frozenset(lifecycle.OPERATIONS) | frozenset(lifecycle.READ_ONLY_FUNCS)
) - {JobKind.VM_DELETE}


def _refuse_cancel(job: Job) -> None:
    """409 INVALID_STATE, in one sentence, for a job a cancel cannot (or no longer) stop."""
    if job.status not in UNFINISHED_JOB_STATUSES:
        raise InvalidState(
            f"the job has ended {job.status}; only a queued or running job can be canceled",
            {"status": job.status},
        )
    if job.kind == JobKind.VM_DELETE:
        raise InvalidState(f"a {job.status} delete cannot be canceled", {"kind": job.kind})
    if job.status == JobStatus.QUEUED:
        return
    if job.kind not in CANCELABLE_WHILE_RUNNING:
        raise InvalidState(
            f"a running {job.kind} job cannot be canceled", {"kind": job.kind, "status": job.status}
        )
    if job.cancel_requested_at is not None:
        raise InvalidState(
            "a cancel of this job was already requested; it ends canceled within seconds",
            {"status": job.status, "cancel_requested_at": job.cancel_requested_at.isoformat()},
        )


def _undo(session: Session, job: Job, vm: VM) -> None:
    """Put the VM back where it was before the canceled job's request."""
    outcomes.ended(session, job, vm, outcomes.Outcome.CANCELED)
    op = lifecycle.OPERATIONS.get(JobKind(job.kind))  # a read-only job (vm.refresh) changed nothing
    if (
        op is not None
        and lifecycle.canceled(vm, op, job.prior_status)
        and vm.status == VMStatus.DELETED
    ):
        drop_object_grants(session, target(vm))


def vm_host_name(session: Session, vm: VM) -> str:
    """Inventory name of the VM's baremetal host."""
    host = session.get(Baremetal, vm.baremetal_id) if vm.baremetal_id else None
    if host is None:
        raise InvalidState("VM has no baremetal host")
    return host.name


def apply_job_error(session: Session, job: Job, reason: str) -> None:
    """A job that could not run leaves its VM in `error` with the reason, unless already final.

    A read-only job (vm.refresh) changed nothing: its VM stays as it is."""
    if job.kind == JobKind.VM_REFRESH:
        return
    query = select(VM).where(VM.id == job.vm_id).with_for_update(of=VM)
    vm = session.scalar(query.execution_options(populate_existing=True)) if job.vm_id else None
    if vm is not None:
        lifecycle.job_error(vm, reason, JobKind(job.kind))
        outcomes.ended(session, job, vm, outcomes.Outcome.FAILED)  # after the status, as a result
        session.flush()
