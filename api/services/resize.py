"""Resize a stopped VM: vCPUs and RAM up or down, the disk grown only.

The request admits the growth (the tenant's quota, then the room on the VM's own host) in the
same locked transaction as a create, and writes the new size into the VM row at once, so that
usage and capacity see it; a decrease frees quota and host room at once. The job keeps the old
size (extravars `virtflow_resize_from`) for `ended` to put back when the resize fails or is
canceled. A failed run's report of the domain (what libvirt and qemu-img read after the
failure) wins over both: the VM row holds what the domain has.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlalchemy.orm import Session

from api.errors import InvalidState, ResourceBusy, ValidationFailed
from api.models import VM, Job, JobKind, User, VMStatus
from api.services import jobs, lifecycle, placement, quotas, snapshots, vms
from api.services.permissions import Perm

# The job's extravar holding the size the VM had before (never passed to the role).
RESIZE_FROM = "virtflow_resize_from"
FIELDS = tuple(key for key, _unit in lifecycle.SIZES)


@dataclass(frozen=True)
class Sizes:
    vcpus: int
    ram_mb: int
    disk_gb: int

    @classmethod
    def of(cls, vm: VM) -> Sizes:
        return cls(vm.vcpus, vm.ram_mb, vm.disk_gb)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def apply(self, vm: VM) -> None:
        vm.vcpus, vm.ram_mb, vm.disk_gb = self.vcpus, self.ram_mb, self.disk_gb

    def growth(self, new: Sizes) -> Sizes:
        """What new adds to self, per resource (0 where it is not more)."""
        return Sizes(*(max(getattr(new, k) - getattr(self, k), 0) for k in FIELDS))

    def describe(self, only: tuple[str, ...] = FIELDS) -> str:
        """'4 vCPUs, 2048 MiB of RAM': the sizes named in only."""
        return ", ".join(f"{getattr(self, k)} {unit}" for k, unit in lifecycle.SIZES if k in only)


def request_resize(
    session: Session,
    user: User,
    vm_id: uuid.UUID,
    wanted: Mapping[str, int],
    request_id: str | None,
    *,
    quota_defaults: quotas.Amounts = quotas.DEFAULTS,
) -> tuple[Job, Sizes]:
    """Queue a resize of a stopped VM to wanted (any of vcpus, ram_mb, disk_gb); the VM shows
    `resizing` with its new size. Returns the job and the size the VM had (the caller commits).

    Order as a create: permission (404 for outsiders, 403 without vm.change), tenant share lock,
    VM row lock, status (409 INVALID_STATE) and jobs in flight (409 RESOURCE_BUSY), the sizes
    (422: nothing to change, a smaller disk), quota (row lock; 409 QUOTA_EXCEEDED) and the host
    (row lock; 409 NO_CAPACITY), all in the caller's transaction."""
    op = lifecycle.operation(JobKind.VM_RESIZE)
    vm = vms.get_vm(session, user, vm_id, Perm.VM_CHANGE)
    vms.lock_active_tenant(session, vm.tenant_id)
    vm = vms.get_vm(session, user, vm_id, Perm.VM_CHANGE, lock=True)
    unfinished = vms.unfinished_jobs(session, vm)
    lifecycle.require_allowed(vm, op, unfinished)
    if unfinished:
        raise ResourceBusy()
    _require_no_snapshots(session, vm, op)
    old = Sizes.of(vm)
    new = _validated(vm, old, wanted)
    grow = old.growth(new)
    amounts = quotas.Amounts(vcpus=grow.vcpus, ram_mb=grow.ram_mb, disk_gb=grow.disk_gb)
    quotas.admit(session, vm.tenant_id, amounts, quota_defaults)
    if grow != Sizes(0, 0, 0) and vm.baremetal_id is not None:
        placement.admit_growth(
            session, vm.baremetal_id, placement.Request(grow.vcpus, grow.ram_mb, grow.disk_gb)
        )
    prior = lifecycle.requested(vm, op)
    new.apply(vm)
    job = vms._add_job(
        session,
        vm,
        JobKind.VM_RESIZE,
        user=user,
        request_id=request_id,
        spec=vms.guest_spec(vm),
        prior=prior,
    )
    job.extravars = {**job.extravars, RESIZE_FROM: old.as_dict()}
    session.flush()
    return job, old


