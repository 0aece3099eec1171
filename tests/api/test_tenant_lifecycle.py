"""Tenant rename and deletion through the API: who may, each precondition, and the end state.

The race of a VM request against a deletion runs on two real connections in
tests/services/test_tenants.py (the API tests share one savepoint connection).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.models import (
    VM,
    AuditLog,
    Job,
    JobStatus,
    Membership,
    ObjectPermission,
    Tenant,
    TenantStatus,
    VMStatus,
)
from api.services.permissions import Perm, Target, assign_perm
from api.settings import Settings
from jobs import vms as vm_jobs
from tests.api.conftest import counts, create_vm, fake_worker, vm_body
from tests.conftest import Factory
from tests.helpers.http import assert_error
from tests.helpers.personas import Personas, build_personas
from tests.helpers.runner_fakes import FakeRunner, batch_events

Headers = dict[str, str]
CODE = {403: "PERMISSION_DENIED", 404: "NOT_FOUND"}


@pytest.fixture
def cast(client: FlaskClient, make: Factory) -> Personas:
    return build_personas(client, make)


@pytest.fixture
def worker(
    monkeypatch: pytest.MonkeyPatch, sessions: sessionmaker[Session], settings: Settings
) -> FakeRunner:
    return fake_worker(monkeypatch, sessions, settings)


@pytest.fixture
def rq_queue(redis: Redis, settings: Settings) -> Queue:
    return Queue(settings.queue_name, connection=redis)


def tenant_url(tenant: Tenant) -> str:
    return f"/api/v1/tenant/{tenant.id}/"


def tenant_row(db: Session, tenant: Tenant) -> Tenant:
    db.flush()
    db.expire_all()
    return db.get_one(Tenant, tenant.id)


def settle(db: Session, vm_id: object, vm_status: VMStatus, job_status: JobStatus) -> Job:
    """Put a VM and its latest job in the given states (as a worker would have)."""
    vm = db.get_one(VM, uuid.UUID(str(vm_id)))
    vm.status = vm_status
    job = db.scalars(select(Job).where(Job.vm_id == vm.id).order_by(Job.created_at.desc())).first()
    assert job is not None
    job.status = job_status
    db.flush()
    return job


@pytest.mark.parametrize(
    ("persona", "status"),
    [("user_a", 403), ("viewer_a", 403), ("user_b", 404), ("granted", 404), ("nobody", 404)],
)
def test_tenant_rename_is_for_platform_admins(
    client: FlaskClient, cast: Personas, db: Session, persona: str, status: int
) -> None:
    resp = client.patch(tenant_url(cast.a), json={"name": "new-name"}, headers=cast.h(persona))
    assert_error(resp, status, CODE[status])
    assert tenant_row(db, cast.a).name == "tenant-a"


def test_tenant_rename_by_admin(client: FlaskClient, cast: Personas, db: Session) -> None:
    resp = client.patch(tenant_url(cast.a), json={"name": "renamed"}, headers=cast.h("admin"))
    assert resp.status_code == 200, resp.get_json()
    assert (resp.get_json()["data"]["name"], resp.get_json()["data"]["status"]) == (
        "renamed",
        "active",
    )
    assert tenant_row(db, cast.a).name == "renamed"
    [row] = db.scalars(select(AuditLog).where(AuditLog.action == "tenant.rename")).all()
    assert row.changes == {"before": {"name": "tenant-a"}, "after": {"name": "renamed"}}
    taken = client.patch(tenant_url(cast.a), json={"name": "tenant-b"}, headers=cast.h("admin"))
    assert_error(taken, 409, "NAME_TAKEN")


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "status": "deleted"},
        {"status": "deleting"},
        {"name": "Bad Name"},
        {"name": "x", "id": "00000000-0000-0000-0000-000000000000"},
        {},
    ],
)
def test_tenant_rename_read_only_or_bad_fields_are_422(
    client: FlaskClient, cast: Personas, db: Session, body: dict[str, Any]
) -> None:
    resp = client.patch(tenant_url(cast.a), json=body, headers=cast.h("admin"))
    assert_error(resp, 422, "VALIDATION_ERROR")
    row = tenant_row(db, cast.a)
    assert (row.name, row.status) == ("tenant-a", "active")


def test_tenant_create_with_status_is_422(client: FlaskClient, cast: Personas) -> None:
    body = {"name": "fresh", "status": "deleted"}
    assert_error(
        client.post("/api/v1/tenant/", json=body, headers=cast.h("admin")), 422, "VALIDATION_ERROR"
    )


def test_tenant_rename_of_a_deleted_tenant_is_409(
    client: FlaskClient, make: Factory, cast: Personas
) -> None:
    gone = make.tenant("gone", status=TenantStatus.DELETED)
    resp = client.patch(tenant_url(gone), json={"name": "back"}, headers=cast.h("admin"))
    assert_error(resp, 409, "INVALID_STATE")


@pytest.mark.parametrize(
    ("vm_status", "job_status"),
    [
        (VMStatus.RUNNING, JobStatus.SUCCESSFUL),  # a running VM
        (VMStatus.PENDING, JobStatus.QUEUED),  # a pending VM with its queued create job
        (VMStatus.PROVISIONING, JobStatus.RUNNING),  # a running job
        (VMStatus.ERROR, JobStatus.FAILED),  # neither stopped nor deleted
        (VMStatus.STOPPED, JobStatus.QUEUED),  # a stopped VM, but a queued job
        (VMStatus.STOPPING, JobStatus.RUNNING),
    ],
)
def test_tenant_delete_refused_while_not_empty(
    client: FlaskClient,
    cast: Personas,
    db: Session,
    vm_status: VMStatus,
    job_status: JobStatus,
) -> None:
    job = settle(db, cast.vm_a, vm_status, job_status)
    before = counts(db)
    resp = client.delete(tenant_url(cast.a), headers=cast.h("admin"))
    details = assert_error(resp, 409, "TENANT_NOT_EMPTY")["error"]["details"]
    expect_vms = [] if vm_status == VMStatus.STOPPED else [(str(cast.vm_a), vm_status.value)]
    assert [(v["id"], v["status"]) for v in details["vms"]] == expect_vms
    unfinished = job_status in (JobStatus.QUEUED, JobStatus.RUNNING)
    assert [j["id"] for j in details["jobs"]] == ([str(job.id)] if unfinished else [])
    assert tenant_row(db, cast.a).status == TenantStatus.ACTIVE
    assert counts(db) == before
    [row] = db.scalars(select(AuditLog).where(AuditLog.action == "tenant.delete")).all()
    assert (row.outcome, row.error_code, row.tenant_id) == ("denied", "TENANT_NOT_EMPTY", cast.a.id)


@pytest.mark.parametrize(
    ("persona", "status"),
    [("user_a", 403), ("viewer_a", 403), ("user_b", 404), ("granted", 404), ("nobody", 404)],
)
def test_tenant_delete_needs_tenant_admin(
    client: FlaskClient, cast: Personas, db: Session, persona: str, status: int
) -> None:
    settle(db, cast.vm_a, VMStatus.STOPPED, JobStatus.SUCCESSFUL)
    before = counts(db)
    assert_error(client.delete(tenant_url(cast.a), headers=cast.h(persona)), status, CODE[status])
    assert tenant_row(db, cast.a).status == TenantStatus.ACTIVE
    assert counts(db) == before


def test_tenant_delete_needs_a_fresh_token(
    client: FlaskClient, cast: Personas, db: Session, make: Factory
) -> None:
    settle(db, cast.vm_a, VMStatus.STOPPED, JobStatus.SUCCESSFUL)
    stale = make.headers(cast.users["admin"])
    assert_error(client.delete(tenant_url(cast.a), headers=stale), 401, "FRESH_TOKEN_REQUIRED")
    assert tenant_row(db, cast.a).status == TenantStatus.ACTIVE


def test_tenant_delete_stopped_vms_then_deleted(
    client: FlaskClient,
    cast: Personas,
    db: Session,
    worker: FakeRunner,
    rq_queue: Queue,
) -> None:
    second = create_vm(client, cast.h("user_a"), cast.a.id, "second")
    for vm_id in (cast.vm_a, second["id"]):
        settle(db, vm_id, VMStatus.STOPPED, JobStatus.SUCCESSFUL)
    # A tenant.admin grant holder, not a platform admin, deletes it.
    assign_perm(db, cast.users["user_a"].id, Perm.TENANT_ADMIN, Target(cast.a.id), None)
    resp = client.delete(tenant_url(cast.a), headers=cast.h("user_a"))
    assert resp.status_code == 202, resp.get_json()
    assert resp.get_json()["data"]["status"] == "deleting"
    delete_jobs = db.scalars(
        select(Job).where(Job.tenant_id == cast.a.id, Job.kind == "vm.delete")
    ).all()
    assert {j.vm_id for j in delete_jobs} == {cast.vm_a, uuid.UUID(second["id"])}
    queued = set(rq_queue.job_ids)
    assert {str(j.id) for j in delete_jobs} <= queued
    # While deleting: no new work, no new members.
    refused = client.post("/api/v1/vm/", json=vm_body(cast.a.id, "late"), headers=cast.h("admin"))
    assert_error(refused, 409, "INVALID_STATE")
    # One run deletes both (a batch: the host's queued deletes of the tenant), then the tenant.
    names = [db.get_one(VM, job.vm_id).domain_name for job in delete_jobs]
    worker.events = batch_events({name: {"state": "absent", "host": "bm-a"} for name in names})
    first, second_job = sorted(delete_jobs, key=lambda job: job.created_at)
    assert vm_jobs.destroy(str(first.id)) == "successful"
    assert vm_jobs.destroy(str(second_job.id)) == "skipped"  # already done by the batch
    # The drain then goes on with the host's other queued work (another tenant's create).
    deleting = [run for run in worker.runs if run.playbook == "vm_delete.yml"]
    assert [sorted(g["name"] for g in run.extravars["virtflow_guests"]) for run in deleting] == [
        sorted(names)
    ]
    row = tenant_row(db, cast.a)
    assert row.status == TenantStatus.DELETED
    assert db.scalars(select(Membership).where(Membership.tenant_id == cast.a.id)).all() == []
    grants = select(ObjectPermission).where(ObjectPermission.tenant_id == cast.a.id)
    assert db.scalars(grants).all() == []
    # The record stays: admins still see it; its former members do not.
    shown = client.get(tenant_url(cast.a), headers=cast.h("admin")).get_json()["data"]
    assert shown["status"] == "deleted"
    assert_error(client.get(tenant_url(cast.a), headers=cast.h("user_a")), 404, "NOT_FOUND")
    [audit] = db.scalars(
        select(AuditLog).where(AuditLog.action == "tenant.delete", AuditLog.outcome == "success")
    ).all()
    assert (audit.changes["before"], audit.changes["after"]) == (
        {"status": "active"},
        {"status": "deleting"},
    )
    assert set(audit.changes["details"]["job_ids"]) == {str(j.id) for j in delete_jobs}


def test_tenant_delete_empty_tenant_is_deleted_at_once(
    client: FlaskClient, make: Factory, cast: Personas, db: Session
) -> None:
    empty = make.tenant("empty")
    make.member(cast.users["viewer_a"], empty, "viewer")
    resp = client.delete(tenant_url(empty), headers=cast.h("admin"))
    assert resp.status_code == 202, resp.get_json()
    assert resp.get_json()["data"]["status"] == "deleted"
    assert tenant_row(db, empty).status == TenantStatus.DELETED
    assert db.scalars(select(Membership).where(Membership.tenant_id == empty.id)).all() == []
    again = client.delete(tenant_url(empty), headers=cast.h("admin"))
    assert_error(again, 409, "INVALID_STATE")
    refused = client.post("/api/v1/vm/", json=vm_body(empty.id), headers=cast.h("admin"))
    assert_error(refused, 409, "INVALID_STATE")


def test_tenant_list_shows_status(client: FlaskClient, cast: Personas) -> None:
    listed = client.get("/api/v1/tenant/", headers=cast.h("user_a")).get_json()["data"]
    assert [(t["name"], t["status"]) for t in listed] == [("tenant-a", "active")]
