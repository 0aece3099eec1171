"""POST /api/v1/vm/{id}/resize/: who may, from what status, what sizes, and what it leaves."""

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

from api.models import VM, AuditLog, Job, JobStatus, Quota, VMStatus
from api.settings import Settings
from jobs import vms as vm_jobs
from tests.api.conftest import counts, fake_worker
from tests.conftest import Factory
from tests.helpers.http import assert_error
from tests.helpers.personas import Personas, build_personas
from tests.helpers.runner_fakes import FakeRunner, success_events

Headers = dict[str, str]
CODE = {403: "PERMISSION_DENIED", 404: "NOT_FOUND"}
# The personas' VMs have 1 vCPU, 512 MiB and 10 GiB (tests/api/conftest.py vm_body).
OLD = {"vcpus": 1, "ram_mb": 512, "disk_gb": 10}


@pytest.fixture
def cast(client: FlaskClient, make: Factory) -> Personas:
    return build_personas(client, make)


def stopped(db: Session, vm_id: uuid.UUID) -> VM:
    """The VM stopped, its jobs finished (as after a create and a stop ran)."""
    vm = db.get_one(VM, vm_id)
    vm.status = VMStatus.STOPPED
    for job in db.scalars(select(Job).where(Job.vm_id == vm.id)):
        job.status = JobStatus.SUCCESSFUL
    db.flush()
    return vm


def resize(client: FlaskClient, vm_id: object, headers: Headers, **body: Any) -> Any:
    return client.post(f"/api/v1/vm/{vm_id}/resize/", json=body, headers=headers)


def test_vm_resize_queues_a_resize_job_with_the_new_size(
    client: FlaskClient, cast: Personas, db: Session, redis: Redis, settings: Settings
) -> None:
    stopped(db, cast.vm_a)
    resp = resize(client, cast.vm_a, cast.h("user_a"), vcpus=2, disk_gb=20)
    assert resp.status_code == 202, resp.get_json()
    data = resp.get_json()["data"]
    assert (data["status"], data["vcpus"], data["ram_mb"], data["disk_gb"]) == (
        "resizing",
        2,
        512,
        20,
    )
    job = db.get_one(Job, uuid.UUID(data["job_id"]))
    assert (job.kind, job.status, job.playbook) == ("vm.resize", JobStatus.QUEUED, "vm_resize.yml")
    assert job.extravars["virtflow_resize_from"] == OLD
    rq_job = RQJob.fetch(
        str(job.id), connection=Queue(settings.queue_name, connection=redis).connection
    )
    assert rq_job.func_name == "jobs.vms.resize"
    [row] = db.scalars(select(AuditLog).where(AuditLog.action == "vm.resize")).all()
    assert row.changes["before"] == {**OLD, "status": "stopped"}
    assert row.changes["after"] == {"vcpus": 2, "ram_mb": 512, "disk_gb": 20, "status": "resizing"}
    assert row.changes["details"]["job_id"] == str(job.id)


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("admin", 202),
        ("user_a", 202),
        ("viewer_a", 403),
        ("granted", 403),
        ("user_b", 404),  # another tenant's VM id: not seen at all
        ("nobody", 404),
    ],
)
def test_vm_resize_needs_vm_change_and_hides_other_tenants_vms(
    client: FlaskClient, cast: Personas, db: Session, persona: str, status: int
) -> None:
    vm = stopped(db, cast.vm_a)
    before = counts(db)
    resp = resize(client, cast.vm_a, cast.h(persona), vcpus=2)
    if status == 202:
        assert resp.status_code == 202, resp.get_json()
        return
    assert_error(resp, status, CODE[status])
    db.expire_all()
    assert (counts(db), vm.status, vm.vcpus) == (before, VMStatus.STOPPED, 1)


def test_vm_resize_of_another_tenants_vm_is_404_even_for_its_own_tenant_user(
    client: FlaskClient, cast: Personas, db: Session
) -> None:
    stopped(db, cast.vm_b)
    assert_error(resize(client, cast.vm_b, cast.h("user_a"), vcpus=2), 404, "NOT_FOUND")
    assert_error(resize(client, uuid.uuid4(), cast.h("admin"), vcpus=2), 404, "NOT_FOUND")


@pytest.mark.parametrize("status", [VMStatus.RUNNING, VMStatus.STOPPING, VMStatus.ERROR])
def test_vm_resize_of_a_vm_that_is_not_stopped_is_409(
    client: FlaskClient, cast: Personas, db: Session, status: VMStatus
) -> None:
    stopped(db, cast.vm_a).status = status
    db.flush()
    body = assert_error(resize(client, cast.vm_a, cast.h("user_a"), vcpus=2), 409, "INVALID_STATE")
    assert body["error"]["message"].startswith(f"cannot resize VM vm-a while it is {status}")
    assert body["error"]["details"]["status"] == status


