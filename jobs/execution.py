"""Running one job's playbook, shared by every kind of job: events, lease, cancel, reaping,
outcome."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from api.models import Job, JobStatus
from api.services import jobs
from jobs import base, cancel, reaper
from jobs.events import EventSink
from jobs.lease import Lease
from jobs.runner import PlaybookRun, RunOutcome, run_playbook

log = logging.getLogger(__name__)

# ansible-runner's statuses, mapped explicitly: `failed` ran and failed, `error` could not run.
# `canceled`: our cancel callback stopped the run; it is the job's outcome only when a cancel was
# asked (else the lease was lost: the sweep already ended the job, see `finished`).
RUNNER_STATUS = {
    "successful": JobStatus.SUCCESSFUL,
    "failed": JobStatus.FAILED,
    "timeout": JobStatus.FAILED,
    "canceled": JobStatus.CANCELED,
    "error": JobStatus.ERROR,
}
LEASE_LOST = "the worker stopped the playbook: the job was no longer running (its lease was lost)"


@dataclass(frozen=True)
class Finished:
    status: JobStatus
    explanation: str | None
    artifacts: dict[str, object]


@dataclass(frozen=True)
class Ran:
    outcome: RunOutcome
    sink: EventSink
    canceled_by: str | None  # the explanation of a cancel asked while it ran (jobs.cancel)


@dataclass(frozen=True)
class Guest:
    """One VM of a batch run (jobs.batch): its job, its VM and its domain's name."""

    job_id: uuid.UUID
    vm_id: uuid.UUID
    domain: str


def execute(job_id: uuid.UUID, run: PlaybookRun, batch: Sequence[Guest] = ()) -> Ran:
    """Run the playbook under the job's lease and cancel watch, storing its events; nothing of
    it outlives it. The playbook stops when the lease is lost or a cancel is asked.

    A batch's run holds the leases of all its jobs, and stops when every one of them lost its
    lease or asked a cancel; each guest's item events go to its own job (EventSink)."""
    settings = base.settings()
    job_ids = [guest.job_id for guest in batch] or [job_id]
    sink = EventSink(
        base.sessions(),
        job_id,
        routes={guest.domain: guest.job_id for guest in batch},
        stdout_limit=settings.event_stdout_limit,
        job_stdout_limit=settings.job_stdout_limit,
    )
    # An earlier job of these VMs whose worker died may still be running.
    for vm_id in [run.vm_id] if run.vm_id else [str(guest.vm_id) for guest in batch]:
        reaper.kill_vm_playbooks(settings.runs_dir, vm_id, keep_job=run.ident)
    lease = Lease(base.sessions(), job_ids, every=max(1.0, settings.job_lease_seconds / 3))
    watch = cancel.CancelWatch(base.sessions(), job_ids, every=cancel.POLL_SECONDS)

    def should_cancel() -> bool:
        sink.tick()  # called between events: a long task's events are stored meanwhile
        return lease.lost or watch.requested

    try:
        with lease, watch:
            outcome = run_playbook(settings, run, sink, should_cancel=should_cancel)
    finally:
        sink.flush()
        reaper.kill_job(settings.runs_dir, run.ident)  # whatever happened above
    return Ran(outcome, sink, watch.explanation if watch.requested else None)


def finished(ran: Ran) -> Finished:
    """The job's terminal status and a bounded explanation of any failure or cancel."""
    outcome, sink = ran.outcome, ran.sink
    status = RUNNER_STATUS.get(outcome.status, JobStatus.ERROR)
    if status == JobStatus.CANCELED:
        if ran.canceled_by is None:
            return Finished(JobStatus.ERROR, LEASE_LOST, sink.artifacts)
        return Finished(status, jobs.bounded(ran.canceled_by), sink.artifacts)
    explanation = None
    if status != JobStatus.SUCCESSFUL:
        explanation = (
            sink.first_failure
            or f"ansible-runner ended {outcome.status} (rc={outcome.rc}): {sink.last_error_line()}"
        )
        if outcome.status == "timeout":
            explanation = f"timed out after {base.settings().job_timeout_seconds}s; {explanation}"
    return Finished(status, jobs.bounded(explanation), sink.artifacts)


def complete(
    job_id: uuid.UUID, run: PlaybookRun, apply: Callable[[Session, Job, Finished], None]
) -> str:
    """Run a claimed job's playbook, save its terminal status, and let apply act on the result
    in the same transaction; a crash is recorded before it escapes. Returns the status.

    apply is skipped for a job that something else ended while it ran (the sweep, when its
    lease expired): that outcome stands. A job whose cancel was asked while it ran ends
    `canceled` (unless its playbook ended first) and apply sees that result.
    """
    try:
        ran = execute(job_id, run)
        result = finished(ran)
        with base.sessions()() as session:
            before = jobs.locked(session, job_id)
            ended_elsewhere = before is not None and before.status in jobs.TERMINAL
            job = jobs.finish(
                session,
                job_id,
                result.status,
                rc=ran.outcome.rc,
                explanation=result.explanation,
                stdout=ran.sink.stdout,
                artifacts=dict(result.artifacts),
            )
            if not ended_elsewhere:
                apply(session, job, result)
            session.commit()
    except Exception as exc:
        log.exception("job %s crashed", job_id)
        base.record_crash(job_id, base.crash_reason(exc))
        raise
    log.info("job %s finished %s", job_id, result.status)
    return str(result.status)
