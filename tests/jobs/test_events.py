"""EventSink and the event helpers: buffering, bounds, secrets and failure reasons."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from api.models import Job, JobEvent
from api.services import vms as vm_service
from jobs import events
from jobs.events import SUMMARY_LIMIT, EventSink, failure_reason, host_status, summarise, to_row
from tests.conftest import Factory

CENSORED = "the output has been hidden due to the fact that 'no_log: true'"


def ev(counter: int, name: str = "runner_on_ok", stdout: str = "", **data: Any) -> dict[str, Any]:
    return {"counter": counter, "event": name, "stdout": stdout, "event_data": data}


@pytest.fixture
def job(db: Session, make: Factory) -> Job:
    make.baremetal("bm-a")
    admin = make.user(is_admin=True)
    tenant = make.tenant()
    return vm_service.create_vm(db, admin, vm_service.VMRequest(tenant.id, "w", 1, 64, 1), None)


def stored(db: Session, job: Job) -> int:
    return int(db.scalar(select(func.count()).where(JobEvent.job_id == job.id)) or 0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(events.time, "monotonic", fake)
    return fake


def test_event_sink_flushes_every_n_events(
    db: Session, sessions: sessionmaker[Session], job: Job, clock: Clock
) -> None:
    sink = EventSink(sessions, job.id, flush_every=3, flush_seconds=60)
    sink(ev(1))
    sink(ev(2))
    assert (stored(db, job), len(sink.buffer)) == (0, 2)
    sink(ev(3))
    assert (stored(db, job), sink.stored, sink.buffer) == (3, 3, [])
    sink(ev(4))
    assert stored(db, job) == 3
    sink.flush()
    assert (stored(db, job), sink.stored) == (4, 4)
    sink.flush()  # nothing buffered: no empty insert
    assert sink.stored == 4


def test_event_sink_flushes_after_time_passes(
    db: Session, sessions: sessionmaker[Session], job: Job, clock: Clock
) -> None:
    sink = EventSink(sessions, job.id, flush_every=100, flush_seconds=0.5)
    sink(ev(1))
    clock.now += 0.4
    sink(ev(2))
    assert stored(db, job) == 0
    clock.now += 0.2
    sink(ev(3))
    assert stored(db, job) == 3
    clock.now += 0.1
    sink(ev(4))
    assert stored(db, job) == 3


def test_event_sink_tick_stores_what_came_before_a_quiet_spell(
    db: Session, sessions: sessionmaker[Session], job: Job, clock: Clock
) -> None:
    """A long task: its start event is stored by the runner's tick, before the next event."""
    sink = EventSink(sessions, job.id, flush_every=100, flush_seconds=60)
    sink(ev(1))
    sink(ev(2, "playbook_on_task_start", task="Wait for the guest"))
    assert stored(db, job) == 0  # no flush is due when they arrive, and nothing more comes
    sink.tick()
    assert (stored(db, job), sink.buffer) == (2, [])
    sink.tick()  # nothing buffered: no empty insert
    assert sink.stored == 2


