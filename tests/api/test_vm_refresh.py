"""POST /vm/{id}/refresh/ (a vm.refresh job) and the unmanaged domains on the host resource."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import VM, AuditLog, Baremetal, Job, JobKind, JobStatus, VMStatus
from api.settings import Settings
from tests.conftest import Factory
from tests.helpers.libvirt_domains import add_vm

Headers = dict[str, str]


@pytest.fixture
def vm(db: Session, make: Factory) -> VM:
    """A VM in error on bm-a, one of the hosts of the test inventory."""
    host = db.scalars(select(Baremetal).where(Baremetal.name == "bm-a")).one()
    return add_vm(db, make.tenant(), host, VMStatus.ERROR, "web")


@pytest.fixture
def rq_queue(redis: Redis, settings: Settings) -> Queue:
    return Queue(settings.queue_name, connection=redis)


def refresh(client: FlaskClient, headers: Headers, vm_id: uuid.UUID) -> tuple[int, Any]:
    resp = client.post(f"/api/v1/vm/{vm_id}/refresh/", headers=headers)
    return resp.status_code, resp.get_json()


def test_vm_refresh_queues_a_refresh_job_and_answers_it(
    client: FlaskClient, db: Session, vm: VM, admin_headers: Headers, rq_queue: Queue
) -> None:
    status, body = refresh(client, admin_headers, vm.id)
    assert status == 202, body
    data = body["data"]
    assert (data["kind"], data["status"], data["vm_id"], data["host"]) == (
        "vm.refresh",
        "queued",
        str(vm.id),
        "bm-a",
    )
    assert data["id"] in rq_queue.job_ids
    db.expire_all()
    assert db.get_one(VM, vm.id).status == VMStatus.ERROR  # until the job has run
    row = db.scalars(select(AuditLog).where(AuditLog.action == "vm.refresh")).one()
    assert (row.outcome, row.object_id, row.changes["details"]["job_id"]) == (
        "success",
        str(vm.id),
        data["id"],
    )


def test_vm_refresh_of_a_vm_in_transition_is_409_invalid_state(
    client: FlaskClient, db: Session, vm: VM, admin_headers: Headers
) -> None:
    vm.status = VMStatus.STOPPING
    db.flush()
    status, body = refresh(client, admin_headers, vm.id)
    assert (status, body["error"]["code"]) == (409, "INVALID_STATE")
    assert body["error"]["details"] == {"status": "stopping"}


def test_vm_refresh_with_a_job_in_flight_is_409_resource_busy(
    client: FlaskClient, db: Session, vm: VM, admin_headers: Headers
) -> None:
    assert refresh(client, admin_headers, vm.id)[0] == 202
    status, body = refresh(client, admin_headers, vm.id)
    assert (status, body["error"]["code"]) == (409, "RESOURCE_BUSY")
    kinds = db.scalars(select(Job.kind).where(Job.vm_id == vm.id))
    assert list(kinds) == [JobKind.VM_REFRESH]


def test_vm_refresh_job_can_be_canceled_and_leaves_the_vm_as_it_was(
    client: FlaskClient, db: Session, vm: VM, admin_headers: Headers
) -> None:
    job_id = refresh(client, admin_headers, vm.id)[1]["data"]["id"]
    resp = client.post(f"/api/v1/job/{job_id}/cancel/", headers=admin_headers)
    assert resp.status_code == 200, resp.get_json()
    db.expire_all()
    assert db.get_one(Job, uuid.UUID(job_id)).status == JobStatus.CANCELED
    assert db.get_one(VM, vm.id).status == VMStatus.ERROR


def test_baremetal_shows_its_unmanaged_domains(
    client: FlaskClient, db: Session, make: Factory, admin_headers: Headers
) -> None:
    host = db.scalars(select(Baremetal).where(Baremetal.name == "bm-b")).one()
    stranger = {
        "name": "ops-vm",
        "uuid": "0b5e55ed-0000-4000-8000-000000000001",
        "state": "running",
        "vcpus": 2,
        "ram_mb": 1024,
    }
    host.unmanaged_domains = [stranger]
    db.flush()
    resp = client.get(f"/api/v1/baremetal/{host.id}/", headers=admin_headers)
    assert resp.status_code == 200
    data = resp.get_json()["data"]
    assert (data["unmanaged_domains"], data["domains_checked_at"]) == ([stranger], None)
    # What ops run there by hand is not free: it counts apart from the VMs (disk unknown).
    assert data["unmanaged"] == {"vcpus": 2, "ram_mb": 1024, "disk_gb": 0}
    assert data["allocated"] == {"vcpus": 0, "ram_mb": 0, "disk_gb": 0}
    assert data["free"] == {
        "vcpus": host.capacity_vcpus - 2,
        "ram_mb": host.capacity_ram_mb - 1024,
        "disk_gb": host.capacity_disk_gb,
    }
    assert db.get_one(Baremetal, host.id).unmanaged_domains == [stranger]
