"""Jobs API: status and progress, ordered events, stdout, and who may see them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import utcnow
from api.models import VM, AuditLog, Baremetal, Job, JobStatus, Tenant, VMStatus
from api.services import jobs, libvirt_state
from api.settings import Settings
from tests.api.conftest import create_vm, settle_running
from tests.conftest import Factory
from tests.helpers.http import assert_error
from tests.helpers.job_events import EVENTS, add_events

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


def test_job_get_shows_status_and_progress(
    client: FlaskClient, member: Headers, vm: dict[str, Any], db: Session
) -> None:
    job_id = uuid.UUID(vm["job_id"])
    empty = client.get(f"/api/v1/job/{job_id}/", headers=member).get_json()["data"]
    assert empty["status"] == "queued"
    assert empty["progress"] == {
        "events": 0,
        "host_tasks_done": 0,
        "tasks_total": None,
        "current_task": None,
    }

    add_events(db, job_id, EVENTS)
    job = db.get_one(Job, job_id)
    job.status = JobStatus.RUNNING
    db.flush()
    data = client.get(f"/api/v1/job/{job_id}/", headers=member).get_json()["data"]
    assert data["id"] == str(job_id)
    assert (data["kind"], data["status"], data["playbook"]) == (
        "vm.create",
        "running",
        "vm_create.yml",
    )
    assert data["vm_id"] == vm["id"]
    assert data["host"] == vm["baremetal"]
    assert data["progress"] == {
        "events": 6,
        "host_tasks_done": 3,
        "tasks_total": None,
        "current_task": "Start domain",
    }
    assert "extravars" not in data and "stdout" not in data


def test_job_events_in_counter_order(
    client: FlaskClient, member: Headers, vm: dict[str, Any], db: Session
) -> None:
    add_events(db, uuid.UUID(vm["job_id"]), EVENTS)
    body = client.get(f"/api/v1/job/{vm['job_id']}/events/", headers=member).get_json()
    assert [e["counter"] for e in body["data"]] == [1, 2, 3, 4, 5, 6]
    assert body["meta"]["pagination"]["total"] == 6
    failed = body["data"][-1]
    assert (failed["event"], failed["status"], failed["summary"]) == (
        "runner_on_failed",
        "failed",
        {"msg": "boom"},
    )


def test_job_events_pages(
    client: FlaskClient, member: Headers, vm: dict[str, Any], db: Session
) -> None:
    add_events(db, uuid.UUID(vm["job_id"]), EVENTS)
    url = f"/api/v1/job/{vm['job_id']}/events/?per_page=4"
    first = client.get(f"{url}&page=1", headers=member).get_json()
    second = client.get(f"{url}&page=2", headers=member).get_json()
    assert [e["counter"] for e in first["data"]] == [1, 2, 3, 4]
    assert [e["counter"] for e in second["data"]] == [5, 6]
    assert first["meta"]["pagination"] == {
        "page": 1,
        "per_page": 4,
        "total": 6,
        "pages": 2,
        "next": 4,
    }
    assert second["meta"]["pagination"]["next"] is None


def test_job_events_filter_by_host_and_event(
    client: FlaskClient, member: Headers, vm: dict[str, Any], db: Session
) -> None:
    add_events(db, uuid.UUID(vm["job_id"]), EVENTS)
    base = f"/api/v1/job/{vm['job_id']}/events/"

    def counters(query: str) -> list[int]:
        resp = client.get(f"{base}?{query}", headers=member)
        assert resp.status_code == 200, resp.get_json()
        return [e["counter"] for e in resp.get_json()["data"]]

    assert counters("host=bm-a") == [3, 6]
    assert counters("host=bm-b") == [4]
    assert counters("event=runner_on_failed") == [6]
    assert counters("event=playbook_on_task_start") == [2, 5]
    assert counters("host=bm-a&event=runner_on_ok") == [3]
    assert counters("host=nowhere") == []


def test_job_events_filter_too_long_is_422(
    client: FlaskClient, member: Headers, vm: dict[str, Any]
) -> None:
    resp = client.get(f"/api/v1/job/{vm['job_id']}/events/?host={'h' * 256}", headers=member)
    assert_error(resp, 422, "VALIDATION_ERROR")


def test_job_events_belong_to_their_job(
    client: FlaskClient, admin_headers: Headers, tenant: Tenant, vm: dict[str, Any], db: Session
) -> None:
    other = create_vm(client, admin_headers, tenant.id, "other")
    add_events(db, uuid.UUID(vm["job_id"]), EVENTS)
    add_events(db, uuid.UUID(other["job_id"]), [{"counter": 1, "event": "playbook_on_start"}])
    body = client.get(f"/api/v1/job/{other['job_id']}/events/", headers=admin_headers).get_json()
    assert [e["counter"] for e in body["data"]] == [1]


def test_job_stdout(client: FlaskClient, member: Headers, vm: dict[str, Any], db: Session) -> None:
    job = db.get_one(Job, uuid.UUID(vm["job_id"]))
    job.status, job.stdout = JobStatus.SUCCESSFUL, "PLAY [Create VirtFlow guests]\nok: [bm-a]"
    db.flush()
    data = client.get(f"/api/v1/job/{vm['job_id']}/stdout/", headers=member).get_json()["data"]
    assert data == {"id": vm["job_id"], "stdout": "PLAY [Create VirtFlow guests]\nok: [bm-a]"}


def ended(db: Session, job_id: object, days_ago: float) -> Job:
    job = db.get_one(Job, job_id)
    job.status, job.stdout = JobStatus.SUCCESSFUL, "PLAY RECAP ok=3"
    job.finished_at = utcnow() - dt.timedelta(days=days_ago)
    db.flush()
    return job


def test_job_events_past_retention_are_410_and_the_job_stays(
    client: FlaskClient, member: Headers, vm: dict[str, Any], db: Session, settings: Settings
) -> None:
    job_id = vm["job_id"]
    add_events(db, uuid.UUID(job_id), EVENTS)  # not purged yet: the answer does not wait for it
    ended(db, job_id, settings.job_event_retention_days + 0.01)
    for suffix in ("events/", "events/stream/", "events/?after=2"):
        resp = client.get(f"/api/v1/job/{job_id}/{suffix}", headers=member)
        assert_error(resp, 410, "EVENTS_PURGED")
    job = client.get(f"/api/v1/job/{job_id}/", headers=member).get_json()["data"]
    assert (job["status"], job["id"]) == ("successful", job_id)
    stdout = client.get(f"/api/v1/job/{job_id}/stdout/", headers=member).get_json()["data"]
    assert stdout["stdout"] == "PLAY RECAP ok=3"


def test_job_events_within_retention_are_served(
    client: FlaskClient, member: Headers, vm: dict[str, Any], db: Session, settings: Settings
) -> None:
    add_events(db, uuid.UUID(vm["job_id"]), EVENTS)
    ended(db, vm["job_id"], settings.job_event_retention_days - 0.01)
    resp = client.get(f"/api/v1/job/{vm['job_id']}/events/", headers=member)
    assert [e["counter"] for e in resp.get_json()["data"]] == [1, 2, 3, 4, 5, 6]


def test_job_events_kept_forever_with_retention_0(
    client: FlaskClient, app: Flask, member: Headers, vm: dict[str, Any], db: Session
) -> None:
    app.extensions["virtflow_settings"] = dataclasses.replace(
        app.extensions["virtflow_settings"], job_event_retention_days=0
    )
    add_events(db, uuid.UUID(vm["job_id"]), EVENTS)
    ended(db, vm["job_id"], 3650)
    resp = client.get(f"/api/v1/job/{vm['job_id']}/events/", headers=member)
    assert resp.status_code == 200 and len(resp.get_json()["data"]) == 6


@pytest.mark.parametrize("suffix", ["", "events/", "stdout/", "events/stream/"])
def test_job_other_tenant_is_404(
    client: FlaskClient, make: Factory, vm: dict[str, Any], suffix: str
) -> None:
    outsider = make.user()
    make.member(outsider, make.tenant("globex"), "tenant_user")
    resp = client.get(f"/api/v1/job/{vm['job_id']}/{suffix}", headers=make.headers(outsider))
    assert_error(resp, 404, "NOT_FOUND")


def test_job_unknown_is_404(client: FlaskClient, member: Headers) -> None:
    assert_error(client.get(f"/api/v1/job/{uuid.uuid4()}/", headers=member), 404, "NOT_FOUND")


def test_job_list_filters_by_vm_and_status(
    client: FlaskClient, admin_headers: Headers, member: Headers, tenant: Tenant, db: Session
) -> None:
    a = create_vm(client, admin_headers, tenant.id, "a")
    b = create_vm(client, admin_headers, tenant.id, "b")
    c = create_vm(client, admin_headers, tenant.id, "c")
    # a: deleted before its create ran (the create canceled, no delete job); b: untouched;
    # c: running, so its delete is a queued job.
    assert client.delete(f"/api/v1/vm/{a['id']}/", headers=admin_headers).status_code == 200
    settle_running(db, c)
    delete = client.delete(f"/api/v1/vm/{c['id']}/", headers=admin_headers).get_json()["data"]

    def ids(query: str) -> set[str]:
        resp = client.get(f"/api/v1/job/?{query}", headers=member)
        assert resp.status_code == 200, resp.get_json()
        return {j["id"] for j in resp.get_json()["data"]}

    assert ids("") == {a["job_id"], b["job_id"], c["job_id"], delete["job_id"]}
    assert ids(f"vm_id={a['id']}") == {a["job_id"]}
    assert ids(f"vm_id={c['id']}") == {c["job_id"], delete["job_id"]}
    assert ids("status=canceled") == {a["job_id"]}
    assert ids("status=queued") == {b["job_id"], delete["job_id"]}
    assert ids(f"vm_id={c['id']}&status=queued") == {delete["job_id"]}
    assert ids("status=successful") == {c["job_id"]}
    assert ids(f"tenant_id={tenant.id}&status=running") == set()


def test_job_list_bad_status_is_422(client: FlaskClient, member: Headers) -> None:
    fields = assert_error(
        client.get("/api/v1/job/?status=done", headers=member), 422, "VALIDATION_ERROR"
    )["error"]["details"]["fields"]
    assert list(fields["query"]) == ["status"]


def test_job_list_hides_other_tenants(
    client: FlaskClient, make: Factory, vm: dict[str, Any], tenant: Tenant
) -> None:
    outsider = make.user()
    make.member(outsider, make.tenant("globex"), "tenant_user")
    headers = make.headers(outsider)
    for query in ("", f"?vm_id={vm['id']}", f"?tenant_id={tenant.id}"):
        body = client.get(f"/api/v1/job/{query}", headers=headers).get_json()
        assert body["data"] == []
        assert body["meta"]["pagination"]["total"] == 0


# --- canceling a running job ---------------------------------------------------------------


@pytest.fixture
def running_stop(
    client: FlaskClient, admin_headers: Headers, db: Session, vm: dict[str, Any]
) -> Job:
    """The VM's stop job, claimed by a worker: the VM shows stopping, the job runs."""
    settle_running(db, vm)
    resp = client.post(f"/api/v1/vm/{vm['id']}/stop/", headers=admin_headers, json={})
    assert resp.status_code == 202, resp.get_json()
    job = jobs.claim(db, uuid.UUID(resp.get_json()["data"]["job_id"]), "host:1")
    assert job is not None
    db.get_one(VM, job.vm_id).status = VMStatus.STOPPING
    db.flush()
    return job