class FailingOnce:
    """A sessionmaker whose first session cannot write (the database went away meanwhile)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.failed = False

    def __call__(self) -> Session:
        if not self.failed:
            self.failed = True
            raise OperationalError("INSERT", {}, Exception("connection refused"))
        return self.sessions()


def test_event_sink_tick_keeps_the_events_a_failed_write_could_not_store(
    db: Session, sessions: sessionmaker[Session], job: Job, clock: Clock
) -> None:
    flaky = FailingOnce(sessions)
    sink = EventSink(flaky, job.id, flush_every=100, flush_seconds=60)  # type: ignore[arg-type]
    sink(ev(1, task="a"))
    sink.tick()  # fails: logged, never raised into ansible-runner's loop
    assert flaky.failed and stored(db, job) == 0
    sink(ev(2, task="b"))
    sink.tick()
    rows = db.scalars(select(JobEvent).where(JobEvent.job_id == job.id).order_by(JobEvent.id))
    assert [(r.counter, r.task) for r in rows] == [(1, "a"), (2, "b")]


def test_event_sink_rows_keep_counter_order(
    db: Session, sessions: sessionmaker[Session], job: Job
) -> None:
    sink = EventSink(sessions, job.id, flush_every=2)
    for counter in range(1, 8):
        sink(ev(counter, task=f"t{counter}"))
    sink.flush()
    rows = db.scalars(select(JobEvent).where(JobEvent.job_id == job.id).order_by(JobEvent.id))
    assert [(r.counter, r.task) for r in rows] == [(i, f"t{i}") for i in range(1, 8)]


def test_event_sink_event_stdout_is_bounded(
    db: Session, sessions: sessionmaker[Session], job: Job
) -> None:
    sink = EventSink(sessions, job.id, stdout_limit=100)
    sink(ev(1, stdout="x" * 5000))
    sink.flush()
    row = db.scalars(select(JobEvent).where(JobEvent.job_id == job.id)).one()
    assert row.stdout == "x" * 100 + "...[truncated]"


def test_event_sink_job_stdout_is_bounded(sessions: sessionmaker[Session], job: Job) -> None:
    sink = EventSink(sessions, job.id, stdout_limit=10_000, job_stdout_limit=250)
    for counter in range(1, 11):
        sink(ev(counter, stdout=f"{counter:02d}" * 50))
    assert sink.stdout_size == 250
    assert len(sink.stdout.replace("\n", "")) == 250
    assert sink.stdout.startswith("01" * 50 + "\n" + "02" * 50)
    assert "04" not in sink.stdout


def test_event_sink_collects_first_failure_and_artifacts(
    sessions: sessionmaker[Session], job: Job
) -> None:
    sink = EventSink(sessions, job.id)
    sink(ev(1, "runner_on_ok", task="fine", host="h", res={}))
    sink(ev(2, "runner_on_failed", task="first", host="h", res={"msg": "boom"}))
    sink(ev(3, "runner_on_failed", task="second", host="h", res={"msg": "bang"}))
    sink(ev(4, "playbook_on_stats", artifact_data={"virtflow_guests": {"d": {"state": "x"}}}))
    assert sink.first_failure == "task 'first' failed on h: boom"
    assert sink.artifacts == {"virtflow_guests": {"d": {"state": "x"}}}


def test_event_sink_handler_is_cheap_and_says_continue(
    db: Session, sessions: sessionmaker[Session], job: Job, clock: Clock
) -> None:
    sink = EventSink(sessions, job.id)
    assert sink(ev(1)) is True
    assert stored(db, job) == 0  # buffered, not written per event


def test_summarise_keeps_known_keys_only() -> None:
    res = {
        "msg": "m",
        "rc": 3,
        "changed": True,
        "invocation": {"module_args": {"x": 1}},
        "stdout": "s",
    }
    assert summarise(res) == {"msg": "m", "rc": 3, "changed": True}


def test_summarise_clips_long_values() -> None:
    summary = summarise({"msg": "m" * 3000, "stderr": "e" * 10})
    assert summary["msg"] == "m" * 1024 + "...[truncated]"
    assert summary["stderr"] == "e" * 10


def test_summarise_bounds_total_size() -> None:
    res = {key: "v" * 1000 for key in ("msg", "stderr")} | {"attempts": ["a" * 1000] * 5}
    summary = summarise(res)
    assert len(json.dumps(summary)) <= SUMMARY_LIMIT
    assert summary["truncated"] is True
    assert len(summary["msg"]) <= 512 + len("...[truncated]")


def test_summarise_censors_no_log_results() -> None:
    res = {"msg": "password=hunter2", "stderr": "hunter2", "_ansible_no_log": True, "rc": 0}
    summary = summarise(res)
    assert summary == {"censored": CENSORED}
    assert "hunter2" not in json.dumps(summary)


def test_to_row_censors_no_log_and_reads_fields() -> None:
    job_id = uuid.uuid4()
    event = ev(
        7,
        "runner_on_ok",
        stdout="ok: [bm-a]",
        play="p",
        task="Set the password",
        host="bm-a",
        res={"changed": True, "msg": "secret=abc", "_ansible_no_log": True},
    )
    event["created"] = "2026-01-02T03:04:05.000006"
    row = to_row(job_id, event, stdout_limit=100)
    assert row["job_id"] == job_id
    assert (row["counter"], row["event"], row["play"], row["task"], row["host"]) == (
        7,
        "runner_on_ok",
        "p",
        "Set the password",
        "bm-a",
    )
    assert (row["status"], row["changed"]) == ("changed", True)
    assert row["summary"] == {"censored": CENSORED}
    assert row["created_at"].isoformat() == "2026-01-02T03:04:05.000006+00:00"


def test_to_row_tolerates_sparse_events() -> None:
    row = to_row(uuid.uuid4(), {"event": "verbose", "created": "garbage"}, stdout_limit=10)
    assert (row["counter"], row["status"], row["host"], row["summary"]) == (0, None, None, {})
    assert row["created_at"].tzinfo is not None
    assert to_row(uuid.uuid4(), {"event_data": {"remote_addr": "10.0.0.1"}}, 10)["host"] == (
        "10.0.0.1"
    )


@pytest.mark.parametrize(
    ("event", "status"),
    [
        (ev(1, "runner_on_ok", res={"changed": False}), "ok"),
        (ev(1, "runner_on_ok", res={"changed": True}), "changed"),
        (ev(1, "runner_on_failed", res={}), "failed"),
        (ev(1, "runner_on_failed", res={}, ignore_errors=True), "ignored"),
        (ev(1, "runner_on_skipped"), "skipped"),
        (ev(1, "runner_on_unreachable", res={}), "unreachable"),
        (ev(1, "playbook_on_task_start"), None),
    ],
)
def test_host_status(event: dict[str, Any], status: str | None) -> None:
    assert host_status(event) == status


def test_failure_reason() -> None:
    failed = ev(1, "runner_on_failed", task="Create disk", host="bm-a", res={"msg": "no space"})
    assert failure_reason(failed) == "task 'Create disk' failed on bm-a: no space"
    gone = ev(1, "runner_on_unreachable", task="Gather", host="bm-b", res={"msg": "ssh: timeout"})
    assert failure_reason(gone) == "task 'Gather' unreachable on bm-b: ssh: timeout"
    silent = ev(1, "runner_on_failed", task="t", host="h", res={})
    assert failure_reason(silent) == "task 't' failed on h: no message"


LIBVIRT_DOWN = "Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file"


def test_failure_reason_names_the_failed_item_of_a_loop() -> None:
    results = [
        {"item": {"name": "a"}, "_ansible_item_label": "vf-a", "changed": False},
        {"_ansible_item_label": "vf-b", "failed": True, "msg": LIBVIRT_DOWN},
    ]
    looped = ev(
        1,
        "runner_on_failed",
        task="Define the guest domains",
        host="bm-a",
        res={"msg": "One or more items failed", "results": results},
    )
    assert failure_reason(looped) == (
        f"task 'Define the guest domains' failed on bm-a for item vf-b: {LIBVIRT_DOWN}"
    )


def test_failure_reason_from_an_item_event() -> None:
    item = ev(
        1,
        "runner_item_on_failed",
        task="Define the guest domains",
        host="bm-a",
        res={"_ansible_item_label": "vf-b", "msg": LIBVIRT_DOWN},
    )
    assert failure_reason(item) == (
        f"task 'Define the guest domains' failed on bm-a for item vf-b: {LIBVIRT_DOWN}"
    )
    ignored = ev(
        2, "runner_item_on_failed", task="t", host="h", res={"msg": "x"}, ignore_errors=True
    )
    assert failure_reason(ignored) is None


def test_failure_reason_none_for_other_events() -> None:
    assert failure_reason(ev(1, "runner_on_ok", res={"msg": "fine"})) is None
    ignored = ev(1, "runner_on_failed", task="t", host="h", res={"msg": "x"}, ignore_errors=True)
    assert failure_reason(ignored) is None
    assert failure_reason(ev(1, "playbook_on_stats")) is None


def test_failure_reason_is_bounded() -> None:
    huge = ev(1, "runner_on_failed", task="t", host="h", res={"msg": "m" * 10_000})
    reason = failure_reason(huge)
    assert reason is not None and len(reason) <= 2048 + len("...[truncated]")