def _require_no_snapshots(session: Session, vm: VM, op: lifecycle.Operation) -> None:
    """409 INVALID_STATE while the VM has snapshots: libvirt's snapshot keeps the domain's
    definition and the disk's size, so a revert would bring the old size back behind the
    VM's record."""
    kept = snapshots.live_count(session, vm.id)
    if kept:
        raise InvalidState(
            f"cannot resize VM {vm.name} while it has snapshots ({kept}); delete them first",
            {"status": vm.status, "operation": op.kind.value, "snapshots": kept},
        )


def _validated(vm: VM, old: Sizes, wanted: Mapping[str, int]) -> Sizes:
    """The new size: old with wanted's fields; 422 VALIDATION_ERROR when it changes nothing or
    shrinks the disk (a qcow2 disk only grows: a shrink would cut the guest's filesystem)."""
    asked = {k: int(v) for k, v in wanted.items() if k in FIELDS and v is not None}
    if not asked:
        raise _invalid("json", "Give at least one of vcpus, ram_mb, disk_gb.")
    new = replace(old, **asked)
    if new.disk_gb < old.disk_gb:
        has = f"VM {vm.name} has {old.disk_gb} GiB"
        raise _invalid("disk_gb", f"A disk only grows: {has}; ask for {old.disk_gb} or more.")
    if new == old:
        raise _invalid("json", f"VM {vm.name} has this size already: {old.describe()}.")
    return new


def _invalid(field: str, message: str) -> ValidationFailed:
    fields: dict[str, Any] = {"json": {field: [message]}}
    if field == "json":
        fields = {"json": [message]}
    return ValidationFailed(message, {"fields": fields})


def old_size(job: Job) -> Sizes | None:
    """The size the VM had when the resize was requested, as its job keeps it."""
    kept = (job.extravars or {}).get(RESIZE_FROM)
    if not isinstance(kept, dict):
        return None
    try:
        return Sizes(*(int(kept[k]) for k in FIELDS))
    except (KeyError, TypeError, ValueError):
        return None


def reported_size(report: Mapping[str, str]) -> Sizes | None:
    """The size libvirt and qemu-img report the domain has (None: the playbook did not say)."""
    try:
        return Sizes(*(int(report[k]) for k in FIELDS))
    except (KeyError, TypeError, ValueError):
        return None


def ended(session: Session, job: Job, vm: VM, outcome: str, report: Mapping[str, str]) -> None:
    """A resize job ended (api.services.outcomes): on success the VM has its new size; else it
    holds what the playbook read back from the domain, or, with no report, its old size, and
    its status_reason says what was asked, why it did not happen and what the VM has."""
    old = old_size(job)
    if outcome == "succeeded" or old is None:
        return
    asked = Sizes.of(vm)
    has = reported_size(report) or old
    has.apply(vm)
    changed = tuple(k for k in FIELDS if getattr(asked, k) != getattr(old, k))
    what = f"resize to {asked.describe(changed)}"
    keeps = "the VM keeps" if has == old else "libvirt and qemu-img report that the VM has"
    if outcome == "canceled" and vm.status == VMStatus.RESIZING:
        # Before the undo (or, for a running job, the error) that the cancel brings next.
        vm.status_reason = f"{what} was canceled; {keeps} {has.describe()}"
    elif vm.status in (VMStatus.STOPPED, VMStatus.ERROR) and vm.status_reason:
        reason = f"{what} failed: {vm.status_reason}; {keeps} {has.describe()}"
        vm.status_reason = jobs.bounded(reason)
    session.flush()
