"""Enqueue RQ jobs by dotted path, only after the transaction that recorded them commits.

The API never imports `jobs`: it names job functions as strings ("jobs.vms.provision"), in the
way of miguelgrinberg/microblog's launch_task, and the worker imports them.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from functools import cached_property

from redis import Redis
from redis.exceptions import RedisError
from rq import Callback, Queue
from sqlalchemy import event
from sqlalchemy.orm import Session

from api.models import Job
from api.settings import Settings

log = logging.getLogger(__name__)

PENDING_KEY = "virtflow_enqueue_pending"
FAILED_KEY = "virtflow_enqueue_failed"
FAILURE_CALLBACK = "jobs.base.on_rq_failure"
# The RQ function that runs each kind of job, by dotted path (the API never imports jobs).
JOB_FUNCS = {
    "vm.create": "jobs.vms.provision",
    "vm.delete": "jobs.vms.destroy",
    "vm.stop": "jobs.vms.stop",
    "vm.start": "jobs.vms.start",
}
SWEEP_FUNC = "jobs.reconcile.sweep"
RQ_TIMEOUT_MARGIN = 120


@dataclass(frozen=True)
class PendingJob:
    func: str
    job_id: uuid.UUID
    request_id: str | None


class JobQueue:
    """The RQ queue named by settings; connects on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def redis(self) -> Redis:
        return Redis.from_url(self.settings.redis_url, socket_connect_timeout=5, socket_timeout=10)

    @cached_property
    def rq(self) -> Queue:
        return Queue(self.settings.queue_name, connection=self.redis)

    def enqueue(self, pending: PendingJob) -> None:
        """Put one job on the queue; the RQ job id is the VirtFlow job id."""
        self.rq.enqueue_call(
            pending.func,
            kwargs={"job_id": str(pending.job_id)},
            job_id=str(pending.job_id),
            # ansible-runner stops the playbook at job_timeout_seconds and the job records
            # that cleanly; RQ's own kill is only the backstop.
            timeout=self.settings.job_timeout_seconds + RQ_TIMEOUT_MARGIN,
            meta={"request_id": pending.request_id},
            on_failure=Callback(FAILURE_CALLBACK),
            failure_ttl=7 * 24 * 3600,
        )
        log.info("enqueued %s job_id=%s", pending.func, pending.job_id)

    def after_commit(self, session: Session, job: Job) -> None:
        """Enqueue the job's function (JOB_FUNCS) once session commits; dropped on rollback."""
        pending = PendingJob(JOB_FUNCS[job.kind], job.id, job.request_id)
        session.info.setdefault(PENDING_KEY, []).append((self, pending))


def take_failures(session: Session) -> list[tuple[uuid.UUID, str]]:
    """Jobs whose enqueue failed after the last commit, with the reason; clears the list."""
    failures: list[tuple[uuid.UUID, str]] = session.info.pop(FAILED_KEY, [])
    return failures


@event.listens_for(Session, "after_commit")
def _enqueue_pending(session: Session) -> None:
    for queue, pending in session.info.pop(PENDING_KEY, []):
        try:
            queue.enqueue(pending)
        except RedisError as exc:
            log.exception("enqueue failed for job_id=%s", pending.job_id)
            session.info.setdefault(FAILED_KEY, []).append((pending.job_id, str(exc)))


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)
