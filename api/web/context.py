"""Per-app and per-request handles: settings, the request's DB session, the job queue."""

from __future__ import annotations

import logging

from flask import current_app, g
from sqlalchemy.orm import Session, sessionmaker

from api.db import session_factory
from api.queue import JobQueue
from api.services.inventory import InventoryWatcher
from api.settings import Settings
from api.web.audit import success_committed, write_success

log = logging.getLogger(__name__)


def settings() -> Settings:
    s: Settings = current_app.extensions["virtflow_settings"]
    return s


def job_queue() -> JobQueue:
    q: JobQueue = current_app.extensions["virtflow_queue"]
    return q


def inventory_watcher() -> InventoryWatcher:
    w: InventoryWatcher = current_app.extensions["virtflow_inventory"]
    return w


def sessions() -> sessionmaker[Session]:
    """The app's session factory (the tests' savepoint sessions, under test)."""
    factory: sessionmaker[Session] | None = current_app.extensions.get("virtflow_sessions")
    return factory or session_factory(settings().database_url, settings().db_timeouts)


def db() -> Session:
    """The request's session, opened on first use and closed at teardown."""
    if "db" not in g:
        g.db = sessions()()
    session: Session = g.db
    return session


def close_db(_exc: BaseException | None = None) -> None:
    """Teardown: close the request's session. Never raises: the answer is made by now, and an
    error here would turn it into werkzeug's HTML 500."""
    session: Session | None = g.pop("db", None)
    if session is None:
        return
    try:
        session.close()
    except Exception:
        log.exception("closing the request's database session failed; discarding its connection")
        discard(session)


def discard(session: Session) -> None:
    """Invalidate the session's connections, so the pool never hands a broken one out again."""
    try:
        session.invalidate()
    except Exception:
        log.warning("could not invalidate the request's database session", exc_info=True)


def commit(status: int | None = None) -> None:
    """Commit the request's session with its audit row; jobs registered with after_commit are
    enqueued now. status: the success status the audit row records, when the view answers one
    other than its documented @blp.response (see audit.declared_success_status).

    A job Redis cannot take stays `queued` (api.queue's outbox): the answer is still a success.
    """
    session = db()
    write_success(session, status)
    if g.get("hold_commit"):  # @idempotent commits it with the answer (api/web/idempotency.py)
        session.flush()
        return
    release_commit()


def hold_commit() -> None:
    """From now on commit() only flushes: release_commit() commits."""
    g.hold_commit = True


def release_commit() -> None:
    """Commit the request's session (and the audit row commit() wrote, if it did)."""
    g.pop("hold_commit", None)
    db().commit()
    success_committed()  # only now: a failed commit leaves the request to be recorded refused
