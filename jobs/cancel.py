"""A cancel of a running job, asked through the API (job.cancel_requested_at), seen by its worker
within about a second: a thread reads the job's row every POLL_SECONDS and sets a flag, which
ansible-runner's cancel callback reads (a threading.Event: the callback costs nothing, however
often ansible-runner calls it). ansible-runner then kills the playbook's process group, and
jobs.execution reaps whatever is left (jobs.reaper).

The row is the one truth: a request sets it in its own transaction, and nothing else (no Redis
key) can disagree with it or be lost; one primary-key read a second per running job is cheap.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from api.services import jobs
from jobs.lease import Repeating

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0  # between two reads of the job's row; tests make it shorter


class CancelWatch(Repeating):
    """Watches job_id for a cancel request until exit; `requested` once one came."""

    def __init__(
        self, sessions: sessionmaker[Session], job_id: uuid.UUID, every: float = POLL_SECONDS
    ) -> None:
        super().__init__(f"cancel-{job_id}", every)
        self.sessions = sessions
        self.job_id = job_id
        self.explanation: str | None = None  # who canceled it, as the request recorded

    @property
    def requested(self) -> bool:
        return self.done

    def check(self) -> None:
        """Read the job's row once; a database error is logged and the next read tries again."""
        try:
            with self.sessions() as session:
                asked = jobs.cancel_request(session, self.job_id)
        except SQLAlchemyError as exc:
            log.warning("job %s: cancel not checked (%s)", self.job_id, type(exc).__name__)
            return
        if asked is not None:
            log.warning("job %s: cancel requested; stopping its playbook", self.job_id)
            self.explanation = asked
            self.mark_done()

    def tick(self) -> None:
        self.check()
