"""A running job's lease: renewed from a thread while the playbook runs, so the sweep can tell a
live job from one whose worker died (jobs.reconcile), whatever RQ believes.

A renewal that finds the job no longer running (the sweep failed it) marks the lease lost; the
runner's cancel callback then stops the playbook. A cancel asked through the API is watched by
jobs.cancel, on the same kind of thread (`Repeating`), about every second.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Sequence
from types import TracebackType

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from api.services import jobs

log = logging.getLogger(__name__)


class Repeating:
    """Context manager: calls tick() every `every` seconds from a thread until exit or done."""

    def __init__(self, name: str, every: float) -> None:
        self.every = every
        self._stop = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    @property
    def done(self) -> bool:
        """True once tick() said so (mark_done): nothing more to watch."""
        return self._done.is_set()

    def mark_done(self) -> None:
        self._done.set()

    def tick(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.wait(self.every) and not self.done:
            self.tick()

    def __enter__(self) -> Repeating:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=self.every + 5)


class Lease(Repeating):
    """Renews the leases of job_ids (one job, or the jobs of a batch) every `every` seconds
    until exit."""

    def __init__(
        self, sessions: sessionmaker[Session], job_ids: Sequence[uuid.UUID], every: float
    ) -> None:
        super().__init__(f"lease-{job_ids[0]}", every)
        self.sessions = sessions
        self.job_ids = list(job_ids)

    @property
    def lost(self) -> bool:
        """True once none of the jobs is `running` under us any more."""
        return self.done

    def renew(self) -> None:
        """Extend the leases once; a database error is logged and retried next time."""
        try:
            with self.sessions() as session:
                still_running = jobs.renew_leases(session, self.job_ids)
                session.commit()
        except SQLAlchemyError as exc:
            log.warning("job %s: lease not renewed (%s)", self.job_ids[0], type(exc).__name__)
            return
        if not still_running:
            log.warning("job %s is no longer running; stopping its playbook", self.job_ids[0])
            self.mark_done()

    def tick(self) -> None:
        self.renew()
