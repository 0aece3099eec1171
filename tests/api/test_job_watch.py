"""Watching a job: progress against an expected total, its output so far as text, and its
events as a server-sent events stream that resumes and ends."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from api.db import utcnow
from api.models import Job, JobStatus, Tenant
from api.web.resources.job import stream
from tests.api.conftest import create_vm, settle_running
from tests.conftest import Factory
from tests.helpers.http import assert_error
from tests.helpers.job_events import EVENTS, T0, add_events
from tests.helpers.sse import COMMENT, Message, lines_of, messages

Headers = dict[str, str]


@pytest.fixture
def tenant(make: Factory) -> Tenant:
    return make.tenant("acme")


@pytest.fixture
def member(make: Factory, tenant: Tenant) -> Headers:
    user = make.user()
    make.member(user, tenant, "viewer")
    return make.headers(user)


@pytest.fixture
def vm(client: FlaskClient, admin_headers: Headers, tenant: Tenant) -> dict[str, Any]:
    return create_vm(client, admin_headers, tenant.id)


def host_results(count: int, task: str = "t") -> list[dict[str, Any]]:
    """A playbook_on_start, then count host task results."""
    results = [
        {"counter": i, "task": f"{task}{i}", "host": "bm-a", "status": "ok"}
        for i in range(2, count + 2)
    ]
    return [{"counter": 1, "event": "playbook_on_start"}, *results]


def finished_as(db: Session, job_id: object, status: JobStatus, at: dt.datetime) -> None:
    job = db.get_one(Job, uuid.UUID(str(job_id)))
    job.status, job.finished_at = status, at
    db.flush()


def progress_of(client: FlaskClient, headers: Headers, job_id: object) -> dict[str, Any]:
    progress: dict[str, Any] = client.get(f"/api/v1/job/{job_id}/", headers=headers).get_json()[
        "data"
    ]["progress"]
    return progress


def test_job_progress_total_is_the_latest_successful_run_of_the_playbook(
    client: FlaskClient, admin_headers: Headers, member: Headers, tenant: Tenant, db: Session
) -> None:
    older, latest, failed, running = (
        create_vm(client, admin_headers, tenant.id, name) for name in ("a", "b", "c", "d")
    )
    add_events(db, uuid.UUID(older["job_id"]), host_results(9))
    finished_as(db, older["job_id"], JobStatus.SUCCESSFUL, T0)
    add_events(db, uuid.UUID(latest["job_id"]), host_results(5))
    finished_as(db, latest["job_id"], JobStatus.SUCCESSFUL, T0 + dt.timedelta(hours=1))
    add_events(db, uuid.UUID(failed["job_id"]), host_results(2))  # later, but failed
    finished_as(db, failed["job_id"], JobStatus.FAILED, T0 + dt.timedelta(hours=2))
    add_events(db, uuid.UUID(running["job_id"]), host_results(3))
    db.get_one(Job, uuid.UUID(running["job_id"])).status = JobStatus.RUNNING
    db.flush()

    assert progress_of(client, member, running["job_id"]) == {
        "events": 4,
        "host_tasks_done": 3,
        "tasks_total": 5,
        "current_task": "t4",
    }
    # A failed run: how far it got of the estimate; a successful one: its own count, exact.
    assert progress_of(client, member, failed["job_id"])["tasks_total"] == 5
    assert progress_of(client, member, older["job_id"])["tasks_total"] == 9


def test_job_progress_total_is_unknown_when_the_latest_success_has_no_events_left(
    client: FlaskClient, admin_headers: Headers, member: Headers, tenant: Tenant, db: Session
) -> None:
    """Its events were purged (retention): 0 would be a wrong estimate, null says none."""
    purged, running = (create_vm(client, admin_headers, tenant.id, name) for name in ("a", "b"))
    finished_as(db, purged["job_id"], JobStatus.SUCCESSFUL, utcnow())
    db.get_one(Job, uuid.UUID(running["job_id"])).status = JobStatus.RUNNING
    db.flush()
    assert progress_of(client, member, running["job_id"])["tasks_total"] is None


def test_job_progress_total_counts_only_the_same_kind_and_playbook(
    client: FlaskClient, admin_headers: Headers, member: Headers, tenant: Tenant, db: Session
) -> None:
    created = settle_running(db, create_vm(client, admin_headers, tenant.id, "a"))
    add_events(db, uuid.UUID(created["job_id"]), host_results(7))
    delete = client.delete(f"/api/v1/vm/{created['id']}/", headers=admin_headers).get_json()
    assert progress_of(client, member, delete["data"]["job_id"])["tasks_total"] is None


@pytest.mark.parametrize(
    "case", [("?format=txt", None), ("", "text/plain"), ("?format=txt", "application/json")]
)
def test_job_stdout_as_text(
    client: FlaskClient,
    member: Headers,
    vm: dict[str, Any],
    db: Session,
    case: tuple[str, str | None],
) -> None:
    query, accept = case
    job = db.get_one(Job, uuid.UUID(vm["job_id"]))
    job.status, job.stdout = JobStatus.SUCCESSFUL, "PLAY [Create VirtFlow guests]\nok: [bm-a] é"
    db.flush()
    headers = {**member, **({"Accept": accept} if accept else {})}
    resp = client.get(f"/api/v1/job/{vm['job_id']}/stdout/{query}", headers=headers)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert resp.get_data(as_text=True) == "PLAY [Create VirtFlow guests]\nok: [bm-a] é"


def test_job_stdout_of_a_running_job_is_its_stored_output_so_far(
    client: FlaskClient, member: Headers, vm: dict[str, Any], db: Session
) -> None:
    job_id = uuid.UUID(vm["job_id"])
    add_events(
        db,
        job_id,
        [
            {"counter": 1, "event": "playbook_on_start"},
            {"counter": 2, "event": "playbook_on_play_start", "stdout": "PLAY [Create]"},
            {"counter": 3, "event": "playbook_on_task_start", "stdout": "TASK [Define]"},
            {"counter": 4, "host": "bm-a", "status": "ok", "stdout": "ok: [bm-a]"},
        ],
    )
    db.get_one(Job, job_id).status = JobStatus.RUNNING
    db.flush()
    url = f"/api/v1/job/{job_id}/stdout/"
    text = client.get(f"{url}?format=txt", headers=member).get_data(as_text=True)
    assert text == "PLAY [Create]\nTASK [Define]\nok: [bm-a]"
    envelope = client.get(url, headers={**member, "Accept": "*/*"}).get_json()
    assert envelope["data"] == {"id": str(job_id), "stdout": text}
    as_json = client.get(f"{url}?format=json", headers={**member, "Accept": "text/plain"})
    assert as_json.get_json()["data"]["stdout"] == text


def test_job_stdout_bad_format_is_422(
    client: FlaskClient, member: Headers, vm: dict[str, Any]
) -> None:
    resp = client.get(f"/api/v1/job/{vm['job_id']}/stdout/?format=xml", headers=member)
    assert_error(resp, 422, "VALIDATION_ERROR")


def stream_of(
    client: FlaskClient, job_id: object, headers: Headers, query: str = ""
) -> Iterator[Message]:
    """The job's event stream, read lazily: each message as the test asks for it."""
    resp = client.get(
        f"/api/v1/job/{job_id}/events/stream/{query}", headers=headers, buffered=False
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "text/event-stream"
    assert resp.headers["Cache-Control"] == "no-cache"
    try:
        yield from messages(lines_of(resp.response))
    finally:
        resp.close()


def test_job_event_stream_sends_stored_events_then_new_ones_then_end(
    client: FlaskClient, member: Headers, vm: dict[str, Any], db: Session
) -> None:
    job_id = uuid.UUID(vm["job_id"])
    db.get_one(Job, job_id).status = JobStatus.RUNNING
    add_events(db, job_id, EVENTS[:3])
    stream = stream_of(client, job_id, member)
    first = [next(stream) for _ in range(3)]
    assert [(m.id, m.event) for m in first] == [
        (1, "playbook_on_start"),
        (2, "playbook_on_task_start"),
        (3, "runner_on_ok"),
    ]
    assert first[2].data["task"] == "Define domain" and first[2].data["counter"] == 3
    # Stored while the client is connected (the worker's flush), then the job ends.
    add_events(db, job_id, EVENTS[3:])
    finished_as(db, job_id, JobStatus.FAILED, utcnow())
    rest = list(stream)
    assert [(m.id, m.event) for m in rest] == [
        (4, "runner_on_ok"),
        (5, "playbook_on_task_start"),
        (6, "runner_on_failed"),
        (None, "end"),
    ]
    assert rest[2].data["summary"] == {"msg": "boom"}
    assert rest[-1].data == {"job_id": str(job_id), "status": "failed"}


@pytest.mark.parametrize(
    "case", [("", "4", 5), ("?after=2", None, 3), ("?after=1", "5", 6), ("?after=6", None, 7)]
)
def test_job_event_stream_resumes_after_last_event_id_or_after(
    client: FlaskClient,
    member: Headers,
    vm: dict[str, Any],
    db: Session,
    case: tuple[str, str | None, int],
) -> None:
    """Last-Event-ID (an EventSource's reconnect) wins over ?after= (still in its URL)."""
    query, last_event_id, first = case
    job_id = uuid.UUID(vm["job_id"])
    add_events(db, job_id, EVENTS)
    finished_as(db, job_id, JobStatus.SUCCESSFUL, utcnow())  # its events are kept
    headers = {**member, **({"Last-Event-ID": last_event_id} if last_event_id else {})}
    got = list(stream_of(client, job_id, headers, query))
    assert [m.id for m in got[:-1]] == list(range(first, 7))
    assert (got[-1].event, got[-1].data["status"]) == ("end", "successful")


def test_job_event_stream_bad_last_event_id_is_422(
    client: FlaskClient, member: Headers, vm: dict[str, Any]
) -> None:
    url = f"/api/v1/job/{vm['job_id']}/events/stream/"
    resp = client.get(url, headers={**member, "Last-Event-ID": "abc"})
    assert_error(resp, 422, "VALIDATION_ERROR")
    assert_error(client.get(f"{url}?after=-1", headers=member), 422, "VALIDATION_ERROR")


class FakeTime:
    """A clock the stream reads and sleeps on: a sleep moves it on at once."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_job_event_stream_keeps_alive_and_ends_at_its_bound(
    sessions: sessionmaker[Session], vm: dict[str, Any], db: Session
) -> None:
    job_id = uuid.UUID(vm["job_id"])  # queued: nothing comes
    add_events(db, job_id, EVENTS[:1])
    fake = FakeTime()
    follow = stream.Follow(sessions, job_id, 0, 40.0, clock=fake.clock, sleep=fake.sleep)
    got = list(messages(lines_of(stream.messages(follow))))
    assert [m.event for m in got] == ["playbook_on_start", COMMENT, COMMENT]
    assert got[1].data == "keep-alive"
    assert 40.0 <= fake.now <= 40.0 + stream.POLL_SECONDS  # no `end`: the client reconnects
