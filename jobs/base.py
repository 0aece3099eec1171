"""What every job shares: settings, sessions, the request id in logs, and the RQ failure hook."""

from __future__ import annotations

import logging
import uuid
from functools import cache
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from api import logs
from api.db import session_factory
from api.errors import NotFound
from api.models import JobStatus
from api.services import jobs, vms
from api.settings import Settings

log = logging.getLogger(__name__)


@cache
def settings() -> Settings:
    """Settings of this worker process."""
    s = Settings.from_env()
    logs.configure(s.log_level)
    return s


def sessions() -> sessionmaker[Session]:
    """Session factory for the worker's database."""
    return session_factory(settings().database_url, settings().db_timeouts)


def bind_request_id(request_id: str | None) -> None:
    """Log lines of this job carry the id of the request that queued it."""
    logs.request_id_var.set(request_id or "-")


def record_crash(job_id: uuid.UUID, reason: str) -> None:
    """Save `error` on the job and its VM when the job itself crashed (idempotent)."""
    with sessions()() as session:
        try:
            job = jobs.finish(session, job_id, JobStatus.ERROR, explanation=reason)
        except NotFound:
            log.warning("job %s has no row; nothing to record", job_id)
            return
        vms.apply_job_error(session, job, reason)
        session.commit()


def on_rq_failure(job: Any, connection: Any, exc_type: Any, exc_value: Any, tb: Any) -> None:
    """RQ failure callback (timeouts, crashes the job did not catch): never leave a job running."""
    try:
        job_id = uuid.UUID(job.id)
    except (TypeError, ValueError):
        return
    log.error("job %s failed in RQ: %s", job_id, exc_value)
    record_crash(job_id, f"job crashed: {exc_type.__name__ if exc_type else 'error'}: {exc_value}")