def cancel(client: FlaskClient, job_id: object, headers: Headers) -> Any:
    return client.post(f"/api/v1/job/{job_id}/cancel/", headers=headers)


def test_job_cancel_of_a_running_job_asks_its_worker_to_stop(
    client: FlaskClient, make: Factory, tenant: Tenant, db: Session, running_stop: Job
) -> None:
    alice = make.user("alice")
    make.member(alice, tenant, "tenant_user")
    resp = cancel(client, running_stop.id, make.headers(alice))
    assert resp.status_code == 202, resp.get_json()
    data = resp.get_json()["data"]
    # Still running: the worker ends it canceled once it has stopped the playbook.
    assert (data["status"], data["explanation"]) == ("running", "canceled by alice while it ran")
    assert data["cancel_requested_at"] is not None
    db.expire_all()
    assert db.get_one(Job, running_stop.id).cancel_requested_at is not None
    assert jobs.cancel_request(db, running_stop.id) == "canceled by alice while it ran"
    assert db.get_one(VM, running_stop.vm_id).status == VMStatus.STOPPING  # the worker moves it
    row = db.scalars(select(AuditLog).where(AuditLog.action == "job.cancel")).one()
    assert (row.status_code, row.changes["after"]["status"]) == (202, "running")


def test_job_cancel_twice_is_409(
    client: FlaskClient, admin_headers: Headers, db: Session, running_stop: Job
) -> None:
    assert cancel(client, running_stop.id, admin_headers).status_code == 202
    db.expire_all()
    first = db.get_one(Job, running_stop.id).cancel_requested_at
    assert first is not None
    body = assert_error(cancel(client, running_stop.id, admin_headers), 409, "INVALID_STATE")
    assert body["error"]["message"] == (
        "a cancel of this job was already requested; it ends canceled within seconds"
    )
    assert body["error"]["details"]["status"] == "running"
    db.expire_all()
    assert db.get_one(Job, running_stop.id).cancel_requested_at == first


