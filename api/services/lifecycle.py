"""The VM lifecycle: every operation on a VM is one row of OPERATIONS.

A row says everything about one operation: the RQ function and the playbook that carry it out,
the statuses a request may start it from, the status its request sets (`queued`) and the one
its job holds while the playbook runs (`running`), the guest states the playbook may report
when it succeeded and the status each one brings (`results`; any other report is an error),
and the status a cancel of its queued job puts back (`undo`: PRIOR is the status the request
found, kept on the job; None: it cannot be canceled). Requests (api.services.vms), jobs
(jobs/vms.py), the queue (api.queue.JOB_FUNCS) and cancels all read this one table; adding an
operation is adding a row, its playbook or role entry point, and its tests.

Outside the operations, a VM's status changes only by what libvirt reports for a stable VM
(api.services.libvirt_state, through `observed`), by a job that could not run (`job_error`), by
a job canceled while it ran (`canceled_while_running`), and by a force delete
(api.services.force_delete, `forced_deleted`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

from api.db import utcnow
from api.errors import InvalidState
from api.models import VM, Job, JobKind, VMStatus

ALIVE = frozenset(VMStatus) - {VMStatus.DELETED}
POWERED = frozenset({VMStatus.RUNNING, VMStatus.STOPPED})
# undo: back to the status the request found (running or stopped), kept on the job.
PRIOR: Final = "prior"
# What a playbook reports of a domain it left running or shut off.
FOLLOWS_POWER = {"running": VMStatus.RUNNING, "stopped": VMStatus.STOPPED}


@dataclass(frozen=True)
class Operation:
    kind: JobKind
    verb: str  # as users name it, in messages: "cannot reboot VM web-1 while it is stopping"
    job_func: str  # the RQ function, by dotted path (the API never imports jobs)
    playbook: str
    allowed_from: frozenset[VMStatus]  # empty: only a new VM (create)
    queued: VMStatus
    running: VMStatus
    results: Mapping[str, VMStatus]  # reported guest state -> the status it brings
    undo: VMStatus | Literal["prior"] | None
    # A playbook that ran and failed, having read the domain back in this state: the status it
    # brings (with the failure as its reason) instead of `error`. For an operation whose role
    # checks everything before it changes anything and reports the domain whatever happened.
    failed_results: Mapping[str, VMStatus] = field(default_factory=dict)


OPERATIONS: dict[JobKind, Operation] = {
    op.kind: op
    for op in (
        # A create that is canceled never reached libvirt: its VM ends deleted.
        Operation(
            JobKind.VM_CREATE,
            "create",
            "jobs.vms.provision",
            "vm_create.yml",
            frozenset(),
            VMStatus.PENDING,
            VMStatus.PROVISIONING,
            {"running": VMStatus.RUNNING},
            VMStatus.DELETED,
        ),
        Operation(
            JobKind.VM_STOP,
            "stop",
            "jobs.vms.stop",
            "vm_stop.yml",
            frozenset({VMStatus.RUNNING}),
            VMStatus.STOPPING,
            VMStatus.STOPPING,
            {"stopped": VMStatus.STOPPED},
            VMStatus.RUNNING,
        ),
        Operation(
            JobKind.VM_START,
            "start",
            "jobs.vms.start",
            "vm_start.yml",
            frozenset({VMStatus.STOPPED}),
            VMStatus.STARTING,
            VMStatus.STARTING,
            {"running": VMStatus.RUNNING},
            VMStatus.STOPPED,
        ),
        # A power cycle libvirt can see: shut off (ACPI, forced at the deadline; at once when
        # hard), then started again as defined (roles/libvirt_guest/tasks/rebooted.yml).
        Operation(
            JobKind.VM_REBOOT,
            "reboot",
            "jobs.vms.reboot",
            "vm_reboot.yml",
            frozenset({VMStatus.RUNNING}),
            VMStatus.REBOOTING,
            VMStatus.REBOOTING,
            {"running": VMStatus.RUNNING},
            VMStatus.RUNNING,
        ),
        # From every live status, never refused as busy: queued jobs of the VM are canceled
        # (a VM whose create never ran is deleted at once, libvirt untouched); a job that is
        # running finishes first, the VM showing deleting, and the delete job waits for it.
        # A delete cannot be canceled.
        Operation(
            JobKind.VM_DELETE,
            "delete",
            "jobs.vms.destroy",
            "vm_delete.yml",
            ALIVE - {VMStatus.DELETING},
            VMStatus.DELETING,
            VMStatus.DELETING,
            {"absent": VMStatus.DELETED},
            None,
        ),
        # A stopped VM's new size: vCPUs and RAM up or down, the disk grown only. The request
        # holds the new size (quota and host capacity admitted then); a failure or a cancel
        # puts the old one back (api.services.resize). A failed run that read the domain back
        # shut off leaves the VM stopped, at the size libvirt and qemu-img report, with the
        # reason: the role refuses before it changes anything, and reports after any failure.
        Operation(
            JobKind.VM_RESIZE,
            "resize",
            "jobs.vms.resize",
            "vm_resize.yml",
            frozenset({VMStatus.STOPPED}),
            VMStatus.RESIZING,
            VMStatus.RESIZING,
            {"stopped": VMStatus.STOPPED},
            VMStatus.STOPPED,
            failed_results={"stopped": VMStatus.STOPPED},
        ),
        # Snapshots of a running or stopped VM (api.services.snapshots): the VM shows
        # snapshotting while one is taken or deleted, then follows what libvirt reports.
        Operation(
            JobKind.VM_SNAPSHOT,
            "snapshot",
            "jobs.vms.snapshot",
            "vm_snapshot.yml",
            POWERED,
            VMStatus.SNAPSHOTTING,
            VMStatus.SNAPSHOTTING,
            FOLLOWS_POWER,
            PRIOR,
        ),
        Operation(
            JobKind.VM_SNAPSHOT_DELETE,
            "delete a snapshot of",
            "jobs.vms.snapshot_delete",
            "vm_snapshot_delete.yml",
            POWERED,
            VMStatus.SNAPSHOTTING,
            VMStatus.SNAPSHOTTING,
            FOLLOWS_POWER,
            PRIOR,
        ),
        # Disk (and the memory of a snapshot taken running) back to the snapshot; the VM ends
        # in the power state the snapshot was taken in (docs/api.md, Snapshots).
        Operation(
            JobKind.VM_REVERT,
            "revert",
            "jobs.vms.revert",
            "vm_revert.yml",
            POWERED,
            VMStatus.REVERTING,
            VMStatus.REVERTING,
            FOLLOWS_POWER,
            PRIOR,
        ),
    )
}
# Jobs of a VM that change no status: they read libvirt back (api.services.libvirt_state).
READ_ONLY_FUNCS = {JobKind.VM_REFRESH: "jobs.hosts.domains"}


def operation(kind: JobKind | str) -> Operation:
    return OPERATIONS[JobKind(kind)]


def require_allowed(vm: VM, op: Operation, in_flight: Iterable[Job] = ()) -> None:
    """409 INVALID_STATE unless a request may start op from the VM's status.

    The message names the status and the operation in flight, as Nova's "Cannot 'reboot'
    instance while it is in task_state rebooting" does."""
    if vm.status in op.allowed_from:
        return
    kinds = sorted({str(job.kind) for job in in_flight})
    during = f" (a {', '.join(kinds)} job is in flight)" if kinds else ""
    needs = " or ".join(sorted(op.allowed_from)) or "new"
    raise InvalidState(
        f"cannot {op.verb} VM {vm.name} while it is {vm.status}{during}; it must be {needs}",
        {"status": vm.status, "operation": op.kind.value, "in_flight": kinds},
    )


