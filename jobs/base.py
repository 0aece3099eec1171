"""What every job shares: settings, sessions, the request id in logs, and recording a crash."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from contextlib import AbstractContextManager
from functools import cache
from typing import Any

from redis.exceptions import RedisError
from rq.exceptions import AbandonedJobError
from rq.timeouts import JobTimeoutException
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from api import logs
from api.db import session_factory, throwaway_session
from api.models import JobStatus
from api.services import hosts, jobs, vms
from api.settings import Settings

log = logging.getLogger(__name__)


@cache
def settings() -> Settings:
    """Settings of this worker process."""
    s = Settings.from_env()
    logs.configure(s.log_level, s.log_format)
    return s


def sessions() -> sessionmaker[Session]:
    """Session factory for the worker's database (pooled; pools never cross a fork)."""
    return session_factory(settings().database_url, settings().db_timeouts)


def throwaway() -> AbstractContextManager[Session]:
    """A session on a connection of its own: for a worker's parent process, which forks."""
    return throwaway_session(settings().database_url, settings().db_timeouts)


def worker_identity() -> str:
    """host:pid of this process, recorded on the jobs it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


def bind_request_id(request_id: str | None) -> None:
    """Log lines of this job carry the id of the request that queued it."""
    logs.request_id_var.set(request_id or "-")


def worker_gone(how: str) -> str:
    """The explanation of a job whose worker stopped under it (how: what showed it)."""
    return (
        f"the worker running this job stopped ({how}); the VM may be half-changed: "
        "delete it, or run the operation again"
    )


def crash_reason(exc: BaseException) -> str:
    """What a tenant may read about a crash: the kind of failure, never its SQL or parameters."""
    if isinstance(exc, AbandonedJobError):  # RQ's clean-up of a dead worker's registry
        return worker_gone("RQ found the job abandoned")
    if isinstance(exc, SQLAlchemyError):
        return "the job lost its connection to the database; the worker log has the details"
    if isinstance(exc, RedisError):
        return "the job lost its connection to Redis; the worker log has the details"
    if isinstance(exc, TimeoutError | JobTimeoutException):
        return "the job ran past its time limit and was stopped"
    return f"the job crashed ({type(exc).__name__}); the worker log has the details"


def record_crash(job_id: uuid.UUID, reason: str) -> bool:
    """Save `error` on the job and its VM when the job crashed; False if it had already ended.

    It uses a connection of its own, so it is safe in a worker's parent as well as in a job.
    """
    with throwaway() as session:
        job = jobs.locked(session, job_id)
        if job is None or job.status in jobs.TERMINAL:
            session.rollback()
            return False
        job = jobs.finish(session, job_id, JobStatus.ERROR, explanation=reason)
        vms.apply_job_error(session, job, job.explanation or reason)
        hosts.apply_job_error(session, job, job.explanation or reason)
        session.commit()
    log.warning("job %s recorded as error: %s", job_id, reason)
    return True


def on_rq_failure(job: Any, connection: Any, exc_type: Any, exc_value: Any, tb: Any) -> None:
    """RQ failure callback (timeouts, crashes the job did not catch): never leave a job running."""
    try:
        job_id = uuid.UUID(job.id)
    except (TypeError, ValueError):
        return
    log.error("job %s failed in RQ: %s", job_id, exc_value)
    exc = exc_value if isinstance(exc_value, BaseException) else RuntimeError(str(exc_value))
    record_crash(job_id, crash_reason(exc))
