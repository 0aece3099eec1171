"""Enqueue RQ jobs by dotted path, only after the transaction that recorded them commits.

The API never imports `jobs`: it names job functions as strings ("jobs.vms.provision"), in the
way of miguelgrinberg/microblog's launch_task, and the worker imports them.

The job table is a transactional outbox: a job row commits `queued` with the change that asked
for it, and the enqueue after the commit is only the fast path. When Redis cannot take the job,
the row stays `queued` and the periodic sweep (jobs/reconcile.py) enqueues it once Redis is back.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.retry import Retry
from rq import Callback, Queue
from sqlalchemy import event
from sqlalchemy.orm import Session

from api.models import Job
from api.services import lifecycle
from api.settings import Settings

log = logging.getLogger(__name__)

PENDING_KEY = "virtflow_enqueue_pending"
FAILURE_CALLBACK = "jobs.base.on_rq_failure"
# The RQ function that runs each kind of job, by dotted path (the API never imports jobs).
JOB_FUNCS = {
    **{kind.value: op.job_func for kind, op in lifecycle.OPERATIONS.items()},
    **{kind.value: func for kind, func in lifecycle.READ_ONLY_FUNCS.items()},
    "host.prepare": "jobs.hosts.prepare",
    "host.domains": "jobs.hosts.domains",
}
RQ_TIMEOUT_MARGIN = 120


def redis_options(settings: Settings) -> dict[str, Any]:
    """Client options for every Redis connection the API makes: no wait outlasts the timeouts."""
    return {
        "socket_connect_timeout": settings.redis_connect_timeout,
        "socket_timeout": settings.redis_socket_timeout,
        # One immediate retry re-dials a connection Redis dropped (say, on a restart). A timeout
        # is not retried: redis-py's default (3 retries with backoff) would hold a request for
        # about 20 s when Redis hangs, past gunicorn's worker timeout.
        "retry": Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
    }


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
        return Redis.from_url(self.settings.redis_url, **redis_options(self.settings))

    @cached_property
    def rq(self) -> Queue:
        return Queue(self.settings.queue_name, connection=self.redis)

    def depth(self) -> dict[str, int]:
        """How many RQ jobs are waiting (queued), running (started), deferred, scheduled and
        failed, in one round trip of plain reads: RQ's own counts clean registries up first."""
        registries = {
            "started": self.rq.started_job_registry.key,
            "deferred": self.rq.deferred_job_registry.key,
            "scheduled": self.rq.scheduled_job_registry.key,
            "failed": self.rq.failed_job_registry.key,
        }
        pipe = self.redis.pipeline(transaction=False)
        pipe.llen(self.rq.key)
        for key in registries.values():
            pipe.zcard(key)
        counts = pipe.execute()
        return dict(zip(["queued", *registries], (int(c) for c in counts), strict=True))

    def enqueue(self, pending: PendingJob) -> None:
        """Put one job on the queue; the RQ job id is the VirtFlow job id."""
        self.rq.enqueue_call(
            pending.func,
            kwargs={"job_id": str(pending.job_id)},
            job_id=str(pending.job_id),
            # ansible-runner stops the playbook at job_timeout_seconds and the job records
            # that cleanly; RQ's own kill is only the backstop. A delete may first wait up to
            # job_timeout_seconds for a job of its VM that is still running (jobs/vms.py).
            timeout=2 * self.settings.job_timeout_seconds + RQ_TIMEOUT_MARGIN,
            meta={"request_id": pending.request_id},
            on_failure=Callback(FAILURE_CALLBACK),
            failure_ttl=7 * 24 * 3600,
        )
        log.info("enqueued %s job_id=%s", pending.func, pending.job_id)

    def after_commit(self, session: Session, job: Job) -> None:
        """Enqueue the job's function (JOB_FUNCS) once session commits; dropped on rollback."""
        pending = PendingJob(JOB_FUNCS[job.kind], job.id, job.request_id)
        session.info.setdefault(PENDING_KEY, []).append((self, pending))


@event.listens_for(Session, "after_commit")
def _enqueue_pending(session: Session) -> None:
    """Enqueue what the commit recorded; on the first Redis failure leave the rest to the sweep.

    The jobs are committed `queued` either way, so the request still answers its success. Not
    trying the others keeps a request from waiting out one Redis timeout per job.
    """
    pending: list[tuple[JobQueue, PendingJob]] = session.info.pop(PENDING_KEY, [])
    for index, (queue, job) in enumerate(pending):
        try:
            queue.enqueue(job)
        except RedisError:
            left = [str(p.job_id) for _, p in pending[index:]]
            log.exception("Redis did not take job(s) %s; they stay queued for the sweep", left)
            return


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)
