"""Running one job's playbook, shared by every kind of job: events, lease, reaping, outcome."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from api.models import Job, JobStatus
from api.services import jobs
from jobs import base, reaper
from jobs.events import EventSink
from jobs.lease import Lease
from jobs.runner import PlaybookRun, RunOutcome, run_playbook

log = logging.getLogger(__name__)

# ansible-runner's statuses, mapped explicitly: `failed` ran and failed, `error` could not run.
RUNNER_STATUS = {
    "successful": JobStatus.SUCCESSFUL,
    "failed": JobStatus.FAILED,
    "timeout": JobStatus.FAILED,
    "canceled": JobStatus.CANCELED,
    "error": JobStatus.ERROR,
}


@dataclass(frozen=True)
class Finished:
    status: JobStatus
    explanation: str | None
    artifacts: dict[str, object]


def execute(job_id: uuid.UUID, run: PlaybookRun) -> tuple[RunOutcome, EventSink]:
    """Run the playbook under the job's lease, storing its events; nothing of it outlives it."""
    settings = base.settings()
    sink = EventSink(
        base.sessions(),
        job_id,
        stdout_limit=settings.event_stdout_limit,
        job_stdout_limit=settings.job_stdout_limit,
    )
    if run.vm_id:  # an earlier job of this VM whose worker died may still be running
        reaper.kill_vm_playbooks(settings.runs_dir, run.vm_id, keep_job=run.ident)
    lease = Lease(base.sessions(), job_id, every=max(1.0, settings.job_lease_seconds / 3))

    def should_cancel() -> bool:
        sink.tick()  # called between events: a long task's events are stored meanwhile
        return lease.lost

    try:
        with lease:
            outcome = run_playbook(settings, run, sink, should_cancel=should_cancel)
    finally:
        sink.flush()
        reaper.kill_job(settings.runs_dir, run.ident)  # whatever happened above
    return outcome, sink


def finished(outcome: RunOutcome, sink: EventSink) -> Finished:
    """The job's terminal status and a bounded explanation of any failure."""
    status = RUNNER_STATUS.get(outcome.status, JobStatus.ERROR)
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
    lease expired): that outcome stands.
    """
    try:
        outcome, sink = execute(job_id, run)
        result = finished(outcome, sink)
        with base.sessions()() as session:
            job = jobs.finish(
                session,
                job_id,
                result.status,
                rc=outcome.rc,
                explanation=result.explanation,
                stdout=sink.stdout,
                artifacts=dict(result.artifacts),
            )
            if job.status == result.status:
                apply(session, job, result)
            session.commit()
    except Exception as exc:
        log.exception("job %s crashed", job_id)
        base.record_crash(job_id, base.crash_reason(exc))
        raise
    log.info("job %s finished %s", job_id, result.status)
    return str(result.status)
