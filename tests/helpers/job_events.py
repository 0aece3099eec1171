"""Stored job events for API tests: rows as the worker's EventSink leaves them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy.orm import Session

from api.models import JobEvent

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def add_events(db: Session, job_id: uuid.UUID, specs: list[dict[str, Any]]) -> None:
    """Insert events out of counter order, to prove the API sorts them."""
    rows = [
        JobEvent(
            job_id=job_id,
            counter=spec["counter"],
            event=spec.get("event", "runner_on_ok"),
            task=spec.get("task"),
            host=spec.get("host"),
            status=spec.get("status"),
            stdout=spec.get("stdout", ""),
            summary=spec.get("summary", {}),
            created_at=T0 + dt.timedelta(seconds=spec["counter"]),
        )
        for spec in specs
    ]
    db.add_all(reversed(rows))
    db.flush()


EVENTS: list[dict[str, Any]] = [
    {"counter": 1, "event": "playbook_on_start"},
    {"counter": 2, "event": "playbook_on_task_start", "task": "Define domain"},
    {"counter": 3, "task": "Define domain", "host": "bm-a", "status": "changed"},
    {"counter": 4, "task": "Define domain", "host": "bm-b", "status": "ok"},
    {"counter": 5, "event": "playbook_on_task_start", "task": "Start domain"},
    {
        "counter": 6,
        "event": "runner_on_failed",
        "task": "Start domain",
        "host": "bm-a",
        "status": "failed",
        "summary": {"msg": "boom"},
    },
]