@pytest.mark.parametrize(
    "body",
    [
        {"vcpus": 65},
        {"vcpus": 0},
        {"ram_mb": 1_048_577},
        {"ram_mb": 63},
        {"disk_gb": 65_537},
        {"vcpus": "2"},
        {"vcpus": 2.5},
        {"vcpus": True},
        {},
        {"vcpus": 2, "name": "renamed"},
    ],
    ids=str,
)
def test_vm_resize_refuses_sizes_out_of_range_with_422(
    client: FlaskClient, cast: Personas, db: Session, body: dict[str, Any]
) -> None:
    stopped(db, cast.vm_a)
    before = counts(db)
    assert_error(resize(client, cast.vm_a, cast.h("user_a"), **body), 422, "VALIDATION_ERROR")
    assert counts(db) == before


def test_vm_resize_refuses_a_disk_shrink_with_422_naming_the_size(
    client: FlaskClient, cast: Personas, db: Session
) -> None:
    vm = stopped(db, cast.vm_a)
    body = assert_error(
        resize(client, cast.vm_a, cast.h("user_a"), vcpus=2, disk_gb=5), 422, "VALIDATION_ERROR"
    )
    assert body["error"]["message"] == "A disk only grows: VM vm-a has 10 GiB; ask for 10 or more."
    assert body["error"]["details"]["fields"] == {"json": {"disk_gb": [body["error"]["message"]]}}
    db.expire_all()
    assert (vm.status, vm.vcpus, vm.disk_gb) == (VMStatus.STOPPED, 1, 10)


def test_vm_resize_to_the_same_size_is_422(
    client: FlaskClient, cast: Personas, db: Session
) -> None:
    stopped(db, cast.vm_a)
    body = assert_error(resize(client, cast.vm_a, cast.h("user_a"), **OLD), 422, "VALIDATION_ERROR")
    assert "has this size already" in body["error"]["message"]


def test_vm_resize_over_the_quota_is_409_and_changes_nothing(
    client: FlaskClient, cast: Personas, db: Session
) -> None:
    vm = stopped(db, cast.vm_a)
    db.get_one(Quota, cast.a.id).vcpus = 3  # vm_a holds 1
    db.flush()
    body = assert_error(resize(client, cast.vm_a, cast.h("user_a"), vcpus=4), 409, "QUOTA_EXCEEDED")
    assert (body["error"]["details"]["resource"], body["error"]["details"]["requested"]) == (
        "vcpus",
        3,
    )
    assert resize(client, cast.vm_a, cast.h("user_a"), vcpus=3).status_code == 202
    db.expire_all()
    assert vm.vcpus == 3


def test_vm_resize_past_the_hosts_room_is_409_no_capacity(
    client: FlaskClient, cast: Personas, db: Session
) -> None:
    vm = stopped(db, cast.vm_a)
    body = assert_error(
        resize(client, cast.vm_a, cast.h("user_a"), ram_mb=1_000_000), 409, "NO_CAPACITY"
    )
    assert body["error"]["details"]["host"] == vm.baremetal.name
    db.expire_all()
    assert (vm.status, vm.ram_mb) == (VMStatus.STOPPED, 512)


def test_vm_resize_with_a_job_in_flight_is_busy(
    client: FlaskClient, cast: Personas, db: Session
) -> None:
    stopped(db, cast.vm_a)
    assert client.post(f"/api/v1/vm/{cast.vm_a}/refresh/", headers=cast.h("user_a")).status_code
    assert_error(resize(client, cast.vm_a, cast.h("user_a"), vcpus=2), 409, "RESOURCE_BUSY")


@pytest.fixture
def worker(
    monkeypatch: pytest.MonkeyPatch, sessions: sessionmaker[Session], settings: Settings
) -> FakeRunner:
    return fake_worker(monkeypatch, sessions, settings)


def test_vm_resize_runs_to_stopped_with_the_new_size_and_a_cancel_puts_the_old_one_back(
    client: FlaskClient, cast: Personas, db: Session, worker: FakeRunner
) -> None:
    vm = stopped(db, cast.vm_a)
    job_id = resize(client, cast.vm_a, cast.h("user_a"), vcpus=2).get_json()["data"]["job_id"]
    worker.events = success_events(vm.domain_name, state="stopped")
    assert vm_jobs.resize(job_id) == "successful"
    data = client.get(f"/api/v1/vm/{cast.vm_a}/", headers=cast.h("user_a")).get_json()["data"]
    assert (data["status"], data["vcpus"], data["status_reason"]) == ("stopped", 2, None)

    job_id = resize(client, cast.vm_a, cast.h("user_a"), ram_mb=1024).get_json()["data"]["job_id"]
    resp = client.post(f"/api/v1/job/{job_id}/cancel/", headers=cast.h("user_a"))
    assert resp.status_code == 200, resp.get_json()
    data = client.get(f"/api/v1/vm/{cast.vm_a}/", headers=cast.h("user_a")).get_json()["data"]
    assert (data["status"], data["vcpus"], data["ram_mb"]) == ("stopped", 2, 512)
    assert data["status_reason"].startswith("resize to 1024 MiB of RAM was canceled")
