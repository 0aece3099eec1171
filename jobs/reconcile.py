"""Sweep jobs whose RQ side was lost, so no job stays `queued` or `running` forever.

Run as an RQ job that every `virtflow worker` queues when it starts (and that ops may queue
again with `virtflow jobs sweep`); each sweep schedules the next one, every
VIRTFLOW_SWEEP_INTERVAL seconds:
- a job the database calls `running` whose RQ job is gone, failed, stopped or finished (a
  worker died before the job could record its outcome) ends `error`, and so does its VM;
- a job the database calls `queued` whose RQ job does not exist (the API process died between
  commit and enqueue) is queued again under the same id.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid

from redis import Redis
from rq.exceptions import NoSuchJobError
from rq.job import Job as RQJob
from rq.job import JobStatus as RQStatus
from sqlalchemy import select

from api.db import utcnow
from api.models import Job, JobStatus
from api.queue import JOB_FUNCS, SWEEP_FUNC, JobQueue, PendingJob
from jobs import base

log = logging.getLogger(__name__)

LOST = frozenset({RQStatus.FAILED, RQStatus.STOPPED, RQStatus.CANCELED, RQStatus.FINISHED})
clock = time.time  # tests pin it
# A queued job younger than this may still be between the API's commit and its enqueue.
QUEUED_GRACE = dt.timedelta(seconds=60)


def _rq_status(connection: Redis, job_id: uuid.UUID) -> RQStatus | None:
    try:
        return RQJob.fetch(str(job_id), connection=connection).get_status()
    except NoSuchJobError:
        return None


def sweep() -> dict[str, int]:
    """Fail lost running jobs and re-enqueue lost queued ones; returns the counts."""
    settings = base.settings()
    queue = JobQueue(settings)
    with base.sessions()() as session:
        running = session.scalars(select(Job.id).where(Job.status == JobStatus.RUNNING)).all()
        queued = session.execute(
            select(Job.id, Job.kind, Job.request_id).where(
                Job.status == JobStatus.QUEUED, Job.created_at < utcnow() - QUEUED_GRACE
            )
        ).all()
    failed = 0
    for job_id in running:
        status = _rq_status(queue.redis, job_id)
        if status is None or status in LOST:
            base.record_crash(job_id, "the worker stopped before the job recorded its outcome")
            failed += 1
    requeued = 0
    for job_id, kind, request_id in queued:
        if _rq_status(queue.redis, job_id) is None:
            queue.enqueue(PendingJob(JOB_FUNCS[kind], job_id, request_id))
            requeued += 1
    log.info(
        "sweep: %d lost running job(s) failed, %d lost queued job(s) requeued", failed, requeued
    )
    schedule_next(queue, settings.sweep_interval_seconds)
    return {"failed": failed, "requeued": requeued}


def next_slot(interval: int, now: float) -> int:
    """The next time slot; its sweep has one id however many workers schedule it."""
    return int(now // interval) + 1


def schedule_next(queue: JobQueue, interval: int) -> None:
    """Schedule the sweep of the next time slot (RQ's scheduler runs inside the workers)."""
    slot = next_slot(interval, clock())
    queue.rq.enqueue_at(
        dt.datetime.fromtimestamp(slot * interval, dt.UTC),
        SWEEP_FUNC,
        job_id=f"{queue.rq.name}-sweep-{slot}",
        result_ttl=interval,
        failure_ttl=interval,
    )
