"""VM stop and start through the API, and canceling a queued job."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue
from rq.job import Job as RQJob
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.models import VM, AuditLog, Job, JobStatus, ObjectPermission, VMStatus
from api.settings import Settings
from jobs import vms as vm_jobs
from tests.api.conftest import counts, create_vm, fake_worker
from tests.conftest import Factory
from tests.helpers.http import assert_error
from tests.helpers.personas import Personas, build_personas
from tests.helpers.runner_fakes import FakeRunner

Headers = dict[str, str]
CODE = {403: "PERMISSION_DENIED", 404: "NOT_FOUND"}
ACCESS = [
    ("admin", 202),
    ("user_a", 202),
    ("viewer_a", 403),
    ("granted", 403),
    ("user_b", 404),
    ("nobody", 404),
]


@pytest.fixture
def cast(client: FlaskClient, make: Factory) -> Personas:
    return build_personas(client, make)


@pytest.fixture
def rq_queue(redis: Redis, settings: Settings) -> Queue:
    return Queue(settings.queue_name, connection=redis)


@pytest.fixture
def worker(
    monkeypatch: pytest.MonkeyPatch, sessions: sessionmaker[Session], settings: Settings
) -> FakeRunner:
    return fake_worker(monkeypatch, sessions, settings)


def settle(db: Session, vm_id: object, status: VMStatus) -> VM:
    """The VM in status, its jobs finished (as after a worker ran them)."""
    vm = db.get_one(VM, uuid.UUID(str(vm_id)))
    vm.status = status
    for job in db.scalars(select(Job).where(Job.vm_id == vm.id)):
        job.status = JobStatus.SUCCESSFUL
    db.flush()
    return vm


def reload(db: Session, model: type[Any], row_id: object) -> Any:
    db.flush()
    db.expire_all()
    return db.get_one(model, uuid.UUID(str(row_id)))


def power(client: FlaskClient, vm_id: object, action: str, headers: Headers, **body: Any) -> Any:
    return client.post(f"/api/v1/vm/{vm_id}/{action}/", json=body, headers=headers)


@pytest.mark.parametrize("force", [False, True])
def test_vm_stop_queues_a_stop_job(
    client: FlaskClient, cast: Personas, db: Session, rq_queue: Queue, force: bool
) -> None:
    settle(db, cast.vm_a, VMStatus.RUNNING)
    body = {"force": True} if force else {}
    resp = power(client, cast.vm_a, "stop", cast.h("user_a"), **body)
    assert resp.status_code == 202, resp.get_json()
    data = resp.get_json()["data"]
    assert data["status"] == "stopping"
    job = reload(db, Job, data["job_id"])
    assert (job.kind, job.status, job.playbook) == ("vm.stop", "queued", "vm_stop.yml")
    [guest] = job.extravars["virtflow_guests"]
    assert (guest["force"], guest["timeout"]) == (force, 60)
    rq_job = RQJob.fetch(str(job.id), connection=rq_queue.connection)
    assert rq_job.func_name == "jobs.vms.stop"
    assert rq_job.kwargs == {"job_id": str(job.id)}
    [row] = db.scalars(select(AuditLog).where(AuditLog.action == "vm.stop")).all()
    assert row.changes["before"] == {"status": "running"}
    assert row.changes["after"] == {"status": "stopping"}


@pytest.mark.parametrize("hard", [False, True])
def test_vm_reboot_queues_a_reboot_job(
    client: FlaskClient, cast: Personas, db: Session, rq_queue: Queue, hard: bool
) -> None:
    settle(db, cast.vm_a, VMStatus.RUNNING)
    resp = power(client, cast.vm_a, "reboot", cast.h("user_a"), hard=hard, timeout=15)
    assert resp.status_code == 202, resp.get_json()
    data = resp.get_json()["data"]
    assert data["status"] == "rebooting"
    job = reload(db, Job, data["job_id"])
    assert (job.kind, job.status, job.playbook) == ("vm.reboot", "queued", "vm_reboot.yml")
    vm = reload(db, VM, cast.vm_a)
    assert job.extravars == {
        "virtflow_guests": [
            {"name": vm.domain_name, "uuid": str(vm.id), "hard": hard, "timeout": 15}
        ]
    }
    rq_job = RQJob.fetch(str(job.id), connection=rq_queue.connection)
    assert rq_job.func_name == "jobs.vms.reboot"
    [row] = db.scalars(select(AuditLog).where(AuditLog.action == "vm.reboot")).all()
    assert (row.changes["before"], row.changes["after"]) == (
        {"status": "running"},
        {"status": "rebooting"},
    )
    assert (row.changes["details"]["hard"], row.changes["details"]["timeout"]) == (hard, 15)


def test_vm_stop_takes_a_timeout_in_seconds(
    client: FlaskClient, cast: Personas, db: Session
) -> None:
    settle(db, cast.vm_a, VMStatus.RUNNING)
    resp = power(client, cast.vm_a, "stop", cast.h("admin"), timeout=0)
    assert resp.status_code == 202, resp.get_json()
    [guest] = reload(db, Job, resp.get_json()["data"]["job_id"]).extravars["virtflow_guests"]
    assert (guest["force"], guest["timeout"]) == (False, 0)


def test_vm_start_queues_a_start_job(
    client: FlaskClient, cast: Personas, db: Session, rq_queue: Queue
) -> None:
    settle(db, cast.vm_a, VMStatus.STOPPED)
    resp = power(client, cast.vm_a, "start", cast.h("admin"))
    assert resp.status_code == 202, resp.get_json()
    data = resp.get_json()["data"]
    assert data["status"] == "starting"
    job = reload(db, Job, data["job_id"])
    assert (job.kind, job.playbook) == ("vm.start", "vm_start.yml")
    assert RQJob.fetch(str(job.id), connection=rq_queue.connection).func_name == "jobs.vms.start"


def test_vm_start_without_a_body(client: FlaskClient, cast: Personas, db: Session) -> None:
    settle(db, cast.vm_a, VMStatus.STOPPED)
    resp = client.post(f"/api/v1/vm/{cast.vm_a}/start/", headers=cast.h("admin"))
    assert resp.status_code == 202, resp.get_json()


@pytest.mark.parametrize("access", ACCESS)
@pytest.mark.parametrize("case", [("stop", "running"), ("start", "stopped"), ("reboot", "running")])
def test_vm_power_needs_vm_change(
    client: FlaskClient, cast: Personas, db: Session, access: tuple[str, int], case: tuple[str, str]
) -> None:
    persona, status = access
    action, from_status = case
    settle(db, cast.vm_a, VMStatus(from_status))
    before = counts(db)
    resp = power(client, cast.vm_a, action, cast.h(persona))
    if status == 202:
        assert resp.status_code == 202, resp.get_json()
        return
    assert_error(resp, status, CODE[status])
    assert counts(db) == before
    assert reload(db, VM, cast.vm_a).status == from_status


@pytest.mark.parametrize(
    ("action", "vm_status"),
    [
        ("stop", VMStatus.STOPPED),
        ("stop", VMStatus.PENDING),
        ("stop", VMStatus.DELETED),
        ("start", VMStatus.RUNNING),
        ("start", VMStatus.ERROR),
        ("reboot", VMStatus.STOPPED),
        ("reboot", VMStatus.REBOOTING),
        ("reboot", VMStatus.ERROR),
    ],
)
def test_vm_power_in_the_wrong_state_is_409(
    client: FlaskClient, cast: Personas, db: Session, action: str, vm_status: VMStatus
) -> None:
    settle(db, cast.vm_a, vm_status)
    before = counts(db)
    body = assert_error(power(client, cast.vm_a, action, cast.h("admin")), 409, "INVALID_STATE")
    assert body["error"]["details"]["status"] == vm_status.value
    assert counts(db) == before


def test_vm_power_with_unfinished_job_is_busy(
    client: FlaskClient, cast: Personas, db: Session
) -> None:
    settle(db, cast.vm_a, VMStatus.RUNNING)
    job = db.scalars(select(Job).where(Job.vm_id == cast.vm_a)).one()
    job.status = JobStatus.RUNNING
    db.flush()
    before = counts(db)
    assert_error(power(client, cast.vm_a, "stop", cast.h("admin")), 409, "RESOURCE_BUSY")
    assert counts(db) == before


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("stop", {"force": "yes"}),
        ("stop", {"force": 1}),
        ("stop", {"status": "stopped"}),
        ("stop", {"timeout": -1}),
        ("stop", {"timeout": 3601}),
        ("stop", {"timeout": "60"}),
        ("stop", {"timeout": 1.5}),
        ("stop", {"hard": True}),
        ("start", {"force": True}),
        ("start", {"status": "running"}),
        ("start", {"timeout": 5}),
        ("reboot", {"hard": "yes"}),
        ("reboot", {"force": True}),
        ("reboot", {"timeout": None}),
        ("reboot", {"timeout": 10**20}),
    ],
)
def test_vm_power_bad_body_is_422(
    client: FlaskClient, cast: Personas, db: Session, action: str, body: dict[str, Any]
) -> None:
    settle(db, cast.vm_a, VMStatus.STOPPED if action == "start" else VMStatus.RUNNING)
    before = counts(db)
    assert_error(power(client, cast.vm_a, action, cast.h("admin"), **body), 422, "VALIDATION_ERROR")
    assert counts(db) == before


def cancel(client: FlaskClient, job_id: object, headers: Headers) -> Any:
    return client.post(f"/api/v1/job/{job_id}/cancel/", headers=headers)


@pytest.mark.parametrize(
    "case", [("stop", VMStatus.RUNNING), ("start", VMStatus.STOPPED), ("reboot", VMStatus.RUNNING)]
)
def test_job_cancel_puts_the_vm_back(
    client: FlaskClient,
    cast: Personas,
    db: Session,
    worker: FakeRunner,
    case: tuple[str, VMStatus],
) -> None:
    action, from_status = case
    settle(db, cast.vm_a, from_status)
    job_id = power(client, cast.vm_a, action, cast.h("user_a")).get_json()["data"]["job_id"]
    resp = cancel(client, job_id, cast.h("user_a"))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["data"]["status"] == "canceled"
    assert reload(db, VM, cast.vm_a).status == from_status
    job = reload(db, Job, job_id)
    assert (job.status, job.finished_at is not None) == (JobStatus.CANCELED, True)
    # The worker that later pops it finds it canceled and leaves the VM alone.
    run = vm_jobs.stop if action == "stop" else vm_jobs.start
    assert run(job_id) == "skipped"
    assert worker.runs == []
    assert reload(db, VM, cast.vm_a).status == from_status
    [row] = db.scalars(select(AuditLog).where(AuditLog.action == "job.cancel")).all()
    assert row.changes["details"]["vm_status_after"] == from_status.value


def test_job_cancel_of_a_create_ends_the_vm_deleted(
    client: FlaskClient, cast: Personas, db: Session
) -> None:
    vm = create_vm(client, cast.h("user_a"), cast.a.id, "never")
    quota_url = f"/api/v1/tenant/{cast.a.id}/quota/"
    used = client.get(quota_url, headers=cast.h("user_a")).get_json()["data"]["resources"]
    resp = cancel(client, vm["job_id"], cast.h("user_a"))
    assert resp.status_code == 200, resp.get_json()
    row = reload(db, VM, vm["id"])
    assert (row.status, row.deleted_at is not None) == (VMStatus.DELETED, True)
    assert row.status_reason == "its create job was canceled before it ran"
    grants = select(ObjectPermission).where(ObjectPermission.object_id == row.id)
    assert db.scalars(grants).all() == []
    after = client.get(quota_url, headers=cast.h("user_a")).get_json()["data"]["resources"]
    assert after["vms"]["used"] == used["vms"]["used"] - 1
    # The name is free again.
    create_vm(client, cast.h("user_a"), cast.a.id, "never")


@pytest.mark.parametrize(("persona", "status"), ACCESS)
def test_job_cancel_needs_job_cancel(
    client: FlaskClient, cast: Personas, db: Session, persona: str, status: int
) -> None:
    job = db.scalars(select(Job).where(Job.vm_id == cast.vm_a)).one()
    resp = cancel(client, job.id, cast.h(persona))
    if status == 202:
        assert resp.status_code == 200, resp.get_json()
        return
    assert_error(resp, status, CODE[status])
    assert reload(db, Job, job.id).status == JobStatus.QUEUED
    assert reload(db, VM, cast.vm_a).status == VMStatus.PENDING


@pytest.mark.parametrize("job_status", [JobStatus.SUCCESSFUL, JobStatus.CANCELED])
def test_job_cancel_only_unfinished_jobs(
    client: FlaskClient, cast: Personas, db: Session, job_status: JobStatus
) -> None:
    job = db.scalars(select(Job).where(Job.vm_id == cast.vm_a)).one()
    job.status = job_status
    db.flush()
    assert_error(cancel(client, job.id, cast.h("admin")), 409, "INVALID_STATE")
    assert reload(db, Job, job.id).status == job_status
    assert reload(db, VM, cast.vm_a).status == VMStatus.PENDING


def test_job_cancel_of_a_delete_is_refused(
    client: FlaskClient, cast: Personas, db: Session
) -> None:
    settle(db, cast.vm_a, VMStatus.RUNNING)
    job_id = client.delete(f"/api/v1/vm/{cast.vm_a}/", headers=cast.h("admin")).get_json()["data"][
        "job_id"
    ]
    body = assert_error(cancel(client, job_id, cast.h("admin")), 409, "INVALID_STATE")
    assert body["error"]["details"] == {"kind": "vm.delete"}
    assert reload(db, Job, job_id).status == JobStatus.QUEUED
    assert reload(db, VM, cast.vm_a).status == VMStatus.DELETING


def test_job_cancel_unknown_job_is_404(client: FlaskClient, cast: Personas) -> None:
    assert_error(cancel(client, uuid.uuid4(), cast.h("admin")), 404, "NOT_FOUND")
