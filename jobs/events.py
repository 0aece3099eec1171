"""Turn ansible-runner events into job_event rows, buffered and bulk-inserted as they arrive.

The handler runs inside ansible-runner's event loop, so it stays cheap: it normalises the
event, appends it to a buffer, and writes the buffer in one INSERT every `flush_every` events or
`flush_seconds`, whichever comes first (the AWX callback receiver's approach). Those checks run
only when an event arrives, so the runner also calls `tick()` between events (every second, with
its cancel callback, jobs.runner): the events before a long task are stored within a second of
being printed, not when the task ends.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from api.models import JobEvent

log = logging.getLogger(__name__)

HOST_STATUS = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_on_skipped": "skipped",
    "runner_on_unreachable": "unreachable",
}
SUMMARY_KEYS = ("msg", "rc", "changed", "failed", "skipped", "unreachable", "stderr", "attempts")
FIELD_LIMIT = 1024
SUMMARY_LIMIT = 4096


def _clip(value: Any, limit: int = FIELD_LIMIT) -> Any:
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + "...[truncated]"
    return value


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    """A bounded, secret-free subset of a task result (no_log results are already censored)."""
    summary = {k: _clip(result[k]) for k in SUMMARY_KEYS if k in result}
    if result.get("_ansible_no_log"):
        summary = {"censored": "the output has been hidden due to the fact that 'no_log: true'"}
    if len(json.dumps(summary, default=str)) > SUMMARY_LIMIT:
        summary = {"msg": _clip(str(summary.get("msg", "")), 512), "truncated": True}
    return summary


def _result(data: dict[str, Any]) -> dict[str, Any]:
    res = data.get("res")
    return res if isinstance(res, dict) else {}


def host_status(event: dict[str, Any]) -> str | None:
    """ok, changed, failed, ignored, skipped or unreachable for a host's task result."""
    status = HOST_STATUS.get(event.get("event", ""))
    data = event.get("event_data") or {}
    if status == "ok" and _result(data).get("changed"):
        return "changed"
    if status == "failed" and data.get("ignore_errors"):
        return "ignored"
    return status


def _created(event: dict[str, Any]) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(str(event["created"])).replace(tzinfo=dt.UTC)
    except (KeyError, ValueError):
        return dt.datetime.now(dt.UTC)


def to_row(job_id: uuid.UUID, event: dict[str, Any], stdout_limit: int) -> dict[str, Any]:
    """One job_event row from one ansible-runner event."""
    data = event.get("event_data") or {}
    res = _result(data)
    status = host_status(event)
    return {
        "job_id": job_id,
        "counter": int(event.get("counter", 0)),
        "event": str(event.get("event", "unknown"))[:64],
        "play": _clip(data.get("play"), 1024),
        "task": _clip(data.get("task"), 1024),
        "host": _clip(data.get("host") or data.get("remote_addr"), 255),
        "status": status,
        "changed": bool(status == "changed" or res.get("changed")),
        "stdout": _clip(str(event.get("stdout", "")), stdout_limit),
        "summary": summarise(res),
        "created_at": _created(event),
    }


def _failed_item(res: dict[str, Any]) -> tuple[str | None, Any]:
    """The label and message of the first failed item of a looped task result."""
    for item in res.get("results") or []:
        if isinstance(item, dict) and item.get("failed"):
            return item.get("_ansible_item_label") or item.get("item"), item.get("msg")
    return None, None


def failure_reason(event: dict[str, Any]) -> str | None:
    """A readable reason from a failed or unreachable host event; None for any other event.

    A looped task that fails says only "One or more items failed": the reason names the
    first failed item and its own message instead (e.g. libvirt's "Failed to connect socket").
    """
    data = event.get("event_data") or {}
    res = _result(data)
    status: str | None = "failed"
    if event.get("event") == "runner_item_on_failed":
        if data.get("ignore_errors"):
            return None
        label, msg = res.get("_ansible_item_label") or res.get("item"), None
    else:
        status = host_status(event)
        if status not in ("failed", "unreachable"):
            return None
        label, msg = _failed_item(res)
    msg = msg or res.get("msg") or "no message"
    where = f"on {data.get('host')}" + (f" for item {label}" if label else "")
    return str(_clip(f"task '{data.get('task')}' {status} {where}: {msg}", 2048))


