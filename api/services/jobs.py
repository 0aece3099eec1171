"""Jobs: visibility for callers, and the state transitions job functions make."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, delete, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session, aliased

from api.db import utcnow
from api.errors import NotFound
from api.models import VM, Job, JobEvent, JobStatus, User
from api.services.filters import narrow
from api.services.permissions import ALL_PERMS, Perm, Target, effective_perms, objects_clause

# Explanations are shown to tenants: short, and never SQL, parameters or tracebacks (those
# go to the worker's log).
EXPLANATION_LIMIT = 2048
CLIPPED = " [truncated]"
TERMINAL = frozenset({JobStatus.SUCCESSFUL, JobStatus.FAILED, JobStatus.ERROR, JobStatus.CANCELED})


def bounded(text: str | None, limit: int = EXPLANATION_LIMIT) -> str | None:
    """An explanation users read: at most limit characters."""
    if text is None or len(text) <= limit:
        return text
    return text[: limit - len(CLIPPED)] + CLIPPED


def get_job(session: Session, user: User, job_id: uuid.UUID) -> Job:
    """The job if the caller may view it; 404 otherwise."""
    job = session.get(Job, job_id)
    if job is None or not can_view_job(session, user, job):
        raise NotFound()
    return job


def job_perms(session: Session, user: User, job: Job) -> frozenset[Perm]:
    """What user may do on job. A host job has no tenant: it is the platform admins' alone."""
    if job.tenant_id is None:
        return ALL_PERMS if user.is_admin else frozenset()
    return effective_perms(session, user, Target(job.tenant_id, job.vm_id))


def can_view_job(session: Session, user: User, job: Job) -> bool:
    """job.view in the job's tenant, or a view grant on the job's VM (its jobs are part of it)."""
    perms = job_perms(session, user, job)
    return Perm.JOB_VIEW in perms or Perm.VM_VIEW in perms


def jobs_query(
    user: User,
    vm_id: uuid.UUID | None = None,
    tenant_id: uuid.UUID | None = None,
    status: str | None = None,
) -> Select[Job]:
    """Jobs the caller may see, newest first."""
    # The same rule as can_view_job: job.view in the tenant, or vm.view on the job's VM.
    query = select(Job).where(
        or_(
            objects_clause(user, Perm.JOB_VIEW, Job.tenant_id),
            objects_clause(user, Perm.VM_VIEW, Job.tenant_id, Job.vm_id),
        )
    )
    query = narrow(query, Job, vm_id=vm_id, tenant_id=tenant_id, status=status)
    return query.order_by(Job.created_at.desc(), Job.id)


def events_query(job: Job, host: str | None = None, event: str | None = None) -> Select[JobEvent]:
    """A job's events in the order ansible-runner emitted them."""
    query = narrow(
        select(JobEvent).where(JobEvent.job_id == job.id), JobEvent, host=host, event=event
    )
    return query.order_by(JobEvent.counter)


def progress(session: Session, job: Job) -> dict[str, Any]:
    """How far a job got, from the events stored so far: events, host task results, the latest
    task name, and tasks_total (see expected_tasks)."""
    row = session.execute(
        select(
            func.count(JobEvent.id),
            func.count(JobEvent.id).filter(JobEvent.status.is_not(None)),
        ).where(JobEvent.job_id == job.id)
    ).one()
    last_task = session.scalar(
        select(JobEvent.task)
        .where(JobEvent.job_id == job.id, JobEvent.task.is_not(None))
        .order_by(JobEvent.counter.desc())
        .limit(1)
    )
    done = int(row[1])
    return {
        "events": int(row[0]),
        "host_tasks_done": done,
        "tasks_total": done if job.status == JobStatus.SUCCESSFUL else expected_tasks(session, job),
        "current_task": last_task,
    }


def expected_tasks(session: Session, job: Job) -> int | None:
    """The host task results of the latest successful job of the same kind and playbook: what
    this run will likely count when it is done; None when no such job exists.

    An estimate, not a count of the play: the playbooks enter their roles with include_role,
    whose tasks Ansible loads only when it reaches them, so no total is known when a run starts.
    A run that takes another branch (a rescue, a skipped include) ends above or below it.
    """
    previous = (
        select(Job.id)
        .where(
            Job.kind == job.kind,
            Job.playbook == job.playbook,
            Job.status == JobStatus.SUCCESSFUL,
            Job.id != job.id,
        )
        .order_by(Job.finished_at.desc().nulls_last())
        .limit(1)
        .scalar_subquery()
    )
    found = session.execute(
        select(previous, func.count(JobEvent.id)).where(
            JobEvent.job_id == previous, JobEvent.status.is_not(None)
        )
    ).one()
    return int(found[1]) or None  # none: no such job, or its events were purged


