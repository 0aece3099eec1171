"""DELETE /api/v1/vm/{id}/?force=true: a VM whose host is gone ends deleted without libvirt."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TypeVar

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import (
    VM,
    AuditLog,
    Baremetal,
    Job,
    JobStatus,
    Membership,
    ObjectPermission,
    Tenant,
    TenantRole,
    TenantStatus,
    User,
    VMStatus,
)
from api.services import quotas
from tests.api.conftest import create_vm
from tests.conftest import Factory
from tests.helpers.http import assert_error

Headers = dict[str, str]
T = TypeVar("T", VM, Job, Tenant)
FORCE = {"force": "true"}


@dataclass
class Stranded:
    """An `error` VM, made by a tenant_user of its tenant, on a host ops removed from the
    inventory: its delete job failed, and no delete job could ever succeed."""

    tenant: Tenant
    vm_id: uuid.UUID
    job_id: uuid.UUID  # its create job
    host: str
    creator: User
    creator_headers: Headers

    @property
    def path(self) -> str:
        return f"/api/v1/vm/{self.vm_id}/"


def fresh(db: Session, model: type[T], row_id: uuid.UUID) -> T:
    """The row as committed by the requests so far."""
    db.flush()
    db.expire_all()
    return db.get_one(model, row_id)


@pytest.fixture
def stranded(client: FlaskClient, make: Factory, db: Session) -> Stranded:
    tenant = make.tenant()
    creator = make.user()
    make.member(creator, tenant, TenantRole.TENANT_USER)
    headers = make.headers(creator)
    data = create_vm(client, headers, tenant.id)
    vm = fresh(db, VM, uuid.UUID(data["id"]))
    job = db.get_one(Job, uuid.UUID(data["job_id"]))
    job.status = JobStatus.SUCCESSFUL
    vm.status, vm.status_reason = VMStatus.ERROR, "delete playbook failed: host unreachable"
    host = db.get_one(Baremetal, vm.baremetal_id)
    host.in_inventory = False  # what the inventory sync does when ops remove the host
    db.flush()
    return Stranded(tenant, vm.id, job.id, host.name, creator, headers)


def test_vm_force_delete_marks_deleted_and_names_the_host(
    client: FlaskClient, stranded: Stranded, admin_headers: Headers, db: Session
) -> None:
    resp = client.delete(stranded.path, query_string=FORCE, headers=admin_headers)
    assert resp.status_code == 200, resp.get_json()
    data = resp.get_json()["data"]
    assert data["status"] == "deleted"
    assert data["deleted_at"] is not None
    reason = data["status_reason"]
    assert f"libvirt on host {stranded.host} (removed from the inventory) was not reached" in (
        reason
    )
    assert "the domain may still exist there" in reason
    assert fresh(db, VM, stranded.vm_id).status == VMStatus.DELETED


def test_vm_force_delete_frees_quota(
    client: FlaskClient, stranded: Stranded, admin_headers: Headers, db: Session
) -> None:
    assert quotas.usage(db, stranded.tenant.id).vms == 1
    client.delete(stranded.path, query_string=FORCE, headers=admin_headers)
    db.expire_all()
    assert quotas.usage(db, stranded.tenant.id) == quotas.Amounts()


def test_vm_force_delete_drops_grants(
    client: FlaskClient, stranded: Stranded, admin_headers: Headers, db: Session
) -> None:
    on_vm = select(ObjectPermission).where(ObjectPermission.object_id == stranded.vm_id)
    assert db.scalars(on_vm).all()  # the creator's grants
    client.delete(stranded.path, query_string=FORCE, headers=admin_headers)
    db.expire_all()
    assert db.scalars(on_vm).all() == []


def test_vm_force_delete_is_audited(
    client: FlaskClient, stranded: Stranded, admin_headers: Headers, db: Session
) -> None:
    resp = client.delete(stranded.path, query_string=FORCE, headers=admin_headers)
    rid = resp.headers["X-Request-ID"]
    [row] = db.scalars(select(AuditLog).where(AuditLog.request_id == rid)).all()
    assert (row.action, row.outcome, row.status_code) == ("vm.force_delete", "success", 200)
    assert (row.object_type, row.object_id) == ("vm", str(stranded.vm_id))
    assert row.tenant_id == stranded.tenant.id
    assert row.changes["before"] == {"status": "error"}
    assert row.changes["after"]["status"] == "deleted"
    assert "was not reached" in row.changes["after"]["status_reason"]
    assert row.changes["details"] == {"canceled_job_ids": [], "tenant_deleted": False}


def test_vm_force_delete_tenant_user_is_403(
    client: FlaskClient, stranded: Stranded, db: Session
) -> None:
    """The VM's own creator sees it and may delete it normally, but not force it."""
    resp = client.delete(stranded.path, query_string=FORCE, headers=stranded.creator_headers)
    assert_error(resp, 403, "PERMISSION_DENIED")
    assert fresh(db, VM, stranded.vm_id).status == VMStatus.ERROR
    rid = resp.headers["X-Request-ID"]
    [row] = db.scalars(select(AuditLog).where(AuditLog.request_id == rid)).all()
    assert (row.action, row.outcome, row.status_code) == ("vm.force_delete", "denied", 403)