def requested(vm: VM, op: Operation) -> str:
    """The request queued op's job: the VM shows what is coming. Returns the status it had,
    which the job keeps (Job.prior_status) for a cancel to put back."""
    prior = vm.status
    vm.status = op.queued
    return prior


def job_may_start(vm: VM | None, op: Operation) -> str | None:
    """None when op's job may run now; else why not (the VM is not what its request left)."""
    if vm is None:
        return "VM is missing"
    if vm.status != op.queued:
        return f"VM is {vm.status}, not {op.queued}"
    return None


def job_started(vm: VM, op: Operation) -> None:
    vm.status = op.running


def delete_pending(vm: VM, op: Operation) -> bool:
    """A delete was requested while op's job ran: the VM stays `deleting` whatever that job
    did, and the delete job, which runs next, decides what the VM becomes."""
    return vm.status == VMStatus.DELETING and op.kind != JobKind.VM_DELETE


def succeeded(op: Operation, reported: str | None) -> bool:
    """The playbook reported a state op's success can end in."""
    return reported is not None and reported in op.results


def job_finished(
    vm: VM,
    op: Operation,
    reported: str | None,
    reason: str | None,
    *,
    playbook_failed: bool = False,
) -> bool:
    """Apply what the playbook reported; True when it succeeded (the VM became what
    op.results maps the report to).

    reason: the job's explanation when it failed; with no explanation, a report that is not
    one of op.results is explained by what libvirt reported instead. playbook_failed: the
    playbook ran and failed (not: it succeeded and its result was wrong), so a state it read
    back may bring op.failed_results' status."""
    if delete_pending(vm, op):
        return False
    if reason is None and reported is not None and reported in op.results:
        vm.status = op.results[reported]
        vm.status_reason = None
        if vm.status == VMStatus.DELETED:
            vm.deleted_at = utcnow()
        return True
    failed_in = reported if playbook_failed and reason is not None else None
    if failed_in is not None and failed_in in op.failed_results:
        vm.status = op.failed_results[failed_in]
        vm.status_reason = reason
        return False
    vm.status = VMStatus.ERROR
    vm.status_reason = reason or f"libvirt reported the domain as {reported or 'unknown'}"
    return False