def output(session: Session, job: Job, limit: int) -> str:
    """The job's playbook output: what it saved when it ended; while it runs (or when it ended
    without saving any), the output of its stored events, in order, at most limit characters."""
    if job.status in TERMINAL and job.stdout:
        return job.stdout
    lines = func.string_agg(JobEvent.stdout, aggregate_order_by(literal("\n"), JobEvent.counter))
    text = session.scalar(
        select(func.left(lines, limit)).where(JobEvent.job_id == job.id, JobEvent.stdout != "")
    )
    return text or ""


def events_after(session: Session, job_id: uuid.UUID, after: int, limit: int) -> list[JobEvent]:
    """Up to limit of the job's stored events whose counter is above after, in order."""
    query = (
        select(JobEvent)
        .where(JobEvent.job_id == job_id, JobEvent.counter > after)
        .order_by(JobEvent.counter)
        .limit(limit)
    )
    return list(session.scalars(query))


def events_expired(job: Job, retention_days: int, now: dt.datetime) -> bool:
    """Whether the job's events are past retention: it ended more than retention_days ago
    (0: kept forever). The sweep deletes them (purge_events); the job row stays."""
    ended = job.finished_at
    if retention_days <= 0 or job.status not in TERMINAL or ended is None:
        return False
    return ended < now - dt.timedelta(days=retention_days)


def purge_events(session: Session, ended_before: dt.datetime, window: int) -> int:
    """Delete the events of jobs that ended before ended_before among the window oldest events
    (by id); the number deleted. Unfinished jobs' events are never deleted.

    Oldest first, from the primary key: each statement reads at most window rows, however many
    jobs ended long ago, and what it skips (events of jobs still running or ended lately) is
    newer than what it deletes, since a job's events are written while it runs.
    """
    oldest = select(JobEvent.id, JobEvent.job_id).order_by(JobEvent.id).limit(window).subquery()
    doomed = (
        select(oldest.c.id)
        .join(Job, Job.id == oldest.c.job_id)
        .where(Job.status.in_(TERMINAL), Job.finished_at < ended_before)
    )
    purged = session.execute(
        delete(JobEvent).where(JobEvent.id.in_(doomed)),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(purged, "rowcount", 0))


def status_of(session: Session, job_id: uuid.UUID) -> str | None:
    """The job's status as committed now (None when the job is gone)."""
    return session.scalar(select(Job.status).where(Job.id == job_id))


def locked(session: Session, job_id: uuid.UUID) -> Job | None:
    """Lock the job's VM row, then the job row, and return the job as committed.

    VM first, then its jobs: the order of every API path (delete, power, cancel), so a worker
    and a request never wait for each other in a cycle.
    """
    vm_id = session.scalar(select(Job.vm_id).where(Job.id == job_id))
    if vm_id is not None:
        session.execute(select(VM.id).where(VM.id == vm_id).with_for_update())
    query = select(Job).where(Job.id == job_id).with_for_update()
    return session.scalar(query.execution_options(populate_existing=True))


def claim(session: Session, job_id: uuid.UUID, worker: str | None = None) -> Job | None:
    """Lock the job and move it queued -> running with a fresh lease held by worker;
    None when it may not start (any other status)."""
    job = locked(session, job_id)
    if job is None or job.status != JobStatus.QUEUED:
        return None
    start_claimed(job, worker)
    session.flush()
    return job


def renew_lease(session: Session, job_id: uuid.UUID) -> bool:
    """Extend a running job's lease; False when the job is not running any more."""
    return renew_leases(session, [job_id]) > 0


def cancel_request(session: Session, job_id: uuid.UUID) -> str | None:
    """The explanation a cancel of the running job recorded (who asked), once one was asked;
    None while none was, or when the job is not running."""
    query = select(Job.cancel_requested_at, Job.explanation).where(
        Job.id == job_id, Job.status == JobStatus.RUNNING
    )
    row = session.execute(query).first()
    if row is None or row.cancel_requested_at is None:
        return None
    return row.explanation or "canceled while it ran"


def expired_leases(session: Session, lease_seconds: int) -> list[uuid.UUID]:
    """Running jobs whose worker has not renewed the lease for lease_seconds: it is gone."""
    beat = func.coalesce(Job.heartbeat_at, Job.started_at, Job.created_at)
    stale = beat < func.now() - dt.timedelta(seconds=lease_seconds)
    return list(session.scalars(select(Job.id).where(Job.status == JobStatus.RUNNING, stale)))