def test_job_cancel_of_a_job_that_ended_is_409(
    client: FlaskClient, admin_headers: Headers, db: Session, running_stop: Job
) -> None:
    jobs.finish(db, running_stop.id, JobStatus.CANCELED, explanation="canceled by x while it ran")
    db.flush()
    body = assert_error(cancel(client, running_stop.id, admin_headers), 409, "INVALID_STATE")
    assert body["error"]["message"] == (
        "the job has ended canceled; only a queued or running job can be canceled"
    )


@pytest.mark.parametrize("case", [("viewer", 403), ("outsider", 404)])
def test_job_cancel_of_a_running_job_needs_job_cancel_in_its_tenant(
    client: FlaskClient,
    make: Factory,
    tenant: Tenant,
    running_stop: Job,
    case: tuple[str, int],
) -> None:
    role, status = case
    db = make.session
    caller = make.user()
    if role == "viewer":
        make.member(caller, tenant, "viewer")
    else:
        make.member(caller, make.tenant("globex"), "tenant_user")
    code = {403: "PERMISSION_DENIED", 404: "NOT_FOUND"}[status]
    assert_error(cancel(client, running_stop.id, make.headers(caller)), status, code)
    db.expire_all()
    assert db.get_one(Job, running_stop.id).cancel_requested_at is None


def test_job_cancel_of_a_running_delete_is_409(
    client: FlaskClient, admin_headers: Headers, db: Session, vm: dict[str, Any]
) -> None:
    settle_running(db, vm)
    delete = client.delete(f"/api/v1/vm/{vm['id']}/", headers=admin_headers).get_json()["data"]
    jobs.claim(db, uuid.UUID(delete["job_id"]), "host:1")
    db.flush()
    body = assert_error(cancel(client, delete["job_id"], admin_headers), 409, "INVALID_STATE")
    assert body["error"]["message"] == "a running delete cannot be canceled"
    assert body["error"]["details"] == {"kind": "vm.delete"}


def test_job_cancel_of_a_running_host_job_is_409(
    client: FlaskClient, admin_headers: Headers, db: Session
) -> None:
    host = db.scalars(select(Baremetal).where(Baremetal.name == "bm-a")).one()
    job = libvirt_state.request_host_check(db, host)
    jobs.claim(db, job.id, "host:1")
    db.flush()
    body = assert_error(cancel(client, job.id, admin_headers), 409, "INVALID_STATE")
    assert body["error"]["message"] == "a running host.domains job cannot be canceled"
    db.expire_all()
    assert db.get_one(Job, job.id).status == JobStatus.RUNNING