SIZES = (("vcpus", "vCPUs"), ("ram_mb", "MiB of RAM"), ("disk_gb", "GiB of disk"))


def allocation_gap(vm: VM, reported: dict[str, str]) -> str | None:
    """None when what libvirt and qemu-img report allocating equals the VM's request; else the
    difference, in one sentence. "Created successfully" is running AND allocated as asked.

    reported: the create playbook's report of the domain (vcpus, ram_mb, disk_gb as text)."""
    gaps = []
    for key, unit in SIZES:
        wanted, got = getattr(vm, key), reported.get(key)
        if got is None:
            return "the playbook did not report what it allocated"
        if got != str(wanted):
            gaps.append(f"{got} {unit} instead of {wanted}")
    return f"the domain got {', '.join(gaps)}" if gaps else None


def canceled(
    vm: VM, op: Operation, prior: str | None, why: str = "was canceled before it ran"
) -> bool:
    """A queued job of op was canceled: put the VM back where its request found it.

    prior: the job's prior_status, for an op whose undo is PRIOR. False when there is nothing
    to undo (the status moved on, or op cannot be undone)."""
    if op.undo is None or vm.status != op.queued:
        return False
    back = prior if op.undo == PRIOR else op.undo
    if back is None or (op.undo == PRIOR and back not in POWERED):
        return False  # a job from before prior_status was kept: nothing known to go back to
    vm.status = back
    if vm.status == VMStatus.DELETED:
        vm.status_reason = f"its {op.verb} job {why}"
        vm.deleted_at = utcnow()
    return True


def canceled_while_running(vm: VM, op: Operation) -> bool:
    """A running job of op was canceled: its playbook was stopped midway, so libvirt may be
    half-changed. The VM goes `error` with the reason; True when libvirt's state is to be read
    back now (a vm.refresh job: the reconciler then moves it to what libvirt reports).

    False for a create (its reason says to delete the VM) and while a delete waits (the VM stays
    `deleting`: the delete job runs next)."""
    if delete_pending(vm, op):
        return False
    vm.status = VMStatus.ERROR
    # "its stop job"; an operation whose verb is a phrase goes by its kind
    # ("its vm.snapshot_delete job").
    name = op.verb if " " not in op.verb else op.kind.value
    if op.kind == JobKind.VM_CREATE:
        vm.status_reason = f"its {name} job was canceled while it ran; delete the VM"
        return False
    vm.status_reason = (
        f"its {name} job was canceled while it ran; libvirt's state is being read back"
    )
    return True


def observed(vm: VM, status: VMStatus, reason: str | None) -> None:
    """libvirt reported what a stable VM is (api.services.libvirt_state decides): it follows."""
    vm.status = status
    vm.status_reason = reason


def job_error(vm: VM, reason: str, kind: JobKind) -> bool:
    """A job (of kind) that could not run, or crashed: the VM goes `error` unless its status is
    final or stable (deleted, running, stopped), or a delete waits to run. True when it changed."""
    if vm.status in (VMStatus.DELETED, VMStatus.RUNNING, VMStatus.STOPPED):
        return False
    if kind in OPERATIONS and delete_pending(vm, OPERATIONS[kind]):
        return False
    vm.status = VMStatus.ERROR
    vm.status_reason = reason
    return True


def forced_deleted(vm: VM, reason: str) -> None:
    """An admin abandoned the VM without reaching libvirt (api.services.force_delete)."""
    vm.status = VMStatus.DELETED
    vm.status_reason = reason
    vm.deleted_at = utcnow()