def item_label(event: dict[str, Any]) -> str | None:
    """The label of a looped task's item event (the guest's name in the roles), else None."""
    if not str(event.get("event", "")).startswith("runner_item_on_"):
        return None
    res = _result(event.get("event_data") or {})
    label = res.get("_ansible_item_label", res.get("item"))
    return label if isinstance(label, str) else None


class EventSink:
    """Callable event handler for ansible-runner that stores every event against one job, or
    against the jobs of a batch (routes: guest name -> job): an item event of a guest goes to
    that guest's job only, every other event (plays, tasks, stats) to each job of the batch."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        job_id: uuid.UUID,
        *,
        routes: Mapping[str, uuid.UUID] | None = None,
        stdout_limit: int = 16 * 1024,
        job_stdout_limit: int = 1024 * 1024,
        flush_every: int = 50,
        flush_seconds: float = 0.5,
    ) -> None:
        self.sessions = sessions
        self.job_id = job_id
        self.routes = dict(routes or {})
        self.job_ids = list(dict.fromkeys(self.routes.values())) or [job_id]
        self.stdout_limit = stdout_limit
        self.job_stdout_limit = job_stdout_limit
        self.flush_every = flush_every
        self.flush_seconds = flush_seconds
        self.buffer: list[dict[str, Any]] = []
        self.stdout_parts: list[str] = []
        self.stdout_size = 0
        self.first_failure: str | None = None
        self.artifacts: dict[str, Any] = {}
        self.stored = 0
        self._last_flush = time.monotonic()

    def targets(self, event: dict[str, Any]) -> list[uuid.UUID]:
        """The jobs an event belongs to."""
        label = item_label(event) if self.routes else None
        return [self.routes[label]] if label is not None and label in self.routes else self.job_ids

    def __call__(self, event: dict[str, Any]) -> bool:
        row = to_row(self.job_id, event, self.stdout_limit)
        self.buffer.extend({**row, "job_id": job_id} for job_id in self.targets(event))
        self._collect(event)
        due = time.monotonic() - self._last_flush >= self.flush_seconds
        if len(self.buffer) >= self.flush_every or due:
            self.flush()
        return True

    def tick(self) -> None:
        """Flush whatever is buffered: called about every second between events, on the
        handler's own thread (ansible-runner's loop), so no lock is needed. Never raises (the
        runner would abort the run): a failed write is logged, its rows stay buffered in order,
        and the next flush tries them again."""
        if not self.buffer:
            return
        try:
            self.flush()
        except SQLAlchemyError as exc:
            log.warning("job %s: events not stored yet (%s)", self.job_id, type(exc).__name__)

    def _collect(self, event: dict[str, Any]) -> None:
        if self.first_failure is None:
            self.first_failure = failure_reason(event)
        if event.get("event") == "playbook_on_stats":
            self.artifacts = dict(event.get("event_data", {}).get("artifact_data") or {})
        text = str(event.get("stdout", ""))
        if text and self.stdout_size < self.job_stdout_limit:
            self.stdout_parts.append(text[: self.job_stdout_limit - self.stdout_size])
            self.stdout_size += len(self.stdout_parts[-1])

    def last_error_line(self) -> str:
        """The last ERROR line ansible printed (errors before any task have no host event)."""
        lines = [line.strip() for line in self.stdout.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith(("ERROR", "[ERROR]", "fatal"))]
        return _clip((errors or lines or ["no output"])[-1], 1024)  # type: ignore[no-any-return]

    @property
    def stdout(self) -> str:
        return "\n".join(self.stdout_parts)

    def flush(self) -> None:
        """Insert the buffered events in one statement."""
        self._last_flush = time.monotonic()
        if not self.buffer:
            return
        rows, self.buffer = self.buffer, []
        try:
            with self.sessions() as session:
                session.execute(insert(JobEvent), rows)
                session.commit()
        except SQLAlchemyError:
            self.buffer = rows + self.buffer  # kept for the next flush, still in counter order
            raise
        self.stored += len(rows)
