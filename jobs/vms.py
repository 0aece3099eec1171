"""VM jobs: provision (vm_create.yml) and destroy (vm_delete.yml).

Each job re-reads its row, refuses to start unless it is still queued, holds no database session
while the playbook runs, and saves the terminal status of job and VM before any error escapes.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import VM, Job, JobKind, JobStatus, VMStatus
from api.services import jobs, tenants, vms
from api.services.permissions import drop_object_grants
from jobs import base
from jobs.execution import Finished, complete
from jobs.runner import PlaybookRun

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Started:
    run: PlaybookRun
    domain_name: str


def _start(job_id: uuid.UUID, expect: VMStatus, becomes: VMStatus) -> Started | None:
    """Claim the job and move its VM from expect to becomes; None if it may not run."""
    with base.sessions()() as session:
        job = jobs.claim(session, job_id, base.worker_identity())
        if job is None:
            log.info("job %s is not queued any more; nothing to do", job_id)
            session.rollback()
            return None
        base.bind_request_id(job.request_id)
        vm = _locked_vm(session, job)
        if vm is None or vm.status != expect:
            found = vm.status if vm else "missing"
            jobs.finish(
                session, job.id, JobStatus.CANCELED, explanation=f"VM is {found}, not {expect}"
            )
            session.commit()
            return None
        vm.status = becomes
        session.commit()
        run = PlaybookRun(str(job.id), job.playbook, job.limit, dict(job.extravars), str(vm.id))
        return Started(run, vm.domain_name)


def _locked_vm(session: Session, job: Job) -> VM | None:
    # of=VM: the eagerly joined baremetal row is on the nullable side of an outer join.
    return session.scalar(select(VM).where(VM.id == job.vm_id).with_for_update(of=VM))


def _guest_state(artifacts: dict[str, object], domain: str) -> dict[str, str]:
    guests = artifacts.get("virtflow_guests")
    state = guests.get(domain) if isinstance(guests, dict) else None
    return {str(k): str(v) for k, v in state.items()} if isinstance(state, dict) else {}


def _run_job(
    job_id: str,
    expect: VMStatus,
    becomes: VMStatus,
    apply: Callable[[Session, VM, Finished, dict[str, str]], None],
) -> str:
    jid = uuid.UUID(job_id)
    started = _start(jid, expect, becomes)
    if started is None:
        return "skipped"

    def on_vm(session: Session, job: Job, result: Finished) -> None:
        vm = _locked_vm(session, job)
        if vm is not None:
            apply(session, vm, result, _guest_state(result.artifacts, started.domain_name))

    return complete(jid, started.run, on_vm)


def _apply_create(_session: Session, vm: VM, result: Finished, guest: dict[str, str]) -> None:
    if result.status != JobStatus.SUCCESSFUL:
        vms.apply_create_result(vm, None, None, result.explanation)
        return
    reason = None if guest else "the playbook did not report the domain state"
    vms.apply_create_result(vm, guest.get("state"), guest.get("uuid"), reason)


def _apply_delete(session: Session, vm: VM, result: Finished, guest: dict[str, str]) -> None:
    gone = result.status == JobStatus.SUCCESSFUL and guest.get("state") == "absent"
    reason = result.explanation or (
        None if gone else "the playbook did not report the domain absent"
    )
    vms.apply_delete_result(vm, gone, reason)
    if gone:
        drop_object_grants(session, vms.target(vm))  # grants vanish with their object
        session.flush()


def _apply_power(kind: JobKind) -> Callable[[Session, VM, Finished, dict[str, str]], None]:
    def apply(_session: Session, vm: VM, result: Finished, guest: dict[str, str]) -> None:
        if result.status != JobStatus.SUCCESSFUL:
            vms.apply_power_result(vm, kind, None, result.explanation)
            return
        reason = None if guest else "the playbook did not report the domain state"
        vms.apply_power_result(vm, kind, guest.get("state"), reason)

    return apply


def provision(job_id: str) -> str:
    """RQ job: create and start the VM's domain; the VM ends running or error."""
    return _run_job(job_id, VMStatus.PENDING, VMStatus.PROVISIONING, _apply_create)


def destroy(job_id: str) -> str:
    """RQ job: stop and undefine the domain, remove its disk; the VM ends deleted or error.

    The last VM of a deleting tenant ends the tenant, in a transaction of its own: the tenant
    row is locked only after the VM row is released, the order every API request uses too.
    """
    status = _run_job(job_id, VMStatus.DELETING, VMStatus.DELETING, _apply_delete)
    with base.sessions()() as session:
        job = session.get(Job, uuid.UUID(job_id))
        tenant_id = job.tenant_id if job is not None else None
        if tenant_id is not None and tenants.finish_deletion_if_empty(session, tenant_id):
            log.info("tenant %s deleted with its last VM", tenant_id)
        session.commit()
    return status


def stop(job_id: str) -> str:
    """RQ job: shut the VM's domain down (forced off after a timeout); ends stopped or error."""
    return _run_job(job_id, VMStatus.STOPPING, VMStatus.STOPPING, _apply_power(JobKind.VM_STOP))


def start(job_id: str) -> str:
    """RQ job: boot the VM's stopped domain; ends running or error."""
    return _run_job(job_id, VMStatus.STARTING, VMStatus.STARTING, _apply_power(JobKind.VM_START))