def running_among(session: Session, job_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Which of job_ids are running (a process of any other job is an orphan)."""
    ids = list(job_ids)
    if not ids:
        return set()
    query = select(Job.id).where(Job.id.in_(ids), Job.status == JobStatus.RUNNING)
    return set(session.scalars(query))


def finish(
    session: Session,
    job_id: uuid.UUID,
    status: JobStatus,
    *,
    rc: int | None = None,
    explanation: str | None = None,
    stdout: str | None = None,
    artifacts: dict[str, Any] | None = None,
) -> Job:
    """Record a terminal status once; a job already terminal keeps its first outcome."""
    job = locked(session, job_id)
    if job is None:
        raise NotFound()
    if job.status in TERMINAL:
        return job
    job.status = status
    job.rc = rc
    job.explanation = bounded(explanation)
    job.finished_at = utcnow()
    if stdout is not None:
        job.stdout = stdout
    if artifacts is not None:
        job.artifacts = artifacts
    session.flush()
    return job


# Batches (jobs/batch.py): one job runs every queued operation of its kind for its host.
BATCH_LOCK = "virtflow-host-batch"


def host_batch_running(session: Session, host_id: uuid.UUID, kinds: Iterable[str]) -> bool:
    """Whether a job of kinds runs on the host, asked under the host's batch lock (a transaction
    advisory lock: it serializes this question and the claim that follows with the same pair in
    any other worker, and locks no row an API request waits for)."""
    session.execute(
        select(func.pg_advisory_xact_lock(func.hashtext(BATCH_LOCK), func.hashtext(str(host_id))))
    )
    running = (
        select(Job.id)
        .join(VM, VM.id == Job.vm_id)
        .where(
            VM.baremetal_id == host_id, Job.kind.in_(list(kinds)), Job.status == JobStatus.RUNNING
        )
    )
    return session.scalar(running.limit(1)) is not None


def oldest_queued(
    session: Session, host_id: uuid.UUID, kinds: Iterable[str], skip: Iterable[uuid.UUID] = ()
) -> Job | None:
    """The oldest queued job of any of kinds for a VM on the host, but those of skip: the
    leader of its next batch."""
    query = (
        select(Job)
        .join(VM, VM.id == Job.vm_id)
        .where(
            VM.baremetal_id == host_id, Job.kind.in_(list(kinds)), Job.status == JobStatus.QUEUED
        )
        .order_by(Job.created_at)
        .limit(1)
    )
    skipped = list(skip)
    if skipped:
        query = query.where(Job.id.not_in(skipped))
    return session.scalar(query)


def queued_batch(session: Session, leader: Job, host_id: uuid.UUID, limit: int) -> list[Job]:
    """Lock up to limit queued jobs like leader (same kind, host, playbook and tenant), the
    leader first, then the oldest; rows another transaction holds are skipped, not waited for.
    VM rows first, then their jobs: the order every API path locks them in."""
    alike = (
        Job.status == JobStatus.QUEUED,
        Job.kind == leader.kind,
        VM.baremetal_id == host_id,
        Job.playbook == leader.playbook,
        Job.limit == leader.limit,
        Job.tenant_id == leader.tenant_id,
    )
    busy = aliased(Job)  # a VM another job of which runs waits its turn (a delete behind it)
    vm_runs = select(busy.id).where(busy.vm_id == VM.id, busy.status == JobStatus.RUNNING)
    vm_ids = session.scalars(
        select(VM.id)
        .join(Job, Job.vm_id == VM.id)
        .where(*alike, ~vm_runs.exists())
        .order_by(Job.id != leader.id, Job.created_at)
        .limit(limit)
        .with_for_update(of=VM, skip_locked=True)
    ).all()
    if not vm_ids:
        return []
    query = (
        select(Job)
        .join(VM, VM.id == Job.vm_id)
        .where(*alike, Job.vm_id.in_(vm_ids))
        .order_by(Job.id != leader.id, Job.created_at)
        .with_for_update(of=Job, skip_locked=True)
    )
    return list(session.scalars(query.execution_options(populate_existing=True)))


def start_claimed(job: Job, worker: str | None) -> None:
    """Move a job locked by the caller from queued to running, with a fresh lease."""
    job.status = JobStatus.RUNNING
    job.started_at = job.heartbeat_at = utcnow()
    job.worker = worker


def renew_leases(session: Session, job_ids: Iterable[uuid.UUID]) -> int:
    """Extend the leases of the running ones among job_ids; how many still run."""
    renewed = session.execute(
        update(Job)
        .where(Job.id.in_(list(job_ids)), Job.status == JobStatus.RUNNING)
        .values(heartbeat_at=func.now())
        .returning(Job.id)
    ).all()
    return len(renewed)


def running_with_worker(session: Session, job_id: uuid.UUID) -> list[uuid.UUID]:
    """The running jobs held by the same worker process as job_id (its batch), job_id included."""
    worker = select(Job.worker).where(Job.id == job_id).scalar_subquery()
    query = select(Job.id).where(Job.worker == worker, Job.status == JobStatus.RUNNING)
    return list(session.scalars(query))
