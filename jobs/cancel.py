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
from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from api.services import jobs
from jobs.lease import Repeating

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0  # between two reads of the job's row; tests make it shorter


class CancelWatch(Repeating):
    """Watches job_ids for cancel requests until exit; `requested` once every one of them
    asked (one VM's cancel never stops the other VMs of its batch: jobs.batch)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        job_ids: Sequence[uuid.UUID],
        every: float = POLL_SECONDS,
    ) -> None:
        super().__init__(f"cancel-{job_ids[0]}", every)
        self.sessions = sessions
        self.job_ids = list(job_ids)
        self.explanation: str | None = None  # who canceled it, as the request recorded

    @property
    def requested(self) -> bool:
        return self.done

    def check(self) -> None:
        """Read the jobs' rows once; a database error is logged and the next read tries again."""
        try:
            with self.sessions() as session:
                asked = [jobs.cancel_request(session, job_id) for job_id in self.job_ids]
        except SQLAlchemyError as exc:
            log.warning("job %s: cancel not checked (%s)", self.job_ids[0], type(exc).__name__)
            return
        if all(reason is not None for reason in asked):
            log.warning("job %s: cancel requested; stopping its playbook", self.job_ids[0])
            self.explanation = asked[0]
            self.mark_done()

    def tick(self) -> None:
        self.check()
