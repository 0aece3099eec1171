"""VM jobs: one function per operation of api.services.lifecycle.OPERATIONS.

Each job re-reads its row, refuses to start unless it is still queued, holds no database session
while the playbook runs, and saves the terminal status of job and VM before any error escapes.
"""

from __future__ import annotations

import copy
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import VM, Job, JobKind, JobStatus, VMStatus
from api.queue import JobQueue
from api.services import jobs, libvirt_state, lifecycle, outcomes, snapshots, tenants, vms
from api.services.permissions import drop_object_grants
from jobs import base, batch
from jobs.execution import Finished, Guest, complete
from jobs.runner import PlaybookRun

log = logging.getLogger(__name__)
WAIT_TURN_EVERY = 1.0  # seconds between two looks at the job a delete waits for
# Operations whose result must equal the VM's size: "created successfully" is allocated as asked.
CHECKS_ALLOCATION = frozenset({JobKind.VM_CREATE, JobKind.VM_RESIZE})


@dataclass(frozen=True)
class Started:
    run: PlaybookRun
    domain_name: str


def _start(job_id: uuid.UUID, op: lifecycle.Operation) -> Started | None:
    """Claim the job and move its VM from op.queued to op.running; None if it may not run."""
    with base.sessions()() as session:
        job = jobs.claim(session, job_id, base.worker_identity())
        if job is None:
            log.info("job %s is not queued any more; nothing to do", job_id)
            session.rollback()
            return None
        base.bind_request_id(job.request_id)
        vm = _locked_vm(session, job)
        refused = lifecycle.job_may_start(vm, op)
        if vm is None or refused is not None:
            jobs.finish(session, job.id, JobStatus.CANCELED, explanation=refused)
            session.commit()
            return None
        lifecycle.job_started(vm, op)
        extravars = _with_secrets(job, vm)
        session.commit()
        run = PlaybookRun(str(job.id), job.playbook, job.limit, extravars, str(vm.id))
        return Started(run, vm.domain_name)


def _with_secrets(job: Job, vm: VM) -> dict[str, Any]:
    """The run's extravars: the job's, plus the VM's user_data on a create. The job row never
    holds it (the job API shows extravars); the run's private data dir is 0700 and removed."""
    extravars = copy.deepcopy(dict(job.extravars))
    if job.kind == JobKind.VM_CREATE and vm.user_data is not None:
        for spec in extravars.get("virtflow_guests", []):
            spec["user_data"] = vm.user_data
    return extravars


def _locked_vm(session: Session, job: Job) -> VM | None:
    # of=VM: the eagerly joined baremetal row is on the nullable side of an outer join.
    return session.scalar(select(VM).where(VM.id == job.vm_id).with_for_update(of=VM))


def _guest_state(artifacts: dict[str, object], domain: str) -> dict[str, str]:
    guests = artifacts.get("virtflow_guests")
    state = guests.get(domain) if isinstance(guests, dict) else None
    return {str(k): str(v) for k, v in state.items()} if isinstance(state, dict) else {}


def _finished(
    session: Session,
    vm: VM,
    job: Job,
    op: lifecycle.Operation,
    result: Finished,
    *,
    guest: dict[str, str],
) -> None:
    """The playbook's result through the lifecycle table, and what success brings with it."""
    if result.status == JobStatus.CANCELED:
        _canceled_while_running(session, vm, job, op, guest)
        return
    reason = result.explanation if result.status != JobStatus.SUCCESSFUL else None
    if reason is None and not guest:
        reason = "the playbook did not report the domain state"
    done = reason is None and lifecycle.succeeded(op, guest.get("state"))
    if done and op.kind in CHECKS_ALLOCATION:
        reason = lifecycle.allocation_gap(vm, guest)  # done, but not as requested: error
        done = reason is None
    outcome = outcomes.Outcome.SUCCEEDED if done else outcomes.Outcome.FAILED
    ran_and_failed = result.status == JobStatus.FAILED
    finished = lifecycle.job_finished(
        vm, op, guest.get("state"), reason, playbook_failed=ran_and_failed
    )
    # After the status: the operation may add to the reason it gives (a resize's sizes).
    outcomes.ended(session, job, vm, outcome, guest)
    if not finished:
        return
    if op.kind == JobKind.VM_CREATE:
        uuid_text = guest.get("uuid")
        vm.domain_uuid = uuid.UUID(uuid_text) if uuid_text else None
    if vm.status in (VMStatus.STOPPED, VMStatus.DELETED) and vm.addresses:
        vm.addresses = []  # a guest that does not run has no address
    if vm.status == VMStatus.DELETED:
        drop_object_grants(session, vms.target(vm))  # grants vanish with their object
        snapshots.vm_deleted(session, vm)  # undefined with the domain, gone with its disk
        session.flush()


def _canceled_while_running(
    session: Session, vm: VM, job: Job, op: lifecycle.Operation, guest: dict[str, str]
) -> None:
    """A cancel stopped the playbook midway: the VM goes `error`, explained, and a vm.refresh
    job reads libvirt back at once (the reconciler then moves it to what libvirt reports)."""
    read_back = lifecycle.canceled_while_running(vm, op)
    outcomes.ended(session, job, vm, outcomes.Outcome.CANCELED, guest)  # after the status
    if read_back:
        refresh = libvirt_state.refresh_job(session, vm, job.request_id)
        JobQueue(base.settings()).after_commit(session, refresh)  # lost: the sweep requeues it
    session.flush()


