"""Per-app and per-request handles: settings, the request's DB session, the job queue."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session

from api.db import session_factory
from api.errors import QueueUnavailable
from api.queue import JobQueue, take_failures
from api.services import vms
from api.services.inventory import InventoryWatcher
from api.settings import Settings
from api.web.audit import success_committed, write_success


def settings() -> Settings:
    s: Settings = current_app.extensions["virtflow_settings"]
    return s


def job_queue() -> JobQueue:
    q: JobQueue = current_app.extensions["virtflow_queue"]
    return q


def inventory_watcher() -> InventoryWatcher:
    w: InventoryWatcher = current_app.extensions["virtflow_inventory"]
    return w


def db() -> Session:
    """The request's session, opened on first use and closed at teardown."""
    if "db" not in g:
        factory = current_app.extensions.get("virtflow_sessions")
        g.db = (factory or session_factory(settings().database_url, settings().db_timeouts))()
    session: Session = g.db
    return session


def close_db(_exc: BaseException | None = None) -> None:
    session: Session | None = g.pop("db", None)
    if session is not None:
        session.close()


def commit() -> None:
    """Commit the request's session; jobs registered with after_commit are enqueued now.

    A job that could not reach Redis is marked `error` (with its VM) and the caller gets 503.
    """
    session = db()
    write_success(session)
    session.commit()
    success_committed()  # only now: a failed commit leaves the request to be recorded refused
    failures = take_failures(session)
    if not failures:
        return
    for job_id, reason in failures:
        vms.fail_unqueued(session, job_id, reason)
    session.commit()

    raise QueueUnavailable(details={"job_ids": [str(j) for j, _ in failures]})
