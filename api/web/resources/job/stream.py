"""A job's events as server-sent events: what is stored, then what gets stored, then its end."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from flask import Response
from sqlalchemy.orm import Session, sessionmaker

from api.models import JobStatus
from api.services import jobs
from api.web.resources.job.schemas import JobEventSchema

POLL_SECONDS = 0.5  # between two reads of the database while nothing new is stored
KEEPALIVE_SECONDS = 15.0  # a comment line when nothing was sent for this long
BATCH = 200  # events read at most per poll; a full batch is followed at once by the next
RETRY_MS = 1000  # how long an EventSource waits before it reconnects after the stream ends
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_EVENT = JobEventSchema()


@dataclass(frozen=True)
class Follow:
    """One stream: the job, where it resumes, how long it may last, and its clock."""

    sessions: sessionmaker[Session]
    job_id: uuid.UUID
    after: int
    max_seconds: float
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


def frame(name: str, data: dict[str, Any], event_id: int | None = None) -> str:
    """One SSE message; JSON has no raw newline, so data is one line."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def _poll(follow: Follow, cursor: int) -> tuple[str | None, list[tuple[int, str, dict[str, Any]]]]:
    """The job's status, then its events after cursor, in one short session.

    Status first: a job is terminal only after its worker's last flush committed, so a
    terminal status read before the events means no event of it can come later.
    """
    with follow.sessions() as session:
        status = jobs.status_of(session, follow.job_id)
        rows = jobs.events_after(session, follow.job_id, cursor, BATCH)
        return status, [(row.counter, row.event, _EVENT.dump(row)) for row in rows]


def messages(follow: Follow) -> Iterator[str]:
    """The stream: events after follow.after as they are stored, `end` with the job's status
    once it is finished; it stops sooner (without `end`) after follow.max_seconds."""
    yield f"retry: {RETRY_MS}\n\n"
    started = sent = follow.clock()
    cursor = follow.after
    while True:
        status, events = _poll(follow, cursor)
        for counter, name, data in events:
            yield frame(name, data, counter)
            cursor, sent = counter, follow.clock()
        if len(events) == BATCH:
            continue
        if status is None or status not in (JobStatus.QUEUED, JobStatus.RUNNING):
            yield frame("end", {"job_id": str(follow.job_id), "status": status})
            return
        now = follow.clock()
        if now - started >= follow.max_seconds:
            return
        if now - sent >= KEEPALIVE_SECONDS:
            yield ": keep-alive\n\n"
            sent = now
        follow.sleep(POLL_SECONDS)


def response(follow: Follow) -> Response:
    """The streamed answer (it runs after the request's own session is closed)."""
    return Response(messages(follow), mimetype="text/event-stream", headers=HEADERS)