def _another_runs(job_id: uuid.UUID) -> bool:
    """Another job of this queued job's VM is running (a delete was queued behind it)."""
    with base.sessions()() as session:
        job = session.get(Job, job_id)
        if job is None or job.status != JobStatus.QUEUED or job.vm_id is None:
            return False
        other = select(Job.id).where(
            Job.vm_id == job.vm_id, Job.id != job.id, Job.status == JobStatus.RUNNING
        )
        return session.scalar(other.limit(1)) is not None


def _wait_turn(job_id: uuid.UUID) -> bool:
    """Wait, holding no database session, until no other job of the VM runs; False when one
    still does after the job timeout (a dead worker's lease ends long before: the sweep)."""
    deadline = time.monotonic() + base.settings().job_timeout_seconds
    while _another_runs(job_id):
        if time.monotonic() >= deadline:
            return False
        time.sleep(WAIT_TURN_EVERY)
    return True


def _gave_up_waiting(job_id: uuid.UUID) -> None:
    reason = (
        f"an earlier job of the VM was still running after "
        f"{base.settings().job_timeout_seconds} s; nothing was done"
    )
    with base.sessions()() as session:
        job = jobs.finish(session, job_id, JobStatus.ERROR, explanation=reason)
        vms.apply_job_error(session, job, reason)
        session.commit()


def run_operation(job_id: str, kind: JobKind) -> str:
    """Run one VM operation's job as lifecycle.OPERATIONS describes it.

    Never while another job of the VM runs: a delete queued behind a running job waits for it
    (no other operation can be queued while one runs: its request answers RESOURCE_BUSY)."""
    op = lifecycle.operation(kind)
    jid = uuid.UUID(job_id)
    if not _wait_turn(jid):
        _gave_up_waiting(jid)
        return "error"
    started = _start(jid, op)
    if started is None:
        return "skipped"

    def on_vm(session: Session, job: Job, result: Finished) -> None:
        vm = _locked_vm(session, job)
        if vm is not None:
            guest = _guest_state(result.artifacts, started.domain_name)
            _finished(session, vm, job, op, result, guest=guest)

    return complete(jid, started.run, on_vm)


def _apply_guest(op: lifecycle.Operation) -> batch.Apply:
    """What one VM of a batch does with its own result (as run_operation's on_vm)."""

    def apply(session: Session, job: Job, result: Finished, guest: Guest) -> None:
        vm = _locked_vm(session, job)
        if vm is not None:
            state = _guest_state(result.artifacts, guest.domain)
            _finished(session, vm, job, op, result, guest=state)

    return apply


def provision(job_id: str) -> str:
    """RQ job: create and start the VM's domain, with those of every create queued for its
    host (jobs.batch); each VM ends running or error."""
    return batch.run_batches(uuid.UUID(job_id), JobKind.VM_CREATE, _batched())


def _extravars(job: Job, vm: VM) -> dict[str, Any]:
    return copy.deepcopy(dict(job.extravars))


def _end_tenant_if_empty(claimed: batch.Claimed) -> None:
    """The last VM of a deleting tenant ends the tenant, in a transaction of its own: the
    tenant row is locked only after the VM rows are released, the order every API request
    uses too."""
    if claimed.tenant_id is None:
        return
    with base.sessions()() as session:
        if tenants.finish_deletion_if_empty(session, claimed.tenant_id):
            log.info("tenant %s deleted with its last VM", claimed.tenant_id)
        session.commit()


def destroy(job_id: str) -> str:
    """RQ job: stop and undefine the domain, remove its disk, with those of every delete queued
    for its host (jobs.batch); each VM ends deleted or error.

    A delete queued behind a running job of its VM waits for it first (run_operation's rule).
    """
    jid = uuid.UUID(job_id)
    if not _wait_turn(jid):
        _gave_up_waiting(jid)
        return "error"
    return batch.run_batches(jid, JobKind.VM_DELETE, _batched())


def _batched() -> batch.Handlers:
    """How each batched kind runs: a worker draining its host takes whichever is queued first."""
    create = lifecycle.operation(JobKind.VM_CREATE)
    delete = lifecycle.operation(JobKind.VM_DELETE)
    return {
        JobKind.VM_CREATE: batch.Handler(create, _with_secrets, _apply_guest(create)),
        JobKind.VM_DELETE: batch.Handler(
            delete, _extravars, _apply_guest(delete), _end_tenant_if_empty
        ),
    }


def stop(job_id: str) -> str:
    """RQ job: shut the VM's domain down (forced off after a deadline); ends stopped or error."""
    return run_operation(job_id, JobKind.VM_STOP)


def start(job_id: str) -> str:
    """RQ job: boot the VM's stopped domain; ends running or error."""
    return run_operation(job_id, JobKind.VM_START)


def reboot(job_id: str) -> str:
    """RQ job: power the VM's domain off (ACPI first unless hard) and on; ends running or error."""
    return run_operation(job_id, JobKind.VM_REBOOT)


def resize(job_id: str) -> str:
    """RQ job: give the stopped VM's domain its new vCPUs, RAM and disk; ends stopped or error."""
    return run_operation(job_id, JobKind.VM_RESIZE)


def snapshot(job_id: str) -> str:
    """RQ job: take a snapshot of the VM's domain; the VM follows what libvirt reports."""
    return run_operation(job_id, JobKind.VM_SNAPSHOT)


def snapshot_delete(job_id: str) -> str:
    """RQ job: delete one snapshot of the VM's domain; the VM follows what libvirt reports."""
    return run_operation(job_id, JobKind.VM_SNAPSHOT_DELETE)


def revert(job_id: str) -> str:
    """RQ job: revert the VM's domain to a snapshot; it ends as the snapshot was taken."""
    return run_operation(job_id, JobKind.VM_REVERT)