def test_vm_force_delete_other_tenant_user_is_404(
    client: FlaskClient, stranded: Stranded, make: Factory, db: Session
) -> None:
    outsider = make.user()
    make.member(outsider, make.tenant(), TenantRole.TENANT_USER)
    resp = client.delete(stranded.path, query_string=FORCE, headers=make.headers(outsider))
    missing = client.delete(
        f"/api/v1/vm/{uuid.uuid4()}/", query_string=FORCE, headers=make.headers(outsider)
    )
    assert assert_error(resp, 404, "NOT_FOUND")["error"] == missing.get_json()["error"]
    assert fresh(db, VM, stranded.vm_id).status == VMStatus.ERROR


def test_vm_force_delete_running_job_is_409(
    client: FlaskClient, stranded: Stranded, admin_headers: Headers, db: Session
) -> None:
    """A worker may still be touching libvirt: the refusal names its job."""
    job = fresh(db, Job, stranded.job_id)
    job.status = JobStatus.RUNNING
    db.flush()
    resp = client.delete(stranded.path, query_string=FORCE, headers=admin_headers)
    body = assert_error(resp, 409, "RESOURCE_BUSY")
    assert str(stranded.job_id) in body["error"]["message"]
    assert "running" in body["error"]["message"]
    assert body["error"]["details"] == {"job_ids": [str(stranded.job_id)]}
    assert fresh(db, VM, stranded.vm_id).status == VMStatus.ERROR
    assert fresh(db, Job, stranded.job_id).status == JobStatus.RUNNING


def test_vm_force_delete_cancels_queued_jobs(
    client: FlaskClient, stranded: Stranded, admin_headers: Headers, db: Session
) -> None:
    """The VM's delete job is queued (no worker can reach the host): it is canceled."""
    queued = client.delete(stranded.path, headers=admin_headers)
    assert queued.status_code == 202, queued.get_json()
    delete_job_id = uuid.UUID(queued.get_json()["data"]["job_id"])
    resp = client.delete(stranded.path, query_string=FORCE, headers=admin_headers)
    assert resp.status_code == 200, resp.get_json()
    job = fresh(db, Job, delete_job_id)
    assert job.status == JobStatus.CANCELED
    assert job.finished_at is not None
    assert "force-deleted" in (job.explanation or "")
    rid = resp.headers["X-Request-ID"]
    row = db.scalars(select(AuditLog).where(AuditLog.request_id == rid)).one()
    assert row.changes["before"] == {"status": "deleting"}
    assert row.changes["details"]["canceled_job_ids"] == [str(delete_job_id)]


def test_vm_force_delete_last_vm_ends_deleting_tenant(
    client: FlaskClient, stranded: Stranded, admin_headers: Headers, db: Session
) -> None:
    tenant = fresh(db, Tenant, stranded.tenant.id)
    tenant.status = TenantStatus.DELETING  # its VM's delete job failed: stuck deleting
    db.flush()
    resp = client.delete(stranded.path, query_string=FORCE, headers=admin_headers)
    assert resp.status_code == 200, resp.get_json()
    assert fresh(db, Tenant, stranded.tenant.id).status == TenantStatus.DELETED
    members = select(Membership).where(Membership.tenant_id == stranded.tenant.id)
    assert db.scalars(members).all() == []
    rid = resp.headers["X-Request-ID"]
    row = db.scalars(select(AuditLog).where(AuditLog.request_id == rid)).one()
    assert row.changes["details"]["tenant_deleted"] is True


def test_vm_force_delete_deleted_vm_is_invalid_state(
    client: FlaskClient, stranded: Stranded, admin_headers: Headers
) -> None:
    first = client.delete(stranded.path, query_string=FORCE, headers=admin_headers)
    assert first.status_code == 200, first.get_json()
    resp = client.delete(stranded.path, query_string=FORCE, headers=admin_headers)
    body = assert_error(resp, 409, "INVALID_STATE")
    assert body["error"]["details"] == {"status": "deleted"}


def test_vm_force_false_is_the_ordinary_delete(
    client: FlaskClient, stranded: Stranded, admin_headers: Headers
) -> None:
    resp = client.delete(stranded.path, query_string={"force": "false"}, headers=admin_headers)
    assert resp.status_code == 202, resp.get_json()
    assert resp.get_json()["data"]["status"] == "deleting"


@pytest.mark.parametrize("value", ["yes", "1", "True", ""])
def test_vm_force_delete_only_true_or_false(
    client: FlaskClient, stranded: Stranded, admin_headers: Headers, value: str
) -> None:
    resp = client.delete(stranded.path, query_string={"force": value}, headers=admin_headers)
    body = assert_error(resp, 422, "VALIDATION_ERROR")
    assert "force" in body["error"]["details"]["fields"]["query"]
