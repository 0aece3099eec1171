"""What the end of a VM job does besides its VM's status, for the operations that change more
than that: a resize's sizes (api.services.resize), a snapshot's row (api.services.snapshots).

Every place a VM job ends calls `ended` once, in the transaction that ends it: the job's result
(jobs/vms.py), a job that could not run or crashed (vms.apply_job_error), and a cancel, of a
queued job (vms.cancel_job, or a delete canceling the VM's queued jobs) or of a running one.
A result and a job that could not run call it after the lifecycle has set the VM's status, so
the operation may add to the reason that status gives (a failed resize names the sizes).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from sqlalchemy.orm import Session

from api.models import VM, Job, JobKind
from api.services import resize, snapshots


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # ran and failed, could not run, or crashed
    CANCELED = "canceled"  # before it ran, or while it ran


def ended(
    session: Session, job: Job, vm: VM, outcome: Outcome, report: Mapping[str, str] | None = None
) -> None:
    """A VM job ended: let its operation finish what the VM's status does not say.

    report: what the playbook reported of the VM's domain (empty when it did not run)."""
    kind = JobKind(job.kind)
    if kind == JobKind.VM_RESIZE:
        resize.ended(session, job, vm, outcome, report or {})
    elif kind in snapshots.KINDS:
        snapshots.ended(session, job, vm, outcome, report or {})
