"""A running job's lease: renewed from a thread while the playbook runs, so the sweep can tell a
live job from one whose worker died (jobs.reconcile), whatever RQ believes.

A renewal that finds the job no longer running (the sweep failed it, or it was canceled) marks
the lease lost; the runner's cancel callback then stops the playbook.
"""

from __future__ import annotations

import logging
import threading
import uuid
from types import TracebackType

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from api.services import jobs

log = logging.getLogger(__name__)


class Lease:
    """Context manager: renews job_id's lease every `every` seconds until exit."""

    def __init__(self, sessions: sessionmaker[Session], job_id: uuid.UUID, every: float) -> None:
        self.sessions = sessions
        self.job_id = job_id
        self.every = every
        self._stop = threading.Event()
        self._lost = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{job_id}", daemon=True)

    @property
    def lost(self) -> bool:
        """True once the job stopped being `running` under us."""
        return self._lost.is_set()

    def renew(self) -> None:
        """Extend the lease once; a database error is logged and retried next time."""
        try:
            with self.sessions() as session:
                still_running = jobs.renew_lease(session, self.job_id)
                session.commit()
        except SQLAlchemyError as exc:
            log.warning("job %s: lease not renewed (%s)", self.job_id, type(exc).__name__)
            return
        if not still_running:
            log.warning("job %s is no longer running; stopping its playbook", self.job_id)
            self._lost.set()

    def _run(self) -> None:
        while not self._stop.wait(self.every) and not self.lost:
            self.renew()

    def __enter__(self) -> Lease:
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
